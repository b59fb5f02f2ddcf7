import type { Deadline } from '../../shared/deadline.ts';
import { formatBatchMessage } from '../../shared/report/batch-message.ts';
import type { Metrics } from '../../shared/report/metrics.ts';
import type { EventReport } from '../../shared/report/outcome.ts';
import type { SlackMessage, SlackNotifyPolicy } from '../../shared/report/slack-blocks.ts';
import {
  formatRejectedEvent,
  formatSlackMessage,
  type RejectedEvent,
  shouldNotify,
} from '../../shared/report/slack-message.ts';
import type { Logger as LoggerPort } from './logger.ts';
import { redactor, type Transport, webApiTransport, webhookTransport } from './slack-transport.ts';

/**
 * The Slack edge shared by the AWS, GCP and Azure functions. A Slack problem must never fail the grant that was just
 * made (the cloud write already happened), so notify() resolves in every case and reports the failure in its result
 * and in the log, never with the bot token or the webhook URL, both of which are credentials.
 */

export type SlackSettings =
  | { mode: 'off' }
  | { mode: 'web-api'; token: string; channel: string; notify: SlackNotifyPolicy; slackApiUrl?: string }
  | { mode: 'webhook'; webhookUrl: string; notify: SlackNotifyPolicy };

interface SlackNotifierOptions {
  logger?: LoggerPort;
  /** Retries after the first attempt, for 429, 5xx and network errors. */
  retries?: number;
  /** Longest single wait; a Retry-After beyond it gives up instead of holding the function past its budget. */
  maxRetryWaitMs?: number;
  /** Per HTTP attempt (default 10000); Slack answers in well under a second, so a hung connection is a failure. */
  timeoutMs?: number;
}

export interface NotifyResult {
  posted: boolean;
  skipped?: 'policy' | 'off';
  error?: string;
  /** Not posted, but kept in the outbox: it is posted when Slack answers again on this instance. */
  kept?: boolean;
}

export interface SlackNotifier {
  notify(report: EventReport): Promise<NotifyResult>;
  /** An event that was refused before any target was planned (an unknown Deployment, a refused deletion). */
  rejected(event: RejectedEvent): Promise<NotifyResult>;
  /** Posts an already formatted message (the poll/sweep summary); the notify policy was applied by the caller. */
  post(message: SlackMessage, context: Record<string, unknown>): Promise<NotifyResult>;
  /**
   * One message for a batch: the reports worth telling under the policy and the events refused for good (the
   * single-event message for a batch of one; see formatBatchMessage).
   */
  notifyBatch(reports: readonly EventReport[], rejected?: readonly RejectedEvent[]): Promise<NotifyResult>;
  /**
   * This notifier for one invocation: once Slack fails in a way that may heal (an outage, no answer), its later
   * messages go to the outbox without being tried, and no post outlasts the invocation's deadline. The outbox is
   * shared with the instance, so the next invocation delivers what this one kept. Each message not delivered is
   * counted in `metrics` (SlackDeliveryFailures).
   */
  session(deadline?: Deadline, metrics?: Metrics): SlackNotifier;
}

const DEFAULT_RETRIES = 2;
const OUTBOX_LIMIT = 50;
const TRANSIENT = /http 5\d\d|429|rate_?limited|timed? ?out|ECONN|fetch failed|network|socket/i;
const DEFAULT_MAX_RETRY_WAIT_MS = 5_000;
const DEFAULT_TIMEOUT_MS = 10_000;

/** Default sink: warnings and errors to stderr as JSON lines; info is dropped because callers pass a real logger. */
const stderrLogger: LoggerPort = {
  debug() {},
  info() {},
  warn(msg, extra) {
    console.warn(JSON.stringify({ level: 'WARN', message: msg, ...extra }));
  },
  error(msg, extra) {
    console.error(JSON.stringify({ level: 'ERROR', message: msg, ...extra }));
  },
  child: () => stderrLogger,
};

/** The path of a webhook URL (its last segment above all) is the secret; redact each in case a message quotes one. */
function webhookSecrets(webhookUrl: string): string[] {
  try {
    const { pathname } = new URL(webhookUrl);
    return [webhookUrl, pathname, pathname.split('/').at(-1) ?? ''];
  } catch {
    return [webhookUrl];
  }
}

export function createSlackNotifier(settings: SlackSettings, options: SlackNotifierOptions = {}): SlackNotifier {
  const logger = options.logger ?? stderrLogger;
  const retries = Math.max(0, Math.floor(options.retries ?? DEFAULT_RETRIES));
  const maxWaitMs = Math.max(0, options.maxRetryWaitMs ?? DEFAULT_MAX_RETRY_WAIT_MS);
  const timeoutMs = Math.max(1, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  if (settings.mode === 'off') {
    const off = async (): Promise<NotifyResult> => ({ posted: false, skipped: 'off' });
    const notifier: SlackNotifier = {
      notify: off,
      notifyBatch: off,
      rejected: off,
      post: off,
      session: () => notifier,
    };
    return notifier;
  }
  // The client is built once per notifier (per cold start) and reused for every event, but only when the first
  // message is sent: most events change nothing, and a function instance that never posts never loads the SDK.
  let transport: Promise<Transport> | undefined;
  const load = () => {
    transport ??=
      settings.mode === 'web-api'
        ? import('@slack/web-api').then((sdk) => webApiTransport(sdk, settings, logger, retries, maxWaitMs, timeoutMs))
        : import('@slack/webhook').then((sdk) => webhookTransport(sdk, settings, retries, maxWaitMs, timeoutMs));
    return transport;
  };
  const describe = async (error: unknown) => (await load()).describe(error);
  const redact = redactor(settings.mode === 'web-api' ? [settings.token] : webhookSecrets(settings.webhookUrl));
  const policy = settings.notify;

  // Messages that failed during a Slack outage, delivered (oldest first, each once) when Slack answers again on this
  // warm instance. Bounded, so an outage cannot grow memory without limit; the oldest are dropped and counted.
  const outbox: SlackMessage[] = [];
  let dropped = 0;
  const keep = (message: SlackMessage) => {
    if (outbox.includes(message)) return;
    outbox.push(message);
    if (outbox.length > OUTBOX_LIMIT) {
      outbox.shift();
      dropped += 1;
    }
  };
  const unkeep = (message: SlackMessage) => {
    const at = outbox.indexOf(message);
    if (at !== -1) outbox.splice(at, 1);
  };

  /** One invocation's view: its breaker, and how long a post may take before it is given up and kept. */
  const makeSession = (session: SessionOptions): SlackNotifier => {
    // Open once Slack failed in a way that may heal (an outage, a hang): the rest of the invocation keeps its
    // messages in the outbox without trying, so a hanging Slack costs one attempt, not one per report.
    let broken: string | undefined;
    const post = async (message: SlackMessage) => {
      const posting = (await load()).post(message);
      const limitMs = session.limitMs?.();
      if (limitMs === undefined) return posting;
      // A post given up here may still land; then it must not be sent again from the outbox.
      posting.then(
        () => unkeep(message),
        () => undefined,
      );
      return withinMs(posting, limitMs);
    };
    const flush = async () => {
      while (outbox.length > 0) {
        const [next] = outbox;
        if (next === undefined) break;
        await post(next);
        unkeep(next);
        logger.info('Slack notification delivered after an outage', { mode: settings.mode, waiting: outbox.length });
      }
      if (dropped > 0) {
        logger.warn('Slack notifications dropped during an outage', { mode: settings.mode, dropped });
        dropped = 0;
      }
    };
    const failed = () => session.metrics?.count('SlackDeliveryFailures', 1);
    const send = async (message: SlackMessage, context: Record<string, unknown>): Promise<NotifyResult> => {
      if (broken !== undefined) {
        failed();
        keep(message);
        logger.warn('Slack notification kept, not tried: Slack failed earlier in this invocation', {
          ...context,
          error: broken,
        });
        return { posted: false, kept: true, error: broken };
      }
      try {
        await flush();
        await post(message);
        logger.info('Slack notification posted', context);
        return { posted: true };
      } catch (error) {
        const reason = redact(error instanceof GaveUp ? error.message : await describe(error));
        // Only an outage is worth waiting out; a bad token or channel would block every later message.
        const transient = error instanceof GaveUp || TRANSIENT.test(reason);
        failed();
        logger.error(
          transient ? 'Slack notification failed; kept to resend when Slack answers' : 'Slack notification failed',
          { ...context, error: reason },
        );
        if (!transient) return { posted: false, error: reason };
        if (session.breaker) broken = reason;
        keep(message);
        return { posted: false, kept: true, error: reason };
      }
    };
    const notify = (report: EventReport): Promise<NotifyResult> => {
      const context = { mode: settings.mode, eventId: report.eventId, deployment: report.deployment.name };
      if (!shouldNotify(report, policy)) {
        logger.info('Slack notification skipped by policy', { ...context, policy });
        return Promise.resolve({ posted: false, skipped: 'policy' });
      }
      return send(formatSlackMessage(report), context);
    };
    return {
      notify,
      async notifyBatch(reports, rejected = []) {
        const told = reports.filter((report) => shouldNotify(report, policy));
        const message = formatBatchMessage(told, rejected);
        if (message === undefined) {
          logger.info('Slack notification skipped by policy', { mode: settings.mode, events: reports.length, policy });
          return { posted: false, skipped: 'policy' };
        }
        const ids = [...told.map((r) => r.eventId), ...rejected.map((r) => r.eventId)];
        return send(message, { mode: settings.mode, eventIds: ids, events: ids.length });
      },
      // A refused event is a failure a person must see under every policy: nothing was planned for it.
      rejected: (event) =>
        send(formatRejectedEvent(event), {
          mode: settings.mode,
          eventId: event.eventId,
          deploymentId: event.deploymentId,
        }),
      post: (message, context) => send(message, { mode: settings.mode, ...context }),
      session: (deadline, metrics) =>
        makeSession({
          breaker: true,
          ...(metrics === undefined ? {} : { metrics }),
          // The deadline is when the work had to stop; reporting may use the request timeout after it (the room the
          // invocation's deadline keeps), never more.
          ...(deadline === undefined || !Number.isFinite(deadline.at)
            ? {}
            : { limitMs: () => Math.max(1, deadline.remainingMs() + timeoutMs) }),
        }),
    };
  };
  return makeSession({ breaker: false });
}

interface SessionOptions {
  readonly breaker: boolean;
  /** How long one message (with its retries) may take now; undefined: as long as the transport takes. */
  readonly limitMs?: () => number;
  readonly metrics?: Metrics;
}

/** A post given up because the invocation cannot wait for it; it may still land, and then is not sent again. */
class GaveUp extends Error {}

/** The post, or GaveUp once `ms` have passed; the timer is cleared when the post settles first. */
function withinMs(posting: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new GaveUp(`no answer from Slack within ${Math.round(ms)} ms; kept to resend`)),
      Math.round(ms),
    );
    timer.unref();
  });
  return Promise.race([posting, gaveUp]).finally(() => clearTimeout(timer));
}
