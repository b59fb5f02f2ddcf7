import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Settings } from '../common/env-settings.ts';
import { awsClientConfig } from './aws-client-config.ts';
import { prime, primingConfig } from './sdk-priming.ts';

/** EventBridge's request path primed (see sdk-priming.ts): a PutEvents of one entry, as the webhook publishes. */
export function primeEventBridge(settings: Settings): Promise<void> {
  const client = new EventBridgeClient({
    ...awsClientConfig(settings),
    ...primingConfig('{"Entries":[{"EventId":"primed"}],"FailedEntryCount":0}'),
  });
  const entry = { EventBusName: 'primed', Source: 'astro-identity-sync', DetailType: 'primed', Detail: '{}' };
  return prime(client, (c) => c.send(new PutEventsCommand({ Entries: [entry] })));
}
