import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { IntakeAdapter } from '../common/cloud-adapter.ts';
import { awsClientConfig } from './aws-client-config.ts';
import { classifyAwsError } from './aws-errors.ts';
import { createAwsSecretResolver } from './secret-resolver.ts';

export interface AwsIntakeClients {
  readonly events: EventBridgeClient;
}

/**
 * The webhook function's adapter: it verifies and publishes, nothing else, so it carries no IAM client, no Slack and
 * no Astro client (its bundle is a third of the others').
 */
export const awsIntakeAdapter: IntakeAdapter<AwsIntakeClients> = {
  cloud: 'aws',
  clients: (settings) => ({ events: new EventBridgeClient(awsClientConfig(settings)) }),
  secrets: (_clients, settings) => createAwsSecretResolver(settings),
  classify: classifyAwsError,
  close: (clients) => clients.events.destroy(),
};
