import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type GcpStack, startGcpStack } from '../../local/gcp-stack.ts';
import {
  auditConfigs,
  BQ,
  condition,
  conditional,
  config,
  deployment,
  GCS,
  helpers,
  LOGS,
  member,
  OWNER,
  type Policy,
  PROJECT,
  seeded,
} from '../support/gcp-project-fixtures.ts';

// The gcp-project kind end to end: signed webhooks and scheduled sweeps through the real GCP function handlers, the
// real @googleapis/cloudresourcemanager client, and the emulator's Resource Manager v3 project policies.

describe('GCP project roles through the function', () => {
  let stack: GcpStack;
  const { policy, holders, crm, writes, send } = helpers(() => stack);
  beforeAll(async () => {
    stack = await startGcpStack({ config: config() });
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.gcp.putProject(PROJECT, seeded());
    stack.gcp.denyProjectAccess(PROJECT, []);
    stack.gcp.setFaults({});
    stack.gcp.resetCalls();
    stack.slack.reset();
    for (const d of stack.astro.list()) stack.astro.remove(d.id as string);
  });

  it('grants each role of the rule and keeps conditional bindings, audit configs and every other member exactly', async () => {
    const d = deployment('nebular-gravity-1234');
    stack.astro.upsert(d);
    const etag = policy().etag;
    const response = await send(d);
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({
      results: [
        {
          cloud: 'gcp',
          kind: 'gcp-project',
          target: PROJECT,
          status: 'granted',
          added: [`${BQ} ${member('nebular-gravity-1234')}`, `${GCS} ${member('nebular-gravity-1234')}`],
        },
      ],
    });
    const after = policy();
    expect(after.bindings).toEqual([
      OWNER,
      { role: BQ, members: ['user:analyst@example.com', member('nebular-gravity-1234')] },
      conditional,
      { role: 'roles/pubsub.subscriber', members: ['group:ops@example.com'] },
      { role: GCS, members: [member('nebular-gravity-1234')] },
    ]);
    expect(after.auditConfigs).toEqual(auditConfigs);
    expect(after.version).toBe(3);
    expect(crm().map((c) => `${c.method} ${c.status}`)).toEqual([
      'getIamPolicy 200',
      'setIamPolicy 200',
      'getIamPolicy 200',
    ]);
    const [read, write] = crm();
    expect(read?.body).toEqual({ options: { requestedPolicyVersion: 3 } });
    // Conditional write: the etag read, version 3 (the policy has a condition), and only bindings in the mask.
    expect(write?.blindWrite).toBe(false);
    expect(write?.body).toMatchObject({
      policy: { version: 3, etag, auditConfigs },
      updateMask: 'bindings,etag',
    });
    expect(stack.gcp.count('getIamPolicy', 'iam')).toBe(0);
    expect(JSON.stringify(stack.slack.messages[0])).toMatch(/acme-analytics/);
  });

  it('costs one read and zero writes once converged', async () => {
    const d = deployment('nebular-gravity-1234');
    stack.astro.upsert(d);
    await send(d);
    stack.gcp.resetCalls();
    const again = await send(d);
    expect(again.json).toMatchObject({ results: [{ kind: 'gcp-project', status: 'unchanged', added: [] }] });
    expect(crm().map((c) => c.method)).toEqual(['getIamPolicy']);
    expect(writes()).toBe(0);
  });

  it('re-reads after a 409 from a concurrent change and keeps both changes', async () => {
    const d = deployment('nebular-gravity-1234');
    stack.astro.upsert(d);
    // Two read-modify-writes lose a race in a row; the third goes through.
    stack.gcp.setFaults({ concurrentWrites: 2, services: ['cloudresourcemanager'] });
    const response = await send(d);
    expect(response.json).toMatchObject({ results: [{ status: 'granted' }] });
    const statuses = crm().map((c) => `${c.method} ${c.status}`);
    expect(statuses).toEqual([
      'getIamPolicy 200',
      'concurrentWrite 200',
      'setIamPolicy 409',
      'getIamPolicy 200',
      'concurrentWrite 200',
      'setIamPolicy 409',
      'getIamPolicy 200',
      'setIamPolicy 200',
      'getIamPolicy 200',
    ]);
    const raced = crm().filter((c) => c.method === 'concurrentWrite');
    expect(raced).toHaveLength(2);
    for (const race of raced) expect(holders('roles/browser')).toContain((race.body as { member: string }).member);
    expect(holders(BQ)).toContain(member('nebular-gravity-1234'));
    expect(holders(GCS)).toContain(member('nebular-gravity-1234'));
    expect(policy().bindings).toContainEqual(conditional);
    expect(policy().auditConfigs).toEqual(auditConfigs);
  });

  it('retries 429 and 5xx from Resource Manager with the IAM client’s retry settings', async () => {
    const d = deployment('nebular-gravity-1234');
    stack.astro.upsert(d);
    stack.gcp.setFaults({ sequence: ['rate-limit', 'server-error'], services: ['cloudresourcemanager'] });
    expect((await send(d)).json).toMatchObject({ results: [{ status: 'granted' }] });
    expect(
      crm()
        .map((c) => c.status)
        .slice(0, 3),
    ).toEqual([429, 503, 200]);
  });

  it('refuses to go over 1,500 members and writes nothing', async () => {
    const crowd = Array.from({ length: 1499 }, (_, i) => `user:person${i}@example.com`);
    stack.gcp.putProject(PROJECT, { bindings: [{ role: 'roles/owner', members: crowd }] });
    const d = deployment('nebular-gravity-1234');
    stack.astro.upsert(d);
    const response = await send(d);
    expect(response.status).toBe(422);
    expect(response.json).toMatchObject({
      results: [{ status: 'does-not-fit', reason: expect.stringMatching(/1500/) }],
    });
    expect(writes()).toBe(0);
  });

  it('reports a missing resourcemanager.projects.setIamPolicy by name, once, without retrying', async () => {
    stack.gcp.denyProjectAccess(PROJECT, ['setIamPolicy']);
    const d = deployment('nebular-gravity-1234');
    stack.astro.upsert(d);
    const response = await send(d);
    expect(response.status).toBe(502);
    expect(response.json).toMatchObject({
      results: [
        {
          status: 'failed',
          retryable: false,
          reason: expect.stringMatching(
            /cannot setIamPolicy on project acme-analytics: .*resourcemanager\.projects\.setIamPolicy/,
          ),
          remedies: expect.arrayContaining([expect.stringMatching(/project_role_targets/)]),
        },
      ],
    });
    expect(writes()).toBe(1);
  });

  it('reports a project it cannot read (403 getIamPolicy) and writes nothing', async () => {
    stack.gcp.denyProjectAccess(PROJECT, ['getIamPolicy', 'setIamPolicy']);
    const d = deployment('nebular-gravity-1234');
    stack.astro.upsert(d);
    const response = await send(d);
    expect(response.json).toMatchObject({
      results: [{ status: 'failed', reason: expect.stringMatching(/resourcemanager\.projects\.getIamPolicy/) }],
    });
    expect(writes()).toBe(0);
  });

  it('plans a dry run without writing', async () => {
    const d = deployment('nebular-gravity-1234');
    stack.astro.upsert(d);
    const response = await fetch(stack.manualUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.manualToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deployment: d, dryRun: true }),
    });
    expect(await response.json()).toMatchObject({
      dryRun: true,
      results: [
        {
          kind: 'gcp-project',
          status: 'planned',
          added: expect.arrayContaining([`${BQ} ${member('nebular-gravity-1234')}`]),
        },
      ],
    });
    expect(writes()).toBe(0);
  });

  it('prunes a deleted Deployment from the allowed roles only: other members, other roles and conditions stay', async () => {
    const gone = deployment('old-comet-0001');
    const live = deployment('live-comet-0002');
    // As if an earlier rule had granted logging.viewer; a person gave the same identity pubsub and a condition.
    stack.gcp.putProject(
      PROJECT,
      seeded([
        { role: LOGS, members: [member('old-comet-0001'), 'user:auditor@example.com'] },
        { role: 'roles/pubsub.subscriber', members: [member('old-comet-0001')] },
        { role: GCS, members: [member('old-comet-0001')], condition },
      ]),
    );
    stack.astro.upsert(gone);
    stack.astro.upsert(live);
    await stack.schedule('sweep');
    expect(holders(GCS)).toEqual(expect.arrayContaining([member('old-comet-0001'), member('live-comet-0002')]));
    const before = policy();
    stack.astro.remove(gone.id as string);
    stack.gcp.resetCalls();
    expect(await stack.schedule('sweep')).toEqual({ status: 204 });
    const after = policy();
    expect(holders(BQ)).toEqual(['user:analyst@example.com', member('live-comet-0002')]);
    expect(holders(GCS)).toEqual([member('live-comet-0002')]);
    expect(holders(LOGS)).toEqual(['user:auditor@example.com']);
    const untouched = (p: Policy) =>
      (p.bindings ?? []).filter((b) => b.condition !== undefined || ![BQ, GCS, LOGS].includes(b.role));
    expect(untouched(after)).toEqual(untouched(before));
    expect(after.auditConfigs).toEqual(auditConfigs);
    expect(writes()).toBe(1);
    expect(JSON.stringify(stack.slack.messages.at(-1))).toMatch(/removed 3/);
  });

  it('takes nothing back for a signed deletion naming an identity that is not an Astro one', async () => {
    const customer = 'etl@acme-analytics.iam.gserviceaccount.com';
    stack.gcp.putProject(PROJECT, seeded([{ role: GCS, members: [`serviceAccount:${customer}`] }]));
    const before = policy();
    const response = await send(
      deployment('forged-comet-0003', { effectiveWorkloadIdentity: customer }),
      'deployment.deleted',
    );
    expect(response.status).toBeLessThan(500);
    expect(policy()).toEqual(before);
    expect(writes()).toBe(0);
  });

  it('gives each Deployment the roles of the rule that matched it, when two rules share a project in one sweep', async () => {
    await stack.close();
    stack = await startGcpStack({
      config: config({
        targets: [
          `  - name: bq\n    match: { names: ["bq-*"] }\n    gcp: { project: ${PROJECT}, roles: [${BQ}] }`,
          `  - name: gcs\n    match: { names: ["gcs-*"] }\n    gcp: { project: ${PROJECT}, roles: [${GCS}] }`,
        ].join('\n'),
      }),
    });
    stack.gcp.putProject(PROJECT, seeded());
    stack.astro.upsert(deployment('bq-loader-0001'));
    stack.astro.upsert(deployment('gcs-reader-0002'));
    await stack.schedule('sweep');
    expect(holders(BQ)).toEqual(['user:analyst@example.com', member('bq-loader-0001')]);
    expect(holders(GCS)).toEqual([member('gcs-reader-0002')]);
    // Both Deployments' requests folded into one read-plan-write round.
    expect(writes()).toBe(1);
  });
});
