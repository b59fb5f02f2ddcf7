import { describe, expect, it } from 'vitest';
import { parseJsonConfig, SECRET_REF } from '../../shared/config.ts';
import { parseConfig } from '../../shared/config-text.ts';
import { ValidationError } from '../../shared/errors.ts';
import { thrown } from '../support/fixtures.ts';

const ROLE = 'arn:aws:iam::123456789012:role/astro';
const GSA = 'astro-sync@customer-project.iam.gserviceaccount.com';

function configError(text: string): ValidationError {
  const error = thrown(() => parseConfig(text));
  expect(error).toBeInstanceOf(ValidationError);
  expect(error).toMatchObject({ code: 'invalid_config' });
  return error as ValidationError;
}

describe('parseConfig: documents and defaults', () => {
  const DEFAULTS = {
    components: { serviceAccounts: {} },
    prune: false,
    pruneGraceMinutes: 0,
    poll: { intervalMinutes: 5, lookbackMinutes: 15 },
    capacity: { warnAtPercent: 80 },
    wildcard: { enabled: false },
    aws: {
      allowedRoles: [],
      trustPolicyMaxSize: 2048,
      useLiveQuota: false,
      useEffectiveWorkloadIdentity: true,
      settleMs: 0,
      allowedWorkloadIdentityPrincipals: [],
      allowSelfTrust: false,
      createOidcProviders: false,
    },
    gcp: {
      allowedServiceAccounts: [],
      pools: { byClusterId: {}, byIssuer: {} },
      memberFormat: 'service-account',
      useEffectiveWorkloadIdentity: true,
      allowedWorkloadIdentityPrincipals: [],
      allowSelfTrust: false,
      allowedProjects: [],
      allowedProjectRoles: [],
      policyWritesPerMinute: 500,
    },
    azure: { allowedIdentities: [], maxCredentials: 20, useEffectiveWorkloadIdentity: true },
    targets: [],
    slack: { mode: 'off' },
  };

  it.each([
    ['an empty document', ''],
    ['an empty JSON object', '{}'],
    ['a YAML comment', '# nothing configured\n'],
  ])('fills every default for %s, allowing nothing', (_label, text) => {
    expect(parseConfig(text)).toEqual(DEFAULTS);
  });

  it('reads the same config from JSON and YAML', () => {
    const json = parseConfig(
      JSON.stringify({
        webhook: { secrets: ['env:WEBHOOK_SECRET'] },
        aws: { allowedRoles: ['arn:aws:iam::123456789012:role/astro-*'] },
        targets: [
          { name: 'prod', match: { workspaceIds: ['ws1'] }, aws: { roleArn: ROLE }, components: ['scheduler'] },
        ],
      }),
    );
    const yaml = parseConfig(`
webhook:
  secrets: [env:WEBHOOK_SECRET]
aws:
  allowedRoles: ['arn:aws:iam::123456789012:role/astro-*']
targets:
  - name: prod
    match: { workspaceIds: [ws1] }
    aws: { roleArn: '${ROLE}' }
    components: [scheduler]
`);
    expect(yaml).toEqual(json);
    expect(json.webhook).toEqual({ secrets: ['env:WEBHOOK_SECRET'], maxBodyBytes: 262_144 });
    expect(json.aws.allowedRoles).toEqual(['arn:aws:iam::123456789012:role/astro-*']);
    expect(json.targets[0]).toEqual({
      name: 'prod',
      match: { workspaceIds: ['ws1'] },
      aws: { roleArn: ROLE, trust: 'irsa' },
      components: ['scheduler'],
      dr: 'both',
    });
  });

  it.each([
    ['no match', `targets: [{ gcp: { serviceAccount: ${GSA} } }]`, 'targets.0.match: every rule needs "match"'],
    ['an empty match', `targets: [{ match: {}, gcp: { serviceAccount: ${GSA} } }]`, 'an empty match would grant every'],
    [
      'all with a narrowing key',
      `targets: [{ match: { all: true, names: [etl-*] }, gcp: { serviceAccount: ${GSA} } }]`,
      '"all: true" matches every Deployment; drop it or drop names',
    ],
    ['all: false', `targets: [{ match: { all: false }, gcp: { serviceAccount: ${GSA} } }]`, 'targets.0.match.all:'],
  ])('refuses a rule with %s: "every Deployment" must be said', (_what, text, message) => {
    expect(configError(text).message).toContain(message);
  });

  it('takes match: { all: true } for every Deployment, and defaults slack notify to changes-and-failures', () => {
    const config = parseConfig(`
targets: [{ match: { all: true }, gcp: { serviceAccount: ${GSA} } }]
slack: { mode: web-api, token: 'aws-sm:slack-token', channel: '#astro' }
`);
    expect(config.targets[0]?.match).toEqual({ all: true });
    expect(config.slack).toEqual({
      mode: 'web-api',
      token: 'aws-sm:slack-token',
      channel: '#astro',
      notify: 'changes-and-failures',
    });
  });

  it('rejects duplicate keys and unparsable text', () => {
    expect(configError('a: 1\na: 2').message).toMatch(/not valid JSON or YAML/);
    expect(configError('{"aws": ').message).toMatch(/not valid JSON or YAML/);
  });

  it.each([
    ['at the top', '{"prune": true, "prune": false}', 'prune'],
    ['nested', '{"aws": {"allowedRoles": [], "allowedRoles": ["arn:aws:iam::123456789012:role/*"]}}', 'allowedRoles'],
    ['inside an array', '{"targets": [{"name": "a", "name": "b", "aws": {"roleArn": "x"}}]}', 'name'],
    ['spelled with an escape', '{"prune": true, "pr\\u0075ne": false}', 'prune'],
  ])('refuses a JSON key that appears twice %s (JSON.parse would keep the last)', (_where, text, key) => {
    expect(configError(text).message).toBe(
      `the config is not valid JSON or YAML: the key "${key}" appears twice in one object`,
    );
  });

  it('reads a JSON config without the YAML parser, keys repeated only across objects or as values', () => {
    const text = JSON.stringify({
      aws: { allowedRoles: ['arn:aws:iam::123456789012:role/astro-*'] },
      targets: [
        { name: 'aws', match: { all: true }, aws: { roleArn: 'arn:aws:iam::123456789012:role/astro-a' } },
        { name: 'prune', match: { all: true }, aws: { roleArn: 'arn:aws:iam::123456789012:role/astro-b' } },
      ],
    });
    expect(parseJsonConfig(text)?.targets.map((t) => t.name)).toEqual(['aws', 'prune']);
    expect(parseJsonConfig('aws: {}')).toBeUndefined();
  });
});

describe('parseConfig: rejected documents name the path', () => {
  it.each([
    ['unknown top-level key', 'allowedRoles: []', '(document): Unrecognized key: "allowedRoles"'],
    ['unknown nested key', 'aws: { allowedRole: [] }', 'aws: Unrecognized key: "allowedRole"'],
    [
      'unknown key in a target',
      `targets: [{ aws: { roleArn: '${ROLE}', region: x } }]`,
      'targets.0.aws: Unrecognized key: "region"',
    ],
    ['unknown key next to a secret', "manual: { token: 'env:T', value: 'x' }", 'manual: Unrecognized key: "value"'],
    [
      'unknown match key',
      `targets: [{ match: { namespace: [x] }, aws: { roleArn: '${ROLE}' } }]`,
      'targets.0.match: Unrecognized key',
    ],
    [
      'rule with no cloud',
      'targets: [{ name: none, match: { all: true } }]',
      'targets.0: name exactly one of "aws", "gcp" or "azure"',
    ],
    [
      'rule with two clouds',
      `targets: [{ match: { all: true }, aws: { roleArn: '${ROLE}' }, gcp: { serviceAccount: ${GSA} } }]`,
      'targets.0: name exactly one of',
    ],
    [
      'short account',
      "targets: [{ aws: { roleArn: 'arn:aws:iam::123:role/x' } }]",
      'targets.0.aws.roleArn: "arn:aws:iam::123:role/x" is not an IAM role ARN',
    ],
    [
      'bad pool',
      'gcp: { pools: { default: example.com } }',
      'gcp.pools.default: "example.com" is not a GKE workload identity pool',
    ],
    ['bad pool by cluster', 'gcp: { pools: { byClusterId: { c1: x } } }', 'gcp.pools.byClusterId.c1:'],
    [
      'principal without project number',
      'gcp: { memberFormat: principal }',
      'gcp.projectNumber: memberFormat "principal" needs projectNumber',
    ],
    ['bad project number', "gcp: { memberFormat: principal, projectNumber: 'my-proj' }", 'gcp.projectNumber:'],
    [
      'unknown component in a default set',
      'components: { airflow3: [scheduler, flower] }',
      'components.airflow3.1: unknown component "flower"',
    ],
    [
      'unknown component in a rule',
      `targets: [{ match: { all: true }, aws: { roleArn: '${ROLE}' }, components: [kpo, nope] }]`,
      'targets.0.components.1: unknown component "nope"',
    ],
    [
      'upper-case component',
      'components: { remoteExecution: [Scheduler] }',
      'components.remoteExecution.0: must be a lowercase component name',
    ],
    ['empty component list', 'components: { airflow2: [] }', 'components.airflow2:'],
    ['bad template', "components: { serviceAccounts: { scheduler: 'x:y' } }", 'components.serviceAccounts.scheduler:'],
    ['wildcard as a string', 'wildcard: { enabled: "yes" }', 'wildcard.enabled:'],
    ['quota below 512', 'aws: { trustPolicyMaxSize: 100 }', 'aws.trustPolicyMaxSize:'],
    ['more than 20 Azure credentials', 'azure: { maxCredentials: 21 }', 'azure.maxCredentials:'],
    ['body limit above 256 KiB', 'webhook: { secrets: [env:S], maxBodyBytes: 300000 }', 'webhook.maxBodyBytes:'],
    ['bad slack mode', 'slack: { mode: email }', 'slack.mode:'],
    ['a top-level list', '[1, 2]', '(document):'],
  ])('%s', (_label, text, expected) => {
    expect(configError(text).message).toContain(expected);
  });

  it('names the field of the first problem', () => {
    expect(configError('gcp: { pools: { default: x } }').field).toBe('gcp.pools.default');
  });
});

describe('secret references', () => {
  it.each([
    'env:WEBHOOK_SECRET',
    'env:_x1',
    'aws-sm:astro/webhook',
    'aws-sm:arn:aws:secretsmanager:us-east-1:123456789012:secret:x',
    'aws-ssm:/astro/webhook',
    'gcp-sm:projects/acme-data/secrets/webhook',
    'gcp-sm:projects/acme-data/secrets/webhook/versions/latest',
    'gcp-sm:projects/acme-data/secrets/web_hook-2/versions/12',
    'gcp-sm:projects/123456789012/secrets/webhook/versions/1',
    'azure-kv:https://vault.vault.azure.net/secrets/webhook',
    'azure-kv:https://acme-kv-01.vault.azure.net/secrets/webhook-secret/',
    'azure-kv:https://acme-kv.vault.azure.net/secrets/webhook/4387e9f3d6e14c459867679a90fd0f79',
    'azure-kv:https://AcmeKv.vault.azure.cn/secrets/webhook',
    'azure-kv:https://acme-kv.vault.usgovcloudapi.net/secrets/webhook',
  ])('accepts %s', (ref) => {
    expect(SECRET_REF.test(ref)).toBe(true);
    expect(parseConfig(`webhook: { secrets: ['${ref}'] }\nmanual: { token: '${ref}' }`).manual?.token).toBe(ref);
  });

  it.each([
    ['a literal whsec secret', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    ['a literal token', 'xoxb-1234-abcd'],
    ['env with a bad name', 'env:1ABC'],
    ['env with spaces', 'env:A B'],
    ['an empty reference', 'aws-sm:'],
    ['an unknown scheme', 'vault:secret/data/x'],
  ])('rejects %s', (_label, value) => {
    expect(configError(`webhook: { secrets: ['${value}'] }`).message).toMatch(
      /^webhook\.secrets\.0: must be a secret reference/,
    );
    expect(configError(`slack: { mode: webhook, webhookUrl: '${value}' }`).message).toMatch(/^slack\.webhookUrl: /);
  });

  it.each([
    ['no secret part', 'gcp-sm:projects/acme-data'],
    ['a secret without projects/', 'gcp-sm:acme-data/secrets/webhook'],
    ['a project id too short', 'gcp-sm:projects/acme/secrets/webhook'],
    ['an uppercase project id', 'gcp-sm:projects/Acme-Data/secrets/webhook'],
    ['a project id ending in a hyphen', 'gcp-sm:projects/acme-data-/secrets/webhook'],
    ['a dot in the secret id', 'gcp-sm:projects/acme-data/secrets/web.hook'],
    ['version 0', 'gcp-sm:projects/acme-data/secrets/webhook/versions/0'],
    ['a version alias', 'gcp-sm:projects/acme-data/secrets/webhook/versions/prod'],
    ['versions without a version', 'gcp-sm:projects/acme-data/secrets/webhook/versions/'],
    ['a regional secret', 'gcp-sm:projects/acme-data/locations/us-east1/secrets/webhook'],
    ['a trailing part', 'gcp-sm:projects/acme-data/secrets/webhook/versions/1:access'],
  ])('rejects a gcp-sm: reference with %s, naming the expected form', (_label, value) => {
    expect(SECRET_REF.test(value)).toBe(false);
    expect(configError(`webhook: { secrets: ['${value}'] }`).message).toMatch(
      /^webhook\.secrets\.0: must be gcp-sm:projects\/<project id or number>\/secrets\/<secret id>, optionally followed by \/versions\/latest or \/versions\/<n>/,
    );
  });

  it.each([
    ['an http vault', 'azure-kv:http://vault/secrets/x'],
    ['a host outside Key Vault', 'azure-kv:https://acme-kv.example.com/secrets/webhook'],
    ['a vault name too short', 'azure-kv:https://kv.vault.azure.net/secrets/webhook'],
    ['a vault name too long', `azure-kv:https://${'a'.repeat(25)}.vault.azure.net/secrets/webhook`],
    ['a vault name with two hyphens in a row', 'azure-kv:https://acme--kv.vault.azure.net/secrets/webhook'],
    ['a vault name starting with a digit', 'azure-kv:https://1acme.vault.azure.net/secrets/webhook'],
    ['a vault name ending in a hyphen', 'azure-kv:https://acme-.vault.azure.net/secrets/webhook'],
    ['a key instead of a secret', 'azure-kv:https://acme-kv.vault.azure.net/keys/webhook'],
    ['an underscore in the name', 'azure-kv:https://acme-kv.vault.azure.net/secrets/web_hook'],
    ['a version that is not 32 hex digits', 'azure-kv:https://acme-kv.vault.azure.net/secrets/webhook/latest'],
    ['a port', 'azure-kv:https://acme-kv.vault.azure.net:443/secrets/webhook'],
    ['a query', 'azure-kv:https://acme-kv.vault.azure.net/secrets/webhook?api-version=7.4'],
  ])('rejects an azure-kv: reference with %s, naming the expected form', (_label, value) => {
    expect(SECRET_REF.test(value)).toBe(false);
    expect(configError(`manual: { token: '${value}' }`).message).toMatch(
      /^manual\.token: must be azure-kv:https:\/\/<vault>\.vault\.azure\.net\/secrets\/<name>, optionally followed by \/<version>/,
    );
  });

  it('accepts vault names of exactly 3 and 24 characters', () => {
    expect(SECRET_REF.test('azure-kv:https://kv1.vault.azure.net/secrets/x')).toBe(true);
    expect(SECRET_REF.test(`azure-kv:https://${'a'.repeat(24)}.vault.azure.net/secrets/x`)).toBe(true);
  });

  it('never echoes a rejected literal secret', () => {
    expect(configError("webhook: { secrets: ['whsec_TOPSECRETVALUE'] }").message).not.toContain('TOPSECRETVALUE');
    expect(configError("manual: { token: 'gcp-sm:TOPSECRETVALUE' }").message).not.toContain('TOPSECRETVALUE');
    expect(configError("manual: { token: 'azure-kv:TOPSECRETVALUE' }").message).not.toContain('TOPSECRETVALUE');
  });

  it('requires at least one webhook secret', () => {
    expect(configError('webhook: { secrets: [] }').message).toContain('webhook.secrets:');
    expect(configError('webhook: {}').message).toContain('webhook.secrets:');
  });
});

describe('config syntax errors never echo the text', () => {
  it.each([
    'slack:\n  token: xoxb-SECRET-123\n  channel: "#a\n',
    '{"slack": {"token": "xoxb-SECRET-456", }',
    'a: b\n c: xoxb-SECRET-789: d',
  ])('%j: says where, not what was written', (text) => {
    let message = '';
    try {
      parseConfig(text);
    } catch (error) {
      message = String((error as Error).message) + JSON.stringify(error) + String((error as Error).cause ?? '');
    }
    expect(message).toMatch(/not valid JSON or YAML: .* at line \d+, column \d+/);
    expect(message).not.toContain('SECRET');
  });
});

describe('prune fails closed', () => {
  it('is refused without the astro section, and accepted with it', () => {
    expect(() => parseConfig('prune: true')).toThrow(/prune: prune needs the "astro" section/);
    expect(parseConfig('prune: true\nastro: { token: "env:T", organizationId: clorg0000000000000000000 }').prune).toBe(
      true,
    );
  });
});

describe('the poll look-back fails closed', () => {
  it.each([
    ['poll: { lookbackMinutes: 9 }', false],
    ['poll: { lookbackMinutes: 10 }', true],
    ['poll: { intervalMinutes: 15, lookbackMinutes: 20 }', false],
    ['poll: { intervalMinutes: 15, lookbackMinutes: 30 }', true],
    ['poll: { intervalMinutes: 1, lookbackMinutes: 2 }', true],
  ])('%s accepted: %s (at least twice the schedule)', (text, accepted) => {
    if (accepted) {
      expect(() => parseConfig(text)).not.toThrow();
      return;
    }
    expect(configError(text).message).toMatch(
      /poll\.lookbackMinutes: lookbackMinutes must be at least twice intervalMinutes/,
    );
  });
});

describe('parseConfig: the scale of a sweep', () => {
  const astro = 'astro: { token: "env:ASTRO_API_TOKEN", organizationId: clorg0000000000000000000';

  it('asks the Astro API for 1000 Deployments a page at 20 requests a second, and writes GCP policies at 500 a minute', () => {
    const config = parseConfig(`${astro} }`);
    expect(config.astro).toMatchObject({ pageSize: 1000, requestsPerSecond: 20 });
    expect(config.gcp.policyWritesPerMinute).toBe(500);
  });

  it.each([
    [`${astro}, pageSize: 1001 }`, /astro\.pageSize/],
    [`${astro}, pageSize: 0 }`, /astro\.pageSize/],
    [`${astro}, requestsPerSecond: 26 }`, /astro\.requestsPerSecond/],
    ['gcp: { policyWritesPerMinute: 0 }', /gcp\.policyWritesPerMinute/],
  ])('refuses %s', (text, field) => {
    expect(configError(text).message).toMatch(field);
  });
});

describe('parseConfig: the software section (Astronomer Software)', () => {
  const base =
    'software:\n  baseDomain: astro.acme.example\n  clusters: { default: { oidcIssuerUrl: "https://oidc.eks.us-east-1.amazonaws.com/id/A" } }\n';

  it('fills the chart defaults', () => {
    expect(parseConfig(base).software).toEqual({
      baseDomain: 'astro.acme.example',
      platformNamespace: 'astronomer',
      namespaceTemplate: '{platformNamespace}-{release}',
      clusters: { default: { oidcIssuerUrl: 'https://oidc.eks.us-east-1.amazonaws.com/id/A' } },
      components: { serviceAccounts: {} },
    });
  });

  it.each([
    [
      'software:\n  baseDomain: https://astro.acme.example\n  clusters: { default: { pool: p.svc.id.goog } }',
      'software.baseDomain',
    ],
    ['software:\n  baseDomain: astro.acme.example\n  clusters: {}', 'list each Software cluster'],
    ['software:\n  baseDomain: astro.acme.example\n  clusters: { default: {} }', 'needs its oidcIssuerUrl'],
    [`${base}  namespaceTemplate: "{release}_ns"`, 'software.namespaceTemplate'],
    [`${base}  token: plain-token-text`, 'software.token: must be a secret reference'],
  ])('refuses %j', (text, message) => {
    expect(configError(text).message).toContain(message);
  });

  it('lets prune rest on Houston when only Software is configured', () => {
    expect(parseConfig(`prune: true\n${base}  token: env:HOUSTON_TOKEN\n`).prune).toBe(true);
    expect(() => parseConfig(`prune: true\n${base}`)).toThrow(/prune needs the "astro" section \(or software\.token\)/);
  });
});
