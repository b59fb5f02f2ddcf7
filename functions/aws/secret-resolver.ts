import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { ValidationError } from '../../shared/errors.ts';
import { envSecret, type SecretResolver } from '../common/cloud-adapter.ts';
import type { Settings } from '../common/env-settings.ts';

/**
 * Resolves `env:`, `aws-ssm:` (SecureString decrypted) and `aws-sm:` references through Powertools Parameters, which
 * caches values across warm invocations. The SSM and Secrets Manager clients (and their SDK code) are loaded on first
 * use: most configs keep their secrets in one of the two, or in env: alone, and a cold start should not pay for what
 * it does not read. The value itself is never logged or put in an error message.
 */
export function createAwsSecretResolver(settings: Settings): SecretResolver {
  let ssm: Promise<SSMProvider> | undefined;
  let secrets: Promise<SecretsProvider> | undefined;
  const loadSsm = async () => (await import('./parameter-providers.ts')).ssmProvider(settings);
  const loadSecrets = async () => (await import('./parameter-providers.ts')).secretsProvider(settings);
  return async (ref, field) => {
    const fromEnv = envSecret(settings, ref, field);
    if (fromEnv !== undefined) return fromEnv;
    const colon = ref.indexOf(':');
    const scheme = ref.slice(0, colon);
    const name = ref.slice(colon + 1);
    let value: string | undefined;
    try {
      if (scheme === 'aws-ssm') {
        ssm ??= loadSsm();
        value = await (await ssm).get(name, { decrypt: true, maxAge: 300 });
      } else if (scheme === 'aws-sm') {
        secrets ??= loadSecrets();
        const raw = await (await secrets).get(name, { maxAge: 300 });
        value = typeof raw === 'string' ? raw : raw === undefined ? undefined : new TextDecoder().decode(raw);
      } else {
        throw new ValidationError(`"${scheme}:" references are not available on AWS; use env:, aws-ssm: or aws-sm:`, {
          field,
          code: 'invalid_config',
        });
      }
    } catch (cause) {
      if (cause instanceof ValidationError) throw cause;
      throw new ValidationError(`cannot read secret ${ref}: ${(cause as Error).name ?? 'error'}`, {
        field,
        code: 'invalid_config',
        cause,
      });
    }
    if (value === undefined || value === '') {
      throw new ValidationError(`secret ${ref} is empty or not set`, { field, code: 'invalid_config' });
    }
    return value.trim();
  };
}
