# Deploys astro-identity-sync into one Azure subscription. Run `npm ci && npm run build` at the repository root first;
# the package is deployed with the Azure CLI (`az login` where Terraform runs).

terraform {
  required_version = ">= 1.6.0"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.42.0, < 5.0.0"
    }
  }
}

variable "subscription_id" {
  description = "Subscription of the function app."
  type        = string
}

variable "resource_group_name" {
  description = "Existing resource group for the function app and its resources."
  type        = string
}

variable "location" {
  description = "Azure region with the Flex Consumption plan."
  type        = string
}

variable "config_file" {
  description = "Path of the astro-identity-sync config document, relative to this directory."
  type        = string
  default     = "astro-identity-sync.yaml"
}

variable "target_identity_ids" {
  description = "User-assigned managed identities the function may add federated credentials to."
  type        = list(string)
}

provider "azurerm" {
  features {}
  subscription_id = var.subscription_id
}

module "astro_identity_sync" {
  source = "../../azure"

  resource_group_name = var.resource_group_name
  location            = var.location
  config              = file("${path.module}/${var.config_file}")
  target_identity_ids = var.target_identity_ids
  prune               = false
}

output "webhook_url" {
  description = "Point webhook senders here."
  value       = module.astro_identity_sync.webhook_url
}

output "manual_url" {
  description = "Manual and dry-run invocation (bearer token and x-functions-key)."
  value       = module.astro_identity_sync.manual_url
}

output "function_app_name" {
  description = "The Function App (for az functionapp commands)."
  value       = module.astro_identity_sync.function_app_name
}

output "key_vault_name" {
  description = "Set the secret values in this vault."
  value       = module.astro_identity_sync.key_vault_name
}

output "secret_names" {
  description = "Secret names by key."
  value       = module.astro_identity_sync.secret_names
}
