# --- Log-based metrics and alert policies (optional) ---------------------------------------------------------------
#
# The functions write one structured line per metric per invocation:
#   {"severity":"INFO","message":"metric","metric":{"name":"Failures","value":1,"unit":"Count","dimensions":{...}}}
# create_log_metrics turns the two worth alerting on into log-based counters (lines matching, per function) and an
# alert policy each. Off by default: log-based metrics and alerting are billed.

locals {
  metric_functions = [
    google_cloudfunctions2_function.http.name,
    google_cloudfunctions2_function.events.name,
    google_cloudfunctions2_function.schedule.name,
  ]
  metric_source = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=(${join(" OR ", [for name in local.metric_functions : "\"${name}\""])})",
  ])

  log_metrics = var.create_log_metrics ? {
    failures = {
      title       = "astro-identity-sync failures"
      description = "Invocations with a target result that failed (denied, does not fit, conflict, failed, blocked)."
      filter      = "jsonPayload.metric.name=\"Failures\""
      # Five minutes, as soon as one is seen.
      alignment = "300s"
      content   = "A Deployment's access could not be granted. The Slack report of the event (or the functions' logs: jsonPayload.metric.name=\"Failures\") names the target and why."
    }
    capacity = {
      title       = "astro-identity-sync capacity"
      description = "Invocations that saw a target at or above ${var.capacity_alert_percent}% of its limit (1,500 members per IAM policy)."
      filter      = "jsonPayload.metric.name=\"CapacityUsedPercent\" AND jsonPayload.metric.value>=${var.capacity_alert_percent}"
      # The sweep reads every target hourly.
      alignment = "3600s"
      content   = "A service account's or project's IAM policy is nearly full (1,500 members). Give new Deployments another service account, or remove entries no Deployment needs."
    }
  } : {}
}

resource "google_logging_metric" "this" {
  for_each = local.log_metrics

  project     = var.project_id
  name        = "${var.name_prefix}/${each.key}"
  description = each.value.description
  filter      = "${local.metric_source} AND ${each.value.filter}"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = each.value.title

    labels {
      key         = "function"
      value_type  = "STRING"
      description = "The function that wrote the line."
    }
  }

  label_extractors = {
    function = "EXTRACT(resource.labels.service_name)"
  }

  depends_on = [google_project_service.this]
}

resource "google_monitoring_alert_policy" "this" {
  for_each = local.log_metrics

  project               = var.project_id
  display_name          = each.value.title
  combiner              = "OR"
  notification_channels = var.alert_notification_channels
  user_labels           = var.labels

  conditions {
    display_name = each.value.title

    condition_threshold {
      filter          = "resource.type=\"cloud_run_revision\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.this[each.key].name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = each.value.alignment
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }

      trigger {
        count = 1
      }
    }
  }

  documentation {
    content   = each.value.content
    mime_type = "text/markdown"
  }
}
