import type { DesiredGrant } from '../../shared/plan/subjects.ts';
import { registerKind, type TargetKind, TargetRegistry } from '../../shared/reconcile/target-kind.ts';

/**
 * A target kind over a plain set of subjects, registered for IAM roles: the pipeline, lanes and sweep run against it
 * exactly as against a real kind, with the cloud replaced by a Map.
 */
export const subjectSetKind: TargetKind<'aws-role', Set<string>> = {
  kind: 'aws-role',
  // Like the IAM kind it stands in for: a grant names the Deployment's issuer.
  needs: 'issuer',
  owner: 'namespace',
  settle: false,
  grant(current, { grant }) {
    const missing = grant.subjects.filter((s) => !current.has(s));
    const present = grant.subjects.filter((s) => current.has(s));
    return { changed: missing.length > 0, added: missing, present, next: new Set([...current, ...missing]) };
  },
  revoke(current, namespace) {
    const removed = [...current].filter((s) => s.split(':')[2] === namespace);
    return { changed: removed.length > 0, removed, next: new Set([...current].filter((s) => !removed.includes(s))) };
  },
  owned: (current) => new Set([...current].map((s) => s.split(':')[2] ?? '')),
  // A toy limit, so capacity is reported like on a real kind.
  usage: (current) => ({ used: current.size, limit: 100, unit: 'members' }),
};

/** Records what each target was asked to grant (through `onGrant`) and written; every target starts empty. */
export function memoryTargets(options: { onGrant?: (grant: DesiredGrant) => void } = {}) {
  const stores = new Map<string, Set<string>>();
  const writes: string[] = [];
  const kind: TargetKind<'aws-role', Set<string>> = {
    ...subjectSetKind,
    grant(current, input) {
      options.onGrant?.(input.grant);
      return subjectSetKind.grant(current, input);
    },
  };
  const targets = new TargetRegistry([
    registerKind(kind, (target) => ({
      read: async () => new Set(stores.get(target.id) ?? []),
      write: async (_current, next) => {
        writes.push(target.id);
        stores.set(target.id, next);
      },
    })),
  ]);
  return { stores, writes, targets };
}
