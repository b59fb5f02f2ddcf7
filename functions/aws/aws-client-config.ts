import type { Settings } from '../common/env-settings.ts';

/**
 * Client settings: the SDK's default chain and region in Lambda or on a workstation; the emulator locally. Every
 * client gets a connection and a per-attempt limit: the SDK's default is none, so a server that accepts and never
 * answers would hold the invocation until the platform kills it. `throwOnRequestTimeout` makes the limit an error
 * (without it the handler only logs a warning and keeps waiting); the SDK's retry strategy then treats it as
 * transient.
 */
export function awsClientConfig(settings: Settings) {
  const { endpoint, region } = settings.aws;
  const { connectMs, requestMs } = settings.timeouts;
  return {
    region,
    requestHandler: { connectionTimeout: connectMs, requestTimeout: requestMs, throwOnRequestTimeout: true },
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
