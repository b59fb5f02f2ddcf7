import { parseSubject } from './subjects.ts';

/**
 * What this tool owns, and how to take it back. Ownership is narrow on purpose, so prune and drift repair can never
 * touch a person's grants:
 * - AWS: subjects inside statements whose Sid starts with AstroIdentitySync;
 * - GCP: members of the unconditional workloadIdentityUser binding naming an Astro service account of a namespace
 *   (`<ns>-...-serviceaccount` or `<ns>-kpo`, the names Astro uses);
 * - Azure: credentials named `<ns>-<component>` whose subject is in that namespace.
 */
export interface RevokePlan<Doc> {
  readonly changed: boolean;
  /** Subjects, members or credential names removed. */
  readonly removed: readonly string[];
  readonly next: Doc;
  /** What the write of `next` does besides the revoke, for the report (see GrantPlan.notes). */
  readonly notes?: readonly string[];
}

/**
 * An entry on a target that this tool does not own but that names a Kubernetes service account of a namespace: a
 * person's grant to a Deployment, shown by `audit` and never touched.
 */
export interface ForeignEntry {
  /** The entry in the target's own terms: a subject, a member (with its role), a credential name and subject. */
  readonly entry: string;
  readonly namespace: string;
}

/** An Astro-named service account of `namespace` (`<ns>-kpo`, `<ns>-<anything>-serviceaccount`). */
export function isAstroServiceAccount(namespace: string, serviceAccount: string): boolean {
  return (
    serviceAccount === `${namespace}-kpo` ||
    (serviceAccount.startsWith(`${namespace}-`) && serviceAccount.endsWith('-serviceaccount'))
  );
}

/** The namespace of a `system:serviceaccount:<ns>:<sa>` subject, or undefined for anything else. */
export function subjectNamespace(subject: string): string | undefined {
  return parseSubject(subject)?.namespace;
}
