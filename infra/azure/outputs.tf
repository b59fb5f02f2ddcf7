output "function_app_name" {
  description = "Name of the Function App."
  value       = azurerm_function_app_flex_consumption.this.name
}

output "webhook_url" {
  description = "URL of the signed webhook (POST, anonymous)."
  value       = "https://${azurerm_function_app_flex_consumption.this.default_hostname}/api/webhook"
}

output "manual_url" {
  description = "URL of manual invocation (POST with the bearer token and a function key in x-functions-key)."
  value       = "https://${azurerm_function_app_flex_consumption.this.default_hostname}/api/manual"
}

output "function_identity_client_id" {
  description = "Client id of the user-assigned identity the code uses (AZURE_CLIENT_ID)."
  value       = azurerm_user_assigned_identity.function.client_id
}

output "function_identity_principal_id" {
  description = "Principal id of the user-assigned identity that holds the custom role on each target identity."
  value       = azurerm_user_assigned_identity.function.principal_id
}

output "custom_role_definition_id" {
  description = "The custom role with the federated identity credential actions."
  value       = azurerm_role_definition.federated_credentials.role_definition_resource_id
}

output "key_vault_name" {
  description = "Key Vault holding the secrets."
  value       = azurerm_key_vault.this.name
}

output "secret_names" {
  description = "Key Vault secret names by key; set the real values with az keyvault secret set."
  value       = { for key, secret in azurerm_key_vault_secret.this : key => secret.name }
}

output "secret_setting_names" {
  description = "App setting (environment variable) of each secret, by key: reference it in the config as env:<NAME>."
  value       = { for key in var.secrets : key => local.secret_setting_names[key] }
}

output "queue_name" {
  description = "Storage queue of queued events."
  value       = azurerm_storage_queue.events.name
}

output "poison_queue_name" {
  description = "Where the host moves messages that failed maxDequeueCount times."
  value       = azurerm_storage_queue.poison.name
}

output "storage_account_name" {
  description = "Storage account of the host, the deployment package and the queues."
  value       = azurerm_storage_account.this.name
}

output "application_insights_name" {
  description = "Application Insights resource receiving the function logs."
  value       = azurerm_application_insights.this.name
}
