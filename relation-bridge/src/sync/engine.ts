import { newId } from '../core/ids';
import type { Link, MatchCandidate } from '../core/types';
import type { Logger } from '../logging';
import type { Classification, ReceivedAction } from './actions-repository';
import { classifyAction } from './classify';
import { HealthReporter } from './health';
import type { IntakePressure } from './intake-pressure';
import { LruCache } from './lru-cache';
import { OrgPipeline, type BatchReport, type PipelineSettings, type PipelineStore } from './org-pipeline';
import { PolicyCache } from './policies';
import { PolicyHolds } from './policy-holds';
import type { SalesforceSessions } from './sessions';
import { NO_SYNC_EVENTS, type SyncEvents } from './sync-events';

export interface EngineSettings extends PipelineSettings {
  syncedKinds: readonly string[];
  pollMs: number;
  /** Quiet time to wait for more actions before syncing; bounded by 4× itself. */
  lingerMs: number;
  matchCacheSize: number;
  matchCacheTtlMs: number;
  /** How long the link policies read from an org are trusted. */
  policyCacheMs: number;
  /** At most one sync health upsert per org in this time. */
  healthIntervalMs: number;
  /** How often actions left unmatched are matched again (0: never). */
  rematchIntervalMs: number;
  /** How far back (received) the unmatched actions of a rematch round go. */
  rematchWindowMs: number;
  /** Most unmatched actions per org per round. */
  rematchBatch: number;
}

const CLASSIFY_PAGE = 200;
/** Passes over the received actions per round; what a link change left received waits for the next round. */
const CLASSIFY_PASSES = 3;
/** The longest a kick waits, in linger times. */
const LINGER_BOUND = 4;

/**
 * Runs the sync: classifies received actions, then drives one pipeline per Salesforce org
 * (orgs in parallel, each org's batches in order). Woken by intake (debounced so that
 * actions arriving together are synced together) and by a poll for retries and pauses.
 */
export class SyncEngine {
  private readonly pipelines = new Map<string, OrgPipeline>();
  private readonly matchCache: LruCache<MatchCandidate[]>;
  private readonly ownerCache: LruCache<{ userId: string | null }>;
  private readonly policies: PolicyCache;
  private readonly policyHolds: PolicyHolds;
  private readonly health: HealthReporter;
  private healthFlush: Promise<number> | null = null;
  private readonly syncedKinds: ReadonlySet<string>;
  private readonly workerId: string;
  private pollTimer: NodeJS.Timeout | null = null;
  private lingerTimer: NodeJS.Timeout | null = null;
  private lingerStartedAt: number | null = null;
  private running: Promise<void> | null = null;
  private rerun = false;
  private nextRematchAt = 0;
  private stopped = true;

  constructor(
    private readonly deps: {
      store: PipelineStore;
      sessions: SalesforceSessions;
      settings: EngineSettings;
      logger: Logger;
      now?: () => number;
      random?: () => number;
      workerId?: string;
      /** Told of refreshes, reclaimed leases and re-authentication incidents (the metrics). */
      events?: SyncEvents;
      /** How the webhooks are answered: a backlog's batches leave more room while they are slow. */
      pressure?: IntakePressure;
    },
  ) {
    const { settings } = deps;
    this.matchCache = new LruCache(settings.matchCacheSize, settings.matchCacheTtlMs, this.now);
    this.ownerCache = new LruCache(settings.matchCacheSize, settings.matchCacheTtlMs, this.now);
    this.syncedKinds = new Set(settings.syncedKinds);
    this.workerId = deps.workerId ?? newId('worker');
    const { store, sessions, logger } = deps;
    this.policies = new PolicyCache({
      namespace: settings.namespace,
      ttlMs: settings.policyCacheMs,
      now: this.now,
      logger,
    });
    this.policyHolds = new PolicyHolds({
      store,
      sessions,
      policies: this.policies,
      policyTtlMs: settings.policyCacheMs,
      logger,
      now: this.now,
    });
    this.health = new HealthReporter({
      store,
      sessions,
      policies: this.policies,
      settings: { intervalMs: settings.healthIntervalMs, namespace: settings.namespace },
      logger,
      now: this.now,
    });
  }

  private readonly now = (): number => (this.deps.now ?? Date.now)();

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.pollTimer = setInterval(() => {
      if (this.lingerTimer === null) void this.tick();
    }, this.deps.settings.pollMs);
    this.pollTimer.unref();
    void this.tick();
  }

  /** Stops timers and waits for the batch in flight, whose outcome is then committed. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer !== null) clearInterval(this.pollTimer);
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    this.pollTimer = null;
    this.lingerTimer = null;
    await this.running;
    await this.healthFlush;
  }

  /**
   * New work arrived: sync after a quiet moment, at the latest 4× the linger time after the
   * first kick (2 s by default): under steady traffic a batch goes every 2 s, which keeps an
   * Event within seconds of its webhook while several actions share each API call.
   */
  kick(): void {
    if (this.stopped) return;
    const { lingerMs } = this.deps.settings;
    const at = this.now();
    this.lingerStartedAt ??= at;
    const latest = this.lingerStartedAt + lingerMs * LINGER_BOUND;
    const delay = Math.max(0, Math.min(lingerMs, latest - at));
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = null;
      this.lingerStartedAt = null;
      void this.tick();
    }, delay);
  }

  /** One pass: classify everything received, then drain every org with due actions. Single-flight. */
  tick(): Promise<void> {
    if (this.running !== null) {
      this.rerun = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.rerun = false;
          await this.pass();
          this.flushHealthInBackground();
        } while (this.rerun && !this.stopped);
      } catch (error) {
        this.deps.logger.error({ err: error }, 'sync pass failed; the next poll tries again');
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /**
   * For tests and the demo: passes until nothing is due now, then the sync health that is
   * due. Actions waiting for a backoff, a pause or a lease stay as they are.
   */
  async runUntilIdle(maxPasses = 50): Promise<BatchReport[]> {
    const reports: BatchReport[] = [];
    for (let pass = 0; pass < maxPasses; pass += 1) {
      const before = reports.length;
      await this.running;
      reports.push(...(await this.pass()));
      if (reports.length === before) break;
    }
    await this.healthFlush;
    await this.health.flushDue();
    return reports;
  }

  /** Health upserts wait on Salesforce; the next sync pass does not wait on them. */
  private flushHealthInBackground(): void {
    this.healthFlush = this.health.flushDue();
  }

  private async pass(): Promise<BatchReport[]> {
    await this.classifyReceived();
    await this.rematchUnmatched();
    await this.policyHolds.release();
    const orgIds = await this.deps.store.actions.orgsWithDueActions(this.now());
    const results = await Promise.all(orgIds.map((orgId) => this.pipeline(orgId).drain()));
    return results.flat();
  }

  private pipeline(orgId: string): OrgPipeline {
    let pipeline = this.pipelines.get(orgId);
    if (pipeline === undefined) {
      pipeline = new OrgPipeline(orgId, {
        store: this.deps.store,
        sessions: this.deps.sessions,
        settings: this.deps.settings,
        logger: this.deps.logger,
        now: this.now,
        random: this.deps.random ?? Math.random,
        workerId: this.workerId,
        matchCache: this.matchCache,
        ownerCache: this.ownerCache,
        policies: this.policies,
        policyHolds: this.policyHolds,
        health: this.health,
        events: this.deps.events ?? NO_SYNC_EVENTS,
        pressure: this.deps.pressure,
      });
      this.pipelines.set(orgId, pipeline);
    }
    return pipeline;
  }

  /**
   * Every SYNC_REMATCH_INTERVAL_MS, one instance (the one holding the round's lease) puts the
   * orgs' recently unmatched actions, up to SYNC_REMATCH_BATCH each, those waiting longest
   * first, back to pending, to be matched afresh in the next batch: a Contact or Lead created
   * since is found without anyone retrying, at a bounded cost (their look-ups share the batch's
   * calls). Those still without a record go back to unmatched.
   */
  private async rematchUnmatched(): Promise<void> {
    const { store, settings, logger } = this.deps;
    const at = this.now();
    if (settings.rematchIntervalMs <= 0 || at < this.nextRematchAt) return;
    this.nextRematchAt = at + settings.rematchIntervalMs;
    if (!(await store.orgs.acquireLease('rematch', this.workerId, settings.rematchIntervalMs, at))) return;
    const since = at - settings.rematchWindowMs;
    for (const orgId of await store.actions.orgsWithUnmatched(since)) {
      const requeued = await store.actions.requeueUnmatched(orgId, since, settings.rematchBatch, at);
      if (requeued > 0) logger.info({ orgId, requeued }, 'unmatched actions go to be matched again');
    }
  }

  /**
   * Classifies every received action, a page per transaction. It always makes progress: it
   * pages by cursor (never re-reading a row in one pass), and an action that cannot be
   * classified ends `failed` with its reason instead of being read again.
   */
  private async classifyReceived(): Promise<void> {
    for (let pass = 1; pass <= CLASSIFY_PASSES; pass += 1) {
      if (!(await this.classifyPass())) return;
    }
  }

  /**
   * One pass over the received actions. On PostgreSQL each page is read, locked (SKIP LOCKED:
   * instances share the work) and classified in one transaction. SQLite has one writer, and an
   * open transaction would make every webhook wait while the page is classified: the page is
   * read, classified, and the whole page applied in one statement, each action only if it is
   * still received and its inbox's link still the one it was classified against. Returns
   * whether some action was left received for that reason (another pass classifies it).
   */
  private async classifyPass(): Promise<boolean> {
    const { store, logger } = this.deps;
    const unit = <T>(work: (tx: Pick<typeof store, 'actions' | 'links'>) => Promise<T>): Promise<T> =>
      store.transactionsHoldAllWrites ? work(store) : store.transaction(work);
    let after: { receivedAt: number; rowKey: string | number } | null = null;
    let leftReceived = false;
    for (;;) {
      const page: ReceivedAction[] = await unit(async (tx) => {
        const received = await tx.actions.lockReceived(after, CLASSIFY_PAGE);
        if (received.length === 0) return received;
        const inboxIds = [...new Set(received.map((action) => action.inboxId))];
        const links = new Map<string, Link>(
          (await tx.links.liveLinksOfInboxes(inboxIds)).map((link) => [link.inboxId, link]),
        );
        const classifications = received.map((action): Classification => {
          const link = links.get(action.inboxId) ?? null;
          const seenLink = link === null ? null : `${link.id}:${link.status}`;
          try {
            return { ...classifyAction(action, link, this.syncedKinds), seenLink };
          } catch (error) {
            logger.error({ err: error, actionId: action.actionId }, 'an action could not be classified');
            return {
              rowKey: action.rowKey,
              state: 'failed' as const,
              reason: 'unreadable_action' as const,
              linkId: null,
              orgId: null,
              errorMessage: error instanceof Error ? error.message : String(error),
              seenLink,
            };
          }
        });
        const applied = await tx.actions.applyClassifications(classifications, this.now());
        if (applied < classifications.length) leftReceived = true;
        return received;
      });
      const last = page[page.length - 1];
      if (page.length < CLASSIFY_PAGE || last === undefined) return leftReceived;
      after = { receivedAt: last.receivedAt, rowKey: last.rowKey };
    }
  }
}
