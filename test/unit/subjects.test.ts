import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors.ts';
import {
  assertSubjectsInNamespace,
  type ClusterType,
  type DesiredGrant,
  desiredGrant,
  parseSubject,
  subjectFor,
  wildcardApplies,
} from '../../shared/plan/subjects.ts';
import { airflow3Subjects, NAMESPACE as NS, subject, thrown } from '../support/fixtures.ts';

describe('subjectFor / parseSubject', () => {
  it('builds system:serviceaccount:<ns>:<sa> and parses it back', () => {
    expect(subjectFor(NS, `${NS}-kpo`)).toBe(`system:serviceaccount:${NS}:${NS}-kpo`);
    expect(parseSubject(`system:serviceaccount:${NS}:${NS}-kpo`)).toEqual({
      namespace: NS,
      serviceAccount: `${NS}-kpo`,
    });
    expect(parseSubject(`system:serviceaccount:${NS}:*`)).toEqual({ namespace: NS, serviceAccount: '*' });
  });

  it.each([
    'system:serviceaccount:a:b:c',
    'system:serviceaccount::b',
    'system:serviceaccount:a',
    'system:serviceaccounts:a:b',
    'repo:org/x:ref:main',
    '',
  ])('parseSubject(%j) is undefined', (value) => {
    expect(parseSubject(value)).toBeUndefined();
  });
});

describe('desiredGrant', () => {
  it('grants the Airflow 2 defaults, sorted', () => {
    const grant = desiredGrant({ namespace: NS, selection: { astroRuntimeVersion: '12.7.1' } });
    expect(grant.subjects).toEqual([
      subject(NS, `${NS}-dag-processor-serviceaccount`),
      subject(NS, `${NS}-kpo`),
      subject(NS, `${NS}-scheduler-serviceaccount`),
      subject(NS, `${NS}-triggerer-serviceaccount`),
      subject(NS, `${NS}-webserver-serviceaccount`),
      subject(NS, `${NS}-worker-serviceaccount`),
    ]);
    expect(grant.wildcard).toBe(false);
    expect(grant.namespace).toBe(NS);
  });

  it('grants the Airflow 3 defaults when the version is unknown', () => {
    const grant = desiredGrant({ namespace: NS, selection: {} });
    expect(grant.subjects).toEqual(airflow3Subjects(NS));
    expect(grant.components.map((c) => c.component)).toEqual([
      'apiserver',
      'dag-processor',
      'kpo',
      'scheduler',
      'triggerer',
      'worker',
    ]);
    expect(grant.components[2]).toEqual({
      component: 'kpo',
      serviceAccount: `${NS}-kpo`,
      subject: subject(NS, `${NS}-kpo`),
    });
  });

  it('grants apiserver and scheduler for Remote Execution', () => {
    const grant = desiredGrant({ namespace: NS, selection: { airflowVersion: '3.1.0', remoteExecution: true } });
    expect(grant.subjects).toEqual([
      subject(NS, `${NS}-apiserver-serviceaccount`),
      subject(NS, `${NS}-scheduler-serviceaccount`),
    ]);
  });

  it.each(['*', 'a:b', '../x', 'Prod', ''])('rejects namespace %j', (namespace) => {
    expect(() => desiredGrant({ namespace, selection: {} })).toThrow(ValidationError);
  });

  it('names an unknown component', () => {
    expect(() => desiredGrant({ namespace: NS, selection: { components: ['scheduler', 'nope'] } })).toThrow(
      /unknown component "nope"/,
    );
  });
});

describe('namespace wildcard', () => {
  it('applies only when requested on a DEDICATED cluster', () => {
    const grant = desiredGrant({
      namespace: NS,
      selection: {},
      wildcard: { requested: true, clusterType: 'DEDICATED', strict: true },
    });
    expect(grant.wildcard).toBe(true);
    expect(grant.subjects).toEqual([`system:serviceaccount:${NS}:*`]);
    expect(grant.components).toHaveLength(6);
  });

  it.each([
    ['STANDARD', 'STANDARD'],
    ['HYBRID', 'HYBRID'],
    ['undefined', undefined],
  ] as const)('strict mode refuses it on %s clusters', (_label, clusterType) => {
    const error = thrown(() => wildcardApplies({ requested: true, clusterType, strict: true }));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field: 'wildcard' });
    expect((error as Error).message).toContain(clusterType ?? 'unknown cluster type');
  });

  it.each(['STANDARD', 'HYBRID', undefined] as const)(
    'non-strict mode falls back to explicit subjects on %s',
    (clusterType) => {
      const grant = desiredGrant({
        namespace: NS,
        selection: {},
        wildcard: { requested: true, clusterType, strict: false },
      });
      expect(grant.wildcard).toBe(false);
      expect(grant.subjects).toEqual(airflow3Subjects(NS));
    },
  );

  it.each<[ClusterType | undefined, boolean]>([
    ['DEDICATED', false],
    ['STANDARD', true],
    [undefined, true],
  ])('is not applied when not requested (%s, strict %s)', (clusterType, strict) => {
    expect(wildcardApplies({ requested: false, clusterType, strict })).toBe(false);
  });

  it('never produces *:*', () => {
    for (const clusterType of ['DEDICATED', 'STANDARD', 'HYBRID', undefined] as const) {
      const grant = desiredGrant({
        namespace: NS,
        selection: {},
        wildcard: { requested: true, clusterType, strict: false },
      });
      expect(grant.subjects.every((s) => s.startsWith(`system:serviceaccount:${NS}:`))).toBe(true);
      expect(grant.subjects).not.toContain('system:serviceaccount:*:*');
    }
  });
});

describe('assertSubjectsInNamespace', () => {
  const base = desiredGrant({ namespace: NS, selection: {} });

  it('accepts grants built by desiredGrant', () => {
    expect(() => assertSubjectsInNamespace(base)).not.toThrow();
  });

  it.each<[string, DesiredGrant]>([
    ['another namespace', { ...base, subjects: [subject('other-ns', 'other-ns-kpo')] }],
    ['a wildcard without the flag', { ...base, subjects: [subject(NS, '*')] }],
    ['a pattern service account', { ...base, subjects: [subject(NS, `${NS}-?`)] }],
    ['a foreign subject', { ...base, subjects: ['repo:org/app:ref:refs/heads/main'] }],
    ['*:* with a * namespace', { ...base, namespace: '*', wildcard: true, subjects: ['system:serviceaccount:*:*'] }],
    [
      'a component subject outside the namespace',
      { ...base, components: [{ component: 'kpo', serviceAccount: 'x-kpo', subject: subject('x', 'x-kpo') }] },
    ],
  ])('rejects %s', (_label, grant) => {
    expect(() => assertSubjectsInNamespace(grant)).toThrow(ValidationError);
  });
});
