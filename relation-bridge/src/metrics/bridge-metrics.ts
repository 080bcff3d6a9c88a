import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LinksRepository } from '../links/links-repository';
import type { Logger } from '../logging';
import type { Store } from '../store/store';
import type { ActionsRepository } from '../sync/actions-repository';
import type { OrgRepository } from '../sync/org-repository';
import type { SyncEvents } from '../sync/sync-events';

/**
 * The bridge's Prometheus metrics (docs/operations.md lists them with example alerts).
 * Counters are counted where things happen (the intake's answers, the sync's events); the
 * state of the store (actions, backlog, API budgets, links) is read from it at each scrape,
 * so that every instance on a shared PostgreSQL reports the same totals.
 */

export interface MetricsOptions {
  store: Store<{ actions: ActionsRepository; orgs: OrgRepository; links: LinksRepository }>;
  /** SYNC_API_BUDGET_SHARE: the share of an org's daily API requests the bridge may use. */
  budgetShare: number;
  logger: Logger;
  now: () => number;
}

const DAY_MS = 24 * 60 * 60_000;
const PREFIX = 'relation_bridge_';

export class BridgeMetrics implements SyncEvents {
  readonly registry = new Registry();
  private readonly webhooks: Counter<'status'>;
  private readonly webhookAck: Histogram<'status'>;
  private readonly tokenRefreshes: Counter<'outcome'>;
  private readonly leaseReclaims: Counter;
  private readonly reauthIncidents: Counter;
  private readonly actions: Gauge<'state' | 'reason'>;
  private readonly backlogAge: Gauge;
  private readonly apiCalls: Gauge<'org_id'>;
  private readonly budgetUsed: Gauge<'org_id'>;
  private readonly orgApiUsage: Gauge<'org_id'>;
  private readonly orgPaused: Gauge<'org_id'>;
  private readonly links: Gauge<'status'>;
  private readonly storeUp: Gauge;

  constructor(private readonly options: MetricsOptions) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    this.webhooks = new Counter({
      name: `${PREFIX}webhooks_total`,
      help: 'Webhook deliveries answered, by HTTP status (202 accepted, 200 duplicate, 4xx refused, 503 not stored).',
      labelNames: ['status'],
      registers,
    });
    this.webhookAck = new Histogram({
      name: `${PREFIX}webhook_ack_seconds`,
      help: 'Time from a webhook request to its answer (a 202 is sent only once the action is committed).',
      labelNames: ['status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.tokenRefreshes = new Counter({
      name: `${PREFIX}token_refreshes_total`,
      help: 'Salesforce access-token refreshes, by outcome (refreshed, failed).',
      labelNames: ['outcome'],
      registers,
    });
    this.leaseReclaims = new Counter({
      name: `${PREFIX}lease_reclaims_total`,
      help: 'Actions claimed again after an earlier claim ended without an outcome (a crash, a lost answer).',
      registers,
    });
    this.reauthIncidents = new Counter({
      name: `${PREFIX}reauth_incidents_total`,
      help: 'Links moved to needs re-authentication because Salesforce refused their authorisation.',
      registers,
    });
    this.actions = new Gauge({
      name: `${PREFIX}actions`,
      help: 'Actions in the store, by state and reason (reason "none" when there is none).',
      labelNames: ['state', 'reason'],
      registers,
    });
    this.backlogAge = new Gauge({
      name: `${PREFIX}backlog_age_seconds`,
      help: 'Age of the oldest action waiting to sync (received, or pending and due); 0 when none waits.',
      registers,
    });
    this.apiCalls = new Gauge({
      name: `${PREFIX}salesforce_api_calls_24h`,
      help: 'API calls this bridge made to the org in the last 24 hours.',
      labelNames: ['org_id'],
      registers,
    });
    this.budgetUsed = new Gauge({
      name: `${PREFIX}salesforce_api_budget_used_ratio`,
      help: "The bridge's calls in the last 24 hours over its share of the org's daily API requests (1 = used up).",
      labelNames: ['org_id'],
      registers,
    });
    this.orgApiUsage = new Gauge({
      name: `${PREFIX}salesforce_org_api_usage_ratio`,
      help: "The org's own daily API usage as Salesforce last reported it (all clients, 1 = used up).",
      labelNames: ['org_id'],
      registers,
    });
    this.orgPaused = new Gauge({
      name: `${PREFIX}salesforce_org_paused`,
      help: '1 while syncing to the org is paused (API budget, REQUEST_LIMIT_EXCEEDED).',
      labelNames: ['org_id'],
      registers,
    });
    this.links = new Gauge({
      name: `${PREFIX}links`,
      help: 'Links by status (active, needs_reauth, disabled).',
      labelNames: ['status'],
      registers,
    });
    this.storeUp = new Gauge({
      name: `${PREFIX}store_up`,
      help: '1 when the store answered the last scrape, 0 when it did not (the store figures are then stale).',
      registers,
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** One answered webhook delivery, and how long its answer took. */
  webhookAnswered(status: number, seconds: number): void {
    this.webhooks.inc({ status: String(status) });
    this.webhookAck.observe({ status: String(status) }, seconds);
  }

  tokenRefreshed(outcome: 'refreshed' | 'failed'): void {
    this.tokenRefreshes.inc({ outcome });
  }

  leasesReclaimed(count: number): void {
    if (count > 0) this.leaseReclaims.inc(count);
  }

  reauthNeeded(links: number): void {
    if (links > 0) this.reauthIncidents.inc(links);
  }

  /** The text exposition, with the store's figures read now. */
  async exposition(): Promise<string> {
    try {
      await this.readStore();
      this.storeUp.set(1);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'metrics: the store did not answer');
      this.storeUp.set(0);
    }
    return this.registry.metrics();
  }

  private async readStore(): Promise<void> {
    const { store, now, budgetShare } = this.options;
    const at = now();
    const [byStateAndReason, oldest, links] = await Promise.all([
      store.actions.countByStateAndReason(),
      store.actions.oldestWaitingSince(at),
      store.links.listLinks(),
    ]);
    this.actions.reset();
    for (const row of byStateAndReason) this.actions.set({ state: row.state, reason: row.reason ?? 'none' }, row.count);
    this.backlogAge.set(oldest === null ? 0 : Math.max(0, (at - oldest) / 1000));

    this.links.reset();
    const byStatus = new Map<string, number>();
    for (const link of links) byStatus.set(link.status, (byStatus.get(link.status) ?? 0) + 1);
    for (const [status, count] of byStatus) this.links.set({ status }, count);

    const orgIds = [...new Set(links.map((link) => link.orgId))];
    const orgs = await Promise.all(
      orgIds.map(async (orgId) => ({
        orgId,
        state: await store.orgs.getState(orgId),
        calls: await store.orgs.countApiCalls(orgId, at - DAY_MS),
      })),
    );
    for (const gauge of [this.apiCalls, this.budgetUsed, this.orgApiUsage, this.orgPaused]) gauge.reset();
    for (const { orgId, state, calls } of orgs) {
      const labels = { org_id: orgId };
      this.apiCalls.set(labels, calls);
      this.orgPaused.set(labels, state.pausedUntil !== null && state.pausedUntil > at ? 1 : 0);
      if (state.apiMax !== null && state.apiMax > 0) {
        this.budgetUsed.set(labels, calls / Math.max(1, Math.floor(state.apiMax * budgetShare)));
        if (state.apiUsed !== null) this.orgApiUsage.set(labels, state.apiUsed / state.apiMax);
      }
    }
  }
}
