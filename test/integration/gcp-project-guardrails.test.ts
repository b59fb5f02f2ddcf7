import { afterEach, describe, expect, it } from 'vitest';
import { sampleProject, seedSampleProject } from '../../local/gcp-emulator/project-seed.ts';
import { type GcpStack, startGcpStack } from '../../local/gcp-stack.ts';
import { parseConfig } from '../../shared/config-text.ts';
import { deploymentEvent, postSigned } from '../support/deployments.ts';
import { BQ, config, deployment, GCS, helpers, type Policy, PROJECT, seeded } from '../support/gcp-project-fixtures.ts';

// What the gcp-project kind refuses, through the real GCP function: every refusal makes zero policy writes. And the
// sample project the local stack can seed.

describe('GCP project guardrails: refused before any write', () => {
  let stack: GcpStack | undefined;
  const { crm, writes, send } = helpers(() => stack as GcpStack);
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  const refusals: Array<[string, Parameters<typeof config>[0], Record<string, unknown>, RegExp]> = [
    [
      'a role outside gcp.allowedProjectRoles',
      { targets: `  - match: { all: true }\n    gcp: { project: ${PROJECT}, roles: [roles/pubsub.publisher] }` },
      {},
      /roles\/pubsub\.publisher is not in gcp\.allowedProjectRoles/,
    ],
    [
      'a project outside gcp.allowedProjects',
      { targets: `  - match: { all: true }\n    gcp: { project: other-project, roles: [${BQ}] }` },
      {},
      /other-project is not in gcp\.allowedProjects/,
    ],
    [
      'a workload identity outside gcp.allowedWorkloadIdentityPrincipals',
      {},
      { effectiveWorkloadIdentity: 'someone@elsewhere-123.iam.gserviceaccount.com' },
      /not in gcp\.allowedWorkloadIdentityPrincipals/,
    ],
    [
      'an empty gcp.allowedWorkloadIdentityPrincipals (the path is off)',
      { gcp: `  allowedProjects: ["${PROJECT}"]\n  allowedProjectRoles: [${BQ}, ${GCS}]` },
      {},
      /trusting a Deployment's workload identity is off/,
    ],
    [
      'a workload identity of the target project itself',
      {
        gcp: `  allowedProjects: ["${PROJECT}"]\n  allowedProjectRoles: [${BQ}, ${GCS}]\n  allowedWorkloadIdentityPrincipals: ["*@${PROJECT}.iam.gserviceaccount.com"]`,
      },
      { effectiveWorkloadIdentity: `astro-self@${PROJECT}.iam.gserviceaccount.com` },
      /in project acme-analytics itself/,
    ],
  ];
  it.each(refusals)('refuses %s with its reason, and writes nothing', async (_name, overrides, extra, reason) => {
    stack = await startGcpStack({ config: config(overrides) });
    stack.gcp.putProject(PROJECT, seeded());
    stack.gcp.putProject('other-project', seeded());
    const before = stack.gcp.getProjectPolicy(PROJECT);
    const d = deployment('nebular-gravity-1234', extra);
    stack.astro.upsert(d);
    const response = await send(d);
    expect(response.status).toBe(422);
    // An identity that is not Astro's is also the Deployment's own target (a service account, denied here too).
    expect((response.json as { results: unknown[] }).results).toContainEqual(
      expect.objectContaining({ kind: 'gcp-project', status: 'denied', reason: expect.stringMatching(reason) }),
    );
    expect(writes()).toBe(0);
    expect(crm()).toEqual([]);
    expect(stack.gcp.getProjectPolicy(PROJECT)).toEqual(before);
  });

  it.each([
    [
      'roles/owner on a rule',
      { targets: `  - match: { all: true }\n    gcp: { project: ${PROJECT}, roles: [roles/owner] }` },
    ],
    [
      'roles/owner in gcp.allowedProjectRoles',
      {
        gcp: `  allowedProjects: ["${PROJECT}"]\n  allowedProjectRoles: [roles/owner]\n  allowedWorkloadIdentityPrincipals: ["astro-*@astro-prod-123.iam.gserviceaccount.com"]`,
      },
    ],
  ])('refuses %s as a config error: the function never starts to touch a project', async (_name, overrides) => {
    stack = await startGcpStack({ config: config(overrides) });
    stack.gcp.putProject(PROJECT, seeded());
    const d = deployment('nebular-gravity-1234');
    stack.astro.upsert(d);
    const response = await send(d);
    // A broken config is the operator's to fix: 500 with the details in the log, and no Google call at all.
    expect(response).toEqual({ status: 500, json: { error: { code: 'internal', message: expect.any(String) } } });
    expect(() => parseConfig(config(overrides))).toThrow(/roles\/owner is a basic role/);
    expect(stack.gcp.calls).toEqual([]);
    expect(writes()).toBe(0);
  });
});

describe("the local stack's sample project (seedSampleProject)", () => {
  it('is granted by the sample rule with everything seeded left in place', async () => {
    const stack = await startGcpStack({
      config: config({
        gcp: `${sampleProject.config.gcp}\n  allowedWorkloadIdentityPrincipals: ["${sampleProject.identities}"]`,
        targets: sampleProject.config.targets,
      }),
    });
    try {
      const project = seedSampleProject(stack.gcp);
      stack.astro.upsert({ ...sampleProject.deployment });
      const response = await postSigned(
        stack.webhookUrl,
        stack.webhookSecret,
        JSON.stringify(deploymentEvent({ ...sampleProject.deployment })),
      );
      expect(response.status).toBe(200);
      const after = stack.gcp.getProjectPolicy(project) as Policy;
      for (const role of sampleProject.roles) {
        expect(after.bindings?.find((b) => b.role === role && b.condition === undefined)?.members).toContain(
          sampleProject.member,
        );
      }
      // Seeded members keep their place, first in their binding; ours come after them.
      for (const seededBinding of sampleProject.policy.bindings) {
        const when = JSON.stringify('condition' in seededBinding ? seededBinding.condition : undefined);
        const now = after.bindings?.find((b) => b.role === seededBinding.role && JSON.stringify(b.condition) === when);
        expect(now?.members.slice(0, seededBinding.members.length)).toEqual(seededBinding.members);
      }
      expect(after.bindings).toContainEqual(sampleProject.policy.bindings[2]);
      expect(after.auditConfigs).toEqual(sampleProject.policy.auditConfigs);
    } finally {
      await stack.close();
    }
  });
});
