variable "project_id" {
  description = "Project that runs the functions, topics, scheduler jobs and secrets."
  type        = string
}

variable "region" {
  description = "Region of the functions, the source bucket and the Cloud Scheduler jobs (for example us-central1)."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of every resource name. Lowercase letters, digits and dashes; at most 24 characters (service account ids are limited to 30)."
  type        = string
  default     = "astro-identity-sync"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-24 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "dist_dir" {
  description = "Directory that `npm run build` wrote (holds gcp/function-source.zip). Null: the repository's dist/ next to infra/."
  type        = string
  default     = null
}

variable "config" {
  description = "The astro-identity-sync config document (JSON or YAML), set as ASTRO_IDENTITY_SYNC_CONFIG. Secrets are env: references to the mounted Secret Manager secrets (see the secret_env_names output)."
  type        = string

  validation {
    condition     = length(trimspace(var.config)) > 0 && length(var.config) <= 32768
    error_message = "config must be a non-empty document of at most 32 KB."
  }
}

variable "target_service_accounts" {
  description = "Google service accounts the function may authorize Deployments on. The runtime service account gets the custom role (getIamPolicy, setIamPolicy) on each of them, never on a project. Keep gcp.allowedServiceAccounts in the config within this list."
  type        = list(string)

  validation {
    condition = length(var.target_service_accounts) > 0 && alltrue([
      for email in var.target_service_accounts : can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\\.iam\\.gserviceaccount\\.com$", email))
    ])
    error_message = "target_service_accounts must be user-managed service account emails (<name>@<project>.iam.gserviceaccount.com); wildcards are refused."
  }
}

variable "organization_id" {
  description = "Organization id. Set it when target service accounts live in other projects than project_id: the custom role is then created in the organization (a project's custom role can only be granted inside that project). Still granted on each service account only."
  type        = string
  default     = null
}

variable "project_role_targets" {
  description = "Projects whose IAM policy the function may change (gcp-project targets: rules with gcp.project and roles). The runtime service account gets a custom role with resourcemanager.projects.getIamPolicy and setIamPolicy on each of them, and on nothing else. Empty (default): project targets are off. Keep gcp.allowedProjects in the config within this list."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.project_role_targets : can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", p))])
    error_message = "project_role_targets must be project ids (6-30 lowercase letters, digits and dashes, starting with a letter)."
  }
}

variable "allow_unauthenticated_http" {
  description = "Grant roles/run.invoker to allUsers on the HTTP function. Required for a webhook sender without Google credentials: the Standard Webhooks signature (and the bearer token on /manual) is then the authentication. false: only http_invoker_members can call it, with Google ID tokens. No default: decide explicitly."
  type        = bool
}

variable "http_invoker_members" {
  description = "IAM members allowed to invoke the HTTP function when it is not public (for example serviceAccount:ci@acme.iam.gserviceaccount.com)."
  type        = list(string)
  default     = []
}

variable "event_publishers" {
  description = "IAM members allowed to publish queued events ({\"webhookId\", \"event\"}) to the events topic."
  type        = list(string)
  default     = []
}

variable "pubsub_delivery" {
  description = "How the events and schedule topics reach their functions. \"push\" (default): push subscriptions owned by this module, with a dead-letter topic and retry backoff. \"eventarc\": Eventarc triggers with RETRY_POLICY_RETRY; Eventarc creates its own subscriptions, so failed events are retried until the messages expire and are not dead-lettered."
  type        = string
  default     = "push"

  validation {
    condition     = contains(["push", "eventarc"], var.pubsub_delivery)
    error_message = "pubsub_delivery must be \"push\" or \"eventarc\"."
  }
}

variable "max_delivery_attempts" {
  description = "Deliveries of a queued event before Pub/Sub moves it to the dead-letter topic (push delivery). 5-100."
  type        = number
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100."
  }
}

variable "max_instances" {
  description = "Maximum instances of the HTTP and events functions. Writes to one service account are safe at any scale (etag), and serialized within an instance; fewer instances mean fewer 409 retries."
  type        = number
  default     = 5
}

variable "schedules_enabled" {
  description = "Run the poller (every 5 minutes) and the drift sweep (hourly). Both need the astro section in the config."
  type        = bool
  default     = true
}

variable "secrets" {
  description = "Secret Manager secrets to create and mount as environment variables: webhook (WEBHOOK_SECRET), manual (MANUAL_TOKEN), slack (SLACK_BOT_TOKEN), astro (ASTRO_API_TOKEN)."
  type        = set(string)
  default     = ["webhook", "manual", "slack", "astro"]

  validation {
    condition     = alltrue([for key in var.secrets : contains(["webhook", "manual", "slack", "astro"], key)])
    error_message = "secrets may contain webhook, manual, slack and astro."
  }
}

variable "build_service_account" {
  description = "Service account Cloud Build uses for the function builds (projects/<p>/serviceAccounts/<email>). Null: the project's default build service account."
  type        = string
  default     = null
}

variable "enable_apis" {
  description = "Enable the APIs the module needs (Cloud Functions, Cloud Run, Cloud Build, Artifact Registry, Pub/Sub, Cloud Scheduler, Secret Manager, Eventarc, IAM, Resource Manager when project_role_targets is not empty, Logging and Monitoring when create_log_metrics is true)."
  type        = bool
  default     = true
}

variable "log_level" {
  description = "LOG_LEVEL of the functions: DEBUG, INFO, WARN, ERROR or SILENT."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN", "ERROR", "SILENT"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARN, ERROR or SILENT."
  }
}

variable "labels" {
  description = "Labels for every resource that takes them."
  type        = map(string)
  default     = {}
}

variable "create_log_metrics" {
  description = "Create log-based metrics over the functions' metric lines (jsonPayload.metric.name) and an alert policy each: Failures in 5 minutes, and CapacityUsedPercent at or above capacity_alert_percent in an hour. Off by default: log-based metrics and alerting are billed."
  type        = bool
  default     = false
}

variable "capacity_alert_percent" {
  description = "Threshold of the capacity alert policy (create_log_metrics): the fullest IAM policy's members in percent of 1,500."
  type        = number
  default     = 80

  validation {
    condition     = var.capacity_alert_percent > 0 && var.capacity_alert_percent <= 100
    error_message = "capacity_alert_percent must be above 0 and at most 100."
  }
}

variable "alert_notification_channels" {
  description = "Cloud Monitoring notification channel ids (projects/<p>/notificationChannels/<id>) the alert policies notify. Empty: the policies open incidents without notifying anyone."
  type        = list(string)
  default     = []
}
