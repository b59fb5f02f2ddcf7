import { createHash } from 'node:crypto';
import type { SlackMessage } from '../../shared/report/slack-blocks.ts';

/**
 * Where the fingerprint of the last run summary told to Slack is kept, per task (poll, sweep), so an hourly sweep
 * that finds the same problems as the hour before does not post them again. A port: the default keeps it in memory,
 * which lasts while the instance is warm, so after a cold start an unchanged summary may be posted once more. A
 * store that outlives instances (a table) plugs in here.
 */
export interface LastSummaryStore {
  get(task: string): Promise<string | undefined>;
  set(task: string, fingerprint: string): Promise<void>;
}

export function memoryLastSummary(): LastSummaryStore {
  const last = new Map<string, string>();
  return {
    get: async (task) => last.get(task),
    set: async (task, fingerprint) => {
      last.set(task, fingerprint);
    },
  };
}

/** What a run found with nothing to tell: remembered too, so problems that come back later are posted again. */
export const QUIET_FINGERPRINT = 'quiet';

/** The message's content without its run id (the one part that differs between two runs that found the same). */
export function summaryFingerprint(message: SlackMessage, runId: string): string {
  const content = JSON.stringify(message).split(runId).join('');
  return createHash('sha256').update(content).digest('hex');
}
