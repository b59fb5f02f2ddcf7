import fc from 'fast-check';
import type { JsonObject } from '../../shared/plan/aws/policy-document.ts';
import { WORKLOAD_IDENTITY_USER } from '../../shared/plan/gcp/policy-planner.ts';
import { type DesiredGrant, desiredGrant } from '../../shared/plan/subjects.ts';
import { ISSUER_HOST_PATH, POOL, PROVIDER_ARN } from './fixtures.ts';

/** fast-check generators for the property tests: hostile-ish existing documents and in-rule grants. */

export const COMPONENTS = ['apiserver', 'dag-processor', 'kpo', 'scheduler', 'triggerer', 'webserver', 'worker'];

const namespaceArb = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);

/** Strings over an alphabet of characters that try to break out of a namespace, plus some valid ones. */
export const hostileNamespaceArb = fc.oneof(
  fc.string({
    unit: fc.constantFrom(
      'a',
      'z',
      '0',
      '9',
      '-',
      '*',
      ':',
      '/',
      '.',
      '?',
      '[',
      ']',
      'A',
      '\u0430',
      ' ',
      '\n',
      '_',
      '%',
    ),
    maxLength: 70,
  }),
  namespaceArb.map((ns) => `${ns}:*`),
  namespaceArb,
  fc.constantFrom('*', '*:*', '..', 'kube-system', 'a'.repeat(63), 'a'.repeat(64)),
);

export const grantArb: fc.Arbitrary<DesiredGrant> = fc
  .record({
    namespace: namespaceArb,
    components: fc.subarray(COMPONENTS, { minLength: 1 }),
    wildcard: fc.boolean(),
  })
  .map(({ namespace, components, wildcard }) =>
    desiredGrant({
      namespace,
      selection: { components },
      wildcard: { requested: wildcard, clusterType: 'DEDICATED', strict: true },
    }),
  );

const sidArb = fc.option(fc.stringMatching(/^[A-Za-z0-9]{1,16}$/), { nil: undefined });
const otherNamespaceSubjectArb = fc
  .tuple(namespaceArb, fc.stringMatching(/^[a-z0-9]{1,10}$/))
  .map(([ns, sa]) => `system:serviceaccount:${ns}:${sa}`);
const stringOrListArb = fc.oneof(
  otherNamespaceSubjectArb,
  fc.array(fc.oneof(otherNamespaceSubjectArb, fc.constant('system:serviceaccount:*:*')), {
    minLength: 1,
    maxLength: 4,
  }),
);
const withSid = (sid: string | undefined, statement: JsonObject): JsonObject =>
  sid === undefined ? statement : { Sid: sid, ...statement };

const serviceStatementArb = fc
  .tuple(sidArb, fc.constantFrom('ec2.amazonaws.com', 'lambda.amazonaws.com'), fc.constantFrom('Allow', 'Deny'))
  .map(([sid, service, effect]) =>
    withSid(sid, { Effect: effect, Principal: { Service: service }, Action: 'sts:AssumeRole' }),
  );

const federatedStatementArb = fc
  .record({
    sid: sidArb,
    effect: fc.constantFrom('Allow', 'Deny'),
    sameIssuer: fc.boolean(),
    operator: fc.constantFrom('StringEquals', 'StringLike', 'ForAnyValue:StringLike'),
    sub: stringOrListArb,
    aud: fc.option(fc.constantFrom('sts.amazonaws.com', 'other-audience'), { nil: undefined }),
  })
  .map(({ sid, effect, sameIssuer, operator, sub, aud }) => {
    const host = sameIssuer ? ISSUER_HOST_PATH : 'oidc.eks.eu-central-1.amazonaws.com/id/OTHERISSUER';
    const condition: JsonObject = { [operator]: { [`${host}:sub`]: sub } };
    if (aud !== undefined) condition.StringEquals = { ...(condition.StringEquals as JsonObject), [`${host}:aud`]: aud };
    return withSid(sid, {
      Effect: effect,
      Principal: { Federated: sameIssuer ? PROVIDER_ARN : `arn:aws:iam::123456789012:oidc-provider/${host}` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: condition,
    });
  });

export const trustPolicyArb = fc
  .record({
    statements: fc.array(fc.oneof(serviceStatementArb, federatedStatementArb), { maxLength: 6 }),
    single: fc.boolean(),
    version: fc.boolean(),
    earlier: fc.array(grantArb, { maxLength: 3 }),
  })
  .map(({ statements, single, version, earlier }) => {
    const first = statements[0];
    const policy: JsonObject = {
      ...(version ? { Version: '2012-10-17' } : {}),
      Statement: single && statements.length === 1 && first !== undefined ? first : statements,
    };
    return { policy, earlier };
  });

const memberArb = fc.oneof(
  fc.stringMatching(/^[a-z]{1,8}$/).map((u) => `user:${u}@example.com`),
  fc
    .tuple(namespaceArb, fc.stringMatching(/^[a-z0-9-]{1,12}$/))
    .map(([ns, sa]) => `serviceAccount:${POOL}[${ns}/${sa}]`),
  fc.constant('group:ops@example.com'),
);

const bindingArb = fc
  .record({
    role: fc.constantFrom(WORKLOAD_IDENTITY_USER, 'roles/viewer', 'roles/iam.serviceAccountTokenCreator'),
    members: fc.uniqueArray(memberArb, { maxLength: 5 }),
    condition: fc.option(
      fc.record(
        {
          title: fc.stringMatching(/^[a-z ]{1,10}$/),
          expression: fc.constant('request.time < timestamp("2030-01-01T00:00:00Z")'),
          description: fc.string({ maxLength: 12 }),
          location: fc.constant('policy.json:3'),
        },
        { requiredKeys: ['expression'] },
      ),
      { nil: undefined },
    ),
  })
  .map(({ role, members, condition }) => (condition === undefined ? { role, members } : { role, members, condition }));

const auditConfigArb = fc.record(
  {
    service: fc.constantFrom('allServices', 'iam.googleapis.com'),
    auditLogConfigs: fc.array(
      fc.record(
        {
          logType: fc.constantFrom('ADMIN_READ', 'DATA_READ', 'DATA_WRITE'),
          exemptedMembers: fc.uniqueArray(memberArb, { maxLength: 3 }),
        },
        { requiredKeys: ['logType'] },
      ),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: [] },
);

/**
 * Valid Google IAM policies only (the planner refuses any other field); every field Google returns is generated, in
 * any order, so preservation covers auditConfigs, conditions, etag and version.
 */
export const gcpPolicyArb = fc
  .record(
    {
      bindings: fc.array(bindingArb, { maxLength: 5 }),
      etag: fc.base64String({ minLength: 4, maxLength: 16 }),
      version: fc.constantFrom(1, 3),
      auditConfigs: fc.array(auditConfigArb, { maxLength: 2 }),
    },
    { requiredKeys: [] },
  )
  .chain((policy) =>
    fc.shuffledSubarray(Object.keys(policy), { minLength: Object.keys(policy).length }).map((order) => {
      const source: JsonObject = policy;
      return Object.fromEntries(order.map((key) => [key, source[key]]));
    }),
  );

const credentialArb = fc
  .record({
    name: fc.stringMatching(/^cred-[a-z0-9]{1,10}$/),
    issuer: fc.constantFrom(
      'https://token.actions.githubusercontent.com',
      'https://issuer.example.com/',
      'https://issuer.example.com',
    ),
    subject: fc.oneof(otherNamespaceSubjectArb, fc.constant('repo:org/app:ref:refs/heads/main')),
    arm: fc.boolean(),
  })
  .map(({ name, issuer, subject, arm }) => {
    const properties = { issuer, subject, audiences: ['api://AzureADTokenExchange'] };
    return arm ? { name, properties } : { name, ...properties };
  });

export const azureCredentialsArb = fc.record({
  credentials: fc.uniqueArray(credentialArb, { maxLength: 18, size: 'max', selector: (c) => c.name }),
  page: fc.boolean(),
});
