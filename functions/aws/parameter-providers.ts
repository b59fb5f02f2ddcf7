import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Settings } from '../common/env-settings.ts';
import { awsClientConfig } from './aws-client-config.ts';

/**
 * The Powertools providers behind `aws-ssm:` and `aws-sm:` references, in a module of their own so the resolver can
 * load each on first use (a static import here keeps the SDK clients tree-shaken to what they use).
 */
export function ssmProvider(settings: Settings): SSMProvider {
  return new SSMProvider({ awsSdkV3Client: new SSMClient(awsClientConfig(settings)) });
}

export function secretsProvider(settings: Settings): SecretsProvider {
  return new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient(awsClientConfig(settings)) });
}
