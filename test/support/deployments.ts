import { signWebhook } from '../../shared/intake/webhook-signer.ts';

export const ISSUER_AWS = 'https://oidc.eks.us-east-1.amazonaws.com/id/5C0FFEE0123456789ABCDEF012345678';
const ROLE_DATA = 'arn:aws:iam::123456789012:role/astro-data';

/** An Astro API v1 Deployment as the API returns it, with fields this tool ignores left in on purpose. */
export function apiDeployment(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'clq2w3e4r000008l4fdu1abcd',
    name: 'etl-prod',
    namespace: 'nebular-gravity-1234',
    organizationId: 'clorg0000000000000000000',
    workspaceId: 'clws00000000000000000000',
    workspaceName: 'Data Platform',
    clusterId: 'clcl00000000000000000000',
    clusterName: 'aws-us-east-1-prod',
    cloudProvider: 'AWS',
    region: 'us-east-1',
    type: 'DEDICATED',
    airflowVersion: '2.10.3',
    astroRuntimeVersion: '12.4.0',
    status: 'HEALTHY',
    createdAt: '2026-11-20T10:00:00Z',
    updatedAt: '2026-11-20T10:00:00Z',
    oidcIssuerUrl: ISSUER_AWS,
    effectiveWorkloadIdentity: ROLE_DATA,
    executor: 'CELERY',
    schedulerSize: 'SMALL',
    ...overrides,
  };
}

export function deploymentEvent(
  deployment: Record<string, unknown>,
  type: 'deployment.created' | 'deployment.updated' | 'deployment.deleted' = 'deployment.created',
): Record<string, unknown> {
  return {
    type,
    timestamp: '2026-11-20T10:00:05Z',
    data: { organizationId: deployment.organizationId, deploymentId: deployment.id, deployment },
  };
}

let counter = 0;

/** Posts a body signed as a Standard Webhooks sender would; `headers` can override or tamper with any header. */
export async function postSigned(
  url: string,
  secret: string,
  body: string,
  options: { headers?: Record<string, string>; id?: string; timestamp?: Date } = {},
): Promise<{ status: number; json: unknown }> {
  counter += 1;
  const headers = {
    ...signWebhook({
      secret,
      id: options.id ?? `msg_test_${counter}_${Date.now()}`,
      body,
      ...(options.timestamp ? { timestamp: options.timestamp } : {}),
    }),
    ...options.headers,
  };
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json };
}
