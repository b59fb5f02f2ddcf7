import { PrincipalRegistry, replacePrincipal, roleIdFor } from './principals.ts';

export const DEFAULT_ACCOUNT_ID = '123456789012';
export const DEFAULT_TRUST_POLICY_QUOTA = 2048;

export interface StoredRole {
  roleName: string;
  path: string;
  accountId: string;
  roleId: string;
  arn: string;
  createDate: string;
  description?: string;
  maxSessionDuration: number;
  /** The trust policy exactly as last written (IAM keeps the caller's formatting). */
  documentText: string;
}

/** One PutEvents entry as accepted by the emulated bus. */
export interface EventEntry {
  EventBusName?: string;
  Source: string;
  DetailType: string;
  Detail: string;
  /** ISO 8601; the SDK sends `Time` as epoch seconds on the wire. */
  Time?: string;
  Resources?: string[];
  /** The EventId PutEvents answered; EventBridge uses it as the event's `id` when a rule delivers it. */
  EventId?: string;
}

interface RoleInit {
  path?: string;
  accountId?: string;
  description?: string;
  maxSessionDuration?: number;
}

/** Normalises a path the way IAM stores it: leading and trailing slash. */
function normalisePath(path: string | undefined): string {
  if (path === undefined || path === '' || path === '/') return '/';
  return `/${path.replace(/^\/+|\/+$/g, '')}/`;
}

/** In-memory IAM roles. Role names are unique case-insensitively, as in IAM ("not distinguished by case"). */
export class IamState {
  readonly #roles = new Map<string, StoredRole>();
  readonly principals = new PrincipalRegistry(DEFAULT_ACCOUNT_ID);
  /** IAM actions answered with AccessDenied, as for a function role without the permission. */
  readonly denied = new Set<string>();
  quota: number;

  constructor(quota: number) {
    this.quota = quota;
  }

  /** Any role of the emulated account by ARN (a role named in a policy by its ARN must exist). */
  hasRoleArn(arn: string): boolean {
    for (const role of this.#roles.values()) if (role.arn === arn) return true;
    return false;
  }

  /** Deletes a role; every policy that trusted it now shows its unique id instead, as IAM does. */
  deleteRole(roleName: string): void {
    const role = this.require(roleName);
    this.#roles.delete(roleName.toLowerCase());
    this.showAsDeleted(role.arn, role.roleId);
  }

  /** An external principal (another account's role) deleted: policies show its unique id from now on. */
  deleteExternal(arn: string): string {
    const id = roleIdFor(arn);
    this.principals.removeExternal(arn);
    this.showAsDeleted(arn, id);
    return id;
  }

  private showAsDeleted(arn: string, id: string): void {
    for (const role of this.#roles.values()) role.documentText = replacePrincipal(role.documentText, arn, id);
  }

  get roleCount(): number {
    return this.#roles.size;
  }

  find(roleName: string): StoredRole | undefined {
    return this.#roles.get(roleName.toLowerCase());
  }

  /** Creates or replaces a role. Test setup may store documents real IAM would reject (no validation here). */
  put(roleName: string, documentText: string, init: RoleInit = {}): StoredRole {
    const accountId = init.accountId ?? DEFAULT_ACCOUNT_ID;
    const path = normalisePath(init.path);
    const arn = `arn:aws:iam::${accountId}:role${path}${roleName}`;
    const role: StoredRole = {
      roleName,
      path,
      accountId,
      roleId: roleIdFor(arn),
      arn,
      // IAM reports whole seconds.
      createDate: `${new Date().toISOString().slice(0, 19)}Z`,
      maxSessionDuration: init.maxSessionDuration ?? 3600,
      documentText,
    };
    if (init.description !== undefined) role.description = init.description;
    this.#roles.set(roleName.toLowerCase(), role);
    return role;
  }

  require(roleName: string): StoredRole {
    const role = this.find(roleName);
    if (!role) throw new Error(`aws-emulator: no role named ${roleName}`);
    return role;
  }
}

/** Accepts an object or a JSON string and returns the text to store. */
export function documentToText(document: unknown): string {
  return typeof document === 'string' ? document : JSON.stringify(document);
}
