import { ValidationError } from '../../shared/errors.ts';
import { envSecretResolver, type SecretResolver } from './cloud-adapter.ts';
import type { Env } from './env-settings.ts';

/** A read that failed in a way its message explains (never with the value or a token); `retryable` when transient. */
export class SecretReadError extends Error {
  constructor(
    message: string,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'SecretReadError';
  }
}

/** One cloud's secret store behind a reference scheme (`gcp-sm:`, `azure-kv:`). */
export interface SecretStore<Ref> {
  readonly cloud: string;
  /** `gcp-sm:`, `azure-kv:`. */
  readonly scheme: string;
  /** The accepted form, for messages. */
  readonly form: string;
  parse(ref: string): Ref | undefined;
  /** What identifies one secret (version included), for the cache. */
  key(ref: Ref): string;
  read(ref: Ref): Promise<string>;
}

/**
 * The resolver of a cloud with its own store: `env:` references from the environment, the store's own scheme read
 * through it, anything else a config error that says what to use. Each value is read once per resolver (per cold
 * start) and concurrent resolves of one secret share the call; a failure is not cached, so a later call may read it
 * once the cause is fixed.
 */
export function secretResolver<Ref>(env: Env, store: SecretStore<Ref>): SecretResolver {
  const fromEnv = envSecretResolver(env);
  const cache = new Map<string, Promise<string>>();
  return async (ref, field) => {
    if (ref.startsWith('env:')) return fromEnv(ref, field);
    if (!ref.startsWith(store.scheme)) {
      const scheme = ref.includes(':') ? `"${ref.slice(0, ref.indexOf(':'))}:" references` : 'plain values';
      throw new ValidationError(`${scheme} are not available on ${store.cloud}; use env:NAME or ${store.form}`, {
        field,
        code: 'invalid_config',
      });
    }
    const parsed = store.parse(ref);
    if (parsed === undefined) throw new ValidationError(`must be ${store.form}`, { field, code: 'invalid_config' });
    const key = store.key(parsed);
    let pending = cache.get(key);
    if (pending === undefined) {
      pending = store.read(parsed);
      cache.set(key, pending);
      pending.catch(() => cache.delete(key));
    }
    try {
      return await pending;
    } catch (error) {
      if (error instanceof SecretReadError) {
        throw new ValidationError(`cannot read secret ${ref}: ${error.message}`, { field, code: 'invalid_config' });
      }
      throw error;
    }
  };
}
