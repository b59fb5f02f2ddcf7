variable "name_prefix" {
  description = "Prefix of every resource name (functions, roles, bus, queue, secrets). Lowercase letters, digits and dashes."
  type        = string
  default     = "astro-identity-sync"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,37}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-39 lowercase letters, digits or dashes, starting with a letter (function names add up to 11 characters)."
  }
}

variable "dist_dir" {
  description = "Directory that `npm run build` wrote (holds aws/<function>.zip). Null: the repository's dist/ next to infra/."
  type        = string
  default     = null
}

variable "config" {
  description = "The astro-identity-sync config document (JSON or YAML). It holds secret references (aws-sm:, aws-ssm:, env:), never secret values."
  type        = string

  validation {
    condition     = length(trimspace(var.config)) > 0 && length(var.config) <= 8192
    error_message = "config must be a non-empty document of at most 8 KB (an SSM Advanced parameter)."
  }
}

variable "config_storage" {
  description = "Where the functions read the config: \"ssm\" (an SSM String parameter, referenced as aws-ssm:<name>; the Lambda environment holds 4 KB in all) or \"env\" (the document itself in ASTRO_IDENTITY_SYNC_CONFIG)."
  type        = string
  default     = "ssm"

  validation {
    condition     = contains(["ssm", "env"], var.config_storage)
    error_message = "config_storage must be \"ssm\" or \"env\"."
  }
}

variable "allowed_role_arns" {
  description = "IAM roles whose trust policies the reconciler, manual and scheduled functions may read and write (iam:GetRole, iam:UpdateAssumeRolePolicy). ARNs or ARN patterns such as arn:aws:iam::123456789012:role/astro-*; never a bare \"*\" or every role of an account. Keep aws.allowedRoles in the config within this list."
  type        = list(string)

  validation {
    condition = length(var.allowed_role_arns) > 0 && alltrue([
      for arn in var.allowed_role_arns :
      can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/*-]+$", arn)) && !endswith(arn, ":role/*") && !endswith(arn, ":role*")
    ])
    error_message = "allowed_role_arns must be IAM role ARNs (or patterns) of one account each, such as arn:aws:iam::123456789012:role/astro-*; \"*\" and role/* are refused."
  }
}

variable "create_oidc_providers" {
  description = "Let the writing functions create a missing IAM OIDC identity provider for a Deployment's cluster (iam:CreateOpenIDConnectProvider on this account's providers). Must equal aws.createOidcProviders in the config (a precondition refuses a plan where they differ); off by default, when a missing provider is reported with the command that creates it."
  type        = bool
  default     = false
}

variable "manual_url_auth_type" {
  description = "Authorization of the manual function's URL: \"NONE\" (the default: the bearer token authenticates, compared in constant time) or \"AWS_IAM\" (SigV4 on top). With AWS_IAM, SigV4 occupies the Authorization header, so send the manual token in the x-astro-identity-sync-token header."
  type        = string
  default     = "NONE"

  validation {
    condition     = contains(["AWS_IAM", "NONE"], var.manual_url_auth_type)
    error_message = "manual_url_auth_type must be \"AWS_IAM\" or \"NONE\"."
  }
}

variable "manual_url_invoker_arns" {
  description = "IAM principals (role or user ARNs, or account ids) allowed to call the manual URL when manual_url_auth_type is AWS_IAM. Principals of this account can instead be granted lambda:InvokeFunctionUrl and lambda:InvokeFunction in their own policies."
  type        = list(string)
  default     = []
}

variable "reconciler_reserved_concurrency" {
  description = "Reserved concurrency of the reconciler. 1 (the default) serializes its trust-policy writes, which IAM cannot make conditional, even though the SQS event source mapping runs up to 2 pollers; higher values rely on the verify-and-retry loop alone."
  type        = number
  default     = 1

  validation {
    condition     = var.reconciler_reserved_concurrency >= 1 && floor(var.reconciler_reserved_concurrency) == var.reconciler_reserved_concurrency
    error_message = "reconciler_reserved_concurrency must be a whole number of at least 1."
  }
}

variable "function_memory_mb" {
  description = "Memory in MB of the functions you name (webhook, reconciler, manual, scheduled); the others keep 256 (webhook) and 512. Lambda gives CPU in proportion (1,769 MB is one vCPU), and the init phase a full vCPU whatever the memory, so more memory shortens what a first invocation still does at that price per ms."
  type        = map(number)
  default     = {}

  validation {
    condition = alltrue([
      for name, mb in var.function_memory_mb :
      contains(["webhook", "reconciler", "manual", "scheduled"], name) && mb >= 128 && mb <= 10240 && floor(mb) == mb
    ])
    error_message = "function_memory_mb takes webhook, reconciler, manual and scheduled, each a whole number of MB from 128 to 10240."
  }
}

variable "reconciler_batch_size" {
  description = "Most messages of the events queue per reconciler invocation. Events on one role in a batch cost one trust-policy write. Above 10 needs reconciler_maximum_batching_window_in_seconds of at least 1."
  type        = number
  default     = 10

  validation {
    condition     = var.reconciler_batch_size >= 1 && var.reconciler_batch_size <= 10000 && floor(var.reconciler_batch_size) == var.reconciler_batch_size
    error_message = "reconciler_batch_size must be a whole number from 1 to 10000."
  }
}

variable "reconciler_maximum_batching_window_in_seconds" {
  description = "Seconds the event source mapping gathers messages before invoking the reconciler with a batch smaller than reconciler_batch_size. 0-300."
  type        = number
  default     = 5

  validation {
    condition     = var.reconciler_maximum_batching_window_in_seconds >= 0 && var.reconciler_maximum_batching_window_in_seconds <= 300 && floor(var.reconciler_maximum_batching_window_in_seconds) == var.reconciler_maximum_batching_window_in_seconds
    error_message = "reconciler_maximum_batching_window_in_seconds must be a whole number from 0 to 300."
  }
}

variable "events_max_receive_count" {
  description = "Receives of a message of the events queue (failed or throttled reconciler batches included) before it moves to the dead-letter queue (the redrive policy's maxReceiveCount)."
  type        = number
  default     = 5

  validation {
    condition     = var.events_max_receive_count >= 1 && var.events_max_receive_count <= 1000 && floor(var.events_max_receive_count) == var.events_max_receive_count
    error_message = "events_max_receive_count must be a whole number from 1 to 1000."
  }
}

variable "async_retry_attempts" {
  description = "Lambda retries of a failed asynchronous invocation of the scheduled function (from the scheduler) before the run goes to the dead-letter queue. 0-2."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.async_retry_attempts)
    error_message = "async_retry_attempts must be 0, 1 or 2."
  }
}

variable "schedules_enabled" {
  description = "Run the poller (every 5 minutes) and the drift sweep (hourly). Both need the astro section in the config."
  type        = bool
  default     = true
}

variable "existing_secret_arns" {
  description = "Secrets Manager ARNs to use instead of creating secrets, by key: webhook, manual, slack, astro. Keys not given are created empty under <name_prefix>/<key>-..."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([for key, arn in var.existing_secret_arns :
      contains(["webhook", "manual", "slack", "astro"], key) && can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", arn))
    ])
    error_message = "existing_secret_arns keys must be webhook, manual, slack or astro, and the values Secrets Manager secret ARNs."
  }
}

variable "additional_secret_arns" {
  description = "More Secrets Manager secrets the config references (a second webhook secret during rotation, a Slack webhook URL). The functions may read them."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.additional_secret_arns : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", arn))])
    error_message = "additional_secret_arns must be Secrets Manager secret ARNs (no wildcards for the whole account)."
  }
}

variable "additional_ssm_parameter_arns" {
  description = "SSM parameters the config references as aws-ssm:<name> (SecureString secrets). The functions may read them (ssm:GetParameter with decryption)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.additional_ssm_parameter_arns : can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+$", arn))])
    error_message = "additional_ssm_parameter_arns must be SSM parameter ARNs."
  }
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the created secrets; the functions get kms:Decrypt on it through Secrets Manager and SSM only. Null: the AWS managed keys, which need no grant."
  type        = string
  default     = null
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

variable "log_retention_days" {
  description = "Retention of each function's CloudWatch log group, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "enable_source_maps" {
  description = "Set NODE_OPTIONS=--enable-source-maps so stack traces name the TypeScript files (the zips carry the maps)."
  type        = bool
  default     = true
}

variable "alarm_topic_arn" {
  description = "Existing SNS topic for the dead-letter alarm and the metric alarms. Null: create_alarm_topic decides."
  type        = string
  default     = null
}

variable "create_alarm_topic" {
  description = "Create an SNS topic for the dead-letter alarm and the metric alarms (when alarm_topic_arn is null)."
  type        = bool
  default     = false
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the created alarm topic (each must confirm the subscription)."
  type        = list(string)
  default     = []
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary for the IAM roles this module creates, if your account requires one."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource that takes them."
  type        = map(string)
  default     = {}
}

variable "create_metric_alarms" {
  description = "Create CloudWatch alarms on the functions' metrics (namespace AstroIdentitySync): Failures above 0 in 5 minutes, and CapacityUsedPercent at or above capacity_alarm_percent in an hour. They notify alarm_topic_arn (or the created topic). Off by default: alarms cost money."
  type        = bool
  default     = false
}

variable "capacity_alarm_percent" {
  description = "Threshold of the capacity alarm (create_metric_alarms): the fullest trust policy's length in percent of the account's quota."
  type        = number
  default     = 80

  validation {
    condition     = var.capacity_alarm_percent > 0 && var.capacity_alarm_percent <= 100
    error_message = "capacity_alarm_percent must be above 0 and at most 100."
  }
}
