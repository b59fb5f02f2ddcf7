import { describe, expect, it } from 'vitest';
import { componentTableFrom } from '../../shared/config.ts';
import { parseConfig } from '../../shared/config-text.ts';
import { ValidationError } from '../../shared/errors.ts';
import {
  airflowMajor,
  airflowVersionOf,
  assertAirflowVersion,
  assertKnownComponents,
  assertRuntimeVersion,
  type ComponentTable,
  componentMode,
  DEFAULT_COMPONENT_TABLE,
  selectComponents,
  serviceAccountFor,
} from '../../shared/plan/components.ts';
import { desiredGrant } from '../../shared/plan/subjects.ts';
import { thrown } from '../support/fixtures.ts';

const NS = 'quasarian-nebula-7421';

describe('serviceAccountFor', () => {
  it.each([
    ['scheduler', `${NS}-scheduler-serviceaccount`],
    ['worker', `${NS}-worker-serviceaccount`],
    ['triggerer', `${NS}-triggerer-serviceaccount`],
    ['dag-processor', `${NS}-dag-processor-serviceaccount`],
    ['webserver', `${NS}-webserver-serviceaccount`],
    ['apiserver', `${NS}-apiserver-serviceaccount`],
    ['kpo', `${NS}-kpo`],
  ])('%s -> %s', (component, expected) => {
    expect(serviceAccountFor(DEFAULT_COMPONENT_TABLE, component, NS)).toBe(expected);
  });

  it('throws a ValidationError naming an unknown component and the known ones', () => {
    const error = thrown(() => serviceAccountFor(DEFAULT_COMPONENT_TABLE, 'flower', NS));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain('"flower"');
    expect((error as Error).message).toContain(
      'apiserver, dag-processor, kpo, scheduler, triggerer, webserver, worker',
    );
    expect(error).toMatchObject({ field: 'components' });
  });

  it('validates the namespace before building a name', () => {
    expect(() => serviceAccountFor(DEFAULT_COMPONENT_TABLE, 'kpo', 'a:b')).toThrow(/Kubernetes namespace/);
  });

  it('rejects a table template that yields an invalid service account name', () => {
    const table: ComponentTable = { ...DEFAULT_COMPONENT_TABLE, serviceAccounts: { bad: '{namespace}:x' } };
    expect(() => serviceAccountFor(table, 'bad', NS)).toThrow(/components\.bad/);
  });
});

describe('airflowMajor', () => {
  it.each([
    [{ airflowVersion: '2.10.3' }, 2],
    [{ airflowVersion: '3.0.2' }, 3],
    [{ airflowVersion: 'v3.1.0' }, 3],
    [{ airflowVersion: ' 2.9.0 ' }, 2],
    [{ airflowVersion: '1.10.15' }, undefined],
    [{ airflowVersion: '4.0.0' }, undefined],
    [{ airflowVersion: '1.10.15', astroRuntimeVersion: '3.0-1' }, undefined],
    [{ airflowVersion: '2.10.3', astroRuntimeVersion: '3.0-1' }, 2],
    [{ astroRuntimeVersion: '3.0-1' }, 3],
    [{ astroRuntimeVersion: '3.1-2' }, 3],
    [{ astroRuntimeVersion: '3.0.0' }, 3],
    [{ astroRuntimeVersion: '4.0.0' }, 2],
    [{ astroRuntimeVersion: '9.15.0' }, 2],
    [{ astroRuntimeVersion: '12.7.1' }, 2],
    [{ astroRuntimeVersion: '13.1.0' }, 2],
    [{ astroRuntimeVersion: '14.0.0' }, undefined],
    [{ astroRuntimeVersion: '2.1.1' }, undefined],
    [{ astroRuntimeVersion: '4.0-1' }, undefined],
    [{ astroRuntimeVersion: 'latest' }, undefined],
    [{ airflowVersion: '', astroRuntimeVersion: '9.15.0' }, 2],
    [{}, undefined],
    // A bare major, or a major.minor, names the Airflow major as well as a full version does.
    [{ airflowVersion: '2' }, 2],
    [{ airflowVersion: '3' }, 3],
    [{ airflowVersion: 'v2' }, 2],
    [{ airflowVersion: 'V3' }, 3],
    [{ airflowVersion: '2.10' }, 2],
    [{ airflowVersion: '3.1' }, 3],
    [{ airflowVersion: '3.0.0rc1' }, 3],
    [{ airflowVersion: '2.10.3+astro.1' }, 2],
    [{ airflowVersion: '4' }, undefined],
    [{ airflowVersion: 'latest' }, undefined],
    [{ airflowVersion: '2x' }, undefined],
    [{ airflowVersion: 'latest', astroRuntimeVersion: '12.1.0' }, 2],
    [{ astroRuntimeVersion: '12' }, 2],
    [{ astroRuntimeVersion: '12.1' }, 2],
    [{ astroRuntimeVersion: '12.1.0' }, 2],
    [{ astroRuntimeVersion: '4' }, 2],
    [{ astroRuntimeVersion: '3' }, 3],
    [{ astroRuntimeVersion: '14' }, undefined],
    [{ astroRuntimeVersion: '1.10.15' }, undefined],
  ])('%j -> %s', (versions, expected) => {
    expect(airflowMajor(versions)).toBe(expected);
  });
});

describe('airflowVersionOf', () => {
  it.each([
    [{ airflowVersion: '1.10.15' }, { major: 1, field: 'airflowVersion', value: '1.10.15' }],
    [{ airflowVersion: ' 2 ' }, { major: 2, field: 'airflowVersion', value: '2' }],
    [
      { airflowVersion: '4.0.0', astroRuntimeVersion: '12.1.0' },
      { major: undefined, field: 'airflowVersion', value: '4.0.0' },
    ],
    [
      { airflowVersion: 'latest', astroRuntimeVersion: '3.0-1' },
      { major: 3, field: 'astroRuntimeVersion', value: '3.0-1' },
    ],
    [{ astroRuntimeVersion: '1.10.15-7' }, { major: 1, field: 'astroRuntimeVersion', value: '1.10.15-7' }],
    [{ astroRuntimeVersion: '14.0.0' }, { major: undefined, field: 'astroRuntimeVersion', value: '14.0.0' }],
  ] as const)('%j -> %j', (versions, expected) => {
    expect(airflowVersionOf(versions)).toEqual(expected);
  });

  it.each([[{}], [{ airflowVersion: '', astroRuntimeVersion: ' ' }], [{ airflowVersion: 'latest' }]])(
    '%j names no version',
    (versions) => {
      expect(airflowVersionOf(versions)).toBeUndefined();
    },
  );
});

describe('Airflow 1 is refused, never granted as Airflow 3', () => {
  it.each([
    [{ airflowVersion: '1.10.15' }, 'airflowVersion'],
    [{ airflowVersion: '1' }, 'airflowVersion'],
    [{ airflowVersion: '1.10.15', astroRuntimeVersion: '3.0-1' }, 'airflowVersion'],
    [{ airflowVersion: '1.10.15', components: ['scheduler'] }, 'airflowVersion'],
    [{ astroRuntimeVersion: '1.10.15' }, 'astroRuntimeVersion'],
    [{ airflowVersion: '1.10.15', remoteExecution: true }, 'airflowVersion'],
  ])('%j', (selection, field) => {
    for (const run of [
      () => componentMode(selection),
      () => selectComponents(selection),
      () => desiredGrant({ namespace: NS, selection }),
    ]) {
      const error = thrown(run);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ field });
      expect((error as Error).message).toMatch(
        new RegExp(`^${field}: .*Astro does not run Airflow 1; this tool has no service-account set for it`),
      );
    }
  });

  it('keeps the Airflow 3 default when the version is absent', () => {
    expect(selectComponents({})).toEqual(DEFAULT_COMPONENT_TABLE.sets.airflow3);
    expect(selectComponents({ airflowVersion: undefined, astroRuntimeVersion: undefined })).toEqual(
      DEFAULT_COMPONENT_TABLE.sets.airflow3,
    );
  });
});

describe('assertAirflowVersion / assertRuntimeVersion (strict, for the CLI)', () => {
  it.each([
    ['2', 2],
    ['3', 3],
    ['v2', 2],
    ['2.10', 2],
    ['2.10.3', 2],
    ['3.0.2', 3],
  ] as const)('airflow %j -> %s', (value, major) => {
    expect(assertAirflowVersion(value, '--airflow-version')).toBe(major);
  });

  it.each([
    ['12', 2],
    ['12.1.0', 2],
    ['9.15.0', 2],
    ['3.0-1', 3],
    ['3.1-2', 3],
  ] as const)('runtime %j -> %s', (value, major) => {
    expect(assertRuntimeVersion(value, '--runtime-version')).toBe(major);
  });

  it.each([
    ['latest', '--airflow-version: "latest" is not an Airflow version; use e.g. 2.10.3 or 3'],
    ['', '--airflow-version: "" is not an Airflow version; use e.g. 2.10.3 or 3'],
    ['1.10.15', /^--airflow-version: .*Astro does not run Airflow 1; this tool has no service-account set for it/],
    ['4.0.0', /^--airflow-version: .*Airflow 4.*no service-account set/],
  ])('refuses airflow %j', (value, message) => {
    const error = thrown(() => assertAirflowVersion(value, '--airflow-version'));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field: '--airflow-version' });
    if (typeof message === 'string') expect((error as Error).message).toBe(message);
    else expect((error as Error).message).toMatch(message);
  });

  it.each([
    ['latest', /^--runtime-version: "latest" is not an Astro Runtime version; use e.g. 12.1.0 or 3.0-1/],
    ['1.10.15', /^--runtime-version: .*Astro does not run Airflow 1; this tool has no service-account set for it/],
    ['14.0.0', /^--runtime-version: "14.0.0" .*Runtime 4-13/],
    ['2.1.1', /^--runtime-version: "2.1.1" .*Runtime 4-13/],
  ])('refuses runtime %j', (value, message) => {
    const error = thrown(() => assertRuntimeVersion(value, '--runtime-version'));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field: '--runtime-version' });
    expect((error as Error).message).toMatch(message);
  });
});

describe('componentMode and selectComponents defaults', () => {
  const AIRFLOW2 = ['dag-processor', 'kpo', 'scheduler', 'triggerer', 'webserver', 'worker'];
  const AIRFLOW3 = ['apiserver', 'dag-processor', 'kpo', 'scheduler', 'triggerer', 'worker'];

  it.each([
    ['Airflow 2', { airflowVersion: '2.10.3' }, 'airflow2', AIRFLOW2],
    ['Runtime 9 (Airflow 2)', { astroRuntimeVersion: '9.15.0' }, 'airflow2', AIRFLOW2],
    ['Runtime 13 (Airflow 2)', { astroRuntimeVersion: '13.1.0' }, 'airflow2', AIRFLOW2],
    ['Airflow 3', { airflowVersion: '3.0.2' }, 'airflow3', AIRFLOW3],
    ['Runtime 3.0-1 (Airflow 3)', { astroRuntimeVersion: '3.0-1' }, 'airflow3', AIRFLOW3],
    ['unknown version', {}, 'airflow3', AIRFLOW3],
    [
      'Remote Execution, Airflow 3',
      { airflowVersion: '3.0.2', remoteExecution: true },
      'remoteExecution',
      ['apiserver', 'scheduler'],
    ],
    ['Remote Execution, unknown version', { remoteExecution: true }, 'remoteExecution', ['apiserver', 'scheduler']],
    ['Remote Execution flag on Airflow 2', { airflowVersion: '2.10.3', remoteExecution: true }, 'airflow2', AIRFLOW2],
    ['Remote Execution disabled', { airflowVersion: '3.0.2', remoteExecution: false }, 'airflow3', AIRFLOW3],
  ] as const)('%s', (_label, selection, mode, components) => {
    expect(componentMode(selection)).toBe(mode);
    expect(selectComponents(selection)).toEqual(components);
  });

  it('uses an explicit list over the defaults, deduplicated and sorted', () => {
    expect(selectComponents({ airflowVersion: '2.10.3', components: ['worker', 'kpo', 'worker'] })).toEqual([
      'kpo',
      'worker',
    ]);
  });

  it.each([
    ['unknown', ['scheduler', 'flower'], 'flower'],
    ['uppercase', ['Scheduler'], 'Scheduler'],
    ['prototype key', ['constructor'], 'constructor'],
  ])('rejects an %s component naming it', (_label, components, bad) => {
    const error = thrown(() => selectComponents({ components }));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain(`unknown component "${bad}"`);
  });

  it('rejects an empty explicit list', () => {
    expect(() => selectComponents({ components: [] })).toThrow(/at least one component/);
  });

  it("names the caller's field for an unknown component", () => {
    const error = thrown(() => assertKnownComponents(['flower'], DEFAULT_COMPONENT_TABLE, '--components'));
    expect(error).toMatchObject({ field: '--components' });
    expect((error as Error).message).toMatch(/^--components: unknown component "flower"; known components: /);
    expect(() => assertKnownComponents(['kpo', 'worker'], DEFAULT_COMPONENT_TABLE)).not.toThrow();
  });
});

describe('componentTableFrom (config overrides)', () => {
  const config = parseConfig(`
components:
  serviceAccounts:
    apiserver: '{namespace}-api-server-sa'
    flower: '{namespace}-flower'
  airflow3: [apiserver, flower, scheduler]
`);
  const table = componentTableFrom(config);

  it('overrides a default name and adds a new component', () => {
    expect(serviceAccountFor(table, 'apiserver', NS)).toBe(`${NS}-api-server-sa`);
    expect(serviceAccountFor(table, 'flower', NS)).toBe(`${NS}-flower`);
    expect(serviceAccountFor(table, 'kpo', NS)).toBe(`${NS}-kpo`);
  });

  it('replaces only the configured default sets', () => {
    expect(selectComponents({ airflowVersion: '3.0.2' }, table)).toEqual(['apiserver', 'flower', 'scheduler']);
    expect(selectComponents({ airflowVersion: '2.10.3' }, table)).toEqual(DEFAULT_COMPONENT_TABLE.sets.airflow2);
    expect(selectComponents({ remoteExecution: true }, table)).toEqual(['apiserver', 'scheduler']);
  });

  it('keeps the built-in table when the config has no overrides', () => {
    const plain = componentTableFrom(parseConfig('{}'));
    expect(plain.serviceAccounts).toEqual(DEFAULT_COMPONENT_TABLE.serviceAccounts);
    expect(plain.sets).toEqual(DEFAULT_COMPONENT_TABLE.sets);
  });
});
