import * as z from 'zod/mini';
import { componentList, componentName, guarded, secretRefSchema } from './config-fields.ts';
import { cloudProviderSchema } from './intake/deployment.ts';
import { assertIssuer, assertNamespace, assertWorkloadIdentityPool } from './plan/guardrails.ts';
import { softwareNamespace } from './plan/software-names.ts';
import './zod-english.ts';

/** A base domain as Software's Helm values take it (`global.baseDomain`): Houston is at houston.<base domain>. */
const BASE_DOMAIN = /^(?=.{4,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

const clusterSchema = z
  .strictObject({
    /** The cluster's OIDC issuer (EKS, AKS), trusted by IAM roles and Azure credentials. */
    oidcIssuerUrl: z.optional(guarded(assertIssuer)),
    /** The GKE workload identity pool, `<project>.svc.id.goog`. */
    pool: z.optional(guarded(assertWorkloadIdentityPool)),
    /** Matched by rules' `cloudProviders`. */
    cloudProvider: z.optional(cloudProviderSchema),
  })
  .check(
    z.refine((cluster) => cluster.oidcIssuerUrl !== undefined || cluster.pool !== undefined, {
      message: 'a cluster needs its oidcIssuerUrl (EKS, AKS) or its pool (GKE)',
    }),
  );

/**
 * Astronomer Software (Astro Private Cloud): Deployments read from Houston. Optional beside `astro`; one config may
 * hold both platforms. Without `token`, only inline payloads are planned (as Hosted without `astro`).
 */
export const softwareSchema = z.strictObject({
  /** `global.baseDomain` of the platform: Houston is https://houston.<baseDomain>/v1. */
  baseDomain: z.string().check(z.regex(BASE_DOMAIN, 'must be a domain name such as astro.example.com')),
  /** A Houston API token of a System (or Workspace) service account that can list Deployments. */
  token: z.optional(secretRefSchema),
  /** The platform's own namespace, `{platformNamespace}` in the template (default astronomer). */
  platformNamespace: z._default(guarded(assertNamespace), 'astronomer'),
  /** Used only when Houston does not return a Deployment's namespace. */
  namespaceTemplate: z._default(
    z.string().check(
      z.superRefine((template, ctx) => {
        try {
          softwareNamespace(template, { platform: 'astronomer', release: 'sample-release-0001' });
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^[\w.]+: /, '') });
        }
      }),
    ),
    '{platformNamespace}-{release}',
  ),
  /** By Houston cluster id, and `default` for Deployments without one (one cluster, or Houston before 1.0). */
  clusters: z
    .record(
      z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a Houston cluster id or "default"')),
      clusterSchema,
    )
    .check(
      z.refine((clusters) => Object.keys(clusters).length > 0, {
        message: 'list each Software cluster (or "default") with its oidcIssuerUrl or pool',
      }),
    ),
  /** The Airflow chart's service-account names and the component sets; defaults in shared/plan/software-names.ts. */
  components: z._default(
    z.strictObject({
      serviceAccounts: z._default(
        z.record(
          componentName,
          z
            .string()
            .check(
              z.regex(
                /^[a-z0-9.{}-]{1,200}$/,
                'use {fullname}, {release}, {namespace} and lowercase letters, digits, "-" or "."',
              ),
            ),
        ),
        {},
      ),
      airflow2: z.optional(componentList),
      airflow3: z.optional(componentList),
    }),
    { serviceAccounts: {} },
  ),
  /** Houston workspaces to list; absent: every Deployment the token sees. */
  workspaceIds: z.optional(z.array(z.string().check(z.regex(/^[A-Za-z0-9-]{1,64}$/))).check(z.minLength(1))),
});

export type SoftwareConfig = z.output<typeof softwareSchema>;
