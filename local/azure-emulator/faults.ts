import { SeededRoller } from '../seeded-roller.ts';

/** Operation names used in the call log and in `AzureFaults.ops`; `getSecret` is a Key Vault read. */
type AzureOp = 'list' | 'get' | 'createOrUpdate' | 'delete' | 'getSecret';

export const WRITE_OPS: ReadonlySet<string> = new Set<AzureOp>(['createOrUpdate', 'delete']);
/** Operations that consume `sequence`: the writes, and Key Vault reads (a cold start makes only a handful). */
const SCRIPTED_OPS: ReadonlySet<string> = new Set<AzureOp>(['createOrUpdate', 'delete', 'getSecret']);

/** Fault injection settings. `setFaults` replaces them as a whole; `setFaults({})` clears everything. */
export interface AzureFaults {
  /** Added to every response; a write holds its identity's write slot for this long, so overlaps are observable. */
  latencyMs?: number;
  /** 0..1: answer 429 `TooManyRequests` with a Retry-After header. */
  throttleRate?: number;
  /** Retry-After seconds on 429 (and 503); default 1. 0 lets tests see the client retry immediately. */
  retryAfterSeconds?: number;
  /** 0..1: answer a server error (see `serverErrorStatus`). */
  serverErrorRate?: number;
  /** 500 `InternalServerError` (default) or 503 `ServiceUnavailable` with Retry-After. */
  serverErrorStatus?: 500 | 503;
  /**
   * Scripted outcomes of the next writes (createOrUpdate/delete) and Key Vault reads (getSecret), narrowed further by
   * `ops`, consumed in order before the rates apply. 'conflict' answers the 409
   * ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity (writes only; a Key Vault read ignores it).
   */
  sequence?: Array<InjectedFault | 'ok'>;
  /** Restrict injection to these operations (e.g. `['createOrUpdate']`). Default: all. */
  ops?: string[];
  /**
   * Accept and never answer: matching requests are read, logged with status 0 and left open without a reply (the
   * operation is not performed) until the client gives up or the emulator closes. `true`: every request; a list:
   * only these operations (e.g. `['list']`).
   */
  hang?: true | string[];
  /** Reseed the fault RNG when these faults are installed (default: the emulator's `seed` option). */
  seed?: number;
}

export type InjectedFault = 'throttle' | 'server-error' | 'conflict';

export class AzureFaultInjector {
  #faults: AzureFaults = {};
  #sequence: Array<InjectedFault | 'ok'> = [];
  #dice: SeededRoller;

  constructor(private readonly defaultSeed: number) {
    this.#dice = new SeededRoller(defaultSeed);
  }

  set(faults: AzureFaults): void {
    this.#faults = { ...faults };
    this.#sequence = [...(faults.sequence ?? [])];
    // Reseeding on every install makes a scenario reproducible regardless of earlier traffic.
    this.#dice.reseed(faults.seed ?? this.defaultSeed);
  }

  get latencyMs(): number {
    return Math.max(0, this.#faults.latencyMs ?? 0);
  }

  get retryAfterSeconds(): number {
    return Math.max(0, this.#faults.retryAfterSeconds ?? 1);
  }

  get serverErrorStatus(): 500 | 503 {
    return this.#faults.serverErrorStatus ?? 500;
  }

  /** Whether this request is left without an answer (see `AzureFaults.hang`). */
  hangs(op: string): boolean {
    const { hang } = this.#faults;
    return hang === true || hang?.includes(op) === true;
  }

  pick(op: string): InjectedFault | undefined {
    const { ops } = this.#faults;
    if (ops !== undefined && !ops.includes(op)) return undefined;
    if (SCRIPTED_OPS.has(op)) {
      const scripted = this.#sequence.shift();
      if (scripted !== undefined) return scripted === 'ok' ? undefined : scripted;
    }
    if (this.#dice.roll(this.#faults.throttleRate)) return 'throttle';
    if (this.#dice.roll(this.#faults.serverErrorRate)) return 'server-error';
    return undefined;
  }
}
