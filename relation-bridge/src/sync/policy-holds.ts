import type { Link, StoredAction } from '../core/types';
import type { Logger } from '../logging';
import type { LinksRepository } from '../links/links-repository';
import type { Store } from '../store/store';
import type { ActionsRepository } from './actions-repository';
import { runLookups } from './lookups';
import { applyPolicy, type PolicyCache } from './policies';
import type { SalesforceSessions } from './sessions';

const PAGE = 500;
/** After a failed policy read, the next try waits this long (or the cache TTL, if shorter). */
const FAILED_READ_RETRY_MS = 60_000;

/**
 * Brings back the actions held as `disabled_in_salesforce`: held actions are never claimed,
 * so nothing else would look at the policy again. Once a later read of the org's policy
 * finds the inbox active (or its record gone, or the package removed), the inbox's held
 * actions go back to pending and sync. Which links have such actions is known in memory,
 * and after a restart from the store.
 */
export class PolicyHolds {
  private readonly linksByOrg = new Map<string, Set<string>>();
  private readonly nextReadAt = new Map<string, number>();
  private loaded = false;

  constructor(
    private readonly deps: {
      store: Store<{ actions: ActionsRepository; links: LinksRepository }>;
      sessions: SalesforceSessions;
      policies: PolicyCache;
      policyTtlMs: number;
      logger: Logger;
      now: () => number;
    },
  ) {}

  add(orgId: string, linkId: string): void {
    let links = this.linksByOrg.get(orgId);
    if (links === undefined) {
      links = new Set();
      this.linksByOrg.set(orgId, links);
    }
    links.add(linkId);
  }

  /** Re-queues the held actions of every inbox whose policy is active again; returns how many. Never throws. */
  async release(): Promise<number> {
    try {
      if (!this.loaded) await this.load();
      let released = 0;
      for (const [orgId, linkIds] of this.linksByOrg) {
        released += await this.releaseOrg(orgId, linkIds);
        if (linkIds.size === 0) this.linksByOrg.delete(orgId);
      }
      return released;
    } catch (error) {
      this.deps.logger.error({ err: error }, 'could not look at actions held by a link policy; trying again later');
      return 0;
    }
  }

  private async releaseOrg(orgId: string, linkIds: Set<string>): Promise<number> {
    const { store, policies, logger, now } = this.deps;
    const links: Link[] = [];
    for (const linkId of linkIds) {
      const link = await store.links.getLink(linkId);
      // A deleted link's held actions are the link deletion's business.
      if (link === null || link.status === 'deleted') linkIds.delete(linkId);
      else links.push(link);
    }
    if (links.length === 0) return 0;
    if (!policies.isFresh(orgId) && now() >= (this.nextReadAt.get(orgId) ?? 0)) await this.read(orgId, links);
    const current = policies.current(orgId);
    if (current === undefined) return 0;
    let released = 0;
    for (const link of links) {
      if (!applyPolicy(link, current).active) continue;
      const count = await this.requeue(link.id);
      linkIds.delete(link.id);
      released += count;
      logger.info(
        { orgId, inboxId: link.inboxId, linkId: link.id, actions: count },
        'the Salesforce link policy allows the inbox again: its held actions sync now',
      );
    }
    return released;
  }

  private async read(orgId: string, links: Link[]): Promise<void> {
    const { store, sessions, policies, logger, now, policyTtlMs } = this.deps;
    this.nextReadAt.set(orgId, now() + Math.min(policyTtlMs, FAILED_READ_RETRY_MS));
    const link = links.find((l) => l.status === 'active');
    const auth = link === undefined ? null : await store.links.getAuth(link.authId);
    if (auth === null) return;
    try {
      const api = sessions.clientFor(auth);
      await runLookups((queries) => api.queryManySettled(queries), [policies.lookupFor(orgId)]);
    } catch (error) {
      logger.warn(
        { orgId, message: error instanceof Error ? error.message : String(error) },
        'the link policies could not be read; held actions wait for the next try',
      );
    }
  }

  private requeue(linkId: string): Promise<number> {
    return this.deps.store.actions.resumeHeld(linkId, this.deps.now(), ['disabled_in_salesforce']);
  }

  /** Links with actions held by a policy, from the store (after a restart). */
  private async load(): Promise<void> {
    let before: { updatedAt: number; actionId: string } | undefined;
    for (;;) {
      const page: StoredAction[] = await this.deps.store.actions.list({
        states: ['held'],
        reasons: ['disabled_in_salesforce'],
        limit: PAGE,
        ...(before === undefined ? {} : { before }),
      });
      for (const action of page) {
        if (action.orgId !== null && action.linkId !== null) this.add(action.orgId, action.linkId);
      }
      const last = page[page.length - 1];
      if (page.length < PAGE || last === undefined) break;
      before = { updatedAt: last.updatedAt, actionId: last.actionId };
    }
    this.loaded = true;
  }
}
