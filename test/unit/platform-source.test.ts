import { describe, expect, it } from 'vitest';
import { type DeploymentSource, lookupDeployments } from '../../functions/common/deployment-lookup.ts';
import { platformSource } from '../../functions/common/platform-source.ts';
import type { SoftwareSource } from '../../functions/common/software-source.ts';
import type { Deployment } from '../../shared/intake/deployment.ts';

const hostedDeployment = { id: 'd1', name: 'h', namespace: 'ns-hosted', organizationId: 'clorg1' } as Deployment;
const softwareDeployment = {
  id: 's1',
  name: 's',
  namespace: 'astronomer-solar-orbit-4143',
  organizationId: 'software:astro.acme.example',
  software: { releaseName: 'solar-orbit-4143' },
} as Deployment;

const astro: DeploymentSource = {
  get: async (_org, id) => (id === 'd1' ? hostedDeployment : undefined),
  list: async () => ({ deployments: [hostedDeployment], invalid: [] }),
};
const software: SoftwareSource = {
  organizationId: 'software:astro.acme.example',
  get: async (id) => (id === 's1' ? softwareDeployment : undefined),
  list: async () => ({ deployments: [softwareDeployment], invalid: [], complete: true }),
};

const event = (
  organizationId: string,
  deploymentId: string,
  deployment?: Record<string, unknown>,
  type: 'deployment.updated' | 'deployment.deleted' = 'deployment.updated',
) => ({
  messageId: deploymentId,
  event: {
    webhookId: `msg_${deploymentId}`,
    event: {
      type,
      timestamp: '2026-12-03T00:00:00Z',
      data: { organizationId, deploymentId, deployment: deployment as Deployment | undefined },
    },
  },
});

describe('platformSource: the event’s organization picks the API', () => {
  const pick = (a: DeploymentSource | undefined) => {
    const sources = platformSource(a, software);
    if (typeof sources !== 'function') throw new Error('expected a router');
    return sources;
  };

  it('reads Software ids from Houston and Hosted ids from the Astro API', async () => {
    expect(await pick(astro)('software:astro.acme.example')?.get('software:astro.acme.example', 's1')).toBe(
      softwareDeployment,
    );
    expect(pick(astro)('clorg1')).toBe(astro);
    expect(platformSource(astro, undefined)).toBe(astro);
  });

  it('plans a Hosted event from its payload when only Houston is configured, but never revokes on one', async () => {
    const hosted = await lookupDeployments([event('clorg1', 'd1', hostedDeployment)], pick(undefined));
    expect(hosted.items.map((item) => item.deployment.namespace)).toEqual(['ns-hosted']);
    const deletion = event('clorg1', 'd1', hostedDeployment, 'deployment.deleted');
    const deleted = await lookupDeployments([deletion], pick(undefined));
    expect(deleted.items).toEqual([]);
    expect(deleted.rejected[0]?.error.message).toMatch(/cannot be confirmed without the "astro" section/);
  });

  it('never plans a Software event from its payload: the release name only Houston knows', async () => {
    const looked = await lookupDeployments(
      [event('software:astro.acme.example', 's1', { ...softwareDeployment, namespace: 'victim-namespace' })],
      undefined,
    );
    expect(looked.items).toEqual([]);
    expect(looked.rejected[0]?.error.message).toMatch(/configure software\.token/);
  });

  it('takes the namespace from Houston, not from the payload, when Houston is configured', async () => {
    const looked = await lookupDeployments(
      [event('software:astro.acme.example', 's1', { ...softwareDeployment, namespace: 'victim-namespace' })],
      pick(undefined),
    );
    expect(looked.items.map((item) => item.deployment.namespace)).toEqual(['astronomer-solar-orbit-4143']);
  });
});
