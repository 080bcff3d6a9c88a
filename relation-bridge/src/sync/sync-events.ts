/**
 * What the sync reports as it happens, for the metrics (metrics/bridge-metrics.ts). The sync
 * never depends on who listens.
 */
export interface SyncEvents {
  /** An access token was renewed with the refresh token, or the renewal failed (refused, or Salesforce unreachable). */
  tokenRefreshed(outcome: 'refreshed' | 'failed'): void;
  /** Claimed actions whose earlier claim never completed: a lease that ran out (a crash, a lost answer). */
  leasesReclaimed(count: number): void;
  /** Links that Salesforce's refusal moved to needs re-authentication. */
  reauthNeeded(links: number): void;
}

export const NO_SYNC_EVENTS: SyncEvents = {
  tokenRefreshed: () => undefined,
  leasesReclaimed: () => undefined,
  reauthNeeded: () => undefined,
};
