import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsStack, defaultLocalConfig, startAwsStack } from '../../local/aws-stack.ts';
import { type GcpStack, startGcpStack } from '../../local/gcp-stack.ts';
import type { TargetResult } from '../../shared/report/outcome.ts';
import { EC2_TRUST } from '../support/aws-fixtures.ts';
import { apiDeployment, deploymentEvent, postSigned } from '../support/deployments.ts';

/** Deployments of one shape: the same cluster, namespaces of the same length, so each costs the same characters. */
const deployment = (i: number) =>
  apiDeployment({
    id: `clq2w3e4r0000${String(i).padStart(2, '0')}l4fdu1abcd`,
    name: `etl-${i}`,
    namespace: `nebular-gravity-12${String(i).padStart(2, '0')}`,
  });

describe('capacity on an IAM role, through the manual function', () => {
  let stack: AwsStack;
  beforeAll(async () => {
    // A raised quota read live (GetAccountSummary), so the role holds enough Deployments to cross 80% on the way.
    stack = await startAwsStack({ config: defaultLocalConfig().replace('aws:\n', 'aws:\n  useLiveQuota: true\n') });
    stack.aws.setTrustPolicyQuota(5000);
    stack.aws.putRole('astro-data', EC2_TRUST);
  });
  afterAll(() => stack.close());

  async function grant(i: number): Promise<TargetResult> {
    const response = await fetch(stack.manualUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.manualToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deployment: deployment(i) }),
    });
    const json = (await response.json()) as { results: TargetResult[] };
    const [result] = json.results;
    if (result === undefined) throw new Error(`no result: ${JSON.stringify(json)}`);
    return result;
  }

  it('reports the minified length after every grant, warns once on the crossing, and its headroom is what still fits', async () => {
    const results: TargetResult[] = [];
    for (let i = 0; i < 12; i++) {
      const result = await grant(i);
      results.push(result);
      if (result.status === 'does-not-fit') break;
    }
    const granted = results.filter((r) => r.status === 'granted');
    // Every grant reports what IAM counts: the minified document the role now holds, against the account's quota.
    for (const r of granted) expect(r.usage).toMatchObject({ limit: 5000, unit: 'characters' });
    expect(granted.at(-1)?.usage?.used).toBe(JSON.stringify(stack.aws.getTrustPolicy('astro-data')).length);
    const warned = results.filter((r) => r.capacityWarning !== undefined);
    expect(warned).toHaveLength(1);
    const [crossing] = warned;
    const at = results.indexOf(crossing as TargetResult);
    expect((results[at - 1]?.usage?.used ?? 0) / 5000).toBeLessThan(0.8);
    expect((crossing?.usage?.used ?? 0) / 5000).toBeGreaterThanOrEqual(0.8);
    expect(crossing?.capacityWarning?.remedies.join(' ')).toContain('L-C07B4B0D');
    expect(crossing?.capacityWarning?.remedies.join(' ')).toContain('aws.useLiveQuota reads the new value');
    expect(crossing?.capacityWarning?.remedies.join(' ')).toContain('wildcard.enabled');
    // The headroom is a prediction the next grants check: exactly that many more fit, then the role is full.
    const after = results.slice(at + 1);
    expect(crossing?.capacityWarning?.headroom).toBe(1);
    expect(after.filter((r) => r.status === 'granted')).toHaveLength(crossing?.capacityWarning?.headroom ?? -1);
    expect(after.at(-1)?.status).toBe('does-not-fit');
    // Said once, in the crossing's Slack message, with what to do.
    const capacityMessages = stack.slack.messages.filter((m) => JSON.stringify(m).includes('*Capacity:*'));
    expect(capacityMessages).toHaveLength(1);
    expect(JSON.stringify(capacityMessages[0])).toContain('at or above the 80% threshold');
    expect(JSON.stringify(capacityMessages[0])).toContain('Service Quotas');
  });
});

describe('capacity on a Google service account, through the HTTP function', () => {
  let stack: GcpStack;
  const SA = 'astro-data@acme-data.iam.gserviceaccount.com';
  beforeAll(async () => {
    stack = await startGcpStack();
  });
  afterAll(() => stack.close());

  it('counts members over every binding, a person’s conditional one included', async () => {
    stack.gcp.putServiceAccount(SA, {
      bindings: [
        { role: 'roles/iam.serviceAccountUser', members: ['group:ops@acme.example', 'user:ana@acme.example'] },
        {
          role: 'roles/iam.workloadIdentityUser',
          members: ['user:bo@acme.example'],
          condition: { title: 'office hours', expression: 'request.time.getHours("UTC") < 18' },
        },
      ],
    });
    const gcpDeployment = apiDeployment({
      cloudProvider: 'GCP',
      clusterName: 'gcp-us-central1-prod',
      effectiveWorkloadIdentity: SA,
      oidcIssuerUrl: 'https://container.googleapis.com/v1/projects/acme-gke/locations/us-central1/clusters/astro',
    });
    const response = await postSigned(
      stack.webhookUrl,
      stack.webhookSecret,
      JSON.stringify(deploymentEvent(gcpDeployment)),
    );
    const json = response.json as { results: TargetResult[] };
    expect(json.results[0]).toMatchObject({
      status: 'granted',
      usage: { used: 3 + 6, limit: 1500, unit: 'members' },
    });
    expect(json.results[0]?.capacityWarning).toBeUndefined();
  });
});
