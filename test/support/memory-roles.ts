import type { TrustPolicyDocument } from '../../shared/plan/aws/policy-document.ts';
import { awsPrincipalTrustKind } from '../../shared/plan/aws/principal-trust-kind.ts';
import type { RoleTrust } from '../../shared/plan/aws/role-trust-kind.ts';
import { awsRoleTrustKind } from '../../shared/plan/aws/role-trust-kind.ts';
import { registerKind, TargetRegistry } from '../../shared/reconcile/target-kind.ts';

/**
 * IAM roles held in a Map, behind the real AWS kinds (IRSA subjects and Principal.AWS trust): the core's planning,
 * grouping and reporting run exactly as in the function, with the cloud replaced by documents in memory.
 */
export function memoryRoles(initial: Record<string, TrustPolicyDocument> = {}, quota = 8192) {
  const policies = new Map(Object.entries(initial));
  const writes: string[] = [];
  const io = (roleArn: string) => ({
    read: async (): Promise<RoleTrust> => {
      const policy = policies.get(roleArn);
      if (policy === undefined) throw new Error(`no such role ${roleArn}`);
      return { policy: structuredClone(policy), quota };
    },
    write: async (_current: RoleTrust, next: RoleTrust) => {
      writes.push(roleArn);
      policies.set(roleArn, structuredClone(next.policy));
      return undefined;
    },
  });
  const targets = new TargetRegistry([
    registerKind(awsRoleTrustKind, (target) => io(target.roleArn)),
    registerKind(awsPrincipalTrustKind, (target) => io(target.roleArn)),
  ]);
  return { policies, writes, targets };
}
