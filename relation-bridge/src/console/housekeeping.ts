import type { ConsoleAccounts } from '../auth/accounts';
import type { WebhookSecrets } from '../admin/webhook-secrets';
import type { LinksService } from '../links/service';
import type { Logger } from '../logging';
import type { Store } from '../store/store';

const DAY_MS = 24 * 60 * 60 * 1000;

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
      store: Store;
      accounts: ConsoleAccounts;
      links: LinksService;
      webhookSecrets: WebhookSecrets;
      retentionDays: number;
      logger: Logger;
      now?: () => number;
    },
  ) {}

  async runOnce(): Promise<HousekeepingReport> {
    const { store, accounts, links, webhookSecrets, retentionDays, logger } = this.deps;
    const now = (this.deps.now ?? Date.now)();
    await accounts.sweep();
    await webhookSecrets.load();
    const pendingLinksRevoked = await links.sweepExpiredPendingLinks();
    const cutoff = now - retentionDays * DAY_MS;
    const finishedPurged = await store.purgeFinishedBefore(cutoff);
    const errorLogPurged = await store.purgeErrorLogBefore(cutoff);
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
