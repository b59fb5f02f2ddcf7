import { ValidationError } from '../errors.ts';
import {
  type ComponentSelection,
  type ComponentTable,
  DEFAULT_COMPONENT_TABLE,
  selectComponents,
  serviceAccountFor,
} from './components.ts';
import { assertNamespace, assertServiceAccountName } from './guardrails.ts';

const SUBJECT_PREFIX = 'system:serviceaccount:';

export type ClusterType = 'DEDICATED' | 'HYBRID' | 'STANDARD';

export interface ComponentGrant {
  readonly component: string;
  readonly serviceAccount: string;
  readonly subject: string;
}

/** Everything one Deployment needs on one target, computed from its namespace alone: it cannot name another. */
export interface DesiredGrant {
  readonly namespace: string;
  /** One entry per component, sorted by component. Azure always uses these: it has no wildcard subjects. */
  readonly components: readonly ComponentGrant[];
  /** `system:serviceaccount:<ns>:*` when the namespace wildcard applies, else the components' subjects, sorted. */
  readonly subjects: readonly string[];
  readonly wildcard: boolean;
}

export function subjectFor(namespace: string, serviceAccount: string): string {
  return `${SUBJECT_PREFIX}${namespace}:${serviceAccount}`;
}

/** Splits `system:serviceaccount:<ns>:<sa>`; undefined for anything else. `<sa>` may be `*` (namespace wildcard). */
export function parseSubject(subject: string): { namespace: string; serviceAccount: string } | undefined {
  if (!subject.startsWith(SUBJECT_PREFIX)) return undefined;
  const rest = subject.slice(SUBJECT_PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon <= 0 || colon !== rest.lastIndexOf(':')) return undefined;
  return { namespace: rest.slice(0, colon), serviceAccount: rest.slice(colon + 1) };
}

export interface WildcardRequest {
  /** The namespace wildcard is wanted (config `wildcard.enabled`, or the CLI's `--wildcard`). */
  readonly requested: boolean;
  readonly clusterType: ClusterType | undefined;
  /**
   * `true` (CLI): refusing the wildcard is an error. `false` (functions): fall back to explicit subjects, because a
   * config that enables wildcards for Dedicated clusters must still serve Standard ones.
   */
  readonly strict: boolean;
}

/**
 * A namespace wildcard is only ever allowed on Dedicated clusters: on a Standard (shared) cluster the namespace is the
 * only boundary between tenants. `*:*` is never produced.
 */
export function wildcardApplies(request: WildcardRequest, field = 'wildcard'): boolean {
  if (!request.requested) return false;
  if (request.clusterType === 'DEDICATED') return true;
  if (request.strict) {
    throw new ValidationError(
      `a namespace wildcard is only allowed on DEDICATED clusters, not ${request.clusterType ?? 'an unknown cluster type'}; list the service accounts instead`,
      { field },
    );
  }
  return false;
}

export function desiredGrant(input: {
  namespace: string;
  selection: ComponentSelection;
  table?: ComponentTable;
  wildcard?: WildcardRequest;
  /** The Helm release (Astronomer Software), for tables whose names are release-based. */
  release?: string | undefined;
}): DesiredGrant {
  const namespace = assertNamespace(input.namespace);
  const table = input.table ?? DEFAULT_COMPONENT_TABLE;
  const components = selectComponents(input.selection, table).map((component) => {
    const serviceAccount = serviceAccountFor(table, component, namespace, input.release);
    return { component, serviceAccount, subject: subjectFor(namespace, serviceAccount) };
  });
  const wildcard = input.wildcard ? wildcardApplies(input.wildcard) : false;
  const subjects = wildcard
    ? [subjectFor(namespace, '*')]
    : [...new Set(components.map((grant) => grant.subject))].sort();
  return { namespace, components, subjects, wildcard };
}

/** Defence in depth for planners: every subject must sit in the grant's own namespace. */
export function assertSubjectsInNamespace(grant: DesiredGrant): void {
  // A grant's namespace must itself be valid, or "*" would let "system:serviceaccount:*:*" through.
  assertNamespace(grant.namespace);
  // Azure and GCP build credentials and members from the components, not from `subjects`: check them too.
  for (const { serviceAccount, subject } of grant.components) {
    assertServiceAccountName(serviceAccount, 'components');
    if (subject !== subjectFor(grant.namespace, serviceAccount)) {
      throw new ValidationError(`subject "${subject}" is outside namespace "${grant.namespace}"`, {
        field: 'components',
      });
    }
  }
  for (const subject of grant.subjects) {
    const parts = parseSubject(subject);
    const ok =
      parts !== undefined &&
      parts.namespace === grant.namespace &&
      (parts.serviceAccount === '*' ? grant.wildcard : !/[*?]/.test(parts.serviceAccount));
    if (!ok)
      throw new ValidationError(`subject "${subject}" is outside namespace "${grant.namespace}"`, {
        field: 'subjects',
      });
  }
}
