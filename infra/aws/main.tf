# astro-identity-sync on AWS: four Lambda functions from the zips `npm run build` writes (dist/aws/<function>.zip).
#
#   webhook    Function URL (auth NONE: the Standard Webhooks signature authenticates) -> PutEvents on the bus
#   reconciler SQS event source (the "events" queue the EventBridge rule feeds), batches of up to 10; the only
#              event-driven writer of trust policies (reserved concurrency 1)
#   manual     Function URL (bearer token; AWS_IAM optional, see manual_url_auth_type); synchronous, dry runs
#   scheduled  EventBridge Scheduler: {"task":"poll"} every 5 minutes, {"task":"sweep"} hourly
#
# Failed events end in one SQS dead-letter queue (EventBridge target DLQ, the events queue's redrive policy and the
# scheduled function's async on_failure destination), watched by a CloudWatch alarm.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  dist_dir = coalesce(var.dist_dir, "${path.module}/../../dist")

  # The files `npm run build` writes (scripts/artifacts.ts); handler index.handler in index.mjs.
  artifacts = {
    webhook    = "${local.dist_dir}/aws/webhook.zip"
    reconciler = "${local.dist_dir}/aws/reconciler.zip"
    manual     = "${local.dist_dir}/aws/manual.zip"
    scheduled  = "${local.dist_dir}/aws/scheduled.zip"
  }

  runtime = "nodejs22.x"

  functions = {
    webhook = {
      description = "astro-identity-sync: signed webhook intake, publishes to the event bus"
      memory      = 256
      timeout     = 15
      concurrency = -1
    }
    reconciler = {
      description = "astro-identity-sync: reconciles queued Deployment events into IAM trust policies"
      memory      = 512
      timeout     = 300
      concurrency = var.reconciler_reserved_concurrency
    }
    manual = {
      description = "astro-identity-sync: manual and dry-run reconciliation"
      memory      = 512
      timeout     = 120
      concurrency = -1
    }
    scheduled = {
      description = "astro-identity-sync: Astro API poller (5 min) and drift sweep (hourly)"
      memory      = 512
      timeout     = 600
      # One run at a time: a sweep never overlaps itself or a late poll.
      concurrency = 1
    }
  }

  # What the webhook publishes (functions/aws/event-publisher.ts) and the rule matches.
  event_source      = "astro-identity-sync"
  event_detail_type = "Astro Deployment Changed"

  # The scheduled function's input per schedule (functions/common/scheduled-task.ts parseTask).
  schedules = {
    poll  = { expression = "rate(5 minutes)", input = "{\"task\":\"poll\"}" }
    sweep = { expression = "rate(1 hour)", input = "{\"task\":\"sweep\"}" }
  }

  # Functions invoked asynchronously: Lambda retries them, then sends the event to the dead-letter queue. The
  # reconciler is not one of them: its event source mapping polls the events queue and invokes it synchronously.
  async_functions = ["scheduled"]

  # AWS guidance for an SQS event source: a visibility timeout of at least 6x the function timeout (plus the batching
  # window), so a batch being processed, or retried after throttling, does not reappear and run twice.
  events_visibility_timeout = 6 * local.functions.reconciler.timeout + var.reconciler_maximum_batching_window_in_seconds

  secret_names = {
    webhook = "webhook-secret"
    manual  = "manual-token"
    slack   = "slack-bot-token"
    astro   = "astro-api-token"
  }
  created_secrets = { for key, name in local.secret_names : key => name if !contains(keys(var.existing_secret_arns), key) }
  secret_arns = merge(
    { for key, secret in aws_secretsmanager_secret.this : key => secret.arn },
    var.existing_secret_arns,
  )
  readable_secret_arns = distinct(concat(values(local.secret_arns), var.additional_secret_arns))

  config_parameter_name = "/${var.name_prefix}/config"
  config_reference      = var.config_storage == "ssm" ? "aws-ssm:${local.config_parameter_name}" : var.config
  readable_parameter_arns = distinct(concat(
    var.config_storage == "ssm" ? [aws_ssm_parameter.config[0].arn] : [],
    var.additional_ssm_parameter_arns,
  ))

  alarm_topic_arns = compact([var.alarm_topic_arn, try(aws_sns_topic.alarms[0].arn, null)])
}

# --- Secrets and config --------------------------------------------------------------------------------------------

# Created without a value: fill each one (aws secretsmanager put-secret-value) before the first event. Until then a
# cold start fails with "cannot read secret ...", and nothing is written anywhere.
resource "aws_secretsmanager_secret" "this" {
  for_each = local.created_secrets

  name                    = "${var.name_prefix}/${each.value}"
  description             = "astro-identity-sync ${each.key} secret; referenced in the config as aws-sm:${var.name_prefix}/${each.value}"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
  tags                    = var.tags
}

resource "aws_ssm_parameter" "config" {
  count = var.config_storage == "ssm" ? 1 : 0

  name        = local.config_parameter_name
  description = "astro-identity-sync config (references only, no secret values)"
  type        = "String"
  tier        = length(var.config) > 4096 ? "Advanced" : "Standard"
  value       = var.config
  tags        = var.tags
}

# --- Functions -----------------------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "function" {
  for_each = local.functions

  name              = "/aws/lambda/${var.name_prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

# IAM trust policies have no etag, and three functions (and `sync --apply`) write them: every writer takes the role's
# lease here first (items "lease#role#<arn>", functions/aws/dynamodb-lease.ts). The webhook keeps the ids it handled
# here ("webhook#<id>", functions/aws/dynamodb-replay-record.ts), so a replay is recognized by any instance. Items
# live seconds to minutes: no point-in-time recovery; TTL deletes what crashed writers left behind.
resource "aws_dynamodb_table" "leases" {
  name         = "${var.name_prefix}-leases"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }

  ttl {
    attribute_name = "purgeAt"
    enabled        = true
  }

  server_side_encryption {
    enabled = true
  }

  tags = var.tags
}

resource "aws_lambda_function" "this" {
  for_each = local.functions

  function_name                  = "${var.name_prefix}-${each.key}"
  description                    = each.value.description
  role                           = aws_iam_role.function[each.key].arn
  runtime                        = local.runtime
  architectures                  = ["arm64"]
  handler                        = "index.handler"
  filename                       = local.artifacts[each.key]
  source_code_hash               = filebase64sha256(local.artifacts[each.key])
  memory_size                    = lookup(var.function_memory_mb, each.key, each.value.memory)
  timeout                        = each.value.timeout
  reserved_concurrent_executions = each.value.concurrency

  environment {
    variables = merge(
      {
        ASTRO_IDENTITY_SYNC_CONFIG      = local.config_reference
        LOG_LEVEL                       = var.log_level
        ASTRO_IDENTITY_SYNC_LEASE_TABLE = aws_dynamodb_table.leases.name
      },
      each.key == "webhook" ? { ASTRO_IDENTITY_SYNC_EVENT_BUS = aws_cloudwatch_event_bus.this.name } : {},
      var.enable_source_maps ? { NODE_OPTIONS = "--enable-source-maps" } : {},
    )
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.function[each.key].name
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.function]
}

resource "aws_lambda_function_event_invoke_config" "async" {
  for_each = toset(local.async_functions)

  function_name                = aws_lambda_function.this[each.key].function_name
  maximum_retry_attempts       = var.async_retry_attempts
  maximum_event_age_in_seconds = 21600

  destination_config {
    on_failure {
      destination = aws_sqs_queue.dead_letter.arn
    }
  }
}

# --- Function URLs -------------------------------------------------------------------------------------------------

resource "aws_lambda_function_url" "webhook" {
  function_name      = aws_lambda_function.this["webhook"].function_name
  authorization_type = "NONE"
}

# A public URL needs both statements (lambda:InvokeFunction only through the URL, since October 2025).
resource "aws_lambda_permission" "webhook_url" {
  statement_id           = "AstroIdentitySyncPublicFunctionUrl"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.this["webhook"].function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

resource "aws_lambda_permission" "webhook_url_invoke" {
  statement_id             = "AstroIdentitySyncPublicInvokeViaUrl"
  action                   = "lambda:InvokeFunction"
  function_name            = aws_lambda_function.this["webhook"].function_name
  principal                = "*"
  invoked_via_function_url = true
}

resource "aws_lambda_function_url" "manual" {
  function_name      = aws_lambda_function.this["manual"].function_name
  authorization_type = var.manual_url_auth_type
}

resource "aws_lambda_permission" "manual_url_public" {
  count = var.manual_url_auth_type == "NONE" ? 1 : 0

  statement_id           = "AstroIdentitySyncManualFunctionUrl"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.this["manual"].function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

resource "aws_lambda_permission" "manual_url_public_invoke" {
  count = var.manual_url_auth_type == "NONE" ? 1 : 0

  statement_id             = "AstroIdentitySyncManualInvokeViaUrl"
  action                   = "lambda:InvokeFunction"
  function_name            = aws_lambda_function.this["manual"].function_name
  principal                = "*"
  invoked_via_function_url = true
}

resource "aws_lambda_permission" "manual_url_invokers" {
  for_each = var.manual_url_auth_type == "AWS_IAM" ? toset(var.manual_url_invoker_arns) : toset([])

  statement_id           = "AstroIdentitySyncManualUrl${substr(sha1(each.value), 0, 12)}"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.this["manual"].function_name
  principal              = each.value
  function_url_auth_type = "AWS_IAM"
}

resource "aws_lambda_permission" "manual_url_invokers_invoke" {
  for_each = var.manual_url_auth_type == "AWS_IAM" ? toset(var.manual_url_invoker_arns) : toset([])

  statement_id             = "AstroIdentitySyncManualInvoke${substr(sha1(each.value), 0, 12)}"
  action                   = "lambda:InvokeFunction"
  function_name            = aws_lambda_function.this["manual"].function_name
  principal                = each.value
  invoked_via_function_url = true
}

# --- Event bus -----------------------------------------------------------------------------------------------------

resource "aws_cloudwatch_event_bus" "this" {
  name = var.name_prefix
  tags = var.tags
}

resource "aws_cloudwatch_event_rule" "deployment_changed" {
  name           = "${var.name_prefix}-deployment-changed"
  description    = "Deployment events from the astro-identity-sync webhook to the reconciler's events queue"
  event_bus_name = aws_cloudwatch_event_bus.this.name
  event_pattern = jsonencode({
    source        = [local.event_source]
    "detail-type" = [local.event_detail_type]
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "reconciler" {
  rule           = aws_cloudwatch_event_rule.deployment_changed.name
  event_bus_name = aws_cloudwatch_event_bus.this.name
  target_id      = "reconciler"
  arn            = aws_sqs_queue.events.arn

  # Delivery to the events queue is retried for a day; what still cannot be delivered goes to the dead-letter queue
  # instead of being dropped.
  retry_policy {
    maximum_event_age_in_seconds = 86400
    maximum_retry_attempts       = 185
  }

  dead_letter_config {
    arn = aws_sqs_queue.dead_letter.arn
  }
}

# --- Events queue: the rule feeds it, the reconciler drains it in batches -----------------------------------------

# Batching is what makes N events on one role cost one trust-policy write. The EventBridge envelope is the message
# body (functions/aws/reconciler-handler.ts reads its detail). After events_max_receive_count receives a message
# goes to the dead-letter queue.
resource "aws_sqs_queue" "events" {
  name                       = "${var.name_prefix}-events"
  visibility_timeout_seconds = local.events_visibility_timeout
  message_retention_seconds  = 345600
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = var.events_max_receive_count
  })
  tags = var.tags
}

resource "aws_sqs_queue_policy" "events" {
  queue_url = aws_sqs_queue.events.id
  policy    = data.aws_iam_policy_document.events_queue.json
}

# The Lambda service polls the queue with the reconciler's role (sqs:ReceiveMessage, DeleteMessage,
# GetQueueAttributes) and invokes it synchronously with up to reconciler_batch_size messages. Retryable failures come
# back as batchItemFailures: only those messages return to the queue, after the visibility timeout.
#
# Two pollers at most (the minimum SQS allows), while the reconciler keeps its reserved concurrency (1 by default),
# which still serializes the trust-policy writes: a second batch is throttled and returns to the queue after the
# visibility timeout, counting as a receive toward events_max_receive_count.
resource "aws_lambda_event_source_mapping" "reconciler" {
  event_source_arn                   = aws_sqs_queue.events.arn
  function_name                      = aws_lambda_function.this["reconciler"].arn
  batch_size                         = var.reconciler_batch_size
  maximum_batching_window_in_seconds = var.reconciler_maximum_batching_window_in_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = 2
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.reconciler_batch_size <= 10 || var.reconciler_maximum_batching_window_in_seconds >= 1
      error_message = "A reconciler_batch_size above 10 needs reconciler_maximum_batching_window_in_seconds of at least 1."
    }
  }

  # The role must allow polling before Lambda validates the mapping.
  depends_on = [aws_iam_role_policy.function]
}

# --- Schedules -----------------------------------------------------------------------------------------------------

resource "aws_scheduler_schedule_group" "this" {
  name = var.name_prefix
  tags = var.tags
}

resource "aws_scheduler_schedule" "task" {
  for_each = local.schedules

  name                = "${var.name_prefix}-${each.key}"
  group_name          = aws_scheduler_schedule_group.this.name
  description         = "astro-identity-sync ${each.key}"
  schedule_expression = each.value.expression
  state               = var.schedules_enabled ? "ENABLED" : "DISABLED"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.this["scheduled"].arn
    role_arn = aws_iam_role.scheduler.arn
    input    = each.value.input

    # The invocation is asynchronous: Lambda's own retries and on_failure destination handle a failed run. A run
    # the scheduler cannot even hand over is superseded by the next one.
    retry_policy {
      maximum_event_age_in_seconds = 300
      maximum_retry_attempts       = 2
    }
  }
}

# --- Dead letters and alarm ----------------------------------------------------------------------------------------

resource "aws_sqs_queue" "dead_letter" {
  name                      = "${var.name_prefix}-dead-letter"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue_policy" "dead_letter" {
  queue_url = aws_sqs_queue.dead_letter.id
  policy    = data.aws_iam_policy_document.dead_letter_queue.json
}

resource "aws_sns_topic" "alarms" {
  count = var.alarm_topic_arn == null && var.create_alarm_topic ? 1 : 0

  name = "${var.name_prefix}-alarms"
  tags = var.tags
}

resource "aws_sns_topic_subscription" "alarm_email" {
  for_each = var.alarm_topic_arn == null && var.create_alarm_topic ? toset(var.alarm_emails) : toset([])

  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name          = "${var.name_prefix}-dead-letters"
  alarm_description   = "astro-identity-sync events failed after all retries; inspect and replay ${aws_sqs_queue.dead_letter.name}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letter.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_topic_arns
  ok_actions          = local.alarm_topic_arns
  tags                = var.tags
}
