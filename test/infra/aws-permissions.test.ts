import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AWS_FUNCTIONS, type AwsFunction } from '../../scripts/artifacts.ts';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE, parseScheduledTask } from '../../shared/intake/queue-envelopes.ts';
import { awsActions, dynamoKeyPrefixes, type FoundAction, reachableFiles, tsFilesUnder } from './code-permissions.ts';
import { type Block, expr, list, loadModule, MODULE_DIRS, REPO, type TfModule } from './terraform-files.ts';

/**
 * The AWS roles grant what the code calls, and nothing else. Expected actions come from the TypeScript (every
 * `new <Name>Command(` of an @aws-sdk client and every Powertools provider), actual ones from the policy documents
 * in infra/aws, following source_policy_documents and including dynamic (conditional) statements.
 */

interface Statement {
  readonly doc: string;
  readonly sid: string;
  readonly actions: string[];
  readonly resources: string[];
  readonly conditional: boolean;
  /** `condition` blocks as Terraform spells them (test, variable, values). */
  readonly conditions: Block[];
}

/** Actions the platform performs with the function's role, not the code: logs and the async on_failure destination. */
const PLATFORM_ACTIONS = new Set(['logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:SendMessage']);
/**
 * Actions the Lambda service performs with the reconciler's role to poll the events queue for the event source
 * mapping, not the code; allowed for the reconciler only, and only on that queue.
 */
const EVENT_SOURCE_ACTIONS = ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'];
const EVENT_SOURCE_FUNCTION: AwsFunction = 'reconciler';
/** Account-level reads that IAM cannot scope to a resource; the only actions allowed on "*". */
const UNSCOPABLE_READS = new Set(['iam:GetAccountSummary']);
const WRITERS = ['reconciler', 'manual', 'scheduled'] as const satisfies readonly AwsFunction[];

let aws: TfModule;
beforeAll(async () => {
  aws = await loadModule(MODULE_DIRS.aws);
});

function policyDoc(name: string): Block {
  const doc = aws.data.aws_iam_policy_document?.[name];
  if (doc === undefined) throw new Error(`data.aws_iam_policy_document.${name} is missing`);
  return doc;
}

function statements(name: string, conditional = false): Statement[] {
  const doc = policyDoc(name);
  const out: Statement[] = [];
  for (const source of list(doc.source_policy_documents)) {
    const ref = /^\$\{data\.aws_iam_policy_document\.([a-z0-9_]+)\.json\}$/.exec(source);
    if (ref?.[1] === undefined) throw new Error(`${name}: unsupported source_policy_documents entry ${source}`);
    out.push(...statements(ref[1], conditional));
  }
  const plain = (doc.statement ?? []) as Block[];
  const dynamic = ((doc.dynamic as Block | undefined)?.statement ?? []) as Block[];
  const toStatement = (s: Block, isConditional: boolean): Statement => ({
    doc: name,
    sid: String(s.sid ?? ''),
    actions: list(s.actions),
    resources: list(s.resources),
    conditional: isConditional,
    conditions: (s.condition ?? []) as Block[],
  });
  out.push(...plain.map((s) => toStatement(s, conditional)));
  for (const d of dynamic) out.push(...((d.content ?? []) as Block[]).map((s) => toStatement(s, true)));
  return out;
}

/** The policy attached to each function's role: aws_iam_role_policy.function -> local.function_policies[key]. */
function functionPolicy(fn: AwsFunction): Statement[] {
  const attached = aws.resources.aws_iam_role_policy?.function;
  expect(attached?.policy).toBe(`\${local.function_policies[each.key]}`);
  expect(attached?.for_each).toBe(`\${local.functions}`);
  const policies = aws.locals.function_policies as Record<string, string>;
  const ref = /^\$\{data\.aws_iam_policy_document\.([a-z0-9_]+)\.json\}$/.exec(policies[fn] ?? '');
  if (ref?.[1] === undefined) throw new Error(`local.function_policies.${fn} is not a policy document`);
  return statements(ref[1]);
}

function actionsOf(found: readonly FoundAction[], conditional?: boolean): string[] {
  return [
    ...new Set(
      found.filter((f) => conditional === undefined || Boolean(f.conditional) === conditional).map((f) => f.action),
    ),
  ].sort();
}

function granted(policy: readonly Statement[], conditional?: boolean): string[] {
  return [
    ...new Set(
      policy.filter((s) => conditional === undefined || s.conditional === conditional).flatMap((s) => s.actions),
    ),
  ].sort();
}

const entry = (fn: AwsFunction) => `functions/aws/${fn}.ts`;

describe('AWS function roles', () => {
  it('the scan finds the calls the README promises (a guard against a scanner that finds nothing)', () => {
    const all = actionsOf(awsActions([...tsFilesUnder('functions/aws'), ...tsFilesUnder('functions/common')]));
    expect(all).toEqual(
      expect.arrayContaining([
        'events:PutEvents',
        'iam:GetAccountSummary',
        'iam:GetRole',
        'iam:UpdateAssumeRolePolicy',
        'secretsmanager:GetSecretValue',
        'ssm:GetParameter',
      ]),
    );
  });

  it.each(WRITERS)(
    '%s: grants exactly the IAM/STS/SSM/Secrets Manager/KMS/EventBridge actions its code calls',
    (fn) => {
      const found = awsActions(reachableFiles(entry(fn)));
      const policy = functionPolicy(fn);
      const polls = fn === EVENT_SOURCE_FUNCTION ? EVENT_SOURCE_ACTIONS : [];
      const own = (actions: string[]) => actions.filter((a) => !PLATFORM_ACTIONS.has(a) && !polls.includes(a));
      // Unconditional grants == unconditional calls; conditional ones (kms:Decrypt for customer-managed keys) alike.
      expect(own(granted(policy)), 'granted vs called').toEqual(actionsOf(found));
      // Conditional grants of secrets and parameters follow what the config references; kms and the config-gated
      // IAM calls must be conditional exactly where the code's calls are.
      const gated = (actions: string[]) => actions.filter((a) => a.startsWith('kms:') || a.startsWith('iam:'));
      expect(gated(own(granted(policy, true)))).toEqual(actionsOf(found, true));
      expect(granted(policy).filter((a) => PLATFORM_ACTIONS.has(a) && !a.startsWith('logs:'))).toEqual(
        (aws.locals.async_functions as string[]).includes(fn) ? ['sqs:SendMessage'] : [],
      );
      expect(granted(policy).filter((a) => EVENT_SOURCE_ACTIONS.includes(a))).toEqual(polls);
    },
  );

  it('webhook: events:PutEvents on the bus, the replay record and the config/secret reads, no IAM at all', () => {
    const reads = actionsOf(awsActions(['functions/aws/secret-resolver.ts', 'functions/aws/parameter-providers.ts']));
    const replays = actionsOf(awsActions(['functions/aws/dynamodb-replay-record.ts']));
    expect(replays).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']);
    const policy = functionPolicy('webhook');
    expect(actionsOf(awsActions(reachableFiles(entry('webhook'))))).toContain('events:PutEvents');
    expect(granted(policy).filter((a) => !a.startsWith('logs:'))).toEqual(
      [...reads, ...replays, 'events:PutEvents'].sort(),
    );
    const put = policy.find((s) => s.actions.includes('events:PutEvents'));
    expect(put?.resources).toEqual([`\${aws_cloudwatch_event_bus.this.arn}`]);
  });

  it('every action found anywhere in functions/aws and functions/common is granted to some function', () => {
    const all = actionsOf(awsActions([...tsFilesUnder('functions/aws'), ...tsFilesUnder('functions/common')]));
    const anyRole = new Set(AWS_FUNCTIONS.flatMap((fn) => granted(functionPolicy(fn))));
    expect(all.filter((a) => !anyRole.has(a))).toEqual([]);
  });

  it('scopes every grant: trust policies to allowed_role_arns, secrets and parameters to their ARNs, logs to the own group', () => {
    for (const fn of AWS_FUNCTIONS) {
      for (const s of functionPolicy(fn)) {
        const resources = s.resources.join(' ');
        if (s.actions.includes('iam:UpdateAssumeRolePolicy') || s.actions.includes('iam:GetRole')) {
          expect(s.resources).toEqual([`\${var.allowed_role_arns}`]);
        }
        if (s.actions.includes('secretsmanager:GetSecretValue'))
          expect(resources).toBe(`\${local.readable_secret_arns}`);
        if (s.actions.includes('ssm:GetParameter')) expect(resources).toBe(`\${local.readable_parameter_arns}`);
        if (s.actions.includes('kms:Decrypt')) expect(resources).toBe(`\${var.kms_key_arn}`);
        if (s.actions.some((a) => a.startsWith('logs:'))) {
          expect(s.resources).toEqual([`\${aws_cloudwatch_log_group.function["${fn}"].arn}:*`]);
        }
        if (s.actions.includes('sqs:SendMessage')) expect(s.resources).toEqual([`\${aws_sqs_queue.dead_letter.arn}`]);
        if (s.actions.some((a) => a.startsWith('dynamodb:'))) {
          expect(s.resources, `${fn}/${s.sid}`).toEqual([`\${aws_dynamodb_table.leases.arn}`]);
        }
        if (s.actions.some((a) => EVENT_SOURCE_ACTIONS.includes(a))) {
          expect(fn, `${fn}/${s.sid}: polls the events queue`).toBe(EVENT_SOURCE_FUNCTION);
          expect([...s.actions].sort()).toEqual(EVENT_SOURCE_ACTIONS);
          expect(s.resources).toEqual([`\${aws_sqs_queue.events.arn}`]);
          expect(s.conditional).toBe(false);
        }
      }
    }
  });

  it.each(AWS_FUNCTIONS)(
    '%s: DynamoDB only on the lease table, only on the item keys its code uses (dynamodb:LeadingKeys)',
    (fn) => {
      const files = reachableFiles(entry(fn));
      const called = actionsOf(awsActions(files)).filter((a) => a.startsWith('dynamodb:'));
      const statementsOnTable = functionPolicy(fn).filter((s) => s.actions.some((a) => a.startsWith('dynamodb:')));
      expect(granted(statementsOnTable)).toEqual(called);
      if (called.length === 0) return;
      const prefixes = dynamoKeyPrefixes(files);
      const expected = { webhook: ['webhook#'], scheduled: ['lease#', 'stale#'] }[fn as string] ?? ['lease#'];
      expect(prefixes).toEqual(expected);
      // Each statement is limited to item keys the code uses, and together they cover every prefix it uses.
      const limited = new Set<string>();
      for (const s of statementsOnTable) {
        expect(s.conditions, `${fn}/${s.sid}`).toHaveLength(1);
        const [condition] = s.conditions as Array<{ test: string; variable: string; values: string[] }>;
        expect(condition).toMatchObject({ test: 'ForAllValues:StringLike', variable: 'dynamodb:LeadingKeys' });
        for (const value of condition?.values ?? []) {
          expect(prefixes.map((p) => `${p}*`)).toContain(value);
          limited.add(value);
        }
      }
      expect([...limited].sort()).toEqual(prefixes.map((p) => `${p}*`).sort());
    },
  );

  it('the lease table: on demand, hash key pk, TTL on the attribute the code writes, named in every function', () => {
    const table = aws.resources.aws_dynamodb_table?.leases;
    expect(table).toMatchObject({ billing_mode: 'PAY_PER_REQUEST', hash_key: 'pk' });
    expect(table?.attribute).toEqual([{ name: 'pk', type: 'S' }]);
    expect((table?.ttl as Block[] | undefined)?.[0]).toEqual({ attribute_name: 'purgeAt', enabled: true });
    for (const file of ['functions/aws/dynamodb-lease.ts', 'functions/aws/dynamodb-replay-record.ts']) {
      expect(readFileSync(join(REPO, file), 'utf8')).toContain('purgeAt: { N:');
    }
    const fn = aws.resources.aws_lambda_function?.this;
    // In the merge's first map, the one every function gets.
    const variables = expr((fn?.environment as Block[] | undefined)?.[0]?.variables);
    expect(variables).toMatch(
      /^merge\(\s*\{[^}]*ASTRO_IDENTITY_SYNC_LEASE_TABLE\s*=\s*aws_dynamodb_table\.leases\.name\s*\}/,
    );
  });

  it('OIDC providers: every writer may read them, creating them only behind create_oidc_providers', () => {
    for (const fn of WRITERS) {
      const policy = functionPolicy(fn);
      const read = policy.find((s) => s.actions.includes('iam:GetOpenIDConnectProvider'));
      const create = policy.find((s) => s.actions.includes('iam:CreateOpenIDConnectProvider'));
      const scope = [`arn:aws:iam::\${data.aws_caller_identity.current.account_id}:oidc-provider/*`];
      expect(read).toMatchObject({ conditional: false, resources: scope });
      expect(create).toMatchObject({
        conditional: true,
        resources: scope,
        actions: ['iam:CreateOpenIDConnectProvider'],
      });
    }
    const gate = (policyDoc('write_trust_policies').dynamic as Block | undefined)?.statement as Block[] | undefined;
    expect(String(gate?.[0]?.for_each)).toContain('var.create_oidc_providers');
    expect(aws.variables.create_oidc_providers?.default).toBe(false);
    // The variable and the config setting must agree, or creates are denied (or a permission sits unused).
    const policyResource = aws.resources.aws_iam_role_policy?.function as Block | undefined;
    const lifecycle = (policyResource?.lifecycle as Block[] | undefined)?.[0];
    const precondition = (lifecycle?.precondition as Block[] | undefined)?.[0];
    expect(String(precondition?.condition)).toContain(
      'local.config_creates_oidc_providers == var.create_oidc_providers',
    );
    expect(String(aws.locals.config_creates_oidc_providers)).toContain(
      'yamldecode(var.config).aws.createOidcProviders',
    );
  });

  it('allowed_role_arns refuses "*" and every role of an account', () => {
    const condition = String(((aws.variables.allowed_role_arns?.validation ?? []) as Block[])[0]?.condition ?? '');
    const source = /regex\("([^"]+)"/.exec(condition)?.[1];
    expect(source).toBeDefined();
    const pattern = new RegExp(source ?? '$^');
    expect(pattern.test('*')).toBe(false);
    expect(pattern.test('arn:aws:iam::*:role/astro-*')).toBe(false);
    expect(pattern.test('arn:aws:iam::123456789012:role/astro-*')).toBe(true);
    expect(condition).toContain('!endswith(arn, ":role/*")');
    expect(condition).toContain('length(var.allowed_role_arns) > 0');
  });
});

describe('every AWS policy document', () => {
  it('allows "*" only for account-level reads, and no wildcard actions', () => {
    const docs = Object.keys(aws.data.aws_iam_policy_document ?? {});
    expect(docs.length).toBeGreaterThan(5);
    for (const name of docs) {
      for (const s of statements(name)) {
        expect(
          s.actions.filter((a) => a.includes('*')),
          `${name}/${s.sid}`,
        ).toEqual([]);
        if (s.resources.includes('*')) {
          expect(
            s.actions.filter((a) => !UNSCOPABLE_READS.has(a)),
            `${name}/${s.sid} on "*"`,
          ).toEqual([]);
        }
      }
    }
  });

  it('lets the scheduler role invoke the scheduled function only', () => {
    const scheduler = statements('scheduler');
    expect(granted(scheduler)).toEqual(['lambda:InvokeFunction']);
    expect(scheduler.flatMap((s) => s.resources)).toEqual([
      `\${aws_lambda_function.this["scheduled"].arn}`,
      `\${aws_lambda_function.this["scheduled"].arn}:*`,
    ]);
    expect(aws.resources.aws_iam_role_policy?.scheduler?.policy).toBe(
      `\${data.aws_iam_policy_document.scheduler.json}`,
    );
  });

  it('opens Function URLs to the public only where the code authenticates (webhook; manual when NONE)', () => {
    for (const [name, permission] of Object.entries(aws.resources.aws_lambda_permission ?? {})) {
      if (permission.principal !== '*') continue;
      expect(String(permission.function_name), name).toMatch(/this\["(webhook|manual)"\]/);
      if (permission.action === 'lambda:InvokeFunctionUrl')
        expect(permission.function_url_auth_type, name).toBe('NONE');
      else expect(permission.invoked_via_function_url, name).toBe(true);
      if (String(permission.function_name).includes('manual')) expect(expr(permission.count)).toContain('"NONE"');
    }
  });
});

describe('AWS wiring', () => {
  it('routes exactly what the webhook publishes to the events queue, with retries and a dead-letter queue', () => {
    expect(aws.locals.event_source).toBe(EVENT_SOURCE);
    expect(aws.locals.event_detail_type).toBe(EVENT_DETAIL_TYPE);
    const target = aws.resources.aws_cloudwatch_event_target?.reconciler;
    expect(target?.arn).toBe(`\${aws_sqs_queue.events.arn}`);
    expect((target?.retry_policy as Block[] | undefined)?.[0]).toBeDefined();
    expect((target?.dead_letter_config as Block[] | undefined)?.[0]?.arn).toBe(`\${aws_sqs_queue.dead_letter.arn}`);
    const dlqPolicy = statements('dead_letter_queue');
    expect(dlqPolicy).toHaveLength(1);
    expect(JSON.stringify(policyDoc('dead_letter_queue'))).toContain('events.amazonaws.com');
  });

  it('lets only the rule send to the events queue, which is encrypted and redrives to the dead-letter queue', () => {
    const queue = aws.resources.aws_sqs_queue?.events;
    expect(queue?.sqs_managed_sse_enabled).toBe(true);
    const redrive = expr(queue?.redrive_policy);
    expect(redrive).toContain('aws_sqs_queue.dead_letter.arn');
    expect(redrive).toContain('var.events_max_receive_count');
    expect(aws.variables.events_max_receive_count?.default).toBe(5);
    // AWS guidance for Lambda event sources: visibility timeout >= 6x the function timeout.
    expect(queue?.visibility_timeout_seconds).toBe(`\${local.events_visibility_timeout}`);
    const fns = aws.locals.functions as Record<string, Block>;
    expect(expr(aws.locals.events_visibility_timeout)).toContain('6 * local.functions.reconciler.timeout');
    expect(typeof fns.reconciler?.timeout).toBe('number');
    expect(aws.resources.aws_sqs_queue_policy?.events?.policy).toBe(
      `\${data.aws_iam_policy_document.events_queue.json}`,
    );
    const policy = statements('events_queue');
    expect(policy).toHaveLength(1);
    expect(policy[0]?.actions).toEqual(['sqs:SendMessage']);
    expect(policy[0]?.resources).toEqual([`\${aws_sqs_queue.events.arn}`]);
    const doc = JSON.stringify(policyDoc('events_queue'));
    expect(doc).toContain('events.amazonaws.com');
    expect(doc).toContain('aws:SourceArn');
    expect(doc).toContain('aws_cloudwatch_event_rule.deployment_changed.arn');
  });

  it('drains the events queue into the reconciler in batches, reporting failed items only', () => {
    const mapping = aws.resources.aws_lambda_event_source_mapping?.reconciler;
    expect(mapping?.event_source_arn).toBe(`\${aws_sqs_queue.events.arn}`);
    expect(mapping?.function_name).toBe(`\${aws_lambda_function.this["reconciler"].arn}`);
    expect(mapping?.batch_size).toBe(`\${var.reconciler_batch_size}`);
    expect(mapping?.maximum_batching_window_in_seconds).toBe(`\${var.reconciler_maximum_batching_window_in_seconds}`);
    expect(aws.variables.reconciler_batch_size?.default).toBe(10);
    expect(aws.variables.reconciler_maximum_batching_window_in_seconds?.default).toBe(5);
    expect(mapping?.function_response_types).toEqual(['ReportBatchItemFailures']);
    expect((mapping?.scaling_config as Block[] | undefined)?.[0]?.maximum_concurrency).toBe(2);
    // EventBridge no longer invokes the reconciler directly.
    for (const [name, permission] of Object.entries(aws.resources.aws_lambda_permission ?? {})) {
      expect(String(permission.function_name), name).not.toContain('reconciler');
    }
  });

  it('sends failed async invocations to the dead-letter queue and alarms on it', () => {
    expect(aws.locals.async_functions).toEqual(['scheduled']);
    const invoke = aws.resources.aws_lambda_function_event_invoke_config?.async;
    expect(JSON.stringify(invoke?.destination_config)).toContain(`\${aws_sqs_queue.dead_letter.arn}`);
    const alarm = aws.resources.aws_cloudwatch_metric_alarm?.dead_letters;
    expect(alarm?.metric_name).toBe('ApproximateNumberOfMessagesVisible');
    expect(alarm?.threshold).toBe(0);
    expect(alarm?.comparison_operator).toBe('GreaterThanThreshold');
  });

  it('schedules poll every 5 minutes and sweep hourly with inputs the scheduled function accepts', () => {
    const schedules = aws.locals.schedules as Record<string, { expression: string; input: string }>;
    expect(schedules.poll?.expression).toBe('rate(5 minutes)');
    expect(schedules.sweep?.expression).toBe('rate(1 hour)');
    for (const [task, schedule] of Object.entries(schedules))
      expect(parseScheduledTask('scheduler', JSON.parse(schedule.input))).toEqual({ ok: true, value: task });
  });

  it('reserves one concurrent reconciler by default', () => {
    expect(aws.variables.reconciler_reserved_concurrency?.default).toBe(1);
    const fns = aws.locals.functions as Record<string, Block>;
    expect(fns.reconciler?.concurrency).toBe(`\${var.reconciler_reserved_concurrency}`);
    expect(aws.resources.aws_lambda_function?.this?.reserved_concurrent_executions).toBe(`\${each.value.concurrency}`);
  });
});
