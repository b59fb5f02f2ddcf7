# Deploys astro-identity-sync into one AWS account. Run `npm ci && npm run build` at the repository root first.

terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.28.0, < 7.0.0"
    }
  }
}

variable "region" {
  description = "AWS region to deploy to."
  type        = string
}

variable "config_file" {
  description = "Path of the astro-identity-sync config document, relative to this directory."
  type        = string
  default     = "astro-identity-sync.yaml"
}

variable "allowed_role_arns" {
  description = "IAM roles (ARNs or patterns) whose trust policies the functions may change."
  type        = list(string)
}

variable "alarm_emails" {
  description = "E-mail addresses notified when events land in the dead-letter queue."
  type        = list(string)
  default     = []
}

provider "aws" {
  region = var.region

  default_tags {
    tags = { app = "astro-identity-sync" }
  }
}

module "astro_identity_sync" {
  source = "../../aws"

  config               = file("${path.module}/${var.config_file}")
  allowed_role_arns    = var.allowed_role_arns
  manual_url_auth_type = "NONE"
  create_alarm_topic   = length(var.alarm_emails) > 0
  alarm_emails         = var.alarm_emails
}

output "webhook_url" {
  description = "Point webhook senders here."
  value       = module.astro_identity_sync.webhook_url
}

output "manual_url" {
  description = "Manual and dry-run invocation (bearer token)."
  value       = module.astro_identity_sync.manual_url
}

output "secret_arns" {
  description = "Fill these secrets before the first event."
  value       = module.astro_identity_sync.secret_arns
}

output "dead_letter_queue_url" {
  description = "Failed events, for inspection and replay."
  value       = module.astro_identity_sync.dead_letter_queue_url
}
