# --- Scheduled query alerts on the custom metric lines (optional) --------------------------------------------------
#
# The functions write one line per metric per invocation through the invocation context, which the host sends to
# Application Insights as a trace:
#   {"message":"customMetric","customMetric":{"name":"Failures","value":1,"unit":"Count","dimensions":{...}}}
# create_metric_alerts adds a scheduled query alert for each of the two worth alerting on. Off by default: each rule
# is billed per evaluation.

locals {
  # The custom metric lines of this app, as numbers: timestamp, name, value, and the dimensions as a bag.
  metric_lines = <<-KQL
    traces
    | where message has "customMetric"
    | extend line = parse_json(message)
    | where isnotnull(line.customMetric)
    | extend name = tostring(line.customMetric.name), value = todouble(line.customMetric.value)
  KQL

  metric_alerts = var.create_metric_alerts ? {
    failures = {
      description = "astro-identity-sync could not grant a Deployment's access (a target denied, full, in conflict or failing); see the Slack report or the traces with customMetric.name Failures."
      severity    = 2
      query       = "${local.metric_lines}| where name == \"Failures\"\n| summarize value = sum(value) by bin(timestamp, 5m)"
      aggregation = "Total"
      operator    = "GreaterThan"
      threshold   = 0
      frequency   = "PT5M"
      window      = "PT5M"
    }
    capacity = {
      description = "A managed identity holds at least ${var.capacity_alert_percent}% of its 20 federated credentials; give new Deployments another identity before a grant is refused."
      severity    = 3
      query       = "${local.metric_lines}| where name == \"CapacityUsedPercent\"\n| summarize value = max(value) by bin(timestamp, 1h)"
      aggregation = "Maximum"
      operator    = "GreaterThanOrEqual"
      threshold   = var.capacity_alert_percent
      # The sweep reads every identity hourly.
      frequency = "PT1H"
      window    = "PT1H"
    }
  } : {}
}

resource "azurerm_monitor_scheduled_query_rules_alert_v2" "this" {
  for_each = local.metric_alerts

  name                 = "${var.name_prefix}-${each.key}"
  resource_group_name  = data.azurerm_resource_group.this.name
  location             = var.location
  scopes               = [azurerm_application_insights.this.id]
  description          = each.value.description
  severity             = each.value.severity
  evaluation_frequency = each.value.frequency
  window_duration      = each.value.window
  tags                 = var.tags

  criteria {
    query                   = each.value.query
    time_aggregation_method = each.value.aggregation
    metric_measure_column   = "value"
    operator                = each.value.operator
    threshold               = each.value.threshold

    failing_periods {
      minimum_failing_periods_to_trigger_alert = 1
      number_of_evaluation_periods             = 1
    }
  }

  dynamic "action" {
    for_each = length(var.alert_action_group_ids) > 0 ? [var.alert_action_group_ids] : []
    content {
      action_groups = action.value
    }
  }
}
