import { ValidationError } from '../../errors.ts';
import { printable } from '../guardrails.ts';

/** A predefined role (`roles/...`) or a custom one (`projects/<p>/roles/<r>`, `organizations/<o>/roles/<r>`). */
const GCP_ROLE =
  /^(?:roles\/[A-Za-z0-9_.]{3,128}|(?:projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]|organizations\/\d{1,20})\/roles\/[A-Za-z0-9_.]{3,64})$/;

/** Roles that let a member change who may do what, or do anything at all: never granted to a Deployment. */
const BASIC_ROLES = new Set(['roles/owner', 'roles/editor', 'roles/viewer']);

/**
 * Why a project role must never be granted by this tool, or undefined. Basic roles cover the whole project; IAM and
 * resource-manager admin roles (and anything under roles/iam.: token creators, workload identity users, service
 * account users) let the Deployment grant itself more, which would turn one Deployment into an admin of the project.
 */
export function refusedProjectRole(role: string): string | undefined {
  if (BASIC_ROLES.has(role)) return `${role} is a basic role: it covers the whole project; grant a predefined role`;
  if (role.startsWith('roles/iam.')) {
    return `${role} is an IAM role: it lets the Deployment act as, or grant, other identities`;
  }
  if (/^roles\/resourcemanager\.\w*(Admin|IamAdmin|Mover|Creator)$/.test(role)) {
    return `${role} administers projects or their IAM policies`;
  }
  if (/^roles\/(securitycenter|accesscontextmanager|orgpolicy)\.\w*[Aa]dmin$/.test(role)) {
    return `${role} administers security policy`;
  }
  return undefined;
}

export function assertGcpRole(value: string, field = 'role'): string {
  if (!GCP_ROLE.test(value)) {
    throw new ValidationError(
      `"${printable(value)}" is not an IAM role: use roles/<service>.<role> or projects/<project>/roles/<custom role>`,
      { field },
    );
  }
  const refused = refusedProjectRole(value);
  if (refused !== undefined) throw new ValidationError(`is refused: ${refused}`, { field });
  return value;
}
