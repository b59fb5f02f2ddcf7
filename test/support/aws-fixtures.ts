import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, EventBridgeEvent } from 'aws-lambda';
import { signWebhook } from '../../shared/intake/webhook-signer.ts';

export const EC2_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'Ec2', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

function load<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/aws/${name}`, import.meta.url), 'utf8')) as T;
}

/** A recorded Function URL / HTTP API event, re-signed now so it passes the 5-minute tolerance. */
export function signedHttpEvent(
  fixture: 'function-url-event.json' | 'http-api-event.json',
  secret: string,
  body: string,
  id = `msg_fixture_${Date.now()}`,
): APIGatewayProxyEventV2 {
  const event = load<APIGatewayProxyEventV2>(fixture);
  const signed = signWebhook({ secret, id, body });
  event.headers = {
    ...event.headers,
    'webhook-id': signed['webhook-id'],
    'webhook-timestamp': signed['webhook-timestamp'],
    'webhook-signature': signed['webhook-signature'],
    'content-length': String(Buffer.byteLength(body)),
  };
  event.body = event.isBase64Encoded ? Buffer.from(body).toString('base64') : body;
  return event;
}

export function eventBridgeFixture(): EventBridgeEvent<
  string,
  { webhookId: string; event: { data: { deployment: Record<string, unknown> } } }
> {
  return load('eventbridge-event.json');
}
