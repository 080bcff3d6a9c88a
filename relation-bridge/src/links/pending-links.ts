import type { Actor, Link, LinkTarget } from '../core/types';
import type { Identity } from '../salesforce/types';
import { invalidOwner, linkError, type LinkingFacts } from './linking-salesforce';
import type { NamedUser } from './links-repository';
import {
  type Grant,
  type LinkContext,
  type LinkLifecycle,
  pendingLinkAuth,
  type ReplacedGrant,
} from './link-lifecycle';
import type { OAuthFlow } from './oauth-flows-repository';
import type { PendingLink } from './pending-links-repository';
import { isUserId, sameSalesforceId } from './salesforce-ids';

export interface CompletePendingLinkInput {
  target: LinkTarget;
  /** Omitted: the user who authorised. */
  defaultOwnerId?: string;
}

const DEFAULT_PENDING_LINK_TTL_MS = 30 * 60 * 1000;

/**
 * The wizard's way to a link: Salesforce first, then the target. After the login and allow
 * pages the grant is kept (sealed) as a pending link; 完了 makes the link from it, 破棄 or
 * its expiry revokes it. Nothing syncs through a pending link.
 */
export class PendingLinks {
  private readonly ttlMs: number;

  constructor(
    private readonly context: LinkContext,
    private readonly lifecycle: LinkLifecycle,
    options: { ttlMs?: number } = {},
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_PENDING_LINK_TTL_MS;
  }

  /**
   * The wizard's callback: the grant is verified and kept, encrypted, until the admin chooses
   * the target. An inbox linked meanwhile (another tab, another admin) gets no draft: it could
   * never complete.
   */
  async keepFromGrant(
    flow: OAuthFlow,
    grant: Grant,
    identity: Identity,
    actor: Actor,
    facts: LinkingFacts | null = null,
  ): Promise<PendingLink> {
    const { store, salesforce, logger, now } = this.context;
    const refuse = async () => {
      await salesforce.revokeQuietly(flow.loginUrl, grant.refreshToken);
      return linkError('link_exists', 'conflict', { inboxId: flow.inboxId });
    };
    if ((await store.links.getLinkForInbox(flow.inboxId)) !== null) throw await refuse();
    const at = now();
    const verified = facts !== null && sameSalesforceId(facts.owner.id, identity.userId) ? facts.owner : null;
    const pending = await store.pendingLinks.save({
      inboxId: flow.inboxId,
      inboxName: flow.inboxName,
      orgId: identity.organizationId,
      orgName: facts?.org?.name ?? null,
      orgIsSandbox: facts?.org?.isSandbox ?? null,
      userId: identity.userId,
      username: identity.username,
      displayName: verified?.name ?? identity.displayName,
      userEmail: verified?.email ?? identity.email,
      instanceUrl: grant.instanceUrl,
      loginUrl: flow.loginUrl,
      environment: flow.environment,
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      scope: grant.scope,
      issuedAt: grant.issuedAt,
      createdBy: actor,
      createdAt: at,
      expiresAt: at + this.ttlMs,
    });
    // A link made while this was saved (its unit of work dropped the drafts it could see).
    if ((await store.links.getLinkForInbox(flow.inboxId)) !== null) {
      await store.pendingLinks.delete(pending.id);
      throw await refuse();
    }
    logger.info(
      { pendingLinkId: pending.id, inboxId: pending.inboxId, orgId: pending.orgId },
      'salesforce authorised; the link waits for its target',
    );
    return pending;
  }

  /** A pending link that has not expired, or null. */
  async get(id: string): Promise<PendingLink | null> {
    const pending = await this.context.store.pendingLinks.get(id);
    return pending === null || pending.expiresAt <= this.context.now() ? null : pending;
  }

  /** Pending links that have not expired and can still complete. */
  async list(inboxId?: string): Promise<PendingLink[]> {
    const now = this.context.now();
    const all = await this.context.store.pendingLinks.list(inboxId === undefined ? {} : { inboxId });
    return this.withoutStale(all.filter((pending) => pending.expiresAt > now));
  }

  /**
   * A draft whose inbox has a link can never complete (one link per inbox): it is revoked
   * and removed rather than offered next to the link. Making a link drops its inbox's drafts
   * in the same unit of work; this catches one saved by a callback that raced it.
   */
  private async withoutStale(pendings: PendingLink[]): Promise<PendingLink[]> {
    const { store, salesforce, logger } = this.context;
    if (pendings.length === 0) return pendings;
    const linked = new Set(
      (await store.links.liveLinksOfInboxes([...new Set(pendings.map((pending) => pending.inboxId))])).map(
        (link) => link.inboxId,
      ),
    );
    const live: PendingLink[] = [];
    for (const pending of pendings) {
      if (!linked.has(pending.inboxId)) {
        live.push(pending);
        continue;
      }
      if (await store.pendingLinks.delete(pending.id)) {
        const revoked = await salesforce.revokeQuietly(pending.loginUrl, pending.refreshToken);
        logger.info(
          { pendingLinkId: pending.id, inboxId: pending.inboxId, revoked },
          'pending link dropped: its inbox was linked meanwhile',
        );
      }
    }
    return live;
  }

  async require(id: string): Promise<PendingLink> {
    const pending = await this.get(id);
    if (pending === null) throw linkError('pending_link_not_found', 'not_found', { id });
    return pending;
  }

  /** 完了: the admin chose the target and the default owner; the pending link becomes the link, in one unit of work. */
  async complete(id: string, choice: CompletePendingLinkInput, actor: Actor): Promise<Link> {
    const { store, salesforce, now } = this.context;
    const pending = await this.require(id);
    const ownerId = choice.defaultOwnerId ?? pending.userId;
    if (!isUserId(ownerId)) throw invalidOwner(ownerId);
    if ((await store.links.getLinkForInbox(pending.inboxId)) !== null) {
      // Linked meanwhile (another tab or admin): this draft can never complete, so it goes.
      await this.withoutStale([pending]);
      throw linkError('link_exists', 'conflict', { inboxId: pending.inboxId });
    }
    const owner: NamedUser = sameSalesforceId(ownerId, pending.userId)
      ? { id: ownerId, name: pending.displayName, email: pending.userEmail }
      : await salesforce.requireActiveOwner(pending.instanceUrl, pending.accessToken, pending.orgId, ownerId);
    let replaced: ReplacedGrant | null = null;
    const created = await store.transaction(async (tx) => {
      if (!(await tx.pendingLinks.delete(pending.id))) throw linkError('pending_link_not_found', 'not_found', { id });
      replaced = await this.lifecycle.grantReplacedBy(tx, pending.orgId, pending.userId);
      const auth = await tx.links.saveAuth(pendingLinkAuth(pending), pending.createdBy, now());
      return this.lifecycle.createIn(
        tx,
        auth,
        {
          inboxId: pending.inboxId,
          inboxName: pending.inboxName,
          target: choice.target,
          defaultOwnerId: ownerId,
          defaultOwnerName: owner.name,
          defaultOwnerEmail: owner.email,
        },
        actor,
        { renewedAuth: true },
      );
    });
    created.afterCommit();
    await this.lifecycle.revokeReplaced(replaced, pending.refreshToken);
    return created.link;
  }

  /** 破棄: revokes the pending link's grant at Salesforce and forgets it. */
  async discard(id: string): Promise<{ revoked: boolean }> {
    const { store, salesforce, logger } = this.context;
    const pending = await store.pendingLinks.get(id);
    if (pending === null) throw linkError('pending_link_not_found', 'not_found', { id });
    const revoked = await salesforce.revokeQuietly(pending.loginUrl, pending.refreshToken);
    await store.pendingLinks.delete(id);
    logger.info({ pendingLinkId: id, inboxId: pending.inboxId, revoked }, 'pending link discarded');
    return { revoked };
  }

  /** Pending links abandoned past their expiry: revoked at Salesforce and removed. */
  async sweepExpired(): Promise<number> {
    const { store, salesforce, logger, now } = this.context;
    const expired = await store.pendingLinks.listExpired(now());
    for (const pending of expired) {
      const revoked = await salesforce.revokeQuietly(pending.loginUrl, pending.refreshToken);
      await store.pendingLinks.delete(pending.id);
      logger.info(
        { pendingLinkId: pending.id, inboxId: pending.inboxId, revoked },
        'abandoned pending link revoked and removed',
      );
    }
    return expired.length;
  }
}
