import { type Deployment, deploymentSchema } from '../../shared/intake/deployment.ts';
import { type ClusterType, type DesiredGrant, desiredGrant } from '../../shared/plan/subjects.ts';

/** Shared constants and factories for the unit and property tests. */
export const NAMESPACE = 'quasarian-nebula-7421';
export const ROLE_ARN = 'arn:aws:iam::123456789012:role/astro-deployments';
export const ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
export const ISSUER_HOST_PATH = 'oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
export const PROVIDER_ARN = `arn:aws:iam::123456789012:oidc-provider/${ISSUER_HOST_PATH}`;
export const POOL = 'astro-gke-project.svc.id.goog';
export const PROJECT_NUMBER = '123456789012';
export const SUBSCRIPTION_ID = '0b1f6471-1bf0-4dda-aec3-cb9272f09590';

export function subject(namespace: string, serviceAccount: string): string {
  return `system:serviceaccount:${namespace}:${serviceAccount}`;
}

/** The six Airflow 3 subjects of a namespace, sorted. */
export function airflow3Subjects(namespace: string): string[] {
  return [
    `${namespace}-apiserver-serviceaccount`,
    `${namespace}-dag-processor-serviceaccount`,
    `${namespace}-kpo`,
    `${namespace}-scheduler-serviceaccount`,
    `${namespace}-triggerer-serviceaccount`,
    `${namespace}-worker-serviceaccount`,
  ].map((sa) => subject(namespace, sa));
}

export function grantFor(
  namespace: string,
  options: { components?: readonly string[]; wildcard?: boolean; clusterType?: ClusterType } = {},
): DesiredGrant {
  return desiredGrant({
    namespace,
    selection: { airflowVersion: '3.0.2', ...(options.components ? { components: options.components } : {}) },
    ...(options.wildcard
      ? { wildcard: { requested: true, clusterType: options.clusterType ?? 'DEDICATED', strict: true } }
      : {}),
  });
}

export function rawDeployment(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'clx0deployment000001',
    name: 'etl-prod',
    namespace: NAMESPACE,
    organizationId: 'clx0organization0001',
    workspaceId: 'ws-analytics',
    clusterId: 'cluster-a',
    cloudProvider: 'AWS',
    type: 'DEDICATED',
    airflowVersion: '3.0.2',
    ...overrides,
  };
}

export function makeDeployment(overrides: Record<string, unknown> = {}): Deployment {
  return deploymentSchema.parse(rawDeployment(overrides));
}

/** Runs `fn` and returns what it threw; fails the test when it did not throw. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}
