import { describe, expect, it } from 'vitest';
import { softwareDeployment } from '../../shared/intake/software-deployment.ts';
import { serviceAccountFor } from '../../shared/plan/components.ts';
import {
  chartFullname,
  DEFAULT_SOFTWARE_COMPONENT_TABLE,
  softwareNamespace,
} from '../../shared/plan/software-names.ts';
import { desiredGrant } from '../../shared/plan/subjects.ts';

const table = DEFAULT_SOFTWARE_COMPONENT_TABLE;

describe('Astronomer Software service-account names (the Airflow chart: <fullname>-<component>)', () => {
  it.each([
    // The docs' example: system:serviceaccount:astronomer-cloud-solar-orbit-4143:solar-orbit-4143-airflow-worker
    ['solar-orbit-4143', 'astronomer-cloud-solar-orbit-4143', 'worker', 'solar-orbit-4143-airflow-worker'],
    [
      'weightless-meteor-5042',
      'astronomer-weightless-meteor-5042',
      'scheduler',
      'weightless-meteor-5042-airflow-scheduler',
    ],
    // A release that already says airflow is the fullname itself.
    ['airflow-prod', 'astronomer-airflow-prod', 'scheduler', 'airflow-prod-scheduler'],
    ['team-airflow', 'team-ns', 'triggerer', 'team-airflow-triggerer'],
    ['myairflowrelease', 'ns-1', 'worker', 'myairflowrelease-worker'],
    // Airflow 3: the chart's API server is api-server, whatever the component is called here.
    ['solar-orbit-4143', 'astronomer-solar-orbit-4143', 'apiserver', 'solar-orbit-4143-airflow-api-server'],
    ['solar-orbit-4143', 'astronomer-solar-orbit-4143', 'dag-processor', 'solar-orbit-4143-airflow-dag-processor'],
    ['solar-orbit-4143', 'astronomer-solar-orbit-4143', 'cleanup', 'solar-orbit-4143-airflow-cleanup'],
  ])('release %s in %s: %s runs as %s', (release, namespace, component, expected) => {
    expect(serviceAccountFor(table, component, namespace, release)).toBe(expected);
  });

  it('takes overrides: older platforms named accounts <release>-<component>, and bring-your-own names are fixed', () => {
    const older = { ...table, serviceAccounts: { ...table.serviceAccounts, scheduler: '{release}-scheduler' } };
    expect(serviceAccountFor(older, 'scheduler', 'astronomer-solar-orbit-4143', 'solar-orbit-4143')).toBe(
      'solar-orbit-4143-scheduler',
    );
    const own = { ...table, serviceAccounts: { ...table.serviceAccounts, worker: 'airflow-workers' } };
    expect(serviceAccountFor(own, 'worker', 'team-ns', 'anything')).toBe('airflow-workers');
  });

  it('refuses a release-based name without a release, and a release that is not a Helm release name', () => {
    expect(() => serviceAccountFor(table, 'worker', 'team-ns')).toThrow(/named after the Helm release/);
    expect(() => serviceAccountFor(table, 'worker', 'team-ns', 'Bad_Release')).toThrow(/not a Helm release name/);
    expect(() => serviceAccountFor(table, 'worker', 'team-ns', 'a'.repeat(54))).toThrow(/not a Helm release name/);
  });

  it('names the longest release a chart fullname within the 63 characters Kubernetes allows', () => {
    const release = `${'r'.repeat(52)}x`;
    expect(chartFullname(release)).toBe(`${release}-airflow`);
    expect(chartFullname(release).length).toBeLessThanOrEqual(63);
  });

  it('builds subjects in the Deployment namespace from the Software table', () => {
    const grant = desiredGrant({
      namespace: 'astronomer-solar-orbit-4143',
      release: 'solar-orbit-4143',
      table,
      selection: { airflowVersion: '2.10.3' },
    });
    expect(grant.subjects).toEqual([
      'system:serviceaccount:astronomer-solar-orbit-4143:solar-orbit-4143-airflow-dag-processor',
      'system:serviceaccount:astronomer-solar-orbit-4143:solar-orbit-4143-airflow-scheduler',
      'system:serviceaccount:astronomer-solar-orbit-4143:solar-orbit-4143-airflow-triggerer',
      'system:serviceaccount:astronomer-solar-orbit-4143:solar-orbit-4143-airflow-webserver',
      'system:serviceaccount:astronomer-solar-orbit-4143:solar-orbit-4143-airflow-worker',
    ]);
  });

  it.each([
    ['{platformNamespace}-{release}', 'astronomer', 'weightless-meteor-5042', 'astronomer-weightless-meteor-5042'],
    ['{platformNamespace}-{release}', 'astro-prod', 'solar-orbit-4143', 'astro-prod-solar-orbit-4143'],
    ['{release}', 'astronomer', 'solar-orbit-4143', 'solar-orbit-4143'],
  ])('namespace template %s (platform %s, release %s) is %s', (template, platform, release, expected) => {
    expect(softwareNamespace(template, { platform, release })).toBe(expected);
  });

  it('refuses a namespace template that does not make a namespace', () => {
    expect(() => softwareNamespace('{platformNamespace}_{release}', { platform: 'astronomer', release: 'x' })).toThrow(
      /not a Kubernetes namespace/,
    );
  });
});

describe('softwareDeployment: what Houston does not always say, settled', () => {
  const settings = {
    platformNamespace: 'astronomer',
    namespaceTemplate: '{platformNamespace}-{release}',
    clusters: {
      default: { oidcIssuerUrl: 'https://oidc.eks.us-east-1.amazonaws.com/id/ABC', cloudProvider: 'AWS' as const },
      'gke-1': { pool: 'acme-gke.svc.id.goog', cloudProvider: 'GCP' as const },
    },
  };
  const houston = {
    id: 'd1',
    label: 'ETL',
    releaseName: 'solar-orbit-4143',
    namespace: undefined,
    clusterId: undefined,
    workspace: { id: 'w1', label: 'Data' },
    runtimeVersion: '12.4.0',
    airflowVersion: undefined,
    createdAt: undefined,
    updatedAt: undefined,
  };

  it('takes Houston’s namespace as data, and the template only when Houston does not say', () => {
    expect(softwareDeployment({ ...houston, namespace: 'team-etl' }, settings)).toMatchObject({
      namespace: 'team-etl',
      namespaceSource: 'houston',
    });
    expect(softwareDeployment(houston, settings)).toMatchObject({
      namespace: 'astronomer-solar-orbit-4143',
      namespaceSource: 'template',
    });
  });

  it('finds the cluster by id, else the default, and refuses a cluster config does not cover', () => {
    expect(softwareDeployment({ ...houston, clusterId: 'gke-1' }, settings).cluster.pool).toBe('acme-gke.svc.id.goog');
    expect(softwareDeployment({ ...houston, clusterId: 'other' }, settings).cluster.cloudProvider).toBe('AWS');
    expect(() =>
      softwareDeployment(houston, { ...settings, clusters: { 'gke-1': settings.clusters['gke-1'] } }),
    ).toThrow(/software\.clusters does not list/);
  });

  it('refuses a namespace or release Houston gives that is not valid, rather than guess', () => {
    expect(() => softwareDeployment({ ...houston, namespace: 'Team_ETL' }, settings)).toThrow(
      /not a Kubernetes namespace/,
    );
    expect(() => softwareDeployment({ ...houston, releaseName: 'x/../y' }, settings)).toThrow(
      /not a Helm release name/,
    );
  });
});
