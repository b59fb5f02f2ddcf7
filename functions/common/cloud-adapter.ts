import type { Config } from '../../shared/config.ts';
import { type IdentitySyncError, ValidationError } from '../../shared/errors.ts';
import type { ReplayRecord } from '../../shared/intake/replay-record.ts';
import type { TargetRegistration } from '../../shared/reconcile/target-kind.ts';
import type { Env, Settings } from './env-settings.ts';

/** Resolves a secret reference (`env:NAME`, `aws-sm:...`, `gcp-sm:...`, `azure-kv:...`) to its value; never logs it. */
export type SecretResolver = (ref: string, field: string) => Promise<string>;

/**
 * The one seam between the common cold start and a cloud: its SDK clients (built from the validated settings, never
 * from process.env), how it reads secrets, and how it classifies an SDK error that escaped a driver. An intake-only
 * function (the AWS webhook) uses this much; a function that writes also names its target kinds (CloudAdapter).
 */
export interface IntakeAdapter<Clients> {
  readonly cloud: 'aws' | 'gcp' | 'azure';
  clients(settings: Settings): Clients;
  secrets(clients: Clients, settings: Settings): SecretResolver;
  /** A typed error for what no driver explained (an SDK throttle, a lost connection), or undefined. */
  classify(error: unknown): IdentitySyncError | undefined;
  /** Releases the clients' sockets (the local stack closes instances; Lambda never does). */
  close?(clients: Clients): void;
  /** What this setup cannot guarantee, logged once as warnings at cold start. */
  coldStartWarnings?(clients: Clients): readonly string[];
  /** Webhook ids handled across instances (AWS with the lease table); without it, the per-instance ReplayGuard only. */
  replayRecord?(clients: Clients): ReplayRecord | undefined;
  /**
   * Loads the code every invocation of this setup runs beyond the start code (the chunks its clients load on first
   * use), so a cold start run ahead of the first invocation leaves it nothing to load (see functions/aws/init-phase.ts).
   */
  warm?(clients: Clients, settings: Settings): Promise<unknown>;
}

export interface CloudAdapter<Clients> extends IntakeAdapter<Clients> {
  /** The target kinds this cloud manages, each `registerKind(planner, io)` bound to the clients. */
  targets(clients: Clients, config: Config): readonly TargetRegistration[];
}

/** `env:NAME` on every cloud: the platform (Secret Manager mounts, Key Vault references) already put it there. */
export function envSecret(settings: Pick<Settings, 'env'>, ref: string, field: string): Promise<string> | undefined {
  if (!ref.startsWith('env:')) return undefined;
  const value = settings.env[ref.slice(4)];
  if (value === undefined || value.trim() === '') {
    return Promise.reject(new ValidationError(`secret ${ref} is empty or not set`, { field, code: 'invalid_config' }));
  }
  return Promise.resolve(value.trim());
}

/** A resolver for `env:` references alone; the cloud resolvers delegate those to it. */
export function envSecretResolver(env: Env): SecretResolver {
  return (ref, field) =>
    envSecret({ env }, ref, field) ??
    Promise.reject(
      new ValidationError(`"${ref.slice(0, ref.indexOf(':'))}:" is not an env: reference`, {
        field,
        code: 'invalid_config',
      }),
    );
}
