import { TOKEN_ACTOR } from '../auth/access';
import { BridgeError } from '../core/errors';
import type { Actor, Link, LinkTarget, SalesforceAuth, SfEnvironment } from '../core/types';
import type { Logger } from '../logging';
import type { Identity, TokenResponse } from '../salesforce/types';
import type { Store } from '../store/store';
import type { ActionsRepository } from '../sync/actions-repository';
import type { OrgRepository } from '../sync/org-repository';
import type { AuditRepository, LinkAuditEntry } from './audit-repository';
import {
  invalidOwner,
  linkError,
  type LinkingFacts,
  type LinkingSalesforce,
  type OrgFacts,
} from './linking-salesforce';
import { LinkConflictError, type LinksRepository, type NamedUser, type NewSalesforceAuth } from './links-repository';
import type { OAuthFlowsRepository } from './oauth-flows-repository';
import type { PendingLink, PendingLinksRepository } from './pending-links-repository';
import { isUserId, sameSalesforceId } from './salesforce-ids';

/** What the links feature keeps: links and authorisations, flows, pending links, the audit, and the actions they move. */
export interface LinkRepositories {
  links: LinksRepository;
  oauthFlows: OAuthFlowsRepository;
  pendingLinks: PendingLinksRepository;
  audit: AuditRepository;
  actions: ActionsRepository;
  orgs: OrgRepository;
}

export type LinksStore = Store<LinkRepositories>;

/** A token response that carried a refresh token, as a link needs. */
export type Grant = TokenResponse & { refreshToken: string };

export interface LinkContext {
  store: LinksStore;
  salesforce: LinkingSalesforce;
  logger: Logger;
  now: () => number;
  /**
   * Called after an authorisation got new tokens from a fresh grant, so that whoever caches
   * sessions drops the old ones.
   */
  onReauthorized: (authId: string) => void;
}

/** Where a new authorisation came from: the flow that obtained it. */
export interface GrantSource {
  loginUrl: string;
  environment: SfEnvironment;
}

export interface NewLinkInput {
  inboxId: string;
  inboxName: string | null;
  target: LinkTarget;
  defaultOwnerId: string;
  /** The default owner's name and email, when Salesforce told them. */
  defaultOwnerName?: string | null;
  defaultOwnerEmail?: string | null;
}

export interface LinkChanges {
  target?: LinkTarget;
  defaultOwnerId?: string;
}

export interface DeleteLinkResult {
  link: Link;
  /** Whether the refresh token was revoked at Salesforce by this deletion. */
  revoked: boolean;
  /** Why it was not revoked, when it was not. */
  revokeSkipped: 'already_deleted' | 'auth_shared' | 'revoke_failed' | null;
  /** Actions that were waiting and now wait for the inbox's next link. */
  heldActions: number;
  message: string;
}

/** How a Salesforce user reads for people: `name <email>`, or whichever of them is known; null for neither. */
export function userLabel(user: { name: string | null; email: string | null } | null): string | null {
  if (user === null) return null;
  if (user.name !== null && user.email !== null) return `${user.name} <${user.email}>`;
  return user.name ?? user.email;
}

/** A refresh token the store held for an org and user until a fresh grant replaced it. */
export interface ReplacedGrant {
  loginUrl: string;
  refreshToken: string;
}

/** What a fresh grant tells about the authorisation, as the store keeps it. */
export function authFields(
  source: GrantSource,
  tokens: Grant,
  identity: Identity,
  org: OrgFacts | null = null,
): NewSalesforceAuth {
  return {
    orgId: identity.organizationId,
    orgName: org?.name ?? null,
    orgIsSandbox: org?.isSandbox ?? null,
    userId: identity.userId,
    username: identity.username,
    displayName: identity.displayName,
    instanceUrl: tokens.instanceUrl,
    loginUrl: source.loginUrl,
    environment: source.environment,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    scope: tokens.scope,
    issuedAt: tokens.issuedAt,
  };
}

export function pendingLinkAuth(pending: PendingLink): NewSalesforceAuth {
  return {
    orgId: pending.orgId,
    orgName: pending.orgName,
    orgIsSandbox: pending.orgIsSandbox,
    userId: pending.userId,
    username: pending.username,
    displayName: pending.displayName,
    instanceUrl: pending.instanceUrl,
    loginUrl: pending.loginUrl,
    environment: pending.environment,
    accessToken: pending.accessToken,
    refreshToken: pending.refreshToken,
    scope: pending.scope,
    issuedAt: pending.issuedAt,
  };
}

/**
 * A link's life: made (from a fresh grant, a pending link, or a reused authorisation),
 * re-authorised, changed and deleted. Each of these is one unit of work, so a link is never
 * half-made: the authorisation, the link, its audit entry, and the actions it takes over or
 * resumes commit together or not at all. Salesforce is asked before or after, never inside.
 */
export class LinkLifecycle {
  constructor(private readonly context: LinkContext) {}

  /**
   * Saves the grant's authorisation and makes the link in one transaction. When the inbox is
   * linked meanwhile, nothing is saved and the grant is revoked.
   */
  async createFromGrant(
    source: GrantSource,
    input: NewLinkInput,
    grant: Grant,
    identity: Identity,
    actor: Actor,
    facts: LinkingFacts | null = null,
  ): Promise<{ link: Link; resumedActions: number }> {
    const { store, salesforce, now } = this.context;
    let replaced: ReplacedGrant | null = null;
    try {
      const created = await store.transaction(async (tx) => {
        replaced = await this.grantReplacedBy(tx, identity.organizationId, identity.userId);
        const auth = await tx.links.saveAuth(authFields(source, grant, identity, facts?.org ?? null), actor, now());
        return this.createIn(tx, auth, input, actor, { renewedAuth: true });
      });
      created.afterCommit();
      await this.revokeReplaced(replaced, grant.refreshToken);
      return created;
    } catch (error) {
      if (isLinkExists(error)) await salesforce.revokeQuietly(source.loginUrl, grant.refreshToken);
      throw error;
    }
  }

  /**
   * Inside a unit of work: makes the link for `auth`, audits it, hands it the actions held
   * for the inbox's deleted link, drops the inbox's other pending links (they can no longer
   * complete), and, when the grant renewed a shared authorisation, resumes its other links.
   * `afterCommit` is for the caller to run once the transaction committed: it logs, revokes
   * the dropped pending links' grants and drops cached sessions.
   */
  async createIn(
    tx: LinkRepositories,
    auth: SalesforceAuth,
    input: NewLinkInput,
    actor: Actor,
    options: { renewedAuth: boolean; reused?: boolean },
  ): Promise<{ link: Link; resumedActions: number; afterCommit: () => void }> {
    const at = this.context.now();
    let link: Link;
    try {
      link = await tx.links.createLink({ ...input, authId: auth.id, createdAt: at });
    } catch (error) {
      if (error instanceof LinkConflictError) {
        const existing = await tx.links.getLinkForInbox(input.inboxId);
        throw linkError('link_exists', 'conflict', { inboxId: input.inboxId, linkId: existing?.id ?? null });
      }
      throw error;
    }
    await tx.audit.add({
      inboxId: link.inboxId,
      linkId: link.id,
      at,
      actor,
      event: 'created',
      changes: {
        orgId: { from: null, to: link.orgId, toLabel: link.orgName },
        authorizedUsername: { from: null, to: link.authorizedUsername },
        environment: { from: null, to: link.environment },
        target: { from: null, to: link.target },
        defaultOwnerId: {
          from: null,
          to: link.defaultOwnerId,
          toLabel: userLabel({ name: link.defaultOwnerName, email: link.defaultOwnerEmail }),
        },
        ...(options.reused === true
          ? { reusedAuthorization: { from: null, to: `${auth.username} (${auth.createdBy?.name ?? 'unknown'})` } }
          : {}),
      },
    });
    const adopted = await tx.actions.adoptHeld(link.inboxId, link.id, link.orgId, at);
    const abandoned = await tx.pendingLinks.deleteOfInbox(link.inboxId);
    const resumed = options.renewedAuth ? await this.reactivateLinksOfAuth(tx, auth.id, link.id) : 0;
    const afterCommit = () => {
      this.context.logger.info(
        {
          linkId: link.id,
          inboxId: link.inboxId,
          orgId: link.orgId,
          userId: link.authorizedUserId,
          environment: link.environment,
          target: link.target,
          adoptedActions: adopted,
        },
        'link created',
      );
      for (const pending of abandoned) {
        void this.context.salesforce.revokeQuietly(pending.loginUrl, pending.refreshToken);
      }
      if (options.renewedAuth) this.context.onReauthorized(auth.id);
    };
    return { link, resumedActions: resumed + adopted, afterCommit };
  }

  /**
   * A fresh grant for a link that needs it. The same org is required; another user of the
   * org may take over (the one who authorised may have left): the link moves to that user's
   * authorisation, a default owner who was the previous user becomes the new one, and the
   * audit says so.
   */
  async renewFromGrant(
    linkId: string,
    source: GrantSource,
    grant: Grant,
    identity: Identity,
    actor: Actor,
    facts: LinkingFacts | null = null,
  ): Promise<{ link: Link; resumedActions: number }> {
    const { store, now, logger } = this.context;
    let replaced: ReplacedGrant | null = null;
    const result = await store.transaction(async (tx) => {
      const before = await tx.links.getLink(linkId);
      if (before === null || before.status === 'deleted') throw linkError('link_not_found', 'not_found', { linkId });
      const at = now();
      replaced = await this.grantReplacedBy(tx, identity.organizationId, identity.userId);
      const auth = await tx.links.saveAuth(authFields(source, grant, identity, facts?.org ?? null), actor, at);
      const changes: LinkAuditEntry['changes'] = {};
      let previousAuthId: string | null = null;
      if (auth.id !== before.authId) {
        previousAuthId = before.authId;
        const ownerFollows = sameSalesforceId(before.defaultOwnerId, before.authorizedUserId);
        const owner: NamedUser = ownerFollows
          ? sameSalesforceId(facts?.owner.id ?? '', auth.userId)
            ? (facts as LinkingFacts).owner
            : { id: auth.userId, name: identity.displayName, email: identity.email }
          : { id: before.defaultOwnerId, name: before.defaultOwnerName, email: before.defaultOwnerEmail };
        await tx.links.reassignAuth(linkId, auth, owner, at);
        changes.authorizedUsername = { from: before.authorizedUsername, to: auth.username };
        if (ownerFollows) {
          changes.defaultOwnerId = {
            from: before.defaultOwnerId,
            to: auth.userId,
            fromLabel: userLabel({ name: before.defaultOwnerName, email: before.defaultOwnerEmail }),
            toLabel: userLabel(owner),
          };
        }
      }
      const resumedActions = await this.reactivateLinksOfAuth(tx, auth.id, null);
      const link = (await tx.links.getLink(linkId)) as Link;
      await tx.audit.add({
        inboxId: link.inboxId,
        linkId: link.id,
        at,
        actor,
        event: 'reauthorized',
        changes: {
          status: { from: before.status, to: link.status },
          ...changes,
          resumedActions: { from: null, to: resumedActions },
        },
      });
      const previousStillUsed =
        previousAuthId === null ? true : (await tx.links.liveLinksOfAuth(previousAuthId)).length > 0;
      return { link, resumedActions, authId: auth.id, retired: previousStillUsed ? null : previousAuthId };
    });
    this.context.onReauthorized(result.authId);
    logger.info(
      { linkId, inboxId: result.link.inboxId, orgId: result.link.orgId, resumedActions: result.resumedActions },
      'link re-authorised',
    );
    await this.revokeReplaced(replaced, grant.refreshToken);
    if (result.retired !== null) await this.retireAuth(result.retired);
    return { link: result.link, resumedActions: result.resumedActions };
  }

  /**
   * Changes the target or the default owner in place. With `expectedVersion` (the version the
   * admin's page showed), a link changed meanwhile by someone else is not overwritten: 409.
   */
  async update(
    linkId: string,
    changes: LinkChanges,
    actor: Actor = TOKEN_ACTOR,
    expectedVersion?: number,
  ): Promise<Link> {
    const { store, salesforce, now, logger } = this.context;
    if (changes.defaultOwnerId !== undefined && !isUserId(changes.defaultOwnerId)) {
      throw invalidOwner(changes.defaultOwnerId);
    }
    const link = await this.requireLive(linkId);
    // A stale page is refused before Salesforce is asked anything.
    if (expectedVersion !== undefined && link.version !== expectedVersion) throw linkChanged(link, expectedVersion);
    let newOwner: NamedUser | null = null;
    if (changes.defaultOwnerId !== undefined && !sameSalesforceId(changes.defaultOwnerId, link.defaultOwnerId)) {
      newOwner = await salesforce.checkOwnerIfPossible(
        await store.links.getAuth(link.authId),
        link.orgId,
        changes.defaultOwnerId,
      );
    }
    const patch: Parameters<LinksRepository['updateLink']>[1] = {};
    if (changes.target !== undefined) patch.target = changes.target;
    if (changes.defaultOwnerId !== undefined) patch.defaultOwnerId = changes.defaultOwnerId;
    if (newOwner !== null) {
      patch.defaultOwnerName = newOwner.name;
      patch.defaultOwnerEmail = newOwner.email;
    }
    const updated = await store.transaction(async (tx) => {
      const at = now();
      const before = await tx.links.getLink(linkId);
      const result = await tx.links.updateLink(linkId, patch, at, expectedVersion);
      if (result === null || before === null) {
        throw linkChanged(before ?? link, expectedVersion);
      }
      const changed: LinkAuditEntry['changes'] = {};
      if (before.target !== result.target) changed.target = { from: before.target, to: result.target };
      if (before.defaultOwnerId !== result.defaultOwnerId) {
        changed.defaultOwnerId = {
          from: before.defaultOwnerId,
          to: result.defaultOwnerId,
          fromLabel: userLabel({ name: before.defaultOwnerName, email: before.defaultOwnerEmail }),
          toLabel: userLabel({ name: result.defaultOwnerName, email: result.defaultOwnerEmail }),
        };
      }
      if (Object.keys(changed).length > 0) {
        await tx.audit.add({ inboxId: result.inboxId, linkId, at, actor, event: 'changed', changes: changed });
      }
      return result;
    });
    logger.info({ linkId, inboxId: updated.inboxId, changes: patch }, 'link changed');
    return updated;
  }

  /**
   * Marks the link deleted (later actions of its inbox are recorded as no_link; those it was
   * still holding wait for the inbox's next link), then revokes the refresh token unless
   * another link still uses the same authorisation. A failed revoke does not undo the
   * deletion; the result says so.
   */
  async delete(linkId: string, actor: Actor = TOKEN_ACTOR): Promise<DeleteLinkResult> {
    const { store, now, logger } = this.context;
    const outcome = await store.transaction(async (tx) => {
      const link = await tx.links.getLink(linkId);
      if (link === null) throw linkError('link_not_found', 'not_found', { linkId });
      if (link.status === 'deleted') return { link, deleted: null };
      const at = now();
      const deleted = await tx.links.setLinkStatus(linkId, 'deleted', 'deleted by an admin', at);
      const heldActions = await tx.actions.holdForDeletedLink(linkId, at);
      await tx.audit.add({
        inboxId: link.inboxId,
        linkId,
        at,
        actor,
        event: 'deleted',
        changes: {
          status: { from: link.status, to: 'deleted' },
          target: { from: link.target, to: null },
          defaultOwnerId: { from: link.defaultOwnerId, to: null },
        },
      });
      const sharing = (await tx.links.liveLinksOfAuth(link.authId)).length;
      return { link, deleted, heldActions, sharing };
    });
    if (outcome.deleted === null) {
      return {
        link: outcome.link,
        revoked: false,
        revokeSkipped: 'already_deleted',
        heldActions: 0,
        message: 'The link was already deleted.',
      };
    }
    const { link, deleted, heldActions, sharing } = outcome;
    logger.info({ linkId, inboxId: link.inboxId, orgId: link.orgId, heldActions }, 'link deleted');
    const base = { link: deleted, heldActions };
    if (sharing > 0) {
      return {
        ...base,
        revoked: false,
        revokeSkipped: 'auth_shared',
        message: `The link was deleted. Its Salesforce authorisation is kept because ${sharing} other link(s) use it.`,
      };
    }
    const revoked = await this.retireAuth(link.authId);
    if (revoked === null) {
      return {
        ...base,
        revoked: false,
        revokeSkipped: 'revoke_failed',
        message: 'The link was deleted; its authorisation was already gone.',
      };
    }
    if (revoked) {
      return {
        ...base,
        revoked: true,
        revokeSkipped: null,
        message: 'The link was deleted and its Salesforce authorisation revoked.',
      };
    }
    return {
      ...base,
      revoked: false,
      revokeSkipped: 'revoke_failed',
      message:
        'The link was deleted and the bridge no longer holds its tokens, but Salesforce could not be told to revoke them. ' +
        'Revoke the app for this user in Salesforce (Setup → Connected Apps OAuth Usage) to be sure.',
    };
  }

  /**
   * The grant a fresh one replaces: the store keeps one authorisation per org and user, and a
   * new grant of the same user takes its place (inside the unit of work that saves it).
   */
  async grantReplacedBy(tx: LinkRepositories, orgId: string, userId: string): Promise<ReplacedGrant | null> {
    const existing = (await tx.links.listAuths()).find((auth) => auth.orgId === orgId && auth.userId === userId);
    return existing === undefined ? null : { loginUrl: existing.loginUrl, refreshToken: existing.refreshToken };
  }

  /**
   * Revokes, once the new grant is saved, the refresh token it replaced: nothing holds it any
   * more, and alive it would stay one of the user's five approvals of the app at Salesforce,
   * bringing closer the sixth, which silently revokes the oldest.
   */
  async revokeReplaced(replaced: ReplacedGrant | null, kept: string): Promise<void> {
    if (replaced === null || replaced.refreshToken === kept) return;
    await this.context.salesforce.revokeQuietly(replaced.loginUrl, replaced.refreshToken);
  }

  async requireLive(linkId: string): Promise<Link> {
    const link = await this.context.store.links.getLink(linkId);
    if (link === null) throw linkError('link_not_found', 'not_found', { linkId });
    if (link.status === 'deleted') throw linkError('link_deleted', 'conflict', { linkId });
    return link;
  }

  async requireAuth(link: Link): Promise<SalesforceAuth> {
    const auth = await this.context.store.links.getAuth(link.authId);
    if (auth === null) {
      throw new BridgeError('permanent', `The authorisation of link ${link.id} is missing.`, { code: 'auth_missing' });
    }
    return auth;
  }

  /**
   * An authorisation no link uses any more: revoked at Salesforce and forgotten. Null when
   * it was gone already; otherwise whether Salesforce confirmed the revocation.
   */
  private async retireAuth(authId: string): Promise<boolean | null> {
    const { store, salesforce } = this.context;
    const auth = await store.links.getAuth(authId);
    if (auth === null) return null;
    const revoked = await salesforce.revokeQuietly(auth.loginUrl, auth.refreshToken);
    try {
      await store.links.deleteAuth(authId);
    } catch (error) {
      // A link made meanwhile uses it again: keep it.
      if (!(error instanceof BridgeError && error.code === 'auth_in_use')) throw error;
    }
    return revoked;
  }

  /** Links of the authorisation that wait for re-authentication become active, and their held actions resume. */
  private async reactivateLinksOfAuth(
    tx: LinkRepositories,
    authId: string,
    exceptLinkId: string | null,
  ): Promise<number> {
    const at = this.context.now();
    let resumed = 0;
    for (const link of await tx.links.liveLinksOfAuth(authId)) {
      if (link.id === exceptLinkId || link.status === 'disabled') continue;
      if (link.status !== 'active') await tx.links.setLinkStatus(link.id, 'active', null, at);
      resumed += await tx.actions.resumeHeld(link.id, at);
    }
    return resumed;
  }
}

/** 409 `link_changed`: the page the change was made on showed an older version of the link. */
function linkChanged(current: Link, expectedVersion: number | undefined): BridgeError {
  return linkError('link_changed', 'conflict', { linkId: current.id, version: current.version, expectedVersion });
}

function isLinkExists(error: unknown): boolean {
  return error instanceof BridgeError && error.code === 'link_exists';
}
