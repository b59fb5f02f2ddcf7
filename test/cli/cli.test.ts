import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBinary, runCli } from '../support/run-cli.ts';

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url).pathname;
const ROLE = 'arn:aws:iam::123456789012:role/astro-data';
const ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/ABC123';
const NS = 'nebular-gravity-1234';
const sa = (name: string) => `system:serviceaccount:${NS}:${NS}-${name}`;
const AIRFLOW2 = [
  'dag-processor-serviceaccount',
  'kpo',
  'scheduler-serviceaccount',
  'triggerer-serviceaccount',
  'webserver-serviceaccount',
  'worker-serviceaccount',
];
const AIRFLOW3 = [
  'apiserver-serviceaccount',
  'dag-processor-serviceaccount',
  'kpo',
  'scheduler-serviceaccount',
  'triggerer-serviceaccount',
  'worker-serviceaccount',
];
const AIRFLOW_1_REFUSED = 'Astro does not run Airflow 1; this tool has no service-account set for it';

const awsArgs = (policy: string, ...extra: string[]) => [
  'plan',
  'aws',
  '--policy',
  policy,
  '--role-arn',
  ROLE,
  '--issuer',
  ISSUER,
  '--namespace',
  NS,
  ...extra,
];

describe('subjects', () => {
  it.each([
    [
      ['--airflow-version', '2.10.3'],
      [
        'dag-processor-serviceaccount',
        'kpo',
        'scheduler-serviceaccount',
        'triggerer-serviceaccount',
        'webserver-serviceaccount',
        'worker-serviceaccount',
      ],
    ],
    [
      [],
      [
        'apiserver-serviceaccount',
        'dag-processor-serviceaccount',
        'kpo',
        'scheduler-serviceaccount',
        'triggerer-serviceaccount',
        'worker-serviceaccount',
      ],
    ],
    [
      ['--runtime-version', '12.4.0'],
      [
        'dag-processor-serviceaccount',
        'kpo',
        'scheduler-serviceaccount',
        'triggerer-serviceaccount',
        'webserver-serviceaccount',
        'worker-serviceaccount',
      ],
    ],
    [
      ['--airflow-version', '3.0.2', '--remote-execution'],
      ['apiserver-serviceaccount', 'scheduler-serviceaccount'],
    ],
    [
      ['--components', 'worker,scheduler'],
      ['scheduler-serviceaccount', 'worker-serviceaccount'],
    ],
  ])('%j prints exactly the sorted subjects', async (flags, accounts) => {
    const run = await runCli(['subjects', '--namespace', NS, ...flags]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(accounts.map((name) => `${sa(name)}\n`).join(''));
  });

  it.each([
    [['--airflow-version', '2'], AIRFLOW2],
    [['--airflow-version', 'v2'], AIRFLOW2],
    [['--airflow-version', '2.10'], AIRFLOW2],
    [['--airflow-version', '3'], AIRFLOW3],
    [['--airflow-version', '3.1'], AIRFLOW3],
    [['--runtime-version', '12'], AIRFLOW2],
    [['--runtime-version', '12.1.0'], AIRFLOW2],
    [['--runtime-version', '3.0-1'], AIRFLOW3],
    [['--airflow-version', '2', '--runtime-version', '12'], AIRFLOW2],
  ])('%j reads a bare major or a partial version', async (flags, accounts) => {
    const run = await runCli(['subjects', '--namespace', NS, ...flags]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(accounts.map((name) => `${sa(name)}\n`).join(''));
  });

  it.each([
    [
      ['--airflow-version', 'latest'],
      'error: --airflow-version: "latest" is not an Airflow version; use e.g. 2.10.3 or 3\n',
    ],
    [['--airflow-version', '1.10.15'], new RegExp(`^error: --airflow-version: .*${AIRFLOW_1_REFUSED}`)],
    [['--airflow-version', '1'], new RegExp(`^error: --airflow-version: .*${AIRFLOW_1_REFUSED}`)],
    [['--airflow-version', '4.0.0'], /^error: --airflow-version: .*Airflow 4/],
    [['--runtime-version', 'latest'], /^error: --runtime-version: "latest" is not an Astro Runtime version/],
    [['--runtime-version', '1.10.15'], new RegExp(`^error: --runtime-version: .*${AIRFLOW_1_REFUSED}`)],
    [['--runtime-version', '14.0.0'], /^error: --runtime-version: "14.0.0"/],
    // A typo is an error even when another flag decides.
    [['--airflow-version', '2.10.3', '--runtime-version', 'latest'], /^error: --runtime-version: "latest"/],
    [['--components', 'scheduler', '--airflow-version', '1.10.15'], /^error: --airflow-version: /],
  ])('refuses the version in %j, naming the flag', async (flags, message) => {
    const run = await runCli(['subjects', '--namespace', NS, ...flags]);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    if (typeof message === 'string') expect(run.stderr).toBe(message);
    else expect(run.stderr).toMatch(message);
  });

  it.each([
    [['--namespace', 'Bad_NS'], /^error: --namespace: "Bad_NS" is not a Kubernetes namespace/],
    [['--namespace', 'a:b'], /^error: --namespace: "a:b" is not a Kubernetes namespace/],
    [['--namespace', NS, '--components', 'scheduler,flower'], /^error: --components: unknown component "flower"/],
    [[], /--namespace/],
  ])('rejects %j with exit 2, a message and no stdout', async (flags, message) => {
    const run = await runCli(['subjects', ...flags]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
  });
});

describe('subjects --platform software (Astronomer Software: the Airflow chart names)', () => {
  const sw = (ns: string, name: string) => `system:serviceaccount:${ns}:${name}`;

  it.each([
    [
      ['--release', 'solar-orbit-4143', '--airflow-version', '2'],
      ['dag-processor', 'scheduler', 'triggerer', 'webserver', 'worker'].map((c) =>
        sw('astronomer-solar-orbit-4143', `solar-orbit-4143-airflow-${c}`),
      ),
    ],
    [
      ['--release', 'airflow-prod', '--namespace', 'team-etl', '--components', 'scheduler,worker'],
      [sw('team-etl', 'airflow-prod-scheduler'), sw('team-etl', 'airflow-prod-worker')],
    ],
    [
      ['--release', 'weightless-meteor-5042'],
      [sw('astronomer-weightless-meteor-5042', 'weightless-meteor-5042-airflow-api-server')],
    ],
  ])('%j prints the chart service accounts', async (args, expected) => {
    const run = await runCli(['subjects', '--platform', 'software', ...args]);
    expect(run.code).toBe(0);
    for (const subject of expected) expect(run.stdout).toContain(`${subject}\n`);
    expect(run.stdout).not.toContain('-kpo');
  });

  it.each([
    [['--platform', 'software'], '--release: Astronomer Software names service accounts after the Helm release'],
    [['--release', 'x', '--namespace', NS], '--release: --release is for --platform software'],
    [['--platform', 'software', '--release', 'Bad_Name'], '--release: "Bad_Name" is not a Helm release name'],
    [[], '--namespace: is required'],
  ])('%j is refused with exit 2 and nothing on stdout', async (args, message) => {
    const run = await runCli(['subjects', ...args]);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toContain(message);
  });
});

describe('plan aws', () => {
  it('adds one managed statement and is idempotent on its own output', async () => {
    const first = await runCli(awsArgs(fixture('trust-policy-ec2.json'), '--airflow-version', '2.9.0'));
    expect(first.code).toBe(0);
    const plan = JSON.parse(first.stdout);
    expect(plan.changed).toBe(true);
    expect(plan.added).toHaveLength(6);
    expect(plan.size).toBe(JSON.stringify(plan.policy).length);
    expect(plan.policy.Statement[0]).toEqual(
      JSON.parse(readFileSync(fixture('trust-policy-ec2.json'), 'utf8')).Statement[0],
    );
    expect(plan.policy.Statement[1]).toMatchObject({
      Effect: 'Allow',
      Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC123' },
      Action: 'sts:AssumeRoleWithWebIdentity',
    });

    const again = await runCli(awsArgs('-', '--airflow-version', '2.9.0'), JSON.stringify(plan.policy));
    const second = JSON.parse(again.stdout);
    expect(second).toMatchObject({ changed: false, added: [] });
    expect(JSON.stringify(second.policy)).toBe(JSON.stringify(plan.policy));
  });

  it('reads the URL-encoded document GetRole returns and the whole get-role output', async () => {
    const policy = readFileSync(fixture('trust-policy-ec2.json'), 'utf8');
    const encoded = await runCli(awsArgs('-'), encodeURIComponent(JSON.stringify(JSON.parse(policy))));
    const getRole = await runCli(
      awsArgs('-'),
      JSON.stringify({ Role: { RoleName: 'astro-data', AssumeRolePolicyDocument: JSON.parse(policy) } }),
    );
    expect(encoded.code).toBe(0);
    expect(JSON.parse(encoded.stdout).added).toHaveLength(6);
    expect(JSON.parse(getRole.stdout)).toEqual(JSON.parse(encoded.stdout));
  });

  it('uses StringLike with the namespace wildcard on a DEDICATED cluster', async () => {
    const run = await runCli(awsArgs(fixture('trust-policy-ec2.json'), '--wildcard', '--cluster-type', 'DEDICATED'));
    const plan = JSON.parse(run.stdout);
    expect(plan.added).toEqual([`system:serviceaccount:${NS}:*`]);
    expect(plan.policy.Statement[1].Condition.StringLike).toEqual({
      'oidc.eks.us-east-1.amazonaws.com/id/ABC123:sub': [`system:serviceaccount:${NS}:*`],
    });
  });

  it('exits 3 with the size, the limit and remedies when the policy does not fit', async () => {
    const run = await runCli(awsArgs(fixture('trust-policy-ec2.json'), '--max-size', '600'));
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/needs a \d+-character trust policy; the limit is 600/);
    expect(run.stderr).toMatch(/L-C07B4B0D/);
  });

  it('exits 3 naming the Deny statement when an explicit Deny blocks a subject, and prints no plan', async () => {
    const deny = {
      Sid: 'NoWorkers',
      Effect: 'Deny',
      Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC123' },
      Action: 'sts:AssumeRole*',
      Condition: { StringLike: { 'oidc.eks.us-east-1.amazonaws.com/id/ABC123:sub': '*-worker-serviceaccount' } },
    };
    const run = await runCli(awsArgs('-'), JSON.stringify({ Version: '2012-10-17', Statement: [deny] }));
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`${sa('worker-serviceaccount')} (denied by NoWorkers`);
    expect(run.stderr).toMatch(/fix: If the Deployment should assume this role, remove or narrow the Deny/);
  });

  it.each([
    [['--wildcard', '--cluster-type', 'STANDARD'], /^error: --wildcard: .*only allowed on DEDICATED/],
    [['--wildcard'], /^error: --wildcard: .*only allowed on DEDICATED/],
    [['--namespace', 'Bad_NS'], /^error: --namespace: "Bad_NS" is not a Kubernetes namespace/],
    [['--components', 'flower'], /^error: --components: unknown component "flower"/],
    [['--max-size', 'lots'], /positive whole number/],
    [['--cluster-type', 'SHARED'], /Allowed choices/],
  ])('rejects %j with exit 2', async (flags, message) => {
    const run = await runCli(awsArgs(fixture('trust-policy-ec2.json'), ...flags));
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toMatch(message);
  });

  it.each([
    ['--role-arn', 'arn:aws:iam::123:role/x', /^error: --role-arn: "arn:aws:iam::123:role\/x" is not an IAM role ARN/],
    ['--role-arn', 'arn:aws:iam::123456789012:user/bob', /^error: --role-arn: /],
    [
      '--issuer',
      'http://oidc.example.com/id/1',
      /^error: --issuer: "http:\/\/oidc.example.com\/id\/1" is not a valid OIDC issuer: it must use https:\/\/\n/,
    ],
    ['--issuer', 'https://oidc.example.com/id/1?x=1', /^error: --issuer: .*query/],
  ])('rejects %s %s naming the flag', async (flag, value, message) => {
    const args = awsArgs(fixture('trust-policy-ec2.json'));
    args[args.indexOf(flag) + 1] = value;
    const run = await runCli(args);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/must start with/);
  });

  it('rejects a policy that is not JSON, naming --policy', async () => {
    const run = await runCli(awsArgs('-'), '{"Statement": [');
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toMatch(/--policy: not valid JSON/);
  });
});

describe('empty input', () => {
  const empty = () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-empty-'));
    const file = join(dir, 'empty.json');
    writeFileSync(file, '');
    return file;
  };
  const gcp = (file: string) => [
    'plan',
    'gcp',
    '--policy',
    file,
    '--pool',
    'astro-gke-prod.svc.id.goog',
    '--namespace',
    NS,
  ];
  const azure = (file: string) => [
    'plan',
    'azure',
    '--credentials',
    file,
    '--issuer',
    'https://westus2.oic.prod-aks.azure.com/tenant/cluster/',
    '--namespace',
    NS,
  ];

  it.each([
    ['plan aws, stdin', awsArgs('-'), '', '--policy'],
    ['plan aws, white space on stdin', awsArgs('-'), ' \n', '--policy'],
    ['plan gcp, stdin', gcp('-'), '', '--policy'],
    ['plan azure, stdin', azure('-'), '', '--credentials'],
  ])('%s says the input is empty', async (_label, args, stdin, flag) => {
    const run = await runCli(args, stdin);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toMatch(new RegExp(`^error: ${flag}: the input is empty`));
    expect(run.stderr).not.toMatch(/JSON/);
  });

  it.each([
    ['plan aws', (file: string) => awsArgs(file), '--policy'],
    ['plan gcp', gcp, '--policy'],
    ['plan azure', azure, '--credentials'],
  ])('%s says an empty file is empty', async (_label, args, flag) => {
    const run = await runCli(args(empty()));
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toMatch(new RegExp(`^error: ${flag}: the input is empty`));
  });
});

describe('plan gcp', () => {
  const gcpArgs = (...extra: string[]) => [
    'plan',
    'gcp',
    '--policy',
    fixture('gcp-policy.json'),
    '--pool',
    'astro-gke-prod.svc.id.goog',
    '--namespace',
    NS,
    ...extra,
  ];

  it('adds an unconditional workloadIdentityUser binding and keeps the rest', async () => {
    const run = await runCli(gcpArgs('--components', 'scheduler,worker'));
    const plan = JSON.parse(run.stdout);
    const original = JSON.parse(readFileSync(fixture('gcp-policy.json'), 'utf8'));
    expect(plan.added).toEqual([
      `serviceAccount:astro-gke-prod.svc.id.goog[${NS}/${NS}-scheduler-serviceaccount]`,
      `serviceAccount:astro-gke-prod.svc.id.goog[${NS}/${NS}-worker-serviceaccount]`,
    ]);
    expect(plan.policy.bindings.slice(0, 2)).toEqual(original.bindings);
    expect(plan.policy).toMatchObject({ etag: original.etag, version: 3 });
    expect(plan.policy.bindings[2]).toEqual({ role: 'roles/iam.workloadIdentityUser', members: plan.added });
  });

  it('writes principal:// members when asked, and needs the project number for it', async () => {
    const missing = await runCli(gcpArgs('--member-format', 'principal'));
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toMatch(/--project-number/);
    const run = await runCli(
      gcpArgs('--member-format', 'principal', '--project-number', '123456789012', '--components', 'kpo'),
    );
    expect(JSON.parse(run.stdout).added).toEqual([
      `principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/astro-gke-prod.svc.id.goog/subject/ns/${NS}/sa/${NS}-kpo`,
    ]);
  });

  const GCLOUD_HINT = 'give the output of gcloud iam service-accounts get-iam-policy --format=json';

  it.each([
    [
      'an aws get-role document',
      { Role: { RoleName: 'astro-data', AssumeRolePolicyDocument: { Statement: [] } } },
      `error: --policy.Role: not a field of a Google IAM policy; ${GCLOUD_HINT}\n`,
    ],
    ['an unknown key', { foo: 1 }, `error: --policy.foo: not a field of a Google IAM policy; ${GCLOUD_HINT}\n`],
    [
      'a binding with a foreign key',
      { bindings: [{ role: 'roles/viewer', members: ['user:a@example.com'], Sid: 'x' }] },
      `error: --policy.bindings.0.Sid: not a field of a policy binding (role, members, condition); ${GCLOUD_HINT}\n`,
    ],
    ['a list', [], /^error: --policy: /],
  ])('refuses %s with exit 2, naming the field, and prints nothing', async (_label, policy, message) => {
    const run = await runCli(
      ['plan', 'gcp', '--policy', '-', '--pool', 'astro-gke-prod.svc.id.goog', '--namespace', NS],
      JSON.stringify(policy),
    );
    expect(run).toMatchObject({ code: 2, stdout: '' });
    if (typeof message === 'string') expect(run.stderr).toBe(message);
    else expect(run.stderr).toMatch(message);
  });

  it('names --project-number when it is not a project number', async () => {
    const run = await runCli(gcpArgs('--member-format', 'principal', '--project-number', 'my-project'));
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toMatch(/^error: --project-number: "my-project" is not a Google Cloud project number/);
  });

  it('recognizes a principal:// member as granted when --project-number is given', async () => {
    const principal = `principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/astro-gke-prod.svc.id.goog/subject/ns/${NS}/sa/${NS}-kpo`;
    const policy = { bindings: [{ role: 'roles/iam.workloadIdentityUser', members: [principal] }] };
    const args = ['plan', 'gcp', '--policy', '-', '--pool', 'astro-gke-prod.svc.id.goog', '--namespace', NS];
    const run = await runCli(
      [...args, '--components', 'kpo', '--project-number', '123456789012'],
      JSON.stringify(policy),
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ changed: false, added: [] });
  });

  it('rejects a pool that is not <project>.svc.id.goog', async () => {
    const run = await runCli([
      'plan',
      'gcp',
      '--policy',
      fixture('gcp-policy.json'),
      '--pool',
      'astro.example.com',
      '--namespace',
      NS,
    ]);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toMatch(/^error: --pool: "astro.example.com" is not a GKE workload identity pool/);
  });
});

describe('plan azure', () => {
  const issuer = 'https://westus2.oic.prod-aks.azure.com/tenant/cluster/';
  const azureArgs = (file: string, ...extra: string[]) => [
    'plan',
    'azure',
    '--credentials',
    file,
    '--issuer',
    issuer,
    '--namespace',
    NS,
    ...extra,
  ];

  it('plans one credential per component and keeps the exact issuer', async () => {
    const run = await runCli(azureArgs(fixture('azure-credentials.json'), '--airflow-version', '3.0.1'));
    const plan = JSON.parse(run.stdout);
    expect(plan.changed).toBe(true);
    expect(plan.create.map((c: { name: string }) => c.name)).toEqual([
      `${NS}-apiserver`,
      `${NS}-dag-processor`,
      `${NS}-kpo`,
      `${NS}-scheduler`,
      `${NS}-triggerer`,
      `${NS}-worker`,
    ]);
    expect(plan.create[0]).toEqual({
      name: `${NS}-apiserver`,
      issuer,
      subject: sa('apiserver-serviceaccount'),
      audiences: ['api://AzureADTokenExchange'],
    });

    const existing = [...JSON.parse(readFileSync(fixture('azure-credentials.json'), 'utf8')), ...plan.create];
    const again = await runCli(azureArgs('-', '--airflow-version', '3.0.1'), JSON.stringify(existing));
    expect(JSON.parse(again.stdout)).toEqual({ changed: false, added: [], create: [] });
  });

  it('exits 3 when the credentials do not all fit, and on a name conflict', async () => {
    const full = await runCli(azureArgs(fixture('azure-credentials.json'), '--max-credentials', '4'));
    expect(full).toMatchObject({ code: 3, stdout: '' });
    expect(full.stderr).toMatch(
      /has 1 of 4 federated credentials; this Deployment needs 6 more \(7 > 4\); a Deployment's credentials are created all or nothing, so none of them can be added to this identity/,
    );
    // A plan creates nothing, so it must not say that something was or was not created.
    expect(full.stderr).not.toMatch(/were created|was created/);

    const taken = [
      { name: `${NS}-scheduler`, issuer, subject: 'system:serviceaccount:other:other-scheduler-serviceaccount' },
    ];
    const conflict = await runCli(azureArgs('-', '--components', 'scheduler'), JSON.stringify(taken));
    expect(conflict).toMatchObject({ code: 3, stdout: '' });
    expect(conflict.stderr).toMatch(new RegExp(`${NS}-scheduler already exist`));
    expect(conflict.stderr).not.toMatch(/were created|was created/);
  });

  it.each([
    ['an object', { foo: 1 }, /^error: --credentials: .*az identity federated-credential list/],
    ['one credential', { name: 'x', issuer, subject: 's' }, /^error: --credentials: /],
    [
      'a page that continues',
      { value: [], nextLink: 'https://management.azure.com/x' },
      /^error: --credentials\.nextLink: /,
    ],
    ['a page with a foreign key', { value: [], Role: {} }, /^error: --credentials\.Role: /],
    ['a credential without subject', [{ name: 'x', issuer }], /^error: --credentials\.0: /],
  ])('refuses %s with exit 2, naming the field', async (_label, credentials, message) => {
    const run = await runCli(azureArgs('-'), JSON.stringify(credentials));
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toMatch(message);
  });
});

describe('help and usage', () => {
  it.each([[[]], [['plan']], [['subjects']], [['plan', 'aws']], [['plan', 'gcp']], [['plan', 'azure']]])(
    '%j --help prints usage and exits 0',
    async (command) => {
      const run = await runCli([...command, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage: astro-identity-sync/);
    },
  );

  it.each([[['subjects']], [['plan']], [['plan', 'aws']], [['plan', 'gcp']], [['plan', 'azure']]])(
    '%j --help says how the Airflow version is chosen',
    async (command) => {
      const { stdout } = await runCli([...command, '--help']);
      expect(stdout).toMatch(/bare major/);
      expect(stdout).toMatch(/Airflow 3 when (neither|no version)/);
      expect(stdout).toMatch(/Airflow 1 is refused/);
    },
  );

  it('without arguments prints usage on stderr and exits 2', async () => {
    const run = await runCli([]);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toMatch(/Usage/);
  });

  it('rejects unknown commands and options with exit 2', async () => {
    expect((await runCli(['grant'])).code).toBe(2);
    expect((await runCli(['plan', 'aws', '--bogus'])).code).toBe(2);
  });
});

describe('the real binary', () => {
  it('prints subjects', async () => {
    const run = await runBinary(['subjects', '--namespace', NS, '--remote-execution']);
    expect(run).toEqual({
      code: 0,
      stdout: `${sa('apiserver-serviceaccount')}\n${sa('scheduler-serviceaccount')}\n`,
      stderr: '',
    });
  });

  it('plans from stdin and exits 3 with nothing on stdout when it does not fit', async () => {
    const policy = readFileSync(fixture('trust-policy-ec2.json'), 'utf8');
    const ok = await runBinary(awsArgs('-'), policy);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).changed).toBe(true);
    const tooBig = await runBinary(awsArgs('-', '--max-size', '300'), policy);
    expect(tooBig).toMatchObject({ code: 3, stdout: '' });
  });

  it('exits 2 on invalid input', async () => {
    const run = await runBinary(['subjects', '--namespace', '../x']);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toMatch(/not a Kubernetes namespace/);
  });
});
