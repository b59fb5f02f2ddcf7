/**
 * Webhook ids handled across every instance of a function (AWS: an item per id in the lease table), where the
 * ReplayGuard remembers them per instance only. A claim comes first, so of two instances receiving one id at once only
 * one publishes; `done` keeps the id for the replay window; `release` forgets a claim whose publish failed, so the
 * sender's retry with the same id is processed.
 */
export interface ReplayRecord {
  claim(id: string): Promise<ReplayClaim>;
}

export type ReplayClaim =
  | { readonly state: 'claimed'; done(): Promise<void>; release(): Promise<void> }
  /** Handled (published) within the window: answer the duplicate answer, do nothing. */
  | { readonly state: 'duplicate' }
  /** Another instance is handling it right now: the sender should retry with the same id (503). */
  | { readonly state: 'in-flight' };
