import * as z from 'zod/mini';
import { allowlist } from './allowlist-globs.ts';
import { componentList, componentName, globList, guarded, SECRET_REF, secretRefSchema } from './config-fields.ts';
import { softwareSchema } from './config-software.ts';
import { ValidationError } from './errors.ts';
import { cloudProviderSchema, clusterTypeSchema } from './intake/deployment.ts';
import { DEFAULT_MAX_BODY_BYTES } from './intake/webhook-verifier.ts';
import { type ComponentTable, DEFAULT_COMPONENT_SETS, DEFAULT_SERVICE_ACCOUNTS } from './plan/components.ts';
import { assertGcpRole } from './plan/gcp/project-roles.ts';
import {
  assertAzureIdentityName,
  assertAzureResourceGroup,
  assertAzureSubscriptionId,
  assertGcpProjectId,
  assertGcpServiceAccountEmail,
  assertIssuer,
  assertProjectNumber,
  assertWorkloadIdentityPool,
  parseRoleArn,
} from './plan/guardrails.ts';
import { DEFAULT_SOFTWARE_COMPONENT_SETS, DEFAULT_SOFTWARE_SERVICE_ACCOUNTS } from './plan/software-names.ts';
import './zod-english.ts';
import { parseWith } from './zod-error.ts';

export { SECRET_REF };

const awsTarget = z.strictObject({
  roleArn: guarded(parseRoleArn),
  /**
   * `irsa` (default): the Deployment's Kubernetes service accounts through the cluster's OIDC provider. `workload-
   * identity`: the Deployment's own workload identity (Astro's default role) as `Principal.AWS`, `sts:AssumeRole`.
   */
  trust: z._default(z.enum(['irsa', 'workload-identity']), 'irsa'),
});
const gcpTarget = z
  .strictObject({
    serviceAccount: z.optional(guarded(assertGcpServiceAccountEmail)),
    pool: z.optional(guarded(assertWorkloadIdentityPool)),
    /**
     * On a service account: `workload-identity-user` (default, the Kubernetes service accounts through the pool) or
     * `token-creator` (the Deployment's workload identity may impersonate it).
     */
    grant: z.optional(z.enum(['workload-identity-user', 'token-creator'])),
    /** A project instead: its IAM policy gets `roles` for the Deployment's workload identity. */
    project: z.optional(guarded(assertGcpProjectId)),
    roles: z.optional(z.array(guarded(assertGcpRole)).check(z.minLength(1), z.maxLength(20))),
  })
  .check(
    z.superRefine((gcp, ctx) => {
      const onProject = gcp.project !== undefined;
      if (onProject === (gcp.serviceAccount !== undefined)) {
        ctx.addIssue({ code: 'custom', message: 'name exactly one of "serviceAccount" or "project"' });
      }
      if (onProject && gcp.roles === undefined) {
        ctx.addIssue({ code: 'custom', path: ['roles'], message: 'a project target needs the roles to grant' });
      }
      if (!onProject && gcp.roles !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['roles'],
          message: 'roles go with "project"; a service account takes "grant"',
        });
      }
      if (onProject && (gcp.pool !== undefined || gcp.grant !== undefined)) {
        ctx.addIssue({ code: 'custom', message: '"pool" and "grant" go with "serviceAccount", not "project"' });
      }
    }),
  );
const azureTarget = z.strictObject({
  subscriptionId: guarded(assertAzureSubscriptionId),
  resourceGroup: guarded(assertAzureResourceGroup),
  identityName: guarded(assertAzureIdentityName),
});

const targetRule = z
  .strictObject({
    name: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
    /**
     * Which Deployments the rule grants. Required: a rule that silently applied to every Deployment of the
     * organization would widen access to each new one, so "all" must be said (`match: { all: true }`).
     */
    match: z
      .strictObject(
        {
          all: z.optional(z.literal(true)),
          workspaceIds: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
          clusterIds: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
          names: z.optional(globList.check(z.minLength(1))),
          /** Astronomer Software: the Deployment's Helm release name (globs). A Hosted Deployment has none. */
          releaseNames: z.optional(globList.check(z.minLength(1))),
          cloudProviders: z.optional(z.array(cloudProviderSchema).check(z.minLength(1))),
          clusterTypes: z.optional(z.array(clusterTypeSchema).check(z.minLength(1))),
        },
        {
          error: (issue) =>
            issue.input === undefined
              ? 'every rule needs "match": the Deployments it grants (workspaceIds, clusterIds, names, releaseNames, cloudProviders, clusterTypes), or { all: true }'
              : undefined,
        },
      )
      .check(
        z.superRefine((match, ctx) => {
          const narrowing = Object.keys(match).filter((key) => key !== 'all');
          if (match.all === true && narrowing.length > 0) {
            ctx.addIssue({
              code: 'custom',
              message: `"all: true" matches every Deployment; drop it or drop ${narrowing.join(', ')}`,
            });
          } else if (match.all === undefined && narrowing.length === 0) {
            ctx.addIssue({
              code: 'custom',
              message:
                'an empty match would grant every Deployment of the organization: name workspaceIds, clusterIds, names, releaseNames, cloudProviders or clusterTypes, or say { all: true }',
            });
          }
        }),
      ),
    aws: z.optional(awsTarget),
    gcp: z.optional(gcpTarget),
    azure: z.optional(azureTarget),
    components: z.optional(componentList),
    /**
     * Disaster recovery: `both` (default) trusts the Deployment's primary and secondary clusters, so a shared target
     * keeps working after a failover; `primary` the primary cluster alone.
     */
    dr: z._default(z.enum(['both', 'primary']), 'both'),
  })
  .check(
    z.refine((rule) => [rule.aws, rule.gcp, rule.azure].filter(Boolean).length === 1, {
      message: 'name exactly one of "aws", "gcp" or "azure"',
    }),
  );

export const configSchema = z
  .strictObject({
    webhook: z.optional(
      z.strictObject({
        secrets: z.array(secretRefSchema).check(z.minLength(1), z.maxLength(5)),
        maxBodyBytes: z._default(
          z.number().check(z.int(), z.gte(1024), z.lte(DEFAULT_MAX_BODY_BYTES)),
          DEFAULT_MAX_BODY_BYTES,
        ),
      }),
    ),
    manual: z.optional(z.strictObject({ token: secretRefSchema })),
    /**
     * The Astro API: with it, every event's Deployment is re-read from the API (a payload cannot choose a namespace
     * or an issuer), `{"deploymentId"}` manual calls work, and the poller and sweep can run.
     */
    /** Astronomer Software (Houston); see config-software.ts. */
    software: z.optional(softwareSchema),
    astro: z.optional(
      z.strictObject({
        token: secretRefSchema,
        organizationId: z.string().check(z.regex(/^[a-z0-9]{1,64}$/i, 'must be an Astro organization id')),
        baseUrl: z._default(z.url({ protocol: /^https?$/ }), 'https://api.astronomer.io/v1'),
        workspaceIds: z.optional(z.array(z.string().check(z.regex(/^[a-z0-9]{1,64}$/i))).check(z.minLength(1))),
        /** Deployments per list request; 1000 is what the official Astro clients ask for. */
        pageSize: z._default(z.number().check(z.int(), z.gte(1), z.lte(1000)), 1000),
        /** Requests per second this function sends at most (documented limit: 25 GET/s per API token). */
        requestsPerSecond: z._default(z.number().check(z.gt(0), z.lte(25)), 20),
      }),
    ),
    components: z._default(
      z.strictObject({
        serviceAccounts: z._default(
          z.record(
            componentName,
            z
              .string()
              .check(z.regex(/^[a-z0-9.{}-]{1,200}$/, 'use {namespace} and lowercase letters, digits, "-" or "."')),
          ),
          {},
        ),
        airflow2: z.optional(componentList),
        airflow3: z.optional(componentList),
        remoteExecution: z.optional(componentList),
      }),
      { serviceAccounts: {} },
    ),
    /**
     * OIDC issuers (globs) a Deployment may bring. Absent: any https issuer. Recommended when webhook payloads are
     * trusted (no Astro API token): for Azure any issuer is accepted by the identity, so this is the only fence.
     */
    allowedIssuers: z.optional(globList.check(z.minLength(1))),
    /**
     * Remove this tool's entries for Deployments that are gone (deleted events, and the sweep). Off by default: a
     * deletion then only reports the stale entries so a person can act.
     */
    prune: z._default(z.boolean(), false),
    /**
     * With prune: remove an entry only once it has been stale on sweeps at least this many minutes apart (0: one
     * consistent sweep decides). Needs a store that outlives an instance: the AWS lease table; elsewhere prune waits.
     */
    pruneGraceMinutes: z._default(z.number().check(z.int(), z.gte(0), z.lte(10_080)), 0),
    poll: z._default(
      z
        .strictObject({
          /** How often the poller runs (Terraform schedules it every 5 minutes); set it when you change the schedule. */
          intervalMinutes: z._default(z.number().check(z.int(), z.gte(1), z.lte(720)), 5),
          /** How far back each poll looks for updated Deployments; at least twice the schedule, so one missed run loses nothing. */
          lookbackMinutes: z._default(z.number().check(z.int(), z.gte(1), z.lte(1440)), 15),
        })
        .check(
          z.refine((poll) => poll.lookbackMinutes >= 2 * poll.intervalMinutes, {
            message:
              'lookbackMinutes must be at least twice intervalMinutes: a shorter look-back loses the Deployments updated while one poll failed or ran late',
            path: ['lookbackMinutes'],
          }),
        ),
      { intervalMinutes: 5, lookbackMinutes: 15 },
    ),
    capacity: z._default(
      z.strictObject({
        /**
         * A change that leaves a target at or above this share of its hard limit (trust-policy length, 1,500 GCP
         * members, 20 Azure credentials) is said in Slack, once per crossing; the sweep summary lists such targets.
         */
        warnAtPercent: z._default(z.number().check(z.gte(1), z.lte(100)), 80),
      }),
      { warnAtPercent: 80 },
    ),
    wildcard: z._default(
      z.strictObject({
        /** Grant `system:serviceaccount:<ns>:*` instead of each service account, on DEDICATED clusters only. */
        enabled: z._default(z.boolean(), false),
      }),
      { enabled: false },
    ),
    aws: z._default(
      z.strictObject({
        allowedRoles: z._default(allowlist('awsRole'), []),
        trustPolicyMaxSize: z._default(z.number().check(z.int(), z.gte(512), z.lte(65536)), 2048),
        /** Read the account's live quota (GetAccountSummary AssumeRolePolicySizeQuota) instead of the value above. */
        useLiveQuota: z._default(z.boolean(), false),
        useEffectiveWorkloadIdentity: z._default(z.boolean(), true),
        /**
         * IAM has no etag, so after a verified write we wait for a quiet window (no other change to the policy) of at
         * least this long, or twice our own read-write cycle, before calling it done. Raise it when several writers
         * (functions, people, pipelines) update the same roles at once.
         */
        settleMs: z._default(z.number().check(z.int(), z.gte(0), z.lte(30_000)), 0),
        /**
         * Role ARNs (globs) of Astro-managed workload identities a role may trust as `Principal.AWS` (targets with
         * `trust: workload-identity`). Empty: that path is off. Pin Astro's account: `arn:aws:iam::<account>:role/...`.
         */
        allowedWorkloadIdentityPrincipals: z._default(allowlist('awsRole'), []),
        /** Let a role trust a principal of its own account this way (refused by default: that is not Astro's). */
        allowSelfTrust: z._default(z.boolean(), false),
        /** Create a missing IAM OIDC identity provider for a Deployment's issuer instead of reporting it. */
        createOidcProviders: z._default(z.boolean(), false),
      }),
      {
        allowedRoles: [],
        trustPolicyMaxSize: 2048,
        useLiveQuota: false,
        useEffectiveWorkloadIdentity: true,
        settleMs: 0,
        allowedWorkloadIdentityPrincipals: [],
        allowSelfTrust: false,
        createOidcProviders: false,
      },
    ),
    gcp: z._default(
      z
        .strictObject({
          allowedServiceAccounts: z._default(allowlist('gcpServiceAccount'), []),
          pools: z._default(
            z.strictObject({
              default: z.optional(guarded(assertWorkloadIdentityPool)),
              byClusterId: z._default(
                z.record(z.string().check(z.minLength(1)), guarded(assertWorkloadIdentityPool)),
                {},
              ),
              /** By OIDC issuer: the way to name a disaster-recovery cluster's pool (the API gives its issuer). */
              byIssuer: z._default(z.record(guarded(assertIssuer), guarded(assertWorkloadIdentityPool)), {}),
            }),
            { byClusterId: {}, byIssuer: {} },
          ),
          memberFormat: z._default(z.enum(['service-account', 'principal']), 'service-account'),
          projectNumber: z.optional(guarded(assertProjectNumber)),
          useEffectiveWorkloadIdentity: z._default(z.boolean(), true),
          /**
           * Service account emails (globs) of Astro-managed workload identities that may be granted impersonation
           * (`grant: token-creator`) or project roles. Empty: those paths are off. Pin the project: `*@<project>.iam...`.
           */
          allowedWorkloadIdentityPrincipals: z._default(allowlist('gcpServiceAccount'), []),
          /** Let a workload identity of the target's own project be granted this way (refused by default). */
          allowSelfTrust: z._default(z.boolean(), false),
          /** Projects (globs) whose IAM policy a project target may change. Empty: none. */
          allowedProjects: z._default(allowlist('gcpProject'), []),
          /** The roles a project target may grant; basic roles and IAM-admin roles are refused outright. */
          allowedProjectRoles: z._default(z.array(guarded(assertGcpRole)).check(z.maxLength(100)), []),
          /**
           * setIamPolicy calls per minute this function sends at most, per API (IAM, Resource Manager). Google's quota
           * is 600 per minute for the caller's project; the default leaves room for other writers. Above 600 only
           * once the project's quota was raised.
           */
          policyWritesPerMinute: z._default(z.number().check(z.int(), z.gte(1), z.lte(60_000)), 500),
        })
        .check(
          z.refine((gcp) => gcp.memberFormat !== 'principal' || gcp.projectNumber !== undefined, {
            message: 'memberFormat "principal" needs projectNumber (the GKE project number)',
            path: ['projectNumber'],
          }),
        ),
      {
        allowedServiceAccounts: [],
        pools: { byClusterId: {}, byIssuer: {} },
        memberFormat: 'service-account',
        useEffectiveWorkloadIdentity: true,
        allowedWorkloadIdentityPrincipals: [],
        allowSelfTrust: false,
        allowedProjects: [],
        allowedProjectRoles: [],
        policyWritesPerMinute: 500,
      },
    ),
    azure: z._default(
      z.strictObject({
        /** Globs over `<subscriptionId>/<resourceGroup>/<identityName>`. */
        allowedIdentities: z._default(allowlist('azureIdentity'), []),
        maxCredentials: z._default(z.number().check(z.int(), z.gte(1), z.lte(20)), 20),
        useEffectiveWorkloadIdentity: z._default(z.boolean(), true),
      }),
      { allowedIdentities: [], maxCredentials: 20, useEffectiveWorkloadIdentity: true },
    ),
    targets: z._default(z.array(targetRule).check(z.maxLength(200)), []),
    slack: z._default(
      z.discriminatedUnion('mode', [
        z.strictObject({ mode: z.literal('off') }),
        z.strictObject({
          mode: z.literal('web-api'),
          token: secretRefSchema,
          channel: z.string().check(z.minLength(1), z.maxLength(80)),
          notify: z._default(z.enum(['changes-and-failures', 'failures', 'all']), 'changes-and-failures'),
        }),
        z.strictObject({
          mode: z.literal('webhook'),
          webhookUrl: secretRefSchema,
          notify: z._default(z.enum(['changes-and-failures', 'failures', 'all']), 'changes-and-failures'),
        }),
      ]),
      { mode: 'off' },
    ),
  })
  .check(
    z.superRefine((config, ctx) => {
      const known = new Set([
        ...Object.keys(DEFAULT_SERVICE_ACCOUNTS),
        ...Object.keys(config.components.serviceAccounts),
      ]);
      const lists = [
        ['components', 'airflow2', config.components.airflow2],
        ['components', 'airflow3', config.components.airflow3],
        ['components', 'remoteExecution', config.components.remoteExecution],
        ...config.targets.map((rule, index) => ['targets', index, rule.components] as const),
      ] as const;
      // Without the API a deletion's namespace and identity come from the payload alone, and nothing can tell a
      // live Deployment from a deleted one: removing access on that word is not safe.
      if (config.prune && config.astro === undefined && config.software?.token === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['prune'],
          message:
            'prune needs the "astro" section (or software.token): only the platform API can confirm a Deployment is gone and that no live one uses its namespace',
        });
      }
      for (const [root, key, list] of lists) {
        list?.forEach((component, i) => {
          if (!known.has(component)) {
            ctx.addIssue({
              code: 'custom',
              path: [root, key, ...(root === 'targets' ? ['components'] : []), i],
              message: `unknown component "${component}"`,
            });
          }
        });
      }
    }),
  );

export type Config = z.output<typeof configSchema>;
export type TargetRule = Config['targets'][number];

/** Validates a parsed config document; every problem is reported with the path of its field. */
export function configFromDocument(document: unknown): Config {
  return parseWith(configSchema, document ?? {}, { code: 'invalid_config' });
}

/**
 * The config when the text is a JSON document, else undefined (then it is YAML: see config-text.ts). JSON is YAML,
 * but most deployments pass JSON and should not load a YAML parser for it; duplicate keys are refused here as the
 * YAML parser refuses them, since JSON.parse would silently keep the last one.
 */
export function parseJsonConfig(text: string): Config | undefined {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return undefined;
  }
  const duplicate = duplicateKey(text);
  if (duplicate !== undefined) {
    throw new ValidationError(
      `the config is not valid JSON or YAML: the key ${JSON.stringify(duplicate)} appears twice in one object`,
      {
        code: 'invalid_config',
      },
    );
  }
  return configFromDocument(document);
}

/** The first key that appears twice in one object of a text that is valid JSON. */
function duplicateKey(text: string): string | undefined {
  const objects: Array<Set<string> | undefined> = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') objects.push(new Set());
    else if (c === '[') objects.push(undefined);
    else if (c === '}' || c === ']') objects.pop();
    else if (c === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const keys = objects.at(-1);
      let next = end + 1;
      while (next < text.length && /\s/.test(text[next] ?? '')) next++;
      if (keys !== undefined && text[next] === ':') {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      i = end;
    }
  }
  return undefined;
}

/** The Airflow chart's names for Astronomer Software, with the config's overrides. */
export function softwareComponentTableFrom(config: Config): ComponentTable {
  const components = config.software?.components;
  return {
    serviceAccounts: { ...DEFAULT_SOFTWARE_SERVICE_ACCOUNTS, ...components?.serviceAccounts },
    sets: {
      airflow2: components?.airflow2 ?? DEFAULT_SOFTWARE_COMPONENT_SETS.airflow2,
      airflow3: components?.airflow3 ?? DEFAULT_SOFTWARE_COMPONENT_SETS.airflow3,
      remoteExecution: DEFAULT_SOFTWARE_COMPONENT_SETS.remoteExecution,
    },
  };
}

export function componentTableFrom(config: Config): ComponentTable {
  return {
    serviceAccounts: { ...DEFAULT_SERVICE_ACCOUNTS, ...config.components.serviceAccounts },
    sets: {
      airflow2: config.components.airflow2 ?? DEFAULT_COMPONENT_SETS.airflow2,
      airflow3: config.components.airflow3 ?? DEFAULT_COMPONENT_SETS.airflow3,
      remoteExecution: config.components.remoteExecution ?? DEFAULT_COMPONENT_SETS.remoteExecution,
    },
  };
}
