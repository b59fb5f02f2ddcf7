# astro-identity-sync on Google Cloud: one source zip (`npm run build`: dist/gcp/function-source.zip, the bundle as
# index.js plus a package.json naming the Functions Framework), deployed as three Cloud Functions (2nd gen):
#
#   <prefix>-http      astroIdentitySync          POST / (signed webhook), POST /manual (bearer token)
#   <prefix>-events    astroIdentitySyncEvents    queued events from the events topic
#   <prefix>-schedule  astroIdentitySyncSchedule  {"task":"poll"} every 5 minutes, {"task":"sweep"} hourly (Cloud Scheduler)
#
# Pub/Sub delivery (pubsub_delivery = "push", the default): this module owns push subscriptions to the two Pub/Sub
# functions, with retry backoff and, for events, a dead-letter topic. An Eventarc trigger would create a subscription
# of its own that Terraform cannot give a dead-letter policy. The Functions Framework accepts Pub/Sub push bodies for
# CloudEvent functions and hands them over as the same messagePublished CloudEvent.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  dist_dir   = coalesce(var.dist_dir, "${path.module}/../../dist")
  source_zip = "${local.dist_dir}/gcp/function-source.zip"
  runtime    = "nodejs22"

  entry_points = {
    http     = "astroIdentitySync"
    events   = "astroIdentitySyncEvents"
    schedule = "astroIdentitySyncSchedule"
  }

  # Cloud Scheduler -> schedule topic; the data is what functions/common/scheduled-task.ts parseTask takes.
  schedules = {
    poll  = { schedule = "*/5 * * * *", data = "{\"task\":\"poll\"}" }
    sweep = { schedule = "0 * * * *", data = "{\"task\":\"sweep\"}" }
  }

  secret_env_names = {
    webhook = "WEBHOOK_SECRET"
    manual  = "MANUAL_TOKEN"
    slack   = "SLACK_BOT_TOKEN"
    astro   = "ASTRO_API_TOKEN"
  }
  secret_ids = {
    webhook = "${var.name_prefix}-webhook-secret"
    manual  = "${var.name_prefix}-manual-token"
    slack   = "${var.name_prefix}-slack-bot-token"
    astro   = "${var.name_prefix}-astro-api-token"
  }

  # Seconds; each function is also told its own (ASTRO_IDENTITY_SYNC_FUNCTION_TIMEOUT_S), since Cloud Functions does not.
  function_timeouts = { http = 120, events = 300, schedule = 540 }

  environment = {
    ASTRO_IDENTITY_SYNC_CONFIG = var.config
    LOG_LEVEL                  = var.log_level
  }

  # Exactly what the function calls (functions/gcp/iam-policy-io.ts).
  target_sa_permissions = ["iam.serviceAccounts.getIamPolicy", "iam.serviceAccounts.setIamPolicy"]
  target_sa_role_id     = "${replace(var.name_prefix, "-", "_")}_sa_iam_policy"
  target_sa_role        = var.organization_id == null ? google_project_iam_custom_role.target_sa_policy[0].name : google_organization_iam_custom_role.target_sa_policy[0].name

  # Project targets (functions/gcp/project-policy-io.ts), off unless project_role_targets lists projects. A project's
  # custom role can only be granted inside that project: without organization_id each target project gets its own.
  project_policy_permissions = ["resourcemanager.projects.getIamPolicy", "resourcemanager.projects.setIamPolicy"]
  project_policy_role_id     = "${replace(var.name_prefix, "-", "_")}_project_iam_policy"
  project_roles_on           = length(var.project_role_targets) > 0

  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  push                 = var.pubsub_delivery == "push"

  apis = concat(local.project_roles_on ? ["cloudresourcemanager.googleapis.com"] : [], var.create_log_metrics ? ["logging.googleapis.com", "monitoring.googleapis.com"] : [], [
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "eventarc.googleapis.com",
    "iam.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
  ])
}

resource "google_project_service" "this" {
  for_each = var.enable_apis ? toset(local.apis) : toset([])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# --- Identities ----------------------------------------------------------------------------------------------------

resource "google_service_account" "runtime" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-fn"
  display_name = "astro-identity-sync functions"
  description  = "Runs the astro-identity-sync functions; may change the IAM policy of the target service accounts (and of project_role_targets) only."
}

# Pub/Sub (push subscriptions or Eventarc) calls the events and schedule functions with this identity's OIDC token.
resource "google_service_account" "push" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-push"
  display_name = "astro-identity-sync Pub/Sub delivery"
}

resource "google_service_account_iam_member" "push_token_creator" {
  service_account_id = google_service_account.push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

# Only iam.serviceAccounts.getIamPolicy and setIamPolicy, granted on each target service account below.
resource "google_project_iam_custom_role" "target_sa_policy" {
  count = var.organization_id == null ? 1 : 0

  project     = var.project_id
  role_id     = local.target_sa_role_id
  title       = "astro-identity-sync: service account IAM policy"
  description = "Read and write the IAM policy of a service account (workloadIdentityUser grants)."
  permissions = local.target_sa_permissions
}

resource "google_organization_iam_custom_role" "target_sa_policy" {
  count = var.organization_id == null ? 0 : 1

  org_id      = var.organization_id
  role_id     = local.target_sa_role_id
  title       = "astro-identity-sync: service account IAM policy"
  description = "Read and write the IAM policy of a service account (workloadIdentityUser grants)."
  permissions = local.target_sa_permissions
}

resource "google_service_account_iam_member" "target" {
  for_each = toset(var.target_service_accounts)

  service_account_id = "projects/${regex("@([a-z0-9-]+)\\.iam\\.gserviceaccount\\.com$", each.value)[0]}/serviceAccounts/${each.value}"
  role               = local.target_sa_role
  member             = "serviceAccount:${google_service_account.runtime.email}"
}

# Project targets: only resourcemanager.projects.getIamPolicy and setIamPolicy, granted on each listed project. That
# is full control of who may do what in the project, which is why the list is explicit and empty by default; the
# function itself grants only gcp.allowedProjectRoles and refuses basic and IAM-admin roles.
resource "google_project_iam_custom_role" "project_policy" {
  for_each = var.organization_id == null ? toset(var.project_role_targets) : toset([])

  project     = each.value
  role_id     = local.project_policy_role_id
  title       = "astro-identity-sync: project IAM policy"
  description = "Read and write the IAM policy of this project (Astro Deployment project roles)."
  permissions = local.project_policy_permissions
}

resource "google_organization_iam_custom_role" "project_policy" {
  count = var.organization_id != null && local.project_roles_on ? 1 : 0

  org_id      = var.organization_id
  role_id     = local.project_policy_role_id
  title       = "astro-identity-sync: project IAM policy"
  description = "Read and write the IAM policy of a project (Astro Deployment project roles)."
  permissions = local.project_policy_permissions
}

resource "google_project_iam_member" "project_policy" {
  for_each = toset(var.project_role_targets)

  project = each.value
  role    = var.organization_id == null ? google_project_iam_custom_role.project_policy[each.value].name : google_organization_iam_custom_role.project_policy[0].name
  member  = "serviceAccount:${google_service_account.runtime.email}"
}

# --- Secrets -------------------------------------------------------------------------------------------------------

resource "google_secret_manager_secret" "this" {
  for_each = var.secrets

  project   = var.project_id
  secret_id = local.secret_ids[each.key]
  labels    = var.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.this]
}

# A placeholder so the functions can deploy (a mounted secret needs a version). Add the real value as a new version
# (gcloud secrets versions add); Terraform ignores it. Instances started after that read it.
resource "google_secret_manager_secret_version" "placeholder" {
  for_each = var.secrets

  secret      = google_secret_manager_secret.this[each.key].id
  secret_data = "replace-me"

  lifecycle {
    ignore_changes = [secret_data]
  }
}

resource "google_secret_manager_secret_iam_member" "runtime" {
  for_each = var.secrets

  project   = var.project_id
  secret_id = google_secret_manager_secret.this[each.key].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.runtime.email}"
}

# --- Source --------------------------------------------------------------------------------------------------------

resource "google_storage_bucket" "source" {
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name_prefix}-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true
  labels                      = var.labels
}

# The object name carries the zip's hash, so the functions are rebuilt exactly when the code changes.
resource "google_storage_bucket_object" "source" {
  bucket = google_storage_bucket.source.name
  name   = "function-source-${filemd5(local.source_zip)}.zip"
  source = local.source_zip
}

# --- Topics --------------------------------------------------------------------------------------------------------

resource "google_pubsub_topic" "events" {
  project = var.project_id
  name    = "${var.name_prefix}-events"
  labels  = var.labels

  depends_on = [google_project_service.this]
}

resource "google_pubsub_topic" "dead_letter" {
  project = var.project_id
  name    = "${var.name_prefix}-events-dead-letter"
  labels  = var.labels

  depends_on = [google_project_service.this]
}

# A topic keeps nothing by itself: dead letters wait here for inspection and replay.
resource "google_pubsub_subscription" "dead_letter" {
  project                    = var.project_id
  name                       = "${var.name_prefix}-events-dead-letter"
  topic                      = google_pubsub_topic.dead_letter.id
  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60
  labels                     = var.labels

  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_topic" "schedule" {
  project = var.project_id
  name    = "${var.name_prefix}-schedule"
  labels  = var.labels

  depends_on = [google_project_service.this]
}

resource "google_pubsub_topic_iam_member" "event_publishers" {
  for_each = toset(var.event_publishers)

  project = var.project_id
  topic   = google_pubsub_topic.events.name
  role    = "roles/pubsub.publisher"
  member  = each.value
}

# --- Functions -----------------------------------------------------------------------------------------------------

resource "google_cloudfunctions2_function" "http" {
  project     = var.project_id
  location    = var.region
  name        = "${var.name_prefix}-http"
  description = "astro-identity-sync: signed webhook (POST /) and manual invocation (POST /manual)"
  labels      = var.labels

  build_config {
    runtime         = local.runtime
    entry_point     = local.entry_points.http
    service_account = var.build_service_account
    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory               = "512Mi"
    timeout_seconds                = local.function_timeouts.http
    max_instance_count             = var.max_instances
    ingress_settings               = "ALLOW_ALL"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.runtime.email
    # The runtime does not tell the code its timeout; the function hands back what it cannot finish in it.
    environment_variables = merge(local.environment, { ASTRO_IDENTITY_SYNC_FUNCTION_TIMEOUT_S = tostring(local.function_timeouts.http) })

    dynamic "secret_environment_variables" {
      for_each = var.secrets
      content {
        key        = local.secret_env_names[secret_environment_variables.value]
        project_id = var.project_id
        secret     = google_secret_manager_secret.this[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }

  depends_on = [google_project_service.this, google_secret_manager_secret_version.placeholder, google_secret_manager_secret_iam_member.runtime]
}

resource "google_cloudfunctions2_function" "events" {
  project     = var.project_id
  location    = var.region
  name        = "${var.name_prefix}-events"
  description = "astro-identity-sync: queued Deployment events from Pub/Sub"
  labels      = var.labels

  build_config {
    runtime         = local.runtime
    entry_point     = local.entry_points.events
    service_account = var.build_service_account
    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory               = "512Mi"
    timeout_seconds                = local.function_timeouts.events
    max_instance_count             = var.max_instances
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.runtime.email
    # The runtime does not tell the code its timeout; the function hands back what it cannot finish in it.
    environment_variables = merge(local.environment, { ASTRO_IDENTITY_SYNC_FUNCTION_TIMEOUT_S = tostring(local.function_timeouts.events) })

    dynamic "secret_environment_variables" {
      for_each = var.secrets
      content {
        key        = local.secret_env_names[secret_environment_variables.value]
        project_id = var.project_id
        secret     = google_secret_manager_secret.this[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }

  dynamic "event_trigger" {
    for_each = local.push ? [] : [1]
    content {
      trigger_region        = var.region
      event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
      pubsub_topic          = google_pubsub_topic.events.id
      retry_policy          = "RETRY_POLICY_RETRY"
      service_account_email = google_service_account.push.email
    }
  }

  depends_on = [google_project_service.this, google_secret_manager_secret_version.placeholder, google_secret_manager_secret_iam_member.runtime]
}

resource "google_cloudfunctions2_function" "schedule" {
  project     = var.project_id
  location    = var.region
  name        = "${var.name_prefix}-schedule"
  description = "astro-identity-sync: Astro API poller (every 5 minutes) and drift sweep (hourly)"
  labels      = var.labels

  build_config {
    runtime         = local.runtime
    entry_point     = local.entry_points.schedule
    service_account = var.build_service_account
    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory               = "512Mi"
    timeout_seconds                = local.function_timeouts.schedule
    max_instance_count             = 1
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.runtime.email
    # The runtime does not tell the code its timeout; the function hands back what it cannot finish in it.
    environment_variables = merge(local.environment, { ASTRO_IDENTITY_SYNC_FUNCTION_TIMEOUT_S = tostring(local.function_timeouts.schedule) })

    dynamic "secret_environment_variables" {
      for_each = var.secrets
      content {
        key        = local.secret_env_names[secret_environment_variables.value]
        project_id = var.project_id
        secret     = google_secret_manager_secret.this[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }

  dynamic "event_trigger" {
    for_each = local.push ? [] : [1]
    content {
      trigger_region        = var.region
      event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
      pubsub_topic          = google_pubsub_topic.schedule.id
      retry_policy          = "RETRY_POLICY_RETRY"
      service_account_email = google_service_account.push.email
    }
  }

  depends_on = [google_project_service.this, google_secret_manager_secret_version.placeholder, google_secret_manager_secret_iam_member.runtime]
}

# --- Invokers ------------------------------------------------------------------------------------------------------

resource "google_cloud_run_service_iam_member" "http_public" {
  count = var.allow_unauthenticated_http ? 1 : 0

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.http.name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_cloud_run_service_iam_member" "http_invokers" {
  for_each = toset(var.http_invoker_members)

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.http.name
  role     = "roles/run.invoker"
  member   = each.value
}

resource "google_cloud_run_service_iam_member" "events_push" {
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.events.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.push.email}"
}

resource "google_cloud_run_service_iam_member" "schedule_push" {
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.schedule.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.push.email}"
}

# --- Delivery (push) -----------------------------------------------------------------------------------------------

# Queued events: redelivered with backoff while the function fails (it throws on retryable failures), then
# dead-lettered after max_delivery_attempts. The path names the topic for the Functions Framework's Pub/Sub adapter.
resource "google_pubsub_subscription" "events" {
  count = local.push ? 1 : 0

  project                    = var.project_id
  name                       = "${var.name_prefix}-events"
  topic                      = google_pubsub_topic.events.id
  ack_deadline_seconds       = 600
  message_retention_duration = "604800s"
  labels                     = var.labels

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.events.service_config[0].uri}/projects/${var.project_id}/topics/${google_pubsub_topic.events.name}"
    oidc_token {
      service_account_email = google_service_account.push.email
      audience              = google_cloudfunctions2_function.events.service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [google_cloud_run_service_iam_member.events_push]
}

# Dead-lettering acts as the Pub/Sub service agent: it publishes to the dead-letter topic and acknowledges on the
# source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  count = local.push ? 1 : 0

  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "events_dead_letter_subscriber" {
  count = local.push ? 1 : 0

  project      = var.project_id
  subscription = google_pubsub_subscription.events[0].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

# Schedule messages are only worth running while fresh: a failed poll is retried for ten minutes at most (the
# shortest retention), and the next poll supersedes it anyway.
resource "google_pubsub_subscription" "schedule" {
  count = local.push ? 1 : 0

  project                    = var.project_id
  name                       = "${var.name_prefix}-schedule"
  topic                      = google_pubsub_topic.schedule.id
  ack_deadline_seconds       = 600
  message_retention_duration = "600s"
  labels                     = var.labels

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.schedule.service_config[0].uri}/projects/${var.project_id}/topics/${google_pubsub_topic.schedule.name}"
    oidc_token {
      service_account_email = google_service_account.push.email
      audience              = google_cloudfunctions2_function.schedule.service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = "30s"
    maximum_backoff = "300s"
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [google_cloud_run_service_iam_member.schedule_push]
}

# --- Schedules -----------------------------------------------------------------------------------------------------

resource "google_cloud_scheduler_job" "task" {
  for_each = local.schedules

  project     = var.project_id
  region      = var.region
  name        = "${var.name_prefix}-${each.key}"
  description = "astro-identity-sync ${each.key}"
  schedule    = each.value.schedule
  time_zone   = "Etc/UTC"
  paused      = !var.schedules_enabled

  pubsub_target {
    topic_name = google_pubsub_topic.schedule.id
    data       = base64encode(each.value.data)
  }

  depends_on = [google_project_service.this]
}
