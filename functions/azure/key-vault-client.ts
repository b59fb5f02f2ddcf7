/** Key Vault's client alone, for key-vault-resolver.ts to load on the first azure-kv: reference. */
export { SecretClient } from '@azure/keyvault-secrets';
