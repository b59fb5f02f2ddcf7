import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors.ts';
import { deploymentEventSchema, deploymentSchema } from '../../shared/intake/deployment.ts';
import { parseWith } from '../../shared/zod-error.ts';
import { NAMESPACE, rawDeployment, thrown } from '../support/fixtures.ts';

const IDS = { organizationId: 'clx0organization0001', deploymentId: 'clx0deployment000001' };

function event(overrides: Record<string, unknown> = {}, deployment: Record<string, unknown> = rawDeployment()) {
  return { type: 'deployment.created', timestamp: '2025-06-01T12:00:00Z', data: { ...IDS, deployment }, ...overrides };
}

function issuesOf(
  value: unknown,
  schema: typeof deploymentEventSchema | typeof deploymentSchema = deploymentEventSchema,
) {
  const result = schema.safeParse(value);
  if (result.success) throw new Error('expected a schema failure');
  return result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('deploymentSchema', () => {
  it('keeps the fields it reads and drops unknown ones', () => {
    const parsed = deploymentSchema.parse(
      rawDeployment({ futureField: { nested: true }, remoteExecution: { enabled: true, allowedIpAddressRanges: [] } }),
    );
    expect(parsed).not.toHaveProperty('futureField');
    expect(parsed.remoteExecution).toEqual({ enabled: true });
    expect(parsed).toMatchObject({
      id: 'clx0deployment000001',
      namespace: NAMESPACE,
      cloudProvider: 'AWS',
      type: 'DEDICATED',
    });
  });

  it.each([
    'workspaceId',
    'workspaceName',
    'clusterId',
    'cloudProvider',
    'type',
    'airflowVersion',
    'astroRuntimeVersion',
    'remoteExecution',
    'oidcIssuerUrl',
    'effectiveWorkloadIdentity',
  ])('reads null %s as absent', (field) => {
    const parsed = deploymentSchema.parse(rawDeployment({ [field]: null }));
    expect(parsed[field as keyof typeof parsed]).toBeUndefined();
  });

  it.each(['*', 'a:b', '../x', 'Prod', 'n\u0430mespace', '', 'a'.repeat(64)])('rejects namespace %j', (namespace) => {
    const issues = issuesOf(rawDeployment({ namespace }), deploymentSchema);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^namespace: .*is not a Kubernetes namespace/);
  });

  it.each([
    ['id', { id: '' }],
    ['id', { id: 'x'.repeat(65) }],
    ['name', { name: undefined }],
    ['organizationId', { organizationId: 42 }],
    ['cloudProvider', { cloudProvider: 'aws' }],
    ['type', { type: 'SHARED' }],
    ['remoteExecution.enabled', { remoteExecution: { enabled: 'yes' } }],
    ['namespace', { namespace: null }],
  ])('names %s when it is invalid', (path, overrides) => {
    expect(issuesOf(rawDeployment(overrides), deploymentSchema).map((issue) => issue.split(':')[0])).toEqual([path]);
  });
});

describe('deploymentEventSchema', () => {
  it.each(['deployment.created', 'deployment.updated', 'deployment.deleted'])('accepts type %s', (type) => {
    const parsed = deploymentEventSchema.parse(event({ type, extra: 1 }));
    expect(parsed.type).toBe(type);
    expect(parsed).not.toHaveProperty('extra');
    expect(parsed.data.deployment?.namespace).toBe(NAMESPACE);
  });

  it('accepts an event without the Deployment', () => {
    const parsed = deploymentEventSchema.parse(event({ data: IDS }));
    expect(parsed.data).toEqual(IDS);
    expect(parsed.data.deployment).toBeUndefined();
  });

  it.each(['2025-06-01T12:00:00Z', '2025-06-01T12:00:00.123Z', '2025-06-01T14:00:00+02:00'])(
    'accepts timestamp %s',
    (timestamp) => {
      expect(deploymentEventSchema.parse(event({ timestamp })).timestamp).toBe(timestamp);
    },
  );

  it.each(['2025-06-01', 'yesterday', '2025-13-01T00:00:00Z', 1748779200, ''])('rejects timestamp %j', (timestamp) => {
    expect(issuesOf(event({ timestamp }))[0]).toMatch(/^timestamp: /);
  });

  it.each(['deployment.paused', 'DEPLOYMENT.CREATED', undefined])('rejects type %j', (type) => {
    expect(issuesOf(event({ type }))[0]).toMatch(/^type: /);
  });

  it('requires the Deployment id to equal data.deploymentId', () => {
    expect(issuesOf(event({}, rawDeployment({ id: 'clx0other0000000001' })))).toEqual([
      'data.deployment.id: must equal data.deploymentId',
    ]);
  });

  it('requires the Deployment organization to equal data.organizationId', () => {
    expect(issuesOf(event({}, rawDeployment({ organizationId: 'clx0otherorg00000001' })))).toEqual([
      'data.deployment.organizationId: must equal data.organizationId',
    ]);
  });

  it('reports a bad nested namespace by its full path', () => {
    expect(issuesOf(event({}, rawDeployment({ namespace: 'a:b' })))[0]).toMatch(/^data\.deployment\.namespace: /);
  });

  it('parseWith turns the failure into a ValidationError naming the field', () => {
    const error = thrown(() => parseWith(deploymentEventSchema, event({}, rawDeployment({ namespace: '*' }))));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field: 'data.deployment.namespace', code: 'invalid_input' });
    expect((error as Error).message).toMatch(/^data\.deployment\.namespace: "\*" is not a Kubernetes namespace/);
  });
});
