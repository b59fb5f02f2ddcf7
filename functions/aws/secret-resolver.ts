import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { ValidationError } from '../../shared/errors.ts';

import type { Env, SecretResolver } from '../common/function-runtime.ts';

/**
 * Resolves `env:`, `aws-ssm:` (SecureString decrypted) and `aws-sm:` references through Powertools Parameters, which
 * caches values across warm invocations. The value itself is never logged or put in an error message.
 */
export function createAwsSecretResolver(
  env: Env,
  clients: { ssm: SSMClient; secrets: SecretsManagerClient },
): SecretResolver {
  const ssm = new SSMProvider({ awsSdkV3Client: clients.ssm });
  const secrets = new SecretsProvider({ awsSdkV3Client: clients.secrets });
  return async (ref, field) => {
    const colon = ref.indexOf(':');
    const scheme = ref.slice(0, colon);
    const name = ref.slice(colon + 1);
    let value: string | undefined;
    try {
      if (scheme === 'env') value = env[name];
      else if (scheme === 'aws-ssm') value = await ssm.get(name, { decrypt: true, maxAge: 300 });
      else if (scheme === 'aws-sm') {
        const raw = await secrets.get(name, { maxAge: 300 });
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
