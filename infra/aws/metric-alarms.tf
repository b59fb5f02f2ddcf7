# --- Metric alarms (optional) --------------------------------------------------------------------------------------
#
# The functions write CloudWatch Embedded Metric Format lines (namespace AstroIdentitySync, dimension service = the
# function's name); CloudWatch extracts them from the log groups at no charge beyond the custom metrics themselves.
# These alarms cost money (per alarm and per metric in it), so they are off unless create_metric_alarms is true.

locals {
  metrics_namespace = "AstroIdentitySync"

  # The functions that reconcile, and so report Failures and CapacityUsedPercent.
  metric_functions = var.create_metric_alarms ? ["reconciler", "manual", "scheduled"] : []
}

# Any target result with a failure status (denied, does not fit, conflict, failed, blocked) in five minutes, on any of
# the reconciling functions: the Slack report of that event says which target and why.
resource "aws_cloudwatch_metric_alarm" "failures" {
  count = var.create_metric_alarms ? 1 : 0

  alarm_name          = "${var.name_prefix}-failures"
  alarm_description   = "astro-identity-sync could not grant a Deployment's access (a target denied, full, in conflict or failing); see the Slack report or the functions' logs."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_topic_arns
  ok_actions          = local.alarm_topic_arns
  tags                = var.tags

  metric_query {
    id          = "failures"
    expression  = "SUM(METRICS())"
    label       = "Failures"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = toset(local.metric_functions)
    content {
      id = "failures_${metric_query.key}"
      metric {
        namespace   = local.metrics_namespace
        metric_name = "Failures"
        dimensions  = { service = aws_lambda_function.this[metric_query.key].function_name }
        period      = 300
        stat        = "Sum"
      }
    }
  }
}

# The fullest target seen in an hour (the sweep reads every target hourly) at or above the threshold: raise the quota
# or move Deployments before a grant is refused.
resource "aws_cloudwatch_metric_alarm" "capacity" {
  count = var.create_metric_alarms ? 1 : 0

  alarm_name          = "${var.name_prefix}-capacity"
  alarm_description   = "An IAM role's trust policy is at or above ${var.capacity_alarm_percent}% of its size quota; raise quota L-C07B4B0D (and aws.trustPolicyMaxSize) or give new Deployments another role."
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.capacity_alarm_percent
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_topic_arns
  ok_actions          = local.alarm_topic_arns
  tags                = var.tags

  metric_query {
    id          = "capacity"
    expression  = "MAX(METRICS())"
    label       = "CapacityUsedPercent"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = toset(local.metric_functions)
    content {
      id = "capacity_${metric_query.key}"
      metric {
        namespace   = local.metrics_namespace
        metric_name = "CapacityUsedPercent"
        dimensions  = { service = aws_lambda_function.this[metric_query.key].function_name }
        period      = 3600
        stat        = "Maximum"
      }
    }
  }
}
