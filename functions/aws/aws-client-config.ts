import type { Settings } from '../common/env-settings.ts';

/** Client settings: the SDK's default chain and region in Lambda or on a workstation; the emulator locally. */
export function awsClientConfig(settings: Settings) {
  const { endpoint, region } = settings.aws;
  return {
    region,
    ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  };
}
