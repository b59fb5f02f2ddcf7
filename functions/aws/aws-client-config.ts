import type { Settings } from '../common/env-settings.ts';

/** Client settings: the SDK's default chain and region in Lambda or on a workstation; the emulator locally. */
export function awsClientConfig(settings: Settings) {
  const { endpoint, region } = settings.aws;
  return {
    region,
    ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  };
}

/** The lease table's client: the DynamoDB endpoint locally (dynalite), else as any other AWS client. */
export function dynamoClientConfig(settings: Settings) {
  const endpoint = settings.aws.dynamodbEndpoint;
  return endpoint === undefined
    ? awsClientConfig(settings)
    : { region: settings.aws.region, endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
}
