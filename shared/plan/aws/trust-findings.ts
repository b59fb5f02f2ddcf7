import type { Blocked } from '../../reconcile/reconcile-target.ts';
import type { DenyVerdict } from './deny-evaluator.ts';

/** The report's words for what a trust-policy plan found besides its entries: Deny statements and edited statements. */

export interface BlockedEntry extends DenyVerdict {
  /** The subject or principal the Deny stops. */
  readonly entry: string;
}

/** A plan's blocked entries as the reconciler takes them (see GrantPlan.blocked); nothing when none is blocked. */
export function blockedFinding(blocked: readonly BlockedEntry[], noun: string): { blocked?: Blocked } {
  if (blocked.length === 0) return {};
  const each = blocked.map(
    (b) =>
      `${b.entry} (${b.effect === 'doubtful' ? `${b.statement} may deny it` : `denied by ${b.statement}`}: ${b.why})`,
  );
  const noun2 = blocked.length === 1 ? noun : `${noun}s`;
  return {
    blocked: {
      entries: blocked.map((b) => b.entry),
      reason: `an explicit Deny in the trust policy blocks ${blocked.length} ${noun2}, so nothing was written for ${blocked.length === 1 ? 'it' : 'them'}: ${each.join('; ')}`,
      remedies: [
        'If the Deployment should assume this role, remove or narrow the Deny statement named above (IAM applies an explicit Deny before any Allow); otherwise authorize it with another role.',
        'A statement marked "may deny" uses a condition this tool cannot evaluate: check it by hand (IAM policy simulator).',
      ],
    },
  };
}

/** One warning per managed statement a person edited, for the report whether or not anything is written. */
export function editedWarnings(edited: readonly { readonly statement: string; readonly edits: readonly string[] }[]): {
  warnings?: readonly string[];
} {
  if (edited.length === 0) return {};
  return {
    warnings: edited.map(
      (e) =>
        `the managed statement ${e.statement} was edited by hand (${e.edits.join('; ')}): this tool no longer adds to it and writes new grants to a statement of its own; decide whether to restore it or rename its Sid`,
    ),
  };
}
