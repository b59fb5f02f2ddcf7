import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type GcpStack, LOCAL_POOL, startGcpStack } from '../../local/gcp-stack.ts';
import { deploymentEvent, postSigned } from '../support/deployments.ts';
import { gcpManagedDeployment } from '../support/gcp-project-fixtures.ts';

// GCP impersonation end to end: roles/iam.serviceAccountTokenCreator for the Deployment's Astro-managed workload
// identity on the customer's service account, through the real GCP function handlers and @googleapis/iam.

const SA = 'bq-loader@acme-data.iam.gserviceaccount.com';
const TOKEN_CREATOR = 'roles/iam.serviceAccountTokenCreator';
const WIU = 'roles/iam.workloadIdentityUser';
const identity = (ns: string) => `astro-${ns}@astro-prod-123.iam.gserviceaccount.com`;
const member = (ns: string) => `serviceAccount:${identity(ns)}`;
const PERSON = 'user:data-lead@acme.example';
const CUSTOMER = 'serviceAccount:scheduler@acme-data.iam.gserviceaccount.com';
const condition = { title: 'until 2030', expression: "request.time < timestamp('2030-01-01T00:00:00Z')" };

const config = (overrides: { gcp?: string; targets?: string } = {}) => `webhook: { secrets: ["env:WEBHOOK_SECRET"] }
astro: { token: "env:ASTRO_API_TOKEN", organizationId: clorg0000000000000000000 }
prune: true
gcp:
${
  overrides.gcp ??
  `  allowedServiceAccounts: ["*@acme-data.iam.gserviceaccount.com"]
  allowedWorkloadIdentityPrincipals: ["astro-*@astro-prod-123.iam.gserviceaccount.com"]
  pools: { default: ${LOCAL_POOL} }`
}
targets:
${overrides.targets ?? `  - name: impersonate\n    match: { all: true }\n    gcp: { serviceAccount: ${SA}, grant: token-creator }`}
slack: { mode: web-api, token: "env:SLACK_BOT_TOKEN", channel: "#iam" }
`;

const deployment = (ns: string, overrides: Record<string, unknown> = {}) =>
  gcpManagedDeployment(ns, overrides, 'clq2tcr');

type Binding = { role: string; members: string[]; condition?: unknown };
type Policy = { version?: number; bindings?: Binding[]; auditConfigs?: unknown };
const seeded = (extra: string[] = []): Policy => ({
  version: 3,
  bindings: [
    { role: TOKEN_CREATOR, members: [PERSON, ...extra] },
    { role: TOKEN_CREATOR, members: [member('conditional-0009')], condition },
    { role: 'roles/iam.serviceAccountUser', members: ['group:ops@acme.example'] },
  ],
});

function helpers(get: () => GcpStack) {
  const policy = () => get().gcp.getPolicy(SA) as Policy;
  const creators = () =>
    policy().bindings?.find((b) => b.role === TOKEN_CREATOR && b.condition === undefined)?.members ?? [];
  const writes = () => get().gcp.count('setIamPolicy', 'iam');
  const send = (body: Record<string, unknown>, type?: 'deployment.deleted') =>
    postSigned(get().webhookUrl, get().webhookSecret, JSON.stringify(deploymentEvent(body, type)));
  return { policy, creators, writes, send };
}

describe('GCP impersonation (token creator) through the function', () => {
  let stack: GcpStack;
  const { policy, creators, writes, send } = helpers(() => stack);
  beforeAll(async () => {
    stack = await startGcpStack({ config: config() });
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.gcp.putServiceAccount(SA, seeded());
    stack.gcp.setFaults({});
    stack.gcp.resetCalls();
    stack.slack.reset();
    for (const d of stack.astro.list()) stack.astro.remove(d.id as string);
  });

  it("adds the Deployment's workload identity to the token creators and keeps the rest exactly", async () => {
    const d = deployment('nebular-gravity-1234');
    stack.astro.upsert(d);
    const before = policy();
    const response = await send(d);
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({
      results: [
        {
          cloud: 'gcp',
          kind: 'gcp-service-account-token-creator',
          target: SA,
          status: 'granted',
          added: [`${TOKEN_CREATOR} ${member('nebular-gravity-1234')}`],
        },
      ],
    });
    expect(creators()).toEqual([PERSON, member('nebular-gravity-1234')]);
    expect(policy().bindings?.slice(1)).toEqual(before.bindings?.slice(1));
    expect(stack.gcp.calls.map((c) => `${c.service} ${c.method}`)).toEqual([
      'iam getIamPolicy',
      'iam setIamPolicy',
      'iam getIamPolicy',
    ]);
    expect(stack.gcp.calls[1]).toMatchObject({ blindWrite: false, body: { policy: { version: 3 } } });
  });

  it('costs one read and zero writes once converged', async () => {
    const d = deployment('nebular-gravity-1234');
    stack.astro.upsert(d);
    await send(d);
    stack.gcp.resetCalls();
    expect((await send(d)).json).toMatchObject({ results: [{ status: 'unchanged', added: [] }] });
    expect(stack.gcp.calls.map((c) => c.method)).toEqual(['getIamPolicy']);
    expect(writes()).toBe(0);
  });

  it("prunes a deleted Deployment's identity only: a person, a customer account and a condition stay", async () => {
    stack.gcp.putServiceAccount(SA, seeded([CUSTOMER]));
    const gone = deployment('old-comet-0001');
    const live = deployment('live-comet-0002');
    stack.astro.upsert(gone);
    stack.astro.upsert(live);
    await stack.schedule('sweep');
    expect(creators()).toHaveLength(4);
    expect(creators()).toEqual(expect.arrayContaining([member('old-comet-0001'), member('live-comet-0002')]));
    stack.astro.remove(gone.id as string);
    stack.gcp.resetCalls();
    await stack.schedule('sweep');
    expect(creators()).toEqual([PERSON, CUSTOMER, member('live-comet-0002')]);
    // The conditional binding names an allowlisted identity no Deployment has: still not ours (a condition).
    expect(policy().bindings).toContainEqual({ role: TOKEN_CREATOR, members: [member('conditional-0009')], condition });
    expect(writes()).toBe(1);
    expect(JSON.stringify(stack.slack.messages.at(-1))).toMatch(/removed 1/);
  });

  it('takes nothing back for a signed deletion naming an identity that is not an Astro one', async () => {
    stack.gcp.putServiceAccount(SA, seeded([CUSTOMER]));
    const before = policy();
    const forged = deployment('forged-comet-0003', {
      effectiveWorkloadIdentity: 'scheduler@acme-data.iam.gserviceaccount.com',
    });
    await send(forged, 'deployment.deleted');
    expect(policy()).toEqual(before);
    expect(writes()).toBe(0);
  });
});

describe('GCP impersonation guardrails: refused before any write', () => {
  let stack: GcpStack | undefined;
  const { writes, send } = helpers(() => stack as GcpStack);
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it.each<[string, Parameters<typeof config>[0], Record<string, unknown>, RegExp]>([
    [
      'a service account outside gcp.allowedServiceAccounts',
      {
        targets:
          '  - match: { all: true }\n    gcp: { serviceAccount: other-account@elsewhere-123.iam.gserviceaccount.com, grant: token-creator }',
      },
      {},
      /other-account@elsewhere-123\.iam\.gserviceaccount\.com is not in gcp\.allowedServiceAccounts/,
    ],
    [
      'a workload identity outside gcp.allowedWorkloadIdentityPrincipals',
      {},
      { effectiveWorkloadIdentity: 'astro-x@unknown-project-9.iam.gserviceaccount.com' },
      /not in gcp\.allowedWorkloadIdentityPrincipals/,
    ],
    [
      'an empty gcp.allowedWorkloadIdentityPrincipals (impersonation is off)',
      { gcp: `  allowedServiceAccounts: ["*@acme-data.iam.gserviceaccount.com"]\n  pools: { default: ${LOCAL_POOL} }` },
      {},
      /trusting a Deployment's workload identity is off/,
    ],
    [
      "a workload identity of the service account's own project",
      {
        gcp: `  allowedServiceAccounts: ["*@acme-data.iam.gserviceaccount.com"]\n  allowedWorkloadIdentityPrincipals: ["*@acme-data.iam.gserviceaccount.com"]`,
      },
      { effectiveWorkloadIdentity: 'astro-self@acme-data.iam.gserviceaccount.com' },
      /in project acme-data itself/,
    ],
  ])('refuses %s with its reason, and writes nothing', async (_name, overrides, extra, reason) => {
    stack = await startGcpStack({ config: config(overrides) });
    stack.gcp.putServiceAccount(SA, seeded());
    const before = stack.gcp.getPolicy(SA);
    const d = deployment('nebular-gravity-1234', extra);
    stack.astro.upsert(d);
    const response = await send(d);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect((response.json as { results: unknown[] }).results).toContainEqual(
      expect.objectContaining({
        kind: 'gcp-service-account-token-creator',
        status: 'denied',
        reason: expect.stringMatching(reason),
      }),
    );
    expect(writes()).toBe(0);
    expect(stack.gcp.getPolicy(SA)).toEqual(before);
  });

  it('grants workloadIdentityUser and token creator on one service account side by side under concurrent events', async () => {
    // Both kinds write the same policy, so they share its lane; each request must still be planned by its own kind.
    stack = await startGcpStack({
      config: config({
        targets: [
          `  - name: impersonate\n    match: { all: true }\n    gcp: { serviceAccount: ${SA}, grant: token-creator }`,
          `  - name: federate\n    match: { all: true }\n    gcp: { serviceAccount: ${SA} }\n    components: [scheduler]`,
        ].join('\n'),
      }),
    });
    stack.gcp.putServiceAccount(SA, seeded());
    const namespaces = ['burst-a-0001', 'burst-b-0002', 'burst-c-0003', 'burst-d-0004'];
    for (const ns of namespaces) stack.astro.upsert(deployment(ns));
    const responses = await Promise.all(namespaces.map((ns) => send(deployment(ns))));
    expect(responses.map((r) => r.status)).toEqual(namespaces.map(() => 200));
    const policy = stack.gcp.getPolicy(SA) as Policy;
    const unconditional = (role: string) =>
      policy.bindings?.find((b) => b.role === role && b.condition === undefined)?.members ?? [];
    for (const ns of namespaces) {
      expect(unconditional(TOKEN_CREATOR)).toContain(member(ns));
      expect(unconditional(WIU)).toContain(`serviceAccount:${LOCAL_POOL}[${ns}/${ns}-scheduler-serviceaccount]`);
    }
  });
});
