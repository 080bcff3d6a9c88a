import type { ActionReason, Link, StoredAction } from '../core/types';
import type { Logger } from '../logging';
import type { LinksRepository } from '../links/links-repository';
import type { Store } from '../store/store';
import type { ActionsRepository } from './actions-repository';
import { PACKAGE_PROBLEMS } from '../salesforce/package-access';
import { applyPolicy, type PolicyCache } from './policies';
import type { SalesforceSessions } from './sessions';

const PAGE = 500;
/** After a failed policy read, the next try waits this long (or the cache TTL, if shorter). */
const FAILED_READ_RETRY_MS = 60_000;

/** Holds that a later look at the org's Salesforce side lifts. */
const POLICY_HOLDS: readonly ActionReason[] = ['disabled_in_salesforce'];
const PACKAGE_HOLDS: readonly ActionReason[] = PACKAGE_PROBLEMS;

/**
 * Brings back the actions held for what the org's Salesforce side said: held actions are
 * never claimed, so nothing else would look at it again. Held as `disabled_in_salesforce`,
 * they go back to pending and sync once a later read of the org's policy finds the inbox
 * active (or its record gone, or the package removed); held as `package_missing` or
 * `field_access_missing`, once a later check of the link's authorisation finds the
 * package's fields writable (the package installed, the permission set assigned). The
 * checks are the policy cache's, renewed at most once per TTL. Which links have such
 * actions is known in memory, and after a restart from the store.
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

  /** Re-queues the held actions of every inbox whose hold is lifted; returns how many. Never throws. */
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
      this.deps.logger.error(
        { err: error },
        'could not look at actions held by a link policy or for the package; trying again later',
      );
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
    // One look per authorisation: the org's policies, and its user's access to the package.
    for (const link of links) {
      const stale = !policies.isFresh(orgId) || !policies.accessIsFresh(link.authId);
      if (stale && link.status === 'active' && now() >= (this.nextReadAt.get(link.authId) ?? 0)) {
        await this.read(orgId, link.authId);
      }
    }
    const current = policies.current(orgId);
    let released = 0;
    for (const link of links) {
      const policyAllows = current !== undefined && applyPolicy(link, current).active;
      const packageWritable = policies.accessOf(link.authId)?.state === 'ok';
      const lifted = [...(policyAllows ? POLICY_HOLDS : []), ...(packageWritable ? PACKAGE_HOLDS : [])];
      if (lifted.length === 0) continue;
      const count = await this.deps.store.actions.resumeHeld(link.id, now(), lifted);
      if (policyAllows && packageWritable) linkIds.delete(link.id);
      released += count;
      if (count > 0) {
        logger.info(
          { orgId, inboxId: link.inboxId, linkId: link.id, actions: count, lifted },
          'Salesforce allows the inbox again (its link policy, the package and its fields): its held actions sync now',
        );
      }
    }
    return released;
  }

  private async read(orgId: string, authId: string): Promise<void> {
    const { store, sessions, policies, logger, now, policyTtlMs } = this.deps;
    this.nextReadAt.set(authId, now() + Math.min(policyTtlMs, FAILED_READ_RETRY_MS));
    const auth = await store.links.getAuth(authId);
    if (auth === null) return;
    try {
      await policies.refresh(sessions.clientFor(auth), orgId, auth);
    } catch (error) {
      logger.warn(
        { orgId, authId, message: error instanceof Error ? error.message : String(error) },
        'the link policies and the package access could not be read; held actions wait for the next try',
      );
    }
  }

  /** Links with actions held by a policy or for the package, from the store (after a restart). */
  private async load(): Promise<void> {
    let before: { updatedAt: number; actionId: string } | undefined;
    for (;;) {
      const page: StoredAction[] = await this.deps.store.actions.list({
        states: ['held'],
        reasons: [...POLICY_HOLDS, ...PACKAGE_HOLDS],
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
