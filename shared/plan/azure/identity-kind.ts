import type { TargetKind } from '../../reconcile/target-kind.ts';
import { type FederatedCredential, planAzureCredentials } from './credentials-planner.ts';
import { foreignCredentialsAzure, ownedNamespacesAzure, revokeAzureNamespace } from './ownership.ts';

/** Every federated credential of one identity: the document the Azure driver reads, plans on and applies. */
export type CredentialList = readonly FederatedCredential[];

/**
 * Federated identity credentials on a user-assigned managed identity, one per service account, all or nothing per
 * Deployment within `maxCredentials`. The planned list is what the driver applies, one credential at a time.
 */
export function azureIdentityKind(maxCredentials: number): TargetKind<'azure-identity', CredentialList> {
  return {
    kind: 'azure-identity',
    needs: 'issuer',
    owner: 'namespace',
    settle: false,
    grant(current, { grant, issuer, dr }) {
      const plan = planAzureCredentials({ existing: current, issuer: issuer ?? '', grant, maxCredentials, dr });
      return {
        changed: plan.changed,
        added: plan.create.map((c) => c.name),
        present: plan.present.map((c) => c.name).sort(),
        next: [...current, ...plan.create],
      };
    },
    revoke: (current, namespace) => revokeAzureNamespace(current, namespace),
    owned: (current) => ownedNamespacesAzure(current),
    usage: (current) => ({ used: current.length, limit: maxCredentials, unit: 'credentials' }),
    foreign: (current) => foreignCredentialsAzure(current),
  };
}
