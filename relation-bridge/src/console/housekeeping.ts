import type { ConsoleAccounts } from '../auth/accounts';
import type { ActionState } from '../core/types';
import type { WebhookSecrets } from '../intake/webhook-secrets';
import type { Links } from '../links';
import type { Logger } from '../logging';
import type { ActionsRepository } from '../sync/actions-repository';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Finished: synced or skipped. Kept after that: failed and unmatched (the error log, for its own time), held. */
const PURGEABLE_STATES: readonly ActionState[] = ['synced', 'skipped'];
/** Held actions are still waiting for a re-authentication: they are never purged. */
const ERROR_LOG_PURGEABLE_STATES: readonly ActionState[] = ['failed', 'unmatched'];
/** One short transaction per batch, so that intake is never held up behind a long purge. */
const PURGE_BATCH = 2_000;

async function purgeAll(actions: ActionsRepository, states: readonly ActionState[], cutoff: number): Promise<number> {
  let purged = 0;
  for (;;) {
    const deleted = await actions.purge(states, cutoff, PURGE_BATCH);
    purged += deleted;
    if (deleted < PURGE_BATCH) return purged;
  }
}

export interface HousekeepingReport {
  pendingLinksRevoked: number;
  finishedPurged: number;
  errorLogPurged: number;
}

/**
 * The console's periodic chores: end expired sessions and stale sign-in counters, revoke
 * pending links abandoned before 完了 (so no authorisation lingers half-made), purge actions
 * older than RETENTION_DAYS (finished ones, and failed and unmatched ones from the error
 * log; held ones wait for their re-authentication), and re-read the
 * webhook secrets (another bridge instance may have changed them).
 */
export class ConsoleHousekeeping {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly deps: {
      actions: ActionsRepository;
      accounts: ConsoleAccounts;
      links: Links;
      webhookSecrets: WebhookSecrets;
      retentionDays: number;
      logger: Logger;
      now?: () => number;
    },
  ) {}

  async runOnce(): Promise<HousekeepingReport> {
    const { actions, accounts, links, webhookSecrets, retentionDays, logger } = this.deps;
    const now = (this.deps.now ?? Date.now)();
    await accounts.sweep();
    await webhookSecrets.load();
    const pendingLinksRevoked = await links.pending.sweepExpired();
    const cutoff = now - retentionDays * DAY_MS;
    const finishedPurged = await purgeAll(actions, PURGEABLE_STATES, cutoff);
    const errorLogPurged = await purgeAll(actions, ERROR_LOG_PURGEABLE_STATES, cutoff);
    if (finishedPurged + errorLogPurged > 0) {
      logger.info({ finishedPurged, errorLogPurged, retentionDays }, 'actions older than the retention removed');
    }
    return { pendingLinksRevoked, finishedPurged, errorLogPurged };
  }

  start(everyMs: number): void {
    const tick = () => {
      if (this.running !== null) return;
      this.running = this.runOnce()
        .catch((error: unknown) => this.deps.logger.error({ err: error }, 'console housekeeping failed'))
        .finally(() => {
          this.running = null;
        });
    };
    tick();
    this.timer = setInterval(tick, everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
