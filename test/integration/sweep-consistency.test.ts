import { afterEach, describe, expect, it } from 'vitest';
import { type AwsStack, startAwsStack } from '../../local/aws-stack.ts';
import { EC2_TRUST } from '../support/aws-fixtures.ts';
import { apiDeployment } from '../support/deployments.ts';
import { runScheduled } from '../support/scheduled.ts';

const ROLES = 5;
const config = `astro: { token: "env:ASTRO_API_TOKEN", organizationId: clorg0000000000000000000, pageSize: 100 }
aws: { allowedRoles: ["arn:aws:iam::123456789012:role/astro-*"], trustPolicyMaxSize: 65536 }
wildcard: { enabled: true }
prune: true
slack: { mode: web-api, token: "env:SLACK_BOT_TOKEN", channel: "#iam" }
`;
const ns = (i: number) => `cons-ns-${String(i).padStart(4, '0')}`;
const deployment = (i: number, overrides: Record<string, unknown> = {}) =>
  apiDeployment({
    id: `clq2cons${String(i).padStart(17, '0')}`,
    name: `cons-${i}`,
    namespace: ns(i),
    effectiveWorkloadIdentity: `arn:aws:iam::123456789012:role/astro-r${i % ROLES}`,
    // Distinct times, newest last, so the list's updatedAt:desc order is stable unless a test changes it.
    createdAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
    updatedAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
    ...overrides,
  });

describe('the sweep prunes only from a consistent view', () => {
  let stack: AwsStack;
  afterEach(() => stack?.close());

  const sweep = () => runScheduled(stack, 'sweep');
  const trusted = () =>
    Array.from({ length: ROLES }, (_, r) => JSON.stringify(stack.aws.getTrustPolicy(`astro-r${r}`))).join('\n');
  const lists = () => stack.astro.requests.filter((r) => r.path.endsWith('/deployments')).length;

  async function start(count: number) {
    stack = await startAwsStack({ config });
    stack.aws.setTrustPolicyQuota(65536);
    for (let r = 0; r < ROLES; r++) stack.aws.putRole(`astro-r${r}`, EC2_TRUST);
    for (let i = 0; i < count; i++) stack.astro.upsert(deployment(i));
    await sweep();
    for (let i = 0; i < count; i++) expect(trusted()).toContain(`${ns(i)}:*`);
  }

  it('a Deployment deleted between two pages does not make a live one look stale', async () => {
    await start(150);
    // Newest first: page 1 holds 149..50. Deleting one of them after page 1 shifts the rest up by one, so a plain
    // offset pager would never see Deployment 49 (the first of page 2 moves to page 1's last slot).
    const before = lists();
    stack.astro.afterRequest((request) => {
      if (request.path.endsWith('/deployments') && lists() === before + 1)
        stack.astro.remove(deployment(120).id as string);
    });
    const result = await sweep();
    stack.astro.afterRequest(undefined);
    for (let i = 0; i < 150; i++) if (i !== 120) expect(trusted()).toContain(`${ns(i)}:*`);
    // The deleted one is either pruned from a later consistent list or reported; never a live one.
    expect(JSON.stringify(result)).not.toMatch(/cons-ns-0049/);
  });

  it('a Deployment created and granted while the sweep runs is not pruned by that sweep', async () => {
    await start(10);
    const late = deployment(10, { effectiveWorkloadIdentity: 'arn:aws:iam::123456789012:role/astro-r0' });
    // Granted already (as the webhook would, right after creation), but absent from the sweep's first list.
    stack.astro.upsert(late);
    await sweep();
    expect(trusted()).toContain(`${ns(10)}:*`);
    stack.astro.remove(late.id as string);
    const before = lists();
    stack.astro.afterRequest((request) => {
      if (request.path.endsWith('/deployments') && lists() === before + 1) stack.astro.upsert(late);
    });
    await sweep();
    stack.astro.afterRequest(undefined);
    expect(trusted()).toContain(`${ns(10)}:*`);
    expect(lists()).toBeGreaterThanOrEqual(before + 2); // the second list, after the targets were read
  });

  it('a list that keeps moving withholds prune and says why', async () => {
    await start(150);
    stack.astro.remove(deployment(7).id as string);
    let n = 0;
    stack.astro.afterRequest((request) => {
      // Every first page: a Deployment of page 2 is updated (moves to the front), so each pass sees the list shift.
      if (request.path.endsWith('/deployments') && request.query.startsWith('offset=0')) {
        n += 1;
        stack.astro.upsert(
          deployment(10 + n, { updatedAt: new Date(Date.UTC(2027, 0, 1) + n * 60_000).toISOString() }),
        );
      }
    });
    const result = await sweep();
    stack.astro.afterRequest(undefined);
    expect(trusted()).toContain(`${ns(7)}:*`);
    // The first pass missed a live Deployment as it moved: it looked stale too, and is kept with the deleted one.
    expect(result).toMatchObject({ deployments: 148, cleanup: 2 });
    for (let i = 0; i < 150; i++) expect(trusted()).toContain(`${ns(i)}:*`);
    expect(JSON.stringify(stack.slack.messages.at(-1))).toMatch(
      /not removed although prune is on: the Deployment list changed while it was read/,
    );
  });

  it('a Deployment that moved to another role is removed from the old one, and kept on the new one', async () => {
    await start(10);
    stack.astro.upsert(deployment(3, { effectiveWorkloadIdentity: 'arn:aws:iam::123456789012:role/astro-r4' }));
    await sweep();
    const old = JSON.stringify(stack.aws.getTrustPolicy('astro-r3'));
    expect(old).not.toContain(`${ns(3)}:*`);
    expect(old).toContain(`${ns(8)}:*`);
    expect(JSON.stringify(stack.aws.getTrustPolicy('astro-r4'))).toContain(`${ns(3)}:*`);
  });
});
