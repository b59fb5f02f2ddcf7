import type { EventReport, TargetResult } from '../../shared/report/outcome.ts';
import { summarizeDeployment } from '../../shared/report/outcome.ts';
import { makeDeployment } from './fixtures.ts';

const TARGETS: Record<TargetResult['cloud'], { target: string; usage: TargetResult['usage'] }> = {
  aws: {
    target: 'arn:aws:iam::123456789012:role/astro-data',
    usage: { used: 1753, limit: 2048, unit: 'characters' },
  },
  gcp: { target: 'astro-data@acme-data.iam.gserviceaccount.com', usage: { used: 1284, limit: 1500, unit: 'members' } },
  azure: { target: 'sub/rg/astro-data', usage: { used: 17, limit: 20, unit: 'credentials' } },
};

/**
 * A grant that took its target past the 80% threshold, as the reconciler reports it once it fills `usage` and
 * `capacityWarning` (85.6% on AWS and GCP, 85% on Azure).
 */
export function capacityReport(cloud: TargetResult['cloud']): EventReport {
  const { target, usage } = TARGETS[cloud];
  const percent = usage === undefined ? 0 : Math.round((usage.used / usage.limit) * 1000) / 10;
  return {
    eventId: `msg_capacity_${cloud}`,
    type: 'deployment.created',
    deployment: summarizeDeployment(makeDeployment()),
    dryRun: false,
    results: [
      {
        cloud,
        target,
        status: 'granted',
        added: ['one-new-entry'],
        removed: [],
        present: [],
        ...(usage === undefined ? {} : { usage }),
        capacityWarning: { percent, threshold: 80, headroom: 0, remedies: ['Use another identity.'] },
      },
    ],
  };
}
