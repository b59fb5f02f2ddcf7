terraform {
  required_version = ">= 1.6.0"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # azurerm_function_app_flex_consumption and azurerm_key_vault.rbac_authorization_enabled.
      version = ">= 4.42.0, < 5.0.0"
    }
  }
}
