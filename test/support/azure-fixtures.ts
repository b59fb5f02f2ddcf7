import functions, { type InvocationContext } from '@azure/functions';
import { invocationContext } from '../../local/azure-functions-http-server.ts';
import type { AzureInstance, AzureStack } from '../../local/azure-stack.ts';
import {
  identityResourceId,
  LOCAL_AKS_ISSUER,
  LOCAL_IDENTITY,
  LOCAL_RESOURCE_GROUP,
  LOCAL_SUBSCRIPTION,
} from '../../local/azure-stack.ts';
import { apiDeployment, deploymentEvent, postSigned } from './deployments.ts';

const { HttpRequest, HttpResponse } = functions;

export const AUDIENCE = 'api://AzureADTokenExchange';
export const AIRFLOW3_COMPONENTS = ['apiserver', 'dag-processor', 'kpo', 'scheduler', 'triggerer', 'worker'];

/** An Astro API Deployment on an AKS cluster whose own workload identity is `identity` in the local stack. */
export function azureDeployment(overrides: Record<string, unknown> = {}, identity = LOCAL_IDENTITY) {
  return apiDeployment({
    id: 'clazure000000000000000001',
    name: 'etl-azure',
    namespace: 'galactic-drift-4242',
    clusterName: 'azure-westus2-prod',
    cloudProvider: 'AZURE',
    region: 'westus2',
    airflowVersion: '3.0.2',
    astroRuntimeVersion: '3.0-1',
    oidcIssuerUrl: LOCAL_AKS_ISSUER,
    effectiveWorkloadIdentity: identityResourceId(identity),
    ...overrides,
  });
}

/** The n-th Remote Execution Deployment (two credentials: apiserver, scheduler), each in its own namespace. */
export function remoteDeployment(n: number, identity = LOCAL_IDENTITY) {
  return azureDeployment(
    {
      id: `clremote${String(n).padStart(17, '0')}`,
      name: `remote-${n}`,
      namespace: `remote-orbit-${1000 + n}`,
      remoteExecution: { enabled: true },
    },
    identity,
  );
}

export function subjectOf(namespace: string, component: string): string {
  const sa = component === 'kpo' ? `${namespace}-kpo` : `${namespace}-${component}-serviceaccount`;
  return `system:serviceaccount:${namespace}:${sa}`;
}

export function credentials(stack: AzureStack, identity = LOCAL_IDENTITY) {
  return stack.azure.credentials(LOCAL_SUBSCRIPTION, LOCAL_RESOURCE_GROUP, identity);
}

export function targetId(identity = LOCAL_IDENTITY): string {
  return `${LOCAL_SUBSCRIPTION}/${LOCAL_RESOURCE_GROUP}/${identity}`;
}

interface TargetResultJson {
  cloud: string;
  target: string;
  status: string;
  added: string[];
  present: string[];
  reason?: string;
  remedies?: string[];
  retryable?: boolean;
}

/** Posts a signed event to the stack's webhook route and returns the answer. */
export async function sendWebhook(
  stack: AzureStack,
  deployment: Record<string, unknown>,
  options: { id?: string; type?: 'deployment.created' | 'deployment.updated' } = {},
) {
  const body = JSON.stringify(deploymentEvent(deployment, options.type));
  const response = await postSigned(stack.webhookUrl, stack.webhookSecret, body, options.id ? { id: options.id } : {});
  return response as { status: number; json: { results?: TargetResultJson[]; error?: { code: string } } };
}

/** A queued message as intake would put it on the Storage queue. */
export function queuedEvent(deployment: Record<string, unknown>, webhookId = `msg_queue_${Date.now()}`) {
  return { webhookId, event: deploymentEvent(deployment) };
}

/** Calls an instance's manual handler directly (no HTTP server), as the host would invoke it. */
export async function invokeManual(
  stack: AzureStack,
  instance: AzureInstance,
  body: unknown,
  options: { token?: string; context?: InvocationContext } = {},
): Promise<{ status: number; json: { results?: TargetResultJson[]; error?: { code: string; message: string } } }> {
  const request = new HttpRequest({
    method: 'POST',
    url: 'http://127.0.0.1/api/manual',
    headers: { authorization: `Bearer ${options.token ?? stack.manualToken}`, 'content-type': 'application/json' },
    body: { string: JSON.stringify(body) },
  });
  const result = await instance.http.manual(request, options.context ?? invocationContext('manual'));
  const response = result instanceof HttpResponse ? result : new HttpResponse(result);
  return { status: response.status, json: (await response.json()) as never };
}
