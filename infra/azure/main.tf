# astro-identity-sync on Azure: one Function App on the Flex Consumption plan (Node 22, v4 programming model) running
# dist/azure/function-app.zip (`npm run build`: the bundle as index.js, package.json, host.json).
#
#   webhook     HTTP POST /api/webhook, anonymous (the Standard Webhooks signature authenticates)
#   manual      HTTP POST /api/manual, function key plus the bearer token
#   reconciler  Storage queue trigger on var.queue_name; after host.json maxDequeueCount (5) failed deliveries the
#               host moves the message to <queue>-poison
#   poll/sweep  timer triggers the code registers when their NCRONTAB app settings are set (schedules_enabled):
#               every 5 minutes and hourly
#
# Why Flex Consumption: it is the plan Azure develops (Linux Consumption gets no new language versions and retires
# in 2028), it runs Node 22, and scales per function. Consequences: the runtime is set by runtime_name/runtime_version
# (Flex rejects the FUNCTIONS_WORKER_RUNTIME app setting), and Key Vault references resolve with the app's
# system-assigned identity (the provider does not expose keyVaultReferenceIdentity for Flex), while the code's ARM
# calls use the user-assigned identity through AZURE_CLIENT_ID.

data "azurerm_client_config" "current" {}

data "azurerm_resource_group" "this" {
  name = var.resource_group_name
}

locals {
  dist_dir    = coalesce(var.dist_dir, "${path.module}/../../dist")
  package_zip = "${local.dist_dir}/azure/function-app.zip"

  runtime_name    = "node"
  runtime_version = "22"

  suffix               = substr(sha1("${data.azurerm_resource_group.this.id}/${var.name_prefix}"), 0, 8)
  storage_account_name = coalesce(var.storage_account_name, substr("${replace(var.name_prefix, "-", "")}${local.suffix}", 0, 24))
  key_vault_name       = coalesce(var.key_vault_name, "${trimsuffix(substr(var.name_prefix, 0, 15), "-")}-${local.suffix}")

  # Exactly what the code calls (functions/azure/federated-credentials-driver.ts): list/get and createOrUpdate; delete
  # only for the sweep's cleanup when prune is enabled.
  federated_credential_actions = [
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read",
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
  ]
  federated_credential_prune_actions = [
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete",
  ]
  # A custom role can be made assignable at resource groups, not at single resources: the role is assignable in the
  # identities' resource groups and assigned on each identity.
  identity_resource_groups = distinct([
    for id in var.target_identity_ids : regex("(?i)^(/subscriptions/[^/]+/resourceGroups/[^/]+)/", id)[0]
  ])

  # Read by functions/azure/index.ts at start-up; the timers exist only when these are set.
  timer_schedules = {
    ASTRO_IDENTITY_SYNC_POLL_SCHEDULE  = "0 */5 * * * *"
    ASTRO_IDENTITY_SYNC_SWEEP_SCHEDULE = "0 0 * * * *"
  }

  secret_names = {
    webhook = "webhook-secret"
    manual  = "manual-token"
    slack   = "slack-bot-token"
    astro   = "astro-api-token"
  }
  secret_setting_names = {
    webhook = "WEBHOOK_SECRET"
    manual  = "MANUAL_TOKEN"
    slack   = "SLACK_BOT_TOKEN"
    astro   = "ASTRO_API_TOKEN"
  }
}

# --- Identity and permissions --------------------------------------------------------------------------------------

resource "azurerm_user_assigned_identity" "function" {
  name                = "${var.name_prefix}-function"
  resource_group_name = data.azurerm_resource_group.this.name
  location            = var.location
  tags                = var.tags
}

resource "azurerm_role_definition" "federated_credentials" {
  name              = "${var.name_prefix} federated identity credentials ${local.suffix}"
  description       = "astro-identity-sync: read and write (and with prune, delete) federated identity credentials of a user-assigned identity."
  scope             = local.identity_resource_groups[0]
  assignable_scopes = local.identity_resource_groups

  permissions {
    actions     = var.prune ? concat(local.federated_credential_actions, local.federated_credential_prune_actions) : local.federated_credential_actions
    not_actions = []
  }
}

resource "azurerm_role_assignment" "target" {
  for_each = toset(var.target_identity_ids)

  scope              = each.value
  role_definition_id = azurerm_role_definition.federated_credentials.role_definition_resource_id
  principal_id       = azurerm_user_assigned_identity.function.principal_id
  principal_type     = "ServicePrincipal"
  description        = "astro-identity-sync may manage federated credentials of this identity only"
}

# --- Storage: host state, the deployment container and the event queues --------------------------------------------

resource "azurerm_storage_account" "this" {
  name                            = local.storage_account_name
  resource_group_name             = data.azurerm_resource_group.this.name
  location                        = var.location
  account_tier                    = "Standard"
  account_replication_type        = "LRS"
  min_tls_version                 = "TLS1_2"
  allow_nested_items_to_be_public = false
  tags                            = var.tags
}

resource "azurerm_storage_container" "package" {
  name                  = "app-package"
  storage_account_id    = azurerm_storage_account.this.id
  container_access_type = "private"
}

resource "azurerm_storage_queue" "events" {
  name               = var.queue_name
  storage_account_id = azurerm_storage_account.this.id
}

# The host creates it on the first poison message; created here so an alert can watch it from the start.
resource "azurerm_storage_queue" "poison" {
  name               = "${var.queue_name}-poison"
  storage_account_id = azurerm_storage_account.this.id
}

# --- Key Vault -----------------------------------------------------------------------------------------------------

resource "azurerm_key_vault" "this" {
  name                       = local.key_vault_name
  resource_group_name        = data.azurerm_resource_group.this.name
  location                   = var.location
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "standard"
  rbac_authorization_enabled = true
  soft_delete_retention_days = 7
  purge_protection_enabled   = false
  tags                       = var.tags
}

# Whoever runs Terraform creates the placeholder secrets.
resource "azurerm_role_assignment" "deployer_secrets" {
  scope                = azurerm_key_vault.this.id
  role_definition_name = "Key Vault Secrets Officer"
  principal_id         = data.azurerm_client_config.current.object_id
}

# Placeholders: set the real values with `az keyvault secret set` (Terraform ignores later values). App settings
# reference the versionless URI, so the app picks a new version up within a day, or at once on a restart.
resource "azurerm_key_vault_secret" "this" {
  for_each = var.secrets

  name         = "${var.name_prefix}-${local.secret_names[each.key]}"
  key_vault_id = azurerm_key_vault.this.id
  value        = "replace-me"
  content_type = "astro-identity-sync ${each.key} secret"

  lifecycle {
    ignore_changes = [value, content_type]
  }

  depends_on = [azurerm_role_assignment.deployer_secrets]
}

# Key Vault references resolve with the app's system-assigned identity, which may read these secrets and nothing else.
resource "azurerm_role_assignment" "function_secrets" {
  for_each = var.secrets

  scope                = azurerm_key_vault_secret.this[each.key].resource_versionless_id
  role_definition_name = "Key Vault Secrets User"
  principal_id         = azurerm_function_app_flex_consumption.this.identity[0].principal_id
  principal_type       = "ServicePrincipal"
}

# --- Monitoring ----------------------------------------------------------------------------------------------------

resource "azurerm_log_analytics_workspace" "this" {
  name                = "${var.name_prefix}-logs"
  resource_group_name = data.azurerm_resource_group.this.name
  location            = var.location
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
  tags                = var.tags
}

resource "azurerm_application_insights" "this" {
  name                = "${var.name_prefix}-insights"
  resource_group_name = data.azurerm_resource_group.this.name
  location            = var.location
  workspace_id        = azurerm_log_analytics_workspace.this.id
  application_type    = "Node.JS"
  tags                = var.tags
}

# --- Function app --------------------------------------------------------------------------------------------------

resource "azurerm_service_plan" "this" {
  name                = "${var.name_prefix}-plan"
  resource_group_name = data.azurerm_resource_group.this.name
  location            = var.location
  os_type             = "Linux"
  sku_name            = "FC1"
  tags                = var.tags
}

resource "azurerm_function_app_flex_consumption" "this" {
  name                = "${var.name_prefix}-${local.suffix}"
  resource_group_name = data.azurerm_resource_group.this.name
  location            = var.location
  service_plan_id     = azurerm_service_plan.this.id
  https_only          = true

  # The deployment package container; AzureWebJobsStorage (host state and the queue trigger's connection) is set
  # by the provider from the same account key.
  storage_container_type      = "blobContainer"
  storage_container_endpoint  = "${azurerm_storage_account.this.primary_blob_endpoint}${azurerm_storage_container.package.name}"
  storage_authentication_type = "StorageAccountConnectionString"
  storage_access_key          = azurerm_storage_account.this.primary_access_key

  runtime_name           = local.runtime_name
  runtime_version        = local.runtime_version
  maximum_instance_count = var.maximum_instance_count
  instance_memory_in_mb  = 2048

  identity {
    type         = "SystemAssigned, UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.function.id]
  }

  site_config {
    application_insights_connection_string = azurerm_application_insights.this.connection_string
  }

  app_settings = merge(
    {
      ASTRO_IDENTITY_SYNC_CONFIG     = var.config
      ASTRO_IDENTITY_SYNC_QUEUE_NAME = azurerm_storage_queue.events.name
      # host.json functionTimeout (scripts/package-files.ts): the runtime does not tell the code, so Terraform does.
      ASTRO_IDENTITY_SYNC_FUNCTION_TIMEOUT_S = "600"
      # DefaultAzureCredential picks the user-assigned identity (the one holding the custom role).
      AZURE_CLIENT_ID = azurerm_user_assigned_identity.function.client_id
    },
    {
      for key in var.secrets : local.secret_setting_names[key] => "@Microsoft.KeyVault(SecretUri=${azurerm_key_vault_secret.this[key].versionless_id})"
    },
    var.schedules_enabled ? local.timer_schedules : {},
  )

  tags = var.tags
}

# azurerm's zip_deploy_file posts to /api/zipdeploy, which Flex Consumption does not serve
# (hashicorp/terraform-provider-azurerm#29630); the Azure CLI uses the Flex deployment endpoint.
resource "terraform_data" "deploy_package" {
  count = var.deploy_package ? 1 : 0

  triggers_replace = [filesha256(local.package_zip), azurerm_function_app_flex_consumption.this.id]

  provisioner "local-exec" {
    command = "az functionapp deployment source config-zip --resource-group '${data.azurerm_resource_group.this.name}' --name '${azurerm_function_app_flex_consumption.this.name}' --src '${abspath(local.package_zip)}'"
  }

  # Deploying restarts the app: by then it may read its Key Vault references.
  depends_on = [azurerm_role_assignment.function_secrets]
}
