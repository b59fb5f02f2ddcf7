variable "resource_group_name" {
  description = "Existing resource group for the function app, its storage, Key Vault and Application Insights."
  type        = string
}

variable "location" {
  description = "Azure region (one that offers the Flex Consumption plan, for example westeurope or eastus)."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of resource names. Lowercase letters, digits and dashes; at most 20 characters (Key Vault names are limited to 24)."
  type        = string
  default     = "astro-identity-sync"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,18}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-20 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "dist_dir" {
  description = "Directory that `npm run build` wrote (holds azure/function-app.zip). Null: the repository's dist/ next to infra/."
  type        = string
  default     = null
}

variable "config" {
  description = "The astro-identity-sync config document (JSON or YAML), set as the ASTRO_IDENTITY_SYNC_CONFIG app setting. Secrets are env: references to the Key Vault-backed app settings (see the secret_setting_names output)."
  type        = string

  validation {
    condition     = length(trimspace(var.config)) > 0
    error_message = "config must be a non-empty document."
  }
}

variable "target_identity_ids" {
  description = "Resource ids of the user-assigned managed identities the function may add federated credentials to. The custom role is assigned on each of them, never on a resource group or subscription. Keep azure.allowedIdentities in the config within this list."
  type        = list(string)

  validation {
    condition = length(var.target_identity_ids) > 0 && alltrue([
      for id in var.target_identity_ids : can(regex("(?i)^/subscriptions/[0-9a-f-]{36}/resourceGroups/[^/]+/providers/Microsoft\\.ManagedIdentity/userAssignedIdentities/[^/]+$", id))
    ])
    error_message = "target_identity_ids must be user-assigned managed identity resource ids (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>)."
  }
}

variable "prune" {
  description = "Also allow deleting federated credentials (the sweep's cleanup of credentials this tool created for deleted Deployments). false: read and write only."
  type        = bool
  default     = false
}

variable "secrets" {
  description = "Key Vault secrets to create and expose as Key Vault-referenced app settings: webhook (WEBHOOK_SECRET), manual (MANUAL_TOKEN), slack (SLACK_BOT_TOKEN), astro (ASTRO_API_TOKEN)."
  type        = set(string)
  default     = ["webhook", "manual", "slack", "astro"]

  validation {
    condition     = alltrue([for key in var.secrets : contains(["webhook", "manual", "slack", "astro"], key)])
    error_message = "secrets may contain webhook, manual, slack and astro."
  }
}

variable "storage_account_name" {
  description = "Name of the storage account to create (3-24 lowercase letters and digits, globally unique). Null: derived from the resource group and name_prefix."
  type        = string
  default     = null
}

variable "key_vault_name" {
  description = "Name of the Key Vault to create (3-24 characters, globally unique). Null: derived from name_prefix and the resource group."
  type        = string
  default     = null
}

variable "queue_name" {
  description = "Storage queue of queued events ({\"webhookId\", \"event\"}); the host moves a message failing host.json maxDequeueCount (5) times to <queue_name>-poison."
  type        = string
  default     = "astro-identity-sync-events"
}

variable "schedules_enabled" {
  description = "Register the poller (every 5 minutes) and the drift sweep (hourly) timers through their NCRONTAB app settings. Both need the astro section in the config."
  type        = bool
  default     = true
}

variable "maximum_instance_count" {
  description = "Flex Consumption scale-out limit (40-1000)."
  type        = number
  default     = 40

  validation {
    condition     = var.maximum_instance_count >= 40 && var.maximum_instance_count <= 1000
    error_message = "maximum_instance_count must be between 40 and 1000."
  }
}

variable "log_retention_days" {
  description = "Retention of the Log Analytics workspace behind Application Insights, in days."
  type        = number
  default     = 30
}

variable "deploy_package" {
  description = "Deploy dist/azure/function-app.zip after every change with `az functionapp deployment source config-zip` (needs the Azure CLI, logged in, where Terraform runs). false: deploy it yourself."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource that takes them."
  type        = map(string)
  default     = {}
}

variable "create_metric_alerts" {
  description = "Create scheduled query alerts over the functions' customMetric lines in Application Insights: Failures above 0 in 5 minutes, and CapacityUsedPercent at or above capacity_alert_percent in an hour. Off by default: each rule is billed."
  type        = bool
  default     = false
}

variable "capacity_alert_percent" {
  description = "Threshold of the capacity alert (create_metric_alerts): the fullest identity's federated credentials in percent of 20."
  type        = number
  default     = 80

  validation {
    condition     = var.capacity_alert_percent > 0 && var.capacity_alert_percent <= 100
    error_message = "capacity_alert_percent must be above 0 and at most 100."
  }
}

variable "alert_action_group_ids" {
  description = "Azure Monitor action group ids the metric alerts notify. Empty: the alerts fire in the portal without notifying anyone."
  type        = list(string)
  default     = []
}
