# Deploys astro-identity-sync into one Google Cloud project. Run `npm ci && npm run build` at the repository root first.

terraform {
  required_version = ">= 1.6.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0.0, < 8.0.0"
    }
  }
}

variable "project_id" {
  description = "Project to deploy to."
  type        = string
}

variable "region" {
  description = "Region of the functions and scheduler jobs."
  type        = string
}

variable "config_file" {
  description = "Path of the astro-identity-sync config document, relative to this directory."
  type        = string
  default     = "astro-identity-sync.yaml"
}

variable "target_service_accounts" {
  description = "Google service accounts the function may authorize Deployments on."
  type        = list(string)
}

variable "allow_unauthenticated_http" {
  description = "Let any sender reach the HTTP function (the webhook signature and the manual bearer token authenticate)."
  type        = bool
}

provider "google" {
  project = var.project_id
  region  = var.region
}

module "astro_identity_sync" {
  source = "../../gcp"

  project_id                 = var.project_id
  region                     = var.region
  config                     = file("${path.module}/${var.config_file}")
  target_service_accounts    = var.target_service_accounts
  allow_unauthenticated_http = var.allow_unauthenticated_http
}

output "webhook_url" {
  description = "Point webhook senders here."
  value       = module.astro_identity_sync.webhook_url
}

output "manual_url" {
  description = "Manual and dry-run invocation (bearer token)."
  value       = module.astro_identity_sync.manual_url
}

output "secret_ids" {
  description = "Add the real secret values as new versions of these secrets."
  value       = module.astro_identity_sync.secret_ids
}

output "dead_letter_subscription" {
  description = "Failed events, for inspection and replay."
  value       = module.astro_identity_sync.dead_letter_subscription
}
