output "webhook_url" {
  description = "Function URL of the signed webhook (POST, Standard Webhooks signature)."
  value       = aws_lambda_function_url.webhook.function_url
}

output "manual_url" {
  description = "Function URL of manual invocation (POST with the bearer token)."
  value       = aws_lambda_function_url.manual.function_url
}

output "function_names" {
  description = "Lambda function names by role: webhook, reconciler, manual, scheduled."
  value       = { for key, fn in aws_lambda_function.this : key => fn.function_name }
}

output "function_role_arns" {
  description = "IAM role ARN of each function."
  value       = { for key, role in aws_iam_role.function : key => role.arn }
}

output "lease_table_name" {
  description = "DynamoDB table of the per-role write leases and the webhook replay records; give it to `sync --apply` (ASTRO_IDENTITY_SYNC_LEASE_TABLE)."
  value       = aws_dynamodb_table.leases.name
}

output "lease_table_arn" {
  description = "ARN of the lease table (a workstation running sync --apply needs dynamodb:PutItem, UpdateItem and DeleteItem on it)."
  value       = aws_dynamodb_table.leases.arn
}

output "event_bus_name" {
  description = "The custom EventBridge bus the webhook publishes to."
  value       = aws_cloudwatch_event_bus.this.name
}

output "events_queue_url" {
  description = "SQS queue the EventBridge rule feeds and the reconciler drains in batches."
  value       = aws_sqs_queue.events.id
}

output "events_queue_arn" {
  description = "ARN of the events queue."
  value       = aws_sqs_queue.events.arn
}

output "dead_letter_queue_url" {
  description = "SQS queue holding events and runs that failed after all retries."
  value       = aws_sqs_queue.dead_letter.id
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.arn
}

output "secret_arns" {
  description = "Secrets Manager ARNs by key (webhook, manual, slack, astro): put the values, reference them in the config as aws-sm:<name or ARN>."
  value       = local.secret_arns
}

output "secret_references" {
  description = "The config references of the created secrets (aws-sm:<name>), by key."
  value       = { for key, secret in aws_secretsmanager_secret.this : key => "aws-sm:${secret.name}" }
}

output "config_parameter_name" {
  description = "SSM parameter holding the config (null when config_storage is env)."
  value       = var.config_storage == "ssm" ? aws_ssm_parameter.config[0].name : null
}

output "alarm_topic_arn" {
  description = "SNS topic of the dead-letter alarm (null when none)."
  value       = try(local.alarm_topic_arns[0], null)
}

output "schedule_names" {
  description = "EventBridge Scheduler schedules by task (poll, sweep)."
  value       = { for key, schedule in aws_scheduler_schedule.task : key => schedule.name }
}
