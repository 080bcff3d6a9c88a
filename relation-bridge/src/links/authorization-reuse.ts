import type { Actor, Link, LinkTarget, SalesforceAuth } from '../core/types';
import { invalidOwner, linkError } from './linking-salesforce';
import type { LinkContext, LinkLifecycle } from './link-lifecycle';
import type { PendingLinks } from './pending-links';
import { isUserId } from './salesforce-ids';
import { listActiveUsers, type SalesforceUser } from './salesforce-users';

/** Who asks to see or reuse an authorisation. */
export interface AuthViewer {
  actor: Actor;
  isOwner: boolean;
  /** Whether the viewer is an admin of the inbox (owners are admins of every inbox). */
  administers(inboxId: string): boolean;
}

/** An authorisation the bridge holds, as an admin may see it (no tokens), with the links using it. */
export interface HeldAuthorization {
  auth: Omit<SalesforceAuth, 'accessToken' | 'refreshToken'>;
  links: Link[];
  /** False while one of its links needs re-authentication: reusing it would not sync. */
  usable: boolean;
}

export interface CreateLinkWithAuthInput {
  inboxId: string;
  inboxName?: string | null;
  authId: string;
  target: LinkTarget;
  defaultOwnerId?: string;
}

/**
 * Authorisations belong to people. One may be seen and reused (新しい認証を追加 not needed)
 * only by an owner of the bridge, the person who created it, or an admin of an inbox already
 * using it; to anyone else it does not exist (404, not 403: its existence is not revealed).
 */
export function mayUseAuthorization(viewer: AuthViewer, auth: SalesforceAuth, using: readonly Link[]): boolean {
  if (viewer.isOwner) return true;
  if (auth.createdBy?.kind === 'user' && viewer.actor.kind === 'user' && auth.createdBy.id === viewer.actor.id) {
    return true;
  }
  return using.some((link) => viewer.administers(link.inboxId));
}

/** Reusing an authorisation the bridge already holds for another inbox: no second Salesforce approval. */
export class AuthorizationReuse {
  constructor(
    private readonly context: LinkContext,
    private readonly lifecycle: LinkLifecycle,
    private readonly pendingLinks: PendingLinks,
  ) {}

  /** The authorisations this viewer may see and reuse. */
  async list(viewer: AuthViewer): Promise<HeldAuthorization[]> {
    const { store } = this.context;
    const links = await store.links.listLinks();
    return (await store.links.listAuths())
      .map((auth) => ({ auth, using: links.filter((link) => link.authId === auth.id) }))
      .filter(({ auth, using }) => mayUseAuthorization(viewer, auth, using))
      .map(({ auth: { accessToken: _access, refreshToken: _refresh, ...auth }, using }) => ({
        auth,
        links: using,
        usable: !using.some((link) => link.status === 'needs_reauth'),
      }));
  }

  /**
   * One API call proves the authorisation still works and the owner is active; then the
   * link is made in one unit of work, and the audit records the reuse and whose it was.
   */
  async createLink(input: CreateLinkWithAuthInput, viewer: AuthViewer): Promise<Link> {
    const { store, salesforce, logger } = this.context;
    const auth = await this.requireVisible(input.authId, viewer);
    const ownerId = input.defaultOwnerId ?? auth.userId;
    if (!isUserId(ownerId)) throw invalidOwner(ownerId);
    const existing = await store.links.getLinkForInbox(input.inboxId);
    if (existing !== null) throw linkError('link_exists', 'conflict', { inboxId: input.inboxId, linkId: existing.id });
    const sharing = await store.links.liveLinksOfAuth(auth.id);
    if (sharing.some((link) => link.status === 'needs_reauth')) {
      throw linkError('auth_needs_reauth', 'conflict', { authId: auth.id });
    }
    const { owner } = await salesforce.requireUsableAuth(auth, ownerId);
    const created = await store.transaction((tx) =>
      this.lifecycle.createIn(
        tx,
        auth,
        {
          inboxId: input.inboxId,
          inboxName: input.inboxName ?? null,
          target: input.target,
          defaultOwnerId: ownerId,
          defaultOwnerName: owner.name,
          defaultOwnerEmail: owner.email,
        },
        viewer.actor,
        { renewedAuth: false, reused: true },
      ),
    );
    created.afterCommit();
    logger.info(
      { linkId: created.link.id, inboxId: input.inboxId, authId: auth.id, by: viewer.actor.name },
      'link made with a reused authorisation',
    );
    return created.link;
  }

  /** Active users of the org behind a pending link, an authorisation or a link: the default owner's choices. */
  async listSalesforceUsers(
    source: { pendingLinkId: string } | { authId: string } | { linkId: string },
    viewer: AuthViewer,
  ): Promise<SalesforceUser[]> {
    const { salesforce } = this.context;
    if ('pendingLinkId' in source) {
      const pending = await this.pendingLinks.require(source.pendingLinkId);
      return salesforce.call(() =>
        listActiveUsers(salesforce.restClient(pending.instanceUrl, pending.accessToken, pending.orgId)),
      );
    }
    const auth =
      'authId' in source
        ? await this.requireVisible(source.authId, viewer)
        : await this.lifecycle.requireAuth(await this.lifecycle.requireLive(source.linkId));
    const api = salesforce.apiFor(auth);
    return salesforce.call(() => listActiveUsers(api));
  }

  private async requireVisible(authId: string, viewer: AuthViewer): Promise<SalesforceAuth> {
    const { store } = this.context;
    const auth = await store.links.getAuth(authId);
    if (auth === null || !mayUseAuthorization(viewer, auth, await store.links.liveLinksOfAuth(authId))) {
      throw linkError('auth_not_found', 'not_found', { authId });
    }
    return auth;
  }
}
