import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsStack, defaultLocalConfig, LOCAL_ACCOUNT, startAwsStack } from '../../local/aws-stack.ts';
import { type HoustonEmulator, startHoustonEmulator } from '../../local/houston-emulator/server.ts';
import { EC2_TRUST } from '../support/aws-fixtures.ts';
import { postSigned } from '../support/deployments.ts';
import { scaled } from './scale.ts';

// Hostile Software events: signed, well-formed webhooks and manual calls naming Software Deployments with forged
// namespaces, releases, clusters and ids, for either platform. With both APIs configured, the role only ever trusts
// what Houston (or the Astro API, which here knows no Deployment) says.

const RUNS = scaled(2_000, 150);
const ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/5C0FFEE0123456789ABCDEF012345678';
const ORG = 'software:astro.acme.example';
const LIVE = '00000000-0000-4000-8000-000000004143';
const config = `${defaultLocalConfig()}software:
  baseDomain: astro.acme.example
  token: env:HOUSTON_TOKEN
  clusters: { default: { oidcIssuerUrl: "${ISSUER}", cloudProvider: AWS } }
astro: { token: "env:ASTRO_API_TOKEN", organizationId: clorg0000000000000000000 }
prune: true
targets:
  - match: { all: true }
    aws: { roleArn: "arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-software" }
`;

const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/);
const hostileDeployment = fc.record({
  id: fc.oneof(fc.constant(LIVE), fc.uuid(), fc.string({ maxLength: 70 })),
  name: fc.string({ minLength: 1, maxLength: 40 }),
  namespace: fc.oneof(label, fc.constant('kube-system'), fc.constant('astronomer-solar-orbit-4143'), fc.string()),
  organizationId: fc.oneof(
    fc.constant(ORG),
    fc.constant('software:evil.example'),
    fc.constant('clorg0000000000000000000'),
  ),
  oidcIssuerUrl: fc.oneof(fc.constant(ISSUER), fc.constant('https://evil.example/oidc')),
  airflowVersion: fc.constantFrom('2.10.3', '3.0.1'),
});
const eventType = fc.constantFrom('deployment.created', 'deployment.updated', 'deployment.deleted');

describe('hostile Software events: the role trusts only what Houston lists', () => {
  let stack: AwsStack;
  let houston: HoustonEmulator;
  beforeAll(async () => {
    houston = await startHoustonEmulator({ token: 'houston-token' });
    houston.upsert({
      id: LIVE,
      label: 'ETL',
      releaseName: 'solar-orbit-4143',
      namespace: 'astronomer-solar-orbit-4143',
      runtimeVersion: '12.4.0',
    });
    stack = await startAwsStack({
      config,
      env: { HOUSTON_TOKEN: 'houston-token', ASTRO_IDENTITY_SYNC_HOUSTON_URL: houston.url },
    });
    stack.aws.putRole('astro-software', EC2_TRUST);
  });
  afterAll(async () => {
    await stack.close();
    await houston.close();
  });

  it(`${RUNS} signed events and manual calls`, async () => {
    const allowed = new Set(
      ['dag-processor', 'scheduler', 'triggerer', 'webserver', 'worker'].map(
        (c) => `system:serviceaccount:astronomer-solar-orbit-4143:solar-orbit-4143-airflow-${c}`,
      ),
    );
    await fc.assert(
      fc.asyncProperty(hostileDeployment, eventType, fc.boolean(), async (deployment, type, manual) => {
        const data = { organizationId: deployment.organizationId, deploymentId: deployment.id, deployment };
        if (manual) {
          await fetch(stack.manualUrl, {
            method: 'POST',
            headers: { authorization: `Bearer ${stack.manualToken}`, 'content-type': 'application/json' },
            body: JSON.stringify({ organizationId: deployment.organizationId, deploymentId: deployment.id, type }),
          }).then((r) => r.text());
        } else {
          const body = JSON.stringify({ type, timestamp: new Date().toISOString(), data });
          await postSigned(stack.webhookUrl, stack.webhookSecret, body);
        }
        await stack.idle();
        const text = JSON.stringify(stack.aws.getTrustPolicy('astro-software'));
        const subjects = [...text.matchAll(/system:serviceaccount:[^"]+/g)].map((m) => m[0]);
        // Never a namespace, release or issuer Houston did not give, and never a revoke of the live Deployment.
        for (const subject of subjects) expect(allowed.has(subject), subject).toBe(true);
        expect(text).not.toContain('evil.example');
        if (subjects.length > 0) expect(subjects).toHaveLength(allowed.size);
      }),
      { numRuns: RUNS, seed: 20261203 },
    );
    // The live Deployment was granted along the way (a created or updated event for its id is generated).
    expect(JSON.stringify(stack.aws.getTrustPolicy('astro-software'))).toContain('solar-orbit-4143-airflow-worker');
    expect(JSON.stringify(stack.aws.getTrustPolicy('astro-software'))).toContain('ec2.amazonaws.com');
  }, 120_000);
});
