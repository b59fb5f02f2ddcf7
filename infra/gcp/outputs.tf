output "webhook_url" {
  description = "URL of the signed webhook (POST)."
  value       = google_cloudfunctions2_function.http.service_config[0].uri
}

output "manual_url" {
  description = "URL of manual invocation (POST with the bearer token)."
  value       = "${google_cloudfunctions2_function.http.service_config[0].uri}/manual"
}

output "function_names" {
  description = "Cloud Functions by role: http, events, schedule."
  value = {
    http     = google_cloudfunctions2_function.http.name
    events   = google_cloudfunctions2_function.events.name
    schedule = google_cloudfunctions2_function.schedule.name
  }
}

output "runtime_service_account_email" {
  description = "The functions' runtime service account (holds the custom role on each target service account)."
  value       = google_service_account.runtime.email
}

output "custom_role_name" {
  description = "The custom role with iam.serviceAccounts.getIamPolicy and setIamPolicy."
  value       = local.target_sa_role
}

output "project_role_names" {
  description = "The custom role (resourcemanager.projects.getIamPolicy and setIamPolicy) bound on each of project_role_targets, by project."
  value = {
    for project in var.project_role_targets : project => (
      var.organization_id == null ? google_project_iam_custom_role.project_policy[project].name : google_organization_iam_custom_role.project_policy[0].name
    )
  }
}

output "events_topic" {
  description = "Topic for queued events ({\"webhookId\", \"event\"}); publish to it for decoupled processing."
  value       = google_pubsub_topic.events.id
}

output "dead_letter_subscription" {
  description = "Subscription holding events that failed max_delivery_attempts times (push delivery)."
  value       = google_pubsub_subscription.dead_letter.id
}

output "schedule_topic" {
  description = "Topic Cloud Scheduler publishes the poll and sweep tasks to."
  value       = google_pubsub_topic.schedule.id
}

output "secret_ids" {
  description = "Secret Manager secret ids by key; add the real values as new versions."
  value       = { for key, secret in google_secret_manager_secret.this : key => secret.secret_id }
}

output "secret_env_names" {
  description = "Environment variable of each mounted secret, by key: reference it in the config as env:<NAME>."
  value       = { for key in var.secrets : key => local.secret_env_names[key] }
}
