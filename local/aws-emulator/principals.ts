import { createHash } from 'node:crypto';

/**
 * What exists in the emulated IAM besides roles, and how IAM checks a trust policy against it:
 * - IAM OIDC identity providers per account: a `Principal.Federated` naming a missing one is refused with
 *   `MalformedPolicyDocument` "Invalid principal in policy", as IAM does (an IRSA grant is useless without one);
 * - principals outside the account that exist (Astro's workload identity roles): a `Principal.AWS` role ARN that is
 *   neither a role here nor one of them is refused the same way;
 * - a trusted role that is deleted shows in every policy as its unique id (`AROA...`).
 */

export interface OidcProvider {
  readonly arn: string;
  /** As IAM stores it: without `https://`. */
  readonly url: string;
  readonly clientIds: readonly string[];
  readonly thumbprints: readonly string[];
  readonly createDate: string;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Real role ids are `AROA` + 17 upper-case characters; deriving them from the ARN keeps runs deterministic. */
export function roleIdFor(arn: string): string {
  const digest = createHash('sha256').update(arn).digest();
  let id = 'AROA';
  for (let i = 0; i < 17; i++) id += ID_ALPHABET[(digest[i] ?? 0) % ID_ALPHABET.length];
  return id;
}

export function providerArn(accountId: string, url: string): string {
  return `arn:aws:iam::${accountId}:oidc-provider/${url.replace(/^https:\/\//, '')}`;
}

const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]+$/;
const OIDC_ARN = /^arn:aws:iam::(\d{12}):oidc-provider\/(.+)$/;

export class PrincipalRegistry {
  readonly #providers = new Map<string, OidcProvider>();
  readonly #external = new Set<string>();

  constructor(private readonly accountId: string) {}

  get account(): string {
    return this.accountId;
  }

  addProvider(url: string, clientIds: readonly string[] = ['sts.amazonaws.com'], thumbprints: readonly string[] = []) {
    const bare = url.replace(/^https:\/\//, '').replace(/\/$/, '');
    const provider: OidcProvider = {
      arn: providerArn(this.accountId, bare),
      url: bare,
      clientIds: [...clientIds],
      thumbprints: [...thumbprints],
      createDate: `${new Date().toISOString().slice(0, 19)}Z`,
    };
    this.#providers.set(provider.arn, provider);
    return provider;
  }

  deleteProvider(arn: string): boolean {
    return this.#providers.delete(arn);
  }

  provider(arn: string): OidcProvider | undefined {
    return this.#providers.get(arn);
  }

  get providers(): readonly OidcProvider[] {
    return [...this.#providers.values()];
  }

  addExternal(arn: string): void {
    this.#external.add(arn);
  }

  removeExternal(arn: string): void {
    this.#external.delete(arn);
  }

  /**
   * Why IAM would refuse this trust policy's principals, or undefined. `roleExists` answers for roles of the
   * emulated account; other accounts' roles exist only when registered as external.
   */
  problem(document: unknown, roleExists: (arn: string) => boolean): string | undefined {
    for (const statement of statementsOf(document)) {
      const principal = (statement as { Principal?: unknown }).Principal;
      if (typeof principal !== 'object' || principal === null) continue;
      const { Federated, AWS } = principal as { Federated?: unknown; AWS?: unknown };
      for (const federated of asList(Federated)) {
        const oidc = OIDC_ARN.exec(federated);
        if (oidc && oidc[1] === this.accountId && !this.#providers.has(federated)) {
          return `Invalid principal in policy: "FEDERATED":"${federated}"`;
        }
      }
      for (const aws of asList(AWS)) {
        // IAM shows a deleted role by its unique id but will not save a policy that still names one.
        if (/^AROA[A-Z0-9]{17}$/.test(aws)) return `Invalid principal in policy: "AWS":"${aws}"`;
        const role = ROLE_ARN.exec(aws);
        if (!role) continue;
        const exists = role[1] === this.accountId ? roleExists(aws) : this.#external.has(aws);
        if (!exists) return `Invalid principal in policy: "AWS":"${aws}"`;
      }
    }
    return undefined;
  }
}

function statementsOf(document: unknown): unknown[] {
  const statement = (document as { Statement?: unknown } | null)?.Statement;
  return Array.isArray(statement) ? statement : statement === undefined ? [] : [statement];
}

function asList(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.filter((v): v is string => typeof v === 'string');
}

/** Every `Principal.AWS` entry equal to `arn` replaced by `id`, as IAM shows a deleted role in policies. */
export function replacePrincipal(text: string, arn: string, id: string): string {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return text;
  }
  let changed = false;
  for (const statement of statementsOf(document)) {
    const principal = (statement as { Principal?: Record<string, unknown> }).Principal;
    if (typeof principal !== 'object' || principal === null || principal.AWS === undefined) continue;
    const swap = (p: unknown) => {
      if (p !== arn) return p;
      changed = true;
      return id;
    };
    principal.AWS = Array.isArray(principal.AWS) ? principal.AWS.map(swap) : swap(principal.AWS);
  }
  return changed ? JSON.stringify(document) : text;
}
