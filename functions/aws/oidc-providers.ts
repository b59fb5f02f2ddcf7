import {
  CreateOpenIDConnectProviderCommand,
  GetOpenIDConnectProviderCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { TargetError } from '../../shared/errors.ts';
import { toIamTargetError } from './iam-errors.ts';

const PROVIDER_ARN = /^arn:aws:iam::(\d{12}):oidc-provider\/(.+)$/;

/** The IAM OIDC identity providers a trust policy names, checked (and created, when allowed) before it is written. */
export interface OidcProviders {
  /** Makes sure each provider exists; answers a note per provider it created. Throws when one is missing. */
  ensure(providerArns: readonly string[], roleArn: string): Promise<string[]>;
  /** The dry run of `ensure`: looks each provider up, creates nothing; answers a note per provider it would create. */
  check(providerArns: readonly string[], roleArn: string): Promise<string[]>;
  /** Drops remembered answers: IAM refused a provider this cold start had seen (deleted since), so ask again. */
  forget(providerArns: Iterable<string>): void;
}

function errorName(error: unknown): string {
  return ((error as { name?: string } | null)?.name ?? '').replace(/Exception$/, '');
}

/**
 * An IRSA grant is useless without the account's IAM OIDC provider for the cluster's issuer, and IAM refuses the trust
 * policy outright ("Invalid principal in policy"). So each new provider is looked up first (GetOpenIDConnectProvider;
 * a provider found is remembered for the cold start), then created with `create` (client id sts.amazonaws.com; IAM
 * fetches the thumbprint itself) or reported with the exact command that creates it.
 */
export function createOidcProviders(iam: IAMClient, options: { create: boolean }): OidcProviders {
  const known = new Set<string>();

  async function exists(arn: string, roleArn: string): Promise<boolean> {
    if (known.has(arn)) return true;
    try {
      await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
      known.add(arn);
      return true;
    } catch (error) {
      if (errorName(error) === 'NoSuchEntity') return false;
      if (errorName(error) === 'AccessDenied') {
        throw new TargetError(
          `this function may not call iam:GetOpenIDConnectProvider on ${arn}; allow it in the function's policy (needed to check the cluster's OIDC provider before trusting it)`,
          { retryable: false, cause: error },
        );
      }
      throw toIamTargetError(error, roleArn, 'GetOpenIDConnectProvider');
    }
  }

  async function create(arn: string, url: string, roleArn: string): Promise<string | undefined> {
    try {
      await iam.send(new CreateOpenIDConnectProviderCommand({ Url: url, ClientIDList: ['sts.amazonaws.com'] }));
    } catch (error) {
      // Another writer (or a person) created it in the meantime: that is what we wanted.
      if (errorName(error) === 'EntityAlreadyExists') return undefined;
      if (errorName(error) === 'AccessDenied') {
        throw new TargetError(
          `this function may not call iam:CreateOpenIDConnectProvider; allow it (Terraform: create_oidc_providers = true) or create the provider for ${url} yourself`,
          { retryable: false, cause: error, remedies: [command(url)] },
        );
      }
      throw toIamTargetError(error, roleArn, 'CreateOpenIDConnectProvider');
    }
    known.add(arn);
    return `created the IAM OIDC provider ${arn} for ${url} (client id sts.amazonaws.com)`;
  }

  /** Each provider the account lacks, as its issuer URL; throws when one is missing and may not be created. */
  async function missing(providerArns: readonly string[], roleArn: string): Promise<Array<[string, string]>> {
    const absent: Array<[string, string]> = [];
    for (const arn of [...new Set(providerArns)].sort()) {
      const match = PROVIDER_ARN.exec(arn);
      if (match === null || (await exists(arn, roleArn))) continue;
      const url = `https://${match[2]}`;
      if (!options.create) {
        throw new TargetError(
          `missing OIDC provider: the account has no IAM OIDC identity provider for ${url}, so IAM would refuse (and could not honour) the grant on ${roleArn}; nothing was written`,
          {
            retryable: false,
            remedies: [command(url), 'Or set aws.createOidcProviders: true to let this tool create it.'],
          },
        );
      }
      absent.push([arn, url]);
    }
    return absent;
  }

  return {
    async ensure(providerArns, roleArn) {
      const notes: string[] = [];
      for (const [arn, url] of await missing(providerArns, roleArn)) {
        const note = await create(arn, url, roleArn);
        if (note !== undefined) notes.push(note);
      }
      return notes;
    },
    forget(providerArns) {
      for (const arn of providerArns) known.delete(arn);
    },
    async check(providerArns, roleArn) {
      const absent = await missing(providerArns, roleArn);
      return absent.map(
        ([arn, url]) => `would create the IAM OIDC provider ${arn} for ${url} (client id sts.amazonaws.com)`,
      );
    },
  };
}

function command(url: string): string {
  return `aws iam create-open-id-connect-provider --url ${url} --client-id-list sts.amazonaws.com`;
}
