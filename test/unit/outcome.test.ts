import { describe, expect, it } from 'vitest';
import {
  type EventReport,
  reportHasChanges,
  reportHasFailures,
  summarizeDeployment,
  type TargetResult,
  type TargetStatus,
} from '../../shared/report/outcome.ts';
import { makeDeployment, NAMESPACE, ROLE_ARN } from '../support/fixtures.ts';

const result = (status: TargetStatus, added: string[] = []): TargetResult => ({
  cloud: 'aws',
  target: ROLE_ARN,
  status,
  added,
  removed: [],
  present: [],
});
const report = (...results: TargetResult[]): EventReport => ({
  eventId: 'msg_1',
  type: 'deployment.created',
  deployment: summarizeDeployment(makeDeployment()),
  dryRun: false,
  results,
});

describe('outcome', () => {
  it('summarizes a Deployment with the fields reports show', () => {
    expect(summarizeDeployment(makeDeployment({ workspaceName: 'Analytics', clusterName: 'prod-cluster' }))).toEqual({
      id: 'clx0deployment000001',
      name: 'etl-prod',
      namespace: NAMESPACE,
      workspaceId: 'ws-analytics',
      workspaceName: 'Analytics',
      clusterName: 'prod-cluster',
      cloudProvider: 'AWS',
    });
  });

  it.each<[TargetStatus, boolean]>([
    ['granted', false],
    ['planned', false],
    ['unchanged', false],
    ['denied', true],
    ['does-not-fit', true],
    ['conflict', true],
    ['failed', true],
  ])('reportHasFailures with one %s result is %s', (status, expected) => {
    expect(reportHasFailures(report(result('granted', ['x']), result(status)))).toBe(expected);
  });

  it.each<[TargetResult[], boolean]>([
    [[result('granted', ['s'])], true],
    [[result('granted', [])], false],
    [[result('planned', ['s'])], false],
    [[result('unchanged'), result('failed')], false],
    [[], false],
  ])('reportHasChanges(%j) is %s', (results, expected) => {
    expect(reportHasChanges(report(...results))).toBe(expected);
  });
});
