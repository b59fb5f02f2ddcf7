import * as z from 'zod/mini';
import { assertIssuer, assertNamespace } from '../plan/guardrails.ts';
import '../zod-english.ts';

/**
 * Astro API v1 Deployment, reduced to the fields this tool reads. Unknown fields are dropped (the API grows) and
 * `null` is read as absent, as the API omits or nulls optional fields depending on the endpoint.
 */

/** `null` and absent both read as absent, so the output type has no `null` in it. */
function absentWhenNull<T extends z.core.SomeType>(schema: T) {
  return z.pipe(
    z.nullish(schema),
    z.transform((value: z.output<T> | null | undefined) => value ?? undefined),
  );
}

const optionalString = absentWhenNull(z.string());

/** Runs a guardrail inside zod so the error carries the field's path. */
function guardedString(check: (value: string) => unknown) {
  return z.string().check(
    z.superRefine((value, ctx) => {
      try {
        check(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^\w+: /, '') });
      }
    }),
  );
}

const namespaceSchema = guardedString(assertNamespace);

export const cloudProviderSchema = z.enum(['AWS', 'AZURE', 'GCP']);
export const clusterTypeSchema = z.enum(['DEDICATED', 'HYBRID', 'STANDARD']);

export const deploymentSchema = z.object({
  id: z.string().check(z.minLength(1), z.maxLength(64)),
  name: z.string().check(z.minLength(1), z.maxLength(256)),
  namespace: namespaceSchema,
  organizationId: z.string().check(z.minLength(1), z.maxLength(64)),
  workspaceId: optionalString,
  workspaceName: optionalString,
  clusterId: optionalString,
  clusterName: optionalString,
  cloudProvider: absentWhenNull(cloudProviderSchema),
  region: optionalString,
  type: absentWhenNull(clusterTypeSchema),
  airflowVersion: optionalString,
  astroRuntimeVersion: optionalString,
  remoteExecution: absentWhenNull(z.object({ enabled: z.boolean() })),
  status: optionalString,
  createdAt: optionalString,
  updatedAt: optionalString,
  // Refused at the edge: an issuer decides who may assume the identity.
  oidcIssuerUrl: absentWhenNull(guardedString(assertIssuer)),
  /** The customer-managed identity when one is set, else Astro's default identity for the Deployment. */
  effectiveWorkloadIdentity: optionalString,
  /** Disaster recovery: the secondary cluster's OIDC issuer, once that cluster exists. */
  drOidcIssuerUrl: absentWhenNull(guardedString(assertIssuer)),
  /** Disaster recovery: the identity the Deployment runs under on the secondary cluster. */
  effectiveDRWorkloadIdentity: optionalString,
  /**
   * Astronomer Software only: the Helm release, for a Software event sent inline (no Houston token). Ignored for
   * Astro Hosted; the chart's names are built from it only after software-deployment.ts settles the event.
   */
  releaseName: optionalString,
});

/**
 * What only a Software (Houston) Deployment has. Never read from a payload: the schema above has no such field, so
 * only the Houston source (software-deployment.ts) can set it.
 */
export interface SoftwareFacts {
  readonly releaseName: string;
  /** The GKE pool of its cluster, from software.clusters. */
  readonly pool?: string | undefined;
}

export type Deployment = z.output<typeof deploymentSchema> & { readonly software?: SoftwareFacts };

export const DEPLOYMENT_EVENT_TYPES = ['deployment.created', 'deployment.updated', 'deployment.deleted'] as const;
export type DeploymentEventType = (typeof DEPLOYMENT_EVENT_TYPES)[number];

export const deploymentEventSchema = z
  .object({
    type: z.enum(DEPLOYMENT_EVENT_TYPES),
    timestamp: z.iso.datetime({ offset: true }),
    data: z.object({
      organizationId: z.string().check(z.minLength(1), z.maxLength(64)),
      deploymentId: z.string().check(z.minLength(1), z.maxLength(64)),
      deployment: absentWhenNull(deploymentSchema),
    }),
  })
  .check(
    z.superRefine((event, ctx) => {
      const { deployment } = event.data;
      if (deployment === undefined) return;
      // The ids that route the event must name the Deployment it carries, or a sender could smuggle one in.
      if (deployment.id !== event.data.deploymentId) {
        ctx.addIssue({ code: 'custom', path: ['data', 'deployment', 'id'], message: 'must equal data.deploymentId' });
      }
      if (deployment.organizationId !== event.data.organizationId) {
        ctx.addIssue({
          code: 'custom',
          path: ['data', 'deployment', 'organizationId'],
          message: 'must equal data.organizationId',
        });
      }
    }),
  );

export type DeploymentEvent = z.output<typeof deploymentEventSchema>;
