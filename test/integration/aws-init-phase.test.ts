import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { INIT_BUDGET_MS, warmDuringInit } from '../../functions/aws/init-phase.ts';
import type { Logger } from '../../functions/common/logger.ts';
import { type AwsStack, startAwsStack } from '../../local/aws-stack.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { EC2_TRUST, signedHttpEvent, sqsEventFor } from '../support/aws-fixtures.ts';
import { apiDeployment, deploymentEvent } from '../support/deployments.ts';

const CONFIG_PARAMETER = '/astro-identity-sync/init-phase-config';

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const logger: Logger & { warnings: string[] } = {
    warnings,
    debug: () => undefined,
    info: () => undefined,
    warn: (message: string) => {
      warnings.push(message);
    },
    error: () => undefined,
    child: () => logger,
  };
  return logger;
}

describe('warmDuringInit', () => {
  it('does nothing outside Lambda: no AWS_LAMBDA_INITIALIZATION_TYPE, no cold start at import', async () => {
    const runtime = vi.fn(async () => ({ warm: async () => undefined }));
    expect(await warmDuringInit({}, { logger: recordingLogger(), runtime })).toBe('skipped');
    expect(runtime).not.toHaveBeenCalled();
  });

  it('a warm-up that fails after the cold start is logged; the cold start stays done', async () => {
    const logger = recordingLogger();
    const runtime = vi.fn(async () => ({
      warm: async () => {
        throw new Error('chunk missing');
      },
    }));
    expect(await warmDuringInit({ AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand' }, { logger, runtime })).toBe(
      'unprepared',
    );
    expect(logger.warnings).toEqual([
      'preparing the first invocation failed during init; it loads what it needs itself',
    ]);
    expect(runtime).toHaveBeenCalledTimes(1);
  });

  it('ends the init at its budget and lets the cold start go on; Lambda would kill an init past 10 s', async () => {
    let finish: () => void = () => undefined;
    const pending = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const logger = recordingLogger();
    const deps = { logger, runtime: () => pending.then(() => ({ warm: async () => undefined })) };
    expect(INIT_BUDGET_MS).toBeLessThan(10_000);
    expect(await warmDuringInit({ AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand' }, deps, 20)).toBe('over-budget');
    expect(logger.warnings).toEqual([
      'the cold start took over 20 ms during init; the first invocation waits for the rest',
    ]);
    finish();
  });
});

/**
 * The real entry points, imported as Lambda imports them (process.env, top-level await), against the emulated AWS:
 * the config is an SSM parameter, so the cold start's reads show in the emulator's calls.
 */
describe('the AWS entry points run the cold start in the init phase', () => {
  let stack: AwsStack;
  beforeAll(async () => {
    stack = await startAwsStack();
  });
  afterAll(async () => {
    await stack.close();
  });
  beforeEach(async () => {
    // The events an earlier test published are still on their way to the stack's own reconciler: let it finish.
    await stack.idle();
    stack.aws.resetCalls();
    stack.aws.putParameter(CONFIG_PARAMETER, stack.env.ASTRO_IDENTITY_SYNC_CONFIG ?? '');
    vi.resetModules();
    for (const [name, value] of Object.entries(stack.env)) vi.stubEnv(name, value);
    vi.stubEnv('ASTRO_IDENTITY_SYNC_CONFIG', `aws-ssm:${CONFIG_PARAMETER}`);
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    vi.stubEnv('LOG_LEVEL', 'SILENT');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  async function webhookEntry() {
    return import('../../functions/aws/webhook.ts');
  }

  async function postTo(handler: Awaited<ReturnType<typeof webhookEntry>>['handler'], id: string) {
    const body = JSON.stringify(deploymentEvent(apiDeployment()));
    const answer = await handler(signedHttpEvent('function-url-event.json', stack.webhookSecret, body, id), {
      ...lambdaContext('astro-identity-sync-webhook'),
    });
    return answer.statusCode;
  }

  it('on Lambda, the webhook reads its config at import; its first invocation reads nothing more', async () => {
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
    const { handler, init } = await webhookEntry();
    expect(init).toBe('warm');
    // The config was read; the priming sent nothing (PutEvents and the replay record's put are answered in memory).
    expect(stack.aws.calls.map((c) => c.action)).toEqual(['GetParameter']);
    expect(await postTo(handler, 'msg_init_warm')).toBe(202);
    expect(stack.aws.count('GetParameter')).toBe(1);
    expect(stack.aws.count('PutEvents')).toBe(1);
  });

  it('outside Lambda, importing the webhook reads nothing; the first invocation runs the cold start', async () => {
    const { handler, init } = await webhookEntry();
    expect(init).toBe('skipped');
    expect(stack.aws.count('GetParameter')).toBe(0);
    expect(await postTo(handler, 'msg_init_skipped')).toBe(202);
    expect(stack.aws.count('GetParameter')).toBe(1);
  });

  it('a cold start that fails in init does not fail the import; the first invocation runs it again', async () => {
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
    vi.stubEnv('ASTRO_IDENTITY_SYNC_CONFIG', 'aws-ssm:/astro-identity-sync/not-there-yet');
    const { handler, init } = await webhookEntry();
    expect(init).toBe('failed');
    expect(stack.aws.count('GetParameter')).toBe(1);
    // The parameter appears after the init (Terraform fills it late): the invocation reads it and succeeds.
    stack.aws.putParameter('/astro-identity-sync/not-there-yet', stack.env.ASTRO_IDENTITY_SYNC_CONFIG ?? '');
    expect(await postTo(handler, 'msg_init_failed')).toBe(202);
    expect(stack.aws.count('GetParameter')).toBe(2);
  });

  it('on Lambda, the reconciler reads its config at import and grants on its first batch without another read', async () => {
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'provisioned-concurrency');
    stack.aws.putRole('astro-data', EC2_TRUST);
    const { handler, init } = await import('../../functions/aws/reconciler.ts');
    expect(init).toBe('warm');
    expect(stack.aws.count('GetParameter')).toBe(1);
    expect(stack.aws.calls.filter((c) => c.service === 'iam')).toEqual([]);
    const detail = { webhookId: 'msg_init_reconciler', event: deploymentEvent(apiDeployment()) };
    expect(await handler(sqsEventFor([detail]), lambdaContext('reconciler'))).toEqual({ batchItemFailures: [] });
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(1);
    expect(stack.aws.count('GetParameter')).toBe(1);
    expect(stack.slack.messages.length).toBeGreaterThan(0);
  });
});
