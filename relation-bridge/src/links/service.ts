import { randomBytes } from 'node:crypto';
import { TOKEN_ACTOR } from '../auth/access';
import { BridgeError, isBridgeError } from '../core/errors';
import type {
  ActionState,
  Link,
  LinkTarget,
  OAuthPending,
  OAuthPurpose,
  OrgState,
  SalesforceAuth,
  SfEnvironment,
} from '../core/types';
import type { Logger } from '../logging';
import type { OAuthClient } from '../salesforce/oauth-client';
import { SalesforceRestClient } from '../salesforce/rest-client';
import type { Identity, SalesforceApi, SObjectRecord, TokenResponse } from '../salesforce/types';
import type { Actor, LinkAuditEntry, OAuthFlowMode, OAuthInitiator, PendingLink } from '../store/console-store';
import { LinkConflictError, type NewLink, type NewSalesforceAuth, type Store } from '../store/store';
import { type CustomHostPolicy, isLoopbackHost, type LoginUrls, resolveLoginUrl } from './login-host';
import { linkErrorText } from './messages';
import { isUserId, sameSalesforceId } from './salesforce-ids';
import { listActiveUsers, type SalesforceUser } from './salesforce-users';

export interface LinksServiceOptions {
  store: Store;
  oauth: OAuthClient;
  loginUrls: LoginUrls;
  /** e.g. "66.0"; used for the API-access check made before a link is saved. */
  apiVersion: string;
  logger: Logger;
  now?: () => number;
  /** How long an authorisation started with startLink/startReauth may be completed. */
  pendingTtlMs?: number;
  requestTimeoutMs?: number;
  /**
   * Which custom (My Domain) login hosts are accepted. By default Salesforce's domains, and
   * loopback hosts only when the configured production login URL is itself on loopback,
   * i.e. when the bridge runs against the local org.
   */
  customHosts?: CustomHostPolicy;
  /**
   * Called after an authorisation got new tokens from a fresh grant (re-authentication, or
   * the same user linking another inbox), so that whoever caches sessions drops the old ones.
   */
  onReauthorized?: (authId: string) => void;
  /**
   * A Salesforce client for an authorisation that refreshes its token safely alongside the
   * sync engine (the engine's sessions). Without it, only the stored access token is used.
   */
  salesforceFor?: (auth: SalesforceAuth) => SalesforceApi;
  /** How long a pending link (authorised, target not chosen yet) waits before it is revoked. */
  pendingLinkTtlMs?: number;
}

/** Who starts an OAuth flow, and the console session it must come back to (null: none). */
export interface FlowInitiator {
  actor: Actor;
  sessionHash: string | null;
}

const SCRIPT_INITIATOR: FlowInitiator = { actor: TOKEN_ACTOR, sessionHash: null };

export interface StartPendingLinkInput {
  inboxId: string;
  inboxName?: string | null;
  environment: SfEnvironment;
  myDomain?: string;
}

export interface CompletePendingLinkInput {
  target: LinkTarget;
  /** Omitted: the user who authorised. */
  defaultOwnerId?: string;
}

export interface CreateLinkWithAuthInput {
  inboxId: string;
  inboxName?: string | null;
  authId: string;
  target: LinkTarget;
  defaultOwnerId?: string;
}

/** An authorisation the bridge holds, as an admin may see it (no tokens), with the links using it. */
export interface HeldAuthorization {
  auth: Omit<SalesforceAuth, 'accessToken' | 'refreshToken'>;
  links: Link[];
  /** False while one of its links needs re-authentication: reusing it would not sync. */
  usable: boolean;
}

export interface StartLinkInput {
  inboxId: string;
  inboxName?: string | null;
  environment: SfEnvironment;
  myDomain?: string;
  target: LinkTarget;
  defaultOwnerId?: string | null;
}

export interface AuthorizationStart {
  authorizeUrl: string;
  state: string;
  /** ms epoch after which the callback is refused. */
  expiresAt: number;
}

export interface CallbackInput {
  state?: string | undefined;
  code?: string | undefined;
  error?: string | undefined;
  errorDescription?: string | undefined;
  /** Hash of the console session the callback request carries (null: none). */
  sessionHash?: string | null;
}

export interface LinkCallbackResult {
  kind: 'link';
  link: Link;
  /** true for a new link, false for a re-authentication. */
  created: boolean;
  purpose: OAuthPurpose;
  /** Held actions moved back to pending (re-authentication, or a new grant for a shared user). */
  resumedActions: number;
  initiator: OAuthInitiator | null;
}

export interface PendingLinkCallbackResult {
  kind: 'pending_link';
  pendingLink: PendingLink;
  initiator: OAuthInitiator | null;
}

export type CallbackResult = LinkCallbackResult | PendingLinkCallbackResult;

/** What the callback page needs to know about a flow before completing it. */
export interface FlowPeek {
  mode: OAuthFlowMode;
  inboxId: string;
  /** Started from a console session: the browser goes back into the console. */
  fromConsole: boolean;
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
  message: string;
}

export interface InboxHealth {
  inboxId: string;
  link: Link | null;
  status: Link['status'] | 'not_linked';
  /** The last 24 hours; `counts` are of this inbox's actions that changed in it, by state. */
  window: { since: number; until: number };
  counts: Record<ActionState, number>;
  org: (OrgState & { bridgeApiCallsLast24h: number }) | null;
  lastSyncAt: number | null;
  problems: Array<{ code: string; message: string }>;
}

/** A token response that carried a refresh token, as a link needs. */
type Grant = TokenResponse & { refreshToken: string };

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_PENDING_TTL_MS = 10 * 60 * 1000;
const DEFAULT_PENDING_LINK_TTL_MS = 30 * 60 * 1000;
/** The OAuth flow of a pending link needs a target column; the admin chooses the real one afterwards. */
const TARGET_CHOSEN_LATER: LinkTarget = 'contact_then_lead';

/** Salesforce's answers that mean "this org or this user may not use the API". */
const API_ACCESS_ERROR_CODES = new Set([
  'API_DISABLED_FOR_ORG',
  'API_CURRENTLY_DISABLED',
  'FUNCTIONALITY_NOT_ENABLED',
  'INSUFFICIENT_ACCESS',
  'INSUFFICIENT_ACCESS_OR_READONLY',
  'INSUFFICIENT_PRIVILEGES',
]);

function isActiveUserAmong(users: SObjectRecord[], userId: string): boolean {
  const user = users.find((candidate) => sameSalesforceId(candidate.Id, userId));
  return user !== undefined && user.IsActive !== false;
}

function linkError(code: string, httpStatus: number, details?: unknown, cause?: unknown): BridgeError {
  return new BridgeError('bad_input', linkErrorText(code).en, { code, httpStatus, details, cause });
}

function invalidOwner(ownerId: string): BridgeError {
  return linkError('invalid_owner_id', 400, [
    { path: 'defaultOwnerId', message: `"${ownerId}" must be a 15- or 18-character User id starting with 005` },
  ]);
}

/**
 * Inbox → Salesforce org links, created and renewed through the OAuth 2.0 web-server flow
 * (PKCE + state). Nothing reaches the store before Salesforce has shown that the org and
 * the user can use the API, and a link is never half-made: a failed callback saves
 * nothing and revokes the token it just obtained.
 */
export class LinksService {
  private readonly store: Store;
  private readonly oauth: OAuthClient;
  private readonly loginUrls: LoginUrls;
  private readonly apiVersion: string;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly pendingTtlMs: number;
  private readonly requestTimeoutMs: number;
  private readonly customHosts: CustomHostPolicy;
  private readonly onReauthorized: (authId: string) => void;
  private readonly salesforceFor: ((auth: SalesforceAuth) => SalesforceApi) | null;
  private readonly pendingLinkTtlMs: number;

  constructor(options: LinksServiceOptions) {
    this.store = options.store;
    this.oauth = options.oauth;
    this.loginUrls = options.loginUrls;
    this.apiVersion = options.apiVersion;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.pendingTtlMs = options.pendingTtlMs ?? DEFAULT_PENDING_TTL_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.onReauthorized = options.onReauthorized ?? (() => undefined);
    this.salesforceFor = options.salesforceFor ?? null;
    this.pendingLinkTtlMs = options.pendingLinkTtlMs ?? DEFAULT_PENDING_LINK_TTL_MS;
    this.customHosts = options.customHosts ?? {
      allowLoopback: isLoopbackHost(new URL(options.loginUrls.production).hostname),
    };
  }

  async startLink(input: StartLinkInput, initiator: FlowInitiator = SCRIPT_INITIATOR): Promise<AuthorizationStart> {
    if (input.defaultOwnerId != null && !isUserId(input.defaultOwnerId)) throw invalidOwner(input.defaultOwnerId);
    const loginUrl = resolveLoginUrl(input.environment, input.myDomain, this.loginUrls, this.customHosts);
    await this.refuseSecondLink(input.inboxId);
    return this.beginAuthorization('link', initiator, {
      purpose: 'link',
      inboxId: input.inboxId,
      inboxName: input.inboxName ?? null,
      environment: input.environment,
      loginUrl,
      target: input.target,
      defaultOwnerId: input.defaultOwnerId ?? null,
      linkId: null,
    });
  }

  /**
   * The wizard's way: Salesforce first, then the target. After the login and allow pages the
   * callback keeps the authorisation as a pending link; `completePendingLink` makes the link.
   */
  async startPendingLink(input: StartPendingLinkInput, initiator: FlowInitiator): Promise<AuthorizationStart> {
    const loginUrl = resolveLoginUrl(input.environment, input.myDomain, this.loginUrls, this.customHosts);
    await this.refuseSecondLink(input.inboxId);
    return this.beginAuthorization('pending_link', initiator, {
      purpose: 'link',
      inboxId: input.inboxId,
      inboxName: input.inboxName ?? null,
      environment: input.environment,
      loginUrl,
      target: TARGET_CHOSEN_LATER,
      defaultOwnerId: null,
      linkId: null,
    });
  }

  /** Renews the authorisation of a link that needs it (or rotates an active one). */
  async startReauth(linkId: string, initiator: FlowInitiator = SCRIPT_INITIATOR): Promise<AuthorizationStart> {
    const link = await this.requireLiveLink(linkId);
    if (link.status !== 'needs_reauth' && link.status !== 'active') {
      throw new BridgeError(
        'bad_input',
        `The link is ${link.status}; only an active link or one that needs re-authentication can be re-authorised.`,
        {
          code: 'link_not_reauthorizable',
          httpStatus: 409,
          details: { linkId, status: link.status },
        },
      );
    }
    const auth = await this.requireAuth(link);
    return this.beginAuthorization('reauth', initiator, {
      purpose: 'reauth',
      inboxId: link.inboxId,
      inboxName: link.inboxName,
      environment: auth.environment,
      loginUrl: auth.loginUrl,
      target: link.target,
      defaultOwnerId: link.defaultOwnerId,
      linkId: link.id,
    });
  }

  /** Who started the flow with this state, without consuming anything. */
  async peekFlow(state: string | undefined): Promise<FlowPeek | null> {
    if (state === undefined || state === '') return null;
    const initiator = await this.store.console.getOAuthInitiator(state, this.now());
    return initiator === null
      ? null
      : { mode: initiator.mode, inboxId: initiator.inboxId, fromConsole: initiator.sessionHash !== null };
  }

  async completeCallback(input: CallbackInput): Promise<CallbackResult> {
    const now = this.now();
    const pending = input.state ? await this.store.takeOAuthPending(input.state, now) : null;
    const initiator = input.state ? await this.store.console.takeOAuthInitiator(input.state, now) : null;
    if (initiator?.sessionHash != null && initiator.sessionHash !== input.sessionHash) {
      // Bound to the console session that started it: a callback completed in another
      // browser (or after signing out) must not attach someone's Salesforce user to the inbox.
      this.logger.warn(
        { inboxId: initiator.inboxId, mode: initiator.mode },
        'oauth callback from another session refused',
      );
      throw linkError('session_mismatch', 400, { inboxId: initiator.inboxId });
    }
    if (input.error !== undefined && input.error !== '') {
      this.logger.info(
        { oauthError: input.error, purpose: pending?.purpose, inboxId: pending?.inboxId },
        'salesforce did not authorise the link',
      );
      if (input.error === 'access_denied') throw linkError('access_denied', 400);
      throw linkError('authorization_failed', 400, {
        salesforceError: input.error,
        salesforceDescription: input.errorDescription ?? null,
      });
    }
    if (pending === null) throw linkError('invalid_state', 400);
    if (input.code === undefined || input.code === '') throw linkError('invalid_callback', 400);

    const tokens = await this.exchangeCode(pending, input.code);
    let identity: Identity;
    try {
      if (tokens.refreshToken === null) throw linkError('no_refresh_token', 400);
      identity = await this.oauth.identity(tokens.identityUrl, tokens.accessToken);
      if (pending.purpose === 'reauth') await this.checkSameOrgAndUser(pending, identity);
      const ownerId = pending.defaultOwnerId ?? identity.userId;
      await this.verifyApiAccess(tokens, identity, ownerId);
    } catch (error) {
      await this.revokeQuietly(pending.loginUrl, tokens.refreshToken ?? tokens.accessToken);
      throw error;
    }
    const grant = { ...tokens, refreshToken: tokens.refreshToken as string };
    const actor = initiator?.actor ?? TOKEN_ACTOR;
    if (pending.purpose === 'reauth') return this.renewLinkFromGrant(pending, grant, identity, actor, initiator);
    if (initiator?.mode === 'pending_link') return this.keepPendingLink(pending, grant, identity, actor, initiator);
    return this.createLinkFromGrant(pending, grant, identity, actor, initiator);
  }

  async updateLink(linkId: string, changes: LinkChanges, actor: Actor = TOKEN_ACTOR): Promise<Link> {
    if (changes.defaultOwnerId !== undefined && !isUserId(changes.defaultOwnerId)) {
      throw invalidOwner(changes.defaultOwnerId);
    }
    const link = await this.requireLiveLink(linkId);
    if (changes.defaultOwnerId !== undefined && !sameSalesforceId(changes.defaultOwnerId, link.defaultOwnerId)) {
      await this.checkOwnerIfPossible(link, changes.defaultOwnerId);
    }
    const patch: LinkChanges = {};
    if (changes.target !== undefined) patch.target = changes.target;
    if (changes.defaultOwnerId !== undefined) patch.defaultOwnerId = changes.defaultOwnerId;
    const updated = await this.store.updateLink(linkId, patch, this.now());
    this.logger.info({ linkId, inboxId: updated.inboxId, changes: patch }, 'link changed');
    const changed: LinkAuditEntry['changes'] = {};
    if (link.target !== updated.target) changed.target = { from: link.target, to: updated.target };
    if (link.defaultOwnerId !== updated.defaultOwnerId) {
      changed.defaultOwnerId = { from: link.defaultOwnerId, to: updated.defaultOwnerId };
    }
    if (Object.keys(changed).length > 0) await this.audit(updated, actor, 'changed', changed);
    return updated;
  }

  /**
   * Marks the link deleted (later actions of its inbox are recorded as no_link), then
   * revokes the refresh token unless another link still uses the same authorisation.
   * A failed revoke does not undo the deletion; the result says so.
   */
  async deleteLink(linkId: string, actor: Actor = TOKEN_ACTOR): Promise<DeleteLinkResult> {
    const link = await this.store.getLink(linkId);
    if (link === null) throw linkError('link_not_found', 404, { linkId });
    if (link.status === 'deleted') {
      return { link, revoked: false, revokeSkipped: 'already_deleted', message: 'The link was already deleted.' };
    }
    const now = this.now();
    const deleted = await this.store.setLinkStatus(linkId, 'deleted', 'deleted by an admin', now);
    // Held actions can no longer sync; handed back to the engine, they are recorded as no_link.
    await this.store.resumeHeldActions(linkId, now);
    this.logger.info({ linkId, inboxId: link.inboxId, orgId: link.orgId }, 'link deleted');
    await this.audit(link, actor, 'deleted', {
      status: { from: link.status, to: 'deleted' },
      target: { from: link.target, to: null },
      defaultOwnerId: { from: link.defaultOwnerId, to: null },
    });

    const sharing = await this.linksOfAuth(link.authId);
    if (sharing.length > 0) {
      return {
        link: deleted,
        revoked: false,
        revokeSkipped: 'auth_shared',
        message: `The link was deleted. Its Salesforce authorisation is kept because ${sharing.length} other link(s) use it.`,
      };
    }
    const auth = await this.store.getAuth(link.authId);
    if (auth === null) {
      return {
        link: deleted,
        revoked: false,
        revokeSkipped: 'revoke_failed',
        message: 'The link was deleted; its authorisation was already gone.',
      };
    }
    const revoked = await this.revokeQuietly(auth.loginUrl, auth.refreshToken);
    await this.store.deleteAuth(auth.id);
    if (revoked) {
      return {
        link: deleted,
        revoked: true,
        revokeSkipped: null,
        message: 'The link was deleted and its Salesforce authorisation revoked.',
      };
    }
    return {
      link: deleted,
      revoked: false,
      revokeSkipped: 'revoke_failed',
      message:
        'The link was deleted and the bridge no longer holds its tokens, but Salesforce could not be told to revoke them. ' +
        'Revoke the app for this user in Salesforce (Setup → Connected Apps OAuth Usage) to be sure.',
    };
  }

  /** A pending link that has not expired, or null. */
  async getPendingLink(id: string): Promise<PendingLink | null> {
    const pending = await this.store.console.getPendingLink(id);
    return pending === null || pending.expiresAt <= this.now() ? null : pending;
  }

  async listPendingLinks(inboxId?: string): Promise<PendingLink[]> {
    const now = this.now();
    const all = await this.store.console.listPendingLinks(inboxId === undefined ? {} : { inboxId });
    return all.filter((pending) => pending.expiresAt > now);
  }

  /** 完了: the admin chose the target and the default owner; the pending link becomes the link. */
  async completePendingLink(id: string, choice: CompletePendingLinkInput, actor: Actor): Promise<Link> {
    const pending = await this.requirePendingLink(id);
    const ownerId = choice.defaultOwnerId ?? pending.userId;
    if (!isUserId(ownerId)) throw invalidOwner(ownerId);
    await this.refuseSecondLink(pending.inboxId);
    if (!sameSalesforceId(ownerId, pending.userId)) {
      const users = await this.salesforceCall(() =>
        this.queryUsers(pending.instanceUrl, pending.accessToken, pending.orgId, [ownerId]),
      );
      if (!isActiveUserAmong(users, ownerId)) throw linkError('owner_not_found', 400, { defaultOwnerId: ownerId });
    }
    const now = this.now();
    const auth = await this.store.saveAuth(
      {
        orgId: pending.orgId,
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
      },
      now,
    );
    // The pending link is consumed either way: on a conflict its grant now lives in the auth.
    await this.store.console.deletePendingLink(pending.id);
    const link = await this.attachLink(
      {
        inboxId: pending.inboxId,
        inboxName: pending.inboxName,
        authId: auth.id,
        target: choice.target,
        defaultOwnerId: ownerId,
        createdAt: now,
      },
      async () => {
        if ((await this.linksOfAuth(auth.id)).length === 0) {
          await this.revokeQuietly(pending.loginUrl, pending.refreshToken);
          await this.store.deleteAuth(auth.id);
        }
      },
    );
    await this.announceNewLink(link, actor);
    return link;
  }

  /** キャンセル: revokes the pending link's grant at Salesforce and forgets it. */
  async discardPendingLink(id: string): Promise<{ revoked: boolean }> {
    const pending = await this.store.console.getPendingLink(id);
    if (pending === null) throw linkError('pending_link_not_found', 404, { id });
    const revoked = await this.revokeQuietly(pending.loginUrl, pending.refreshToken);
    await this.store.console.deletePendingLink(id);
    this.logger.info({ pendingLinkId: id, inboxId: pending.inboxId, revoked }, 'pending link discarded');
    return { revoked };
  }

  /** Pending links abandoned past their expiry: revoked at Salesforce and removed. */
  async sweepExpiredPendingLinks(): Promise<number> {
    const expired = await this.store.console.listExpiredPendingLinks(this.now());
    for (const pending of expired) {
      const revoked = await this.revokeQuietly(pending.loginUrl, pending.refreshToken);
      await this.store.console.deletePendingLink(pending.id);
      this.logger.info(
        { pendingLinkId: pending.id, inboxId: pending.inboxId, revoked },
        'abandoned pending link revoked and removed',
      );
    }
    return expired.length;
  }

  /** The authorisations this bridge holds, for reuse by another inbox. */
  async listAuthorizations(): Promise<HeldAuthorization[]> {
    const links = await this.store.listLinks();
    return (await this.store.listAuths()).map(({ accessToken: _access, refreshToken: _refresh, ...auth }) => {
      const using = links.filter((link) => link.authId === auth.id);
      return { auth, links: using, usable: !using.some((link) => link.status === 'needs_reauth') };
    });
  }

  /**
   * Reuses an authorisation the bridge already holds (新しい認証を追加 not needed): no OAuth
   * round-trip, one API call that proves the authorisation still works and the owner is active.
   */
  async createLinkWithAuth(input: CreateLinkWithAuthInput, actor: Actor): Promise<Link> {
    const auth = await this.store.getAuth(input.authId);
    if (auth === null) throw linkError('auth_not_found', 404, { authId: input.authId });
    const ownerId = input.defaultOwnerId ?? auth.userId;
    if (!isUserId(ownerId)) throw invalidOwner(ownerId);
    await this.refuseSecondLink(input.inboxId);
    const sharing = await this.linksOfAuth(auth.id);
    if (sharing.some((link) => link.status === 'needs_reauth')) {
      throw linkError('auth_needs_reauth', 409, { authId: auth.id });
    }
    let users: SObjectRecord[];
    try {
      users = await this.apiFor(auth).query(
        `SELECT Id, IsActive FROM User WHERE Id IN (${[...new Set([auth.userId, ownerId])].map((id) => `'${id}'`).join(', ')})`,
      );
    } catch (error) {
      throw this.reuseFailure(error, auth.id);
    }
    if (!isActiveUserAmong(users, ownerId)) throw linkError('owner_not_found', 400, { defaultOwnerId: ownerId });
    const link = await this.attachLink(
      {
        inboxId: input.inboxId,
        inboxName: input.inboxName ?? null,
        authId: auth.id,
        target: input.target,
        defaultOwnerId: ownerId,
        createdAt: this.now(),
      },
      async () => undefined,
    );
    await this.announceNewLink(link, actor);
    return link;
  }

  /** Active users of the org behind a pending link, an authorisation or a link: the default owner's choices. */
  async listSalesforceUsers(
    source: { pendingLinkId: string } | { authId: string } | { linkId: string },
  ): Promise<SalesforceUser[]> {
    if ('pendingLinkId' in source) {
      const pending = await this.requirePendingLink(source.pendingLinkId);
      return this.salesforceCall(() =>
        listActiveUsers(this.restClient(pending.instanceUrl, pending.accessToken, pending.orgId)),
      );
    }
    let auth: SalesforceAuth | null;
    if ('authId' in source) {
      auth = await this.store.getAuth(source.authId);
      if (auth === null) throw linkError('auth_not_found', 404, { authId: source.authId });
    } else {
      auth = await this.requireAuth(await this.requireLiveLink(source.linkId));
    }
    const api = this.apiFor(auth);
    return this.salesforceCall(() => listActiveUsers(api));
  }

  listAudit(inboxId: string, limit = 200): Promise<LinkAuditEntry[]> {
    return this.store.console.listLinkAudit(inboxId, limit);
  }

  getLink(linkId: string): Promise<Link | null> {
    return this.store.getLink(linkId);
  }

  listLinks(options: { includeDeleted?: boolean } = {}): Promise<Link[]> {
    return this.store.listLinks(options);
  }

  async getInboxHealth(inboxId: string): Promise<InboxHealth> {
    const until = this.now();
    const since = until - DAY_MS;
    const link = await this.store.getLinkForInbox(inboxId);
    const counts = await this.store.countActionsByState({ inboxId, since });
    const problems: InboxHealth['problems'] = [];
    let org: InboxHealth['org'] = null;
    if (link !== null) {
      const state = await this.store.getOrgState(link.orgId);
      const bridgeApiCallsLast24h = await this.store.countApiCalls(link.orgId, since);
      org = { ...state, bridgeApiCallsLast24h };
      if (link.status === 'needs_reauth') {
        problems.push({
          code: 'needs_reauth',
          message:
            'The Salesforce authorisation has expired or was revoked: re-authorise the link. Actions are held until then.',
        });
      }
      if (link.status === 'disabled') problems.push({ code: 'link_disabled', message: 'The link is disabled.' });
      if (state.pausedUntil !== null && state.pausedUntil > until) {
        problems.push({
          code: 'org_paused',
          message: `Syncing to this org is paused until ${new Date(state.pausedUntil).toISOString()} (${state.pauseReason ?? 'no reason recorded'}).`,
        });
      }
    } else {
      problems.push({ code: 'not_linked', message: 'The inbox has no Salesforce link; its actions are not synced.' });
    }
    if (counts.failed > 0)
      problems.push({ code: 'failed_actions', message: `${counts.failed} action(s) failed in the last 24 hours.` });
    if (counts.unmatched > 0) {
      problems.push({
        code: 'unmatched_actions',
        message: `${counts.unmatched} action(s) matched no Contact or Lead in the last 24 hours.`,
      });
    }
    return {
      inboxId,
      link,
      status: link?.status ?? 'not_linked',
      window: { since, until },
      counts,
      org,
      lastSyncAt: org?.lastSyncAt ?? null,
      problems,
    };
  }

  private async beginAuthorization(
    mode: OAuthFlowMode,
    initiator: FlowInitiator,
    flow: Omit<OAuthPending, 'state' | 'codeVerifier' | 'createdAt' | 'expiresAt'>,
  ): Promise<AuthorizationStart> {
    const now = this.now();
    const state = randomBytes(32).toString('base64url');
    const pkce = this.oauth.createPkce();
    const expiresAt = now + this.pendingTtlMs;
    await this.store.console.saveOAuthInitiator({
      state,
      mode,
      inboxId: flow.inboxId,
      actor: initiator.actor,
      sessionHash: initiator.sessionHash,
      createdAt: now,
      expiresAt,
    });
    await this.store.saveOAuthPending({ ...flow, state, codeVerifier: pkce.verifier, createdAt: now, expiresAt });
    // prompt=login makes the admin choose the Salesforce user and org deliberately instead
    // of silently reusing whatever session the browser already has.
    const authorizeUrl = this.oauth.authorizeUrl(flow.loginUrl, {
      state,
      codeChallenge: pkce.challenge,
      prompt: 'login',
    });
    this.logger.info(
      { purpose: flow.purpose, mode, inboxId: flow.inboxId, linkId: flow.linkId, loginUrl: flow.loginUrl },
      'link authorisation started',
    );
    return { authorizeUrl, state, expiresAt };
  }

  private async exchangeCode(pending: OAuthPending, code: string): Promise<TokenResponse> {
    try {
      return await this.oauth.exchangeCode(pending.loginUrl, code, pending.codeVerifier);
    } catch (error) {
      this.logger.warn(
        { err: error, inboxId: pending.inboxId, loginUrl: pending.loginUrl },
        'authorisation code exchange failed',
      );
      if (isBridgeError(error) && error.kind === 'retryable') {
        throw new BridgeError('retryable', linkErrorText('salesforce_unavailable').en, {
          code: 'salesforce_unavailable',
          httpStatus: 503,
          cause: error,
        });
      }
      throw linkError(
        'token_exchange_failed',
        400,
        isBridgeError(error) ? { salesforceError: error.code } : undefined,
        error,
      );
    }
  }

  private async checkSameOrgAndUser(pending: OAuthPending, identity: Identity): Promise<void> {
    const link = pending.linkId === null ? null : await this.store.getLink(pending.linkId);
    if (link === null || link.status === 'deleted') throw linkError('link_not_found', 404, { linkId: pending.linkId });
    if (!sameSalesforceId(link.orgId, identity.organizationId)) {
      throw linkError('org_mismatch', 400, { expectedOrgId: link.orgId, signedInOrgId: identity.organizationId });
    }
    if (!sameSalesforceId(link.authorizedUserId, identity.userId)) {
      throw linkError('user_mismatch', 400, {
        expectedUsername: link.authorizedUsername,
        signedInUsername: identity.username,
      });
    }
  }

  /**
   * One cheap REST call proves what the seed asks for: the org has API access and the
   * user may use it. The same query confirms that the chosen default owner is an active
   * user of this org, since every Event of the link may fall back to it.
   */
  private async verifyApiAccess(tokens: TokenResponse, identity: Identity, ownerId: string): Promise<void> {
    const orgId = identity.organizationId;
    let users: SObjectRecord[];
    try {
      users = await this.queryUsers(tokens.instanceUrl, tokens.accessToken, orgId, [identity.userId, ownerId]);
    } catch (error) {
      if (!isBridgeError(error)) throw error;
      if (error.kind === 'api_budget') {
        // The org answered through the API, so access exists; its daily budget is simply spent.
        this.logger.warn({ orgId, code: error.code }, 'api budget exhausted while checking api access; linking anyway');
        return;
      }
      if (API_ACCESS_ERROR_CODES.has(error.code)) {
        this.logger.warn({ orgId, userId: identity.userId, code: error.code }, 'org or user has no api access');
        const details = {
          orgId,
          username: identity.username,
          salesforceError: error.code,
          salesforceMessage: error.remoteMessage ?? null,
        };
        throw linkError('api_access_missing', 400, details, error);
      }
      if (error.kind === 'retryable') {
        throw new BridgeError('retryable', linkErrorText('salesforce_unavailable').en, {
          code: 'salesforce_unavailable',
          httpStatus: 503,
          cause: error,
        });
      }
      if (error.kind === 'needs_reauth') {
        const details = { salesforceError: error.code, salesforceMessage: error.remoteMessage ?? null };
        throw linkError('token_exchange_failed', 400, details, error);
      }
      throw error;
    }
    if (!isActiveUserAmong(users, ownerId)) throw linkError('owner_not_found', 400, { defaultOwnerId: ownerId });
  }

  /**
   * A new default owner is checked with the access token the bridge already holds. The
   * check is best effort: refreshing here could race the sync engine's own refresh (and,
   * with rotating refresh tokens, cost the link its authorisation), so an expired token
   * or an unreachable org lets the change through, and a wrong owner then shows up as
   * the Events' Salesforce error.
   */
  private async checkOwnerIfPossible(link: Link, ownerId: string): Promise<void> {
    const auth = await this.store.getAuth(link.authId);
    if (auth === null || auth.accessToken === null) return;
    let users: SObjectRecord[];
    try {
      users = await this.queryUsers(auth.instanceUrl, auth.accessToken, link.orgId, [ownerId]);
    } catch (error) {
      this.logger.info(
        { linkId: link.id, code: isBridgeError(error) ? error.code : undefined },
        'default owner not checked: salesforce could not be asked now',
      );
      return;
    }
    if (!isActiveUserAmong(users, ownerId)) throw linkError('owner_not_found', 400, { defaultOwnerId: ownerId });
  }

  private async requirePendingLink(id: string): Promise<PendingLink> {
    const pending = await this.getPendingLink(id);
    if (pending === null) throw linkError('pending_link_not_found', 404, { id });
    return pending;
  }

  /** The engine's refreshing session when there is one, else the stored access token alone. */
  private apiFor(auth: SalesforceAuth): SalesforceApi {
    if (this.salesforceFor !== null) return this.salesforceFor(auth);
    return this.restClient(auth.instanceUrl, auth.accessToken ?? '', auth.orgId);
  }

  /** Salesforce failures of a console request, as answers an admin can act on. */
  private async salesforceCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (!isBridgeError(error)) throw error;
      if (error.kind === 'needs_reauth') throw linkError('auth_needs_reauth', 409, { salesforceError: error.code });
      if (error.kind === 'retryable' || error.kind === 'api_budget') {
        throw new BridgeError('retryable', linkErrorText('salesforce_unavailable').en, {
          code: 'salesforce_unavailable',
          httpStatus: 503,
          cause: error,
        });
      }
      throw error;
    }
  }

  private reuseFailure(error: unknown, authId: string): unknown {
    if (!isBridgeError(error)) return error;
    if (error.kind === 'needs_reauth' || API_ACCESS_ERROR_CODES.has(error.code)) {
      return linkError('auth_needs_reauth', 409, { authId, salesforceError: error.code });
    }
    if (error.kind === 'retryable' || error.kind === 'api_budget') {
      return new BridgeError('retryable', linkErrorText('salesforce_unavailable').en, {
        code: 'salesforce_unavailable',
        httpStatus: 503,
        cause: error,
      });
    }
    return error;
  }

  /** A REST client with one access token and no refresh, counting its calls for the org. */
  private restClient(instanceUrl: string, accessToken: string, orgId: string): SalesforceRestClient {
    return new SalesforceRestClient({
      instanceUrl,
      apiVersion: this.apiVersion,
      timeoutMs: this.requestTimeoutMs,
      hooks: {
        getAccessToken: async () => accessToken,
        refreshAccessToken: async () => {
          throw new BridgeError('needs_reauth', 'Salesforce refused the access token.', { code: 'INVALID_SESSION_ID' });
        },
        beforeApiCall: async () => undefined,
        afterApiCall: async (limit) => {
          const at = this.now();
          await this.store.addApiCalls(orgId, 1, at);
          if (limit !== null) await this.store.recordOrgLimitInfo(orgId, limit.used, limit.max, at);
        },
      },
    });
  }

  /** `SELECT Id, IsActive FROM User` for the given ids, with one access token and no refresh. */
  private queryUsers(
    instanceUrl: string,
    accessToken: string,
    orgId: string,
    userIds: string[],
  ): Promise<SObjectRecord[]> {
    const ids = [...new Set(userIds)];
    // Only well-formed ids reach the SOQL text, so nothing can be injected through them.
    for (const id of ids) if (!isUserId(id)) throw invalidOwner(id);
    return this.restClient(instanceUrl, accessToken, orgId).query(
      `SELECT Id, IsActive FROM User WHERE Id IN (${ids.map((id) => `'${id}'`).join(', ')})`,
    );
  }

  private async createLinkFromGrant(
    pending: OAuthPending,
    tokens: Grant,
    identity: Identity,
    actor: Actor,
    initiator: OAuthInitiator | null,
  ): Promise<CallbackResult> {
    await this.refuseIfInboxLinked(pending, tokens);
    const now = this.now();
    const auth = await this.saveAuth(pending, tokens, identity, now);
    const link = await this.attachLink(
      {
        inboxId: pending.inboxId,
        inboxName: pending.inboxName,
        authId: auth.id,
        target: pending.target,
        defaultOwnerId: pending.defaultOwnerId ?? identity.userId,
        createdAt: now,
      },
      async () => {
        // Another flow linked the inbox in the meantime: drop this grant unless it now serves other links.
        if ((await this.linksOfAuth(auth.id)).length === 0) {
          await this.revokeQuietly(pending.loginUrl, tokens.refreshToken);
          await this.store.deleteAuth(auth.id);
        }
      },
    );
    const resumedActions = await this.announceNewLink(link, actor);
    return { kind: 'link', link, created: true, purpose: 'link', resumedActions, initiator };
  }

  /** Creates the link; a concurrent link of the inbox is a 409 after `onConflict` cleaned up. */
  private async attachLink(link: NewLink, onConflict: () => Promise<void>): Promise<Link> {
    try {
      return await this.store.createLink(link);
    } catch (error) {
      if (error instanceof LinkConflictError) {
        await onConflict();
        const existing = await this.store.getLinkForInbox(link.inboxId);
        throw linkError('link_exists', 409, { inboxId: link.inboxId, linkId: existing?.id ?? null });
      }
      throw error;
    }
  }

  /** Logs and audits a new link, and resumes other links of its (possibly renewed) authorisation. */
  private async announceNewLink(link: Link, actor: Actor): Promise<number> {
    this.logger.info(
      {
        linkId: link.id,
        inboxId: link.inboxId,
        orgId: link.orgId,
        userId: link.authorizedUserId,
        environment: link.environment,
        target: link.target,
      },
      'link created',
    );
    await this.audit(link, actor, 'created', {
      orgId: { from: null, to: link.orgId },
      authorizedUsername: { from: null, to: link.authorizedUsername },
      environment: { from: null, to: link.environment },
      target: { from: null, to: link.target },
      defaultOwnerId: { from: null, to: link.defaultOwnerId },
    });
    // The same user's fresh grant replaces the shared authorisation's tokens, so links
    // of that user that were waiting for re-authentication can go on as well.
    const resumedActions = await this.reactivateLinksOfAuth(link.authId, link.id);
    this.onReauthorized(link.authId);
    return resumedActions;
  }

  private async renewLinkFromGrant(
    pending: OAuthPending,
    tokens: Grant,
    identity: Identity,
    actor: Actor,
    initiator: OAuthInitiator | null,
  ): Promise<CallbackResult> {
    const before = await this.store.getLink(pending.linkId as string);
    const now = this.now();
    const auth = await this.saveAuth(pending, tokens, identity, now);
    const resumedActions = await this.reactivateLinksOfAuth(auth.id, null);
    this.onReauthorized(auth.id);
    const link = await this.store.getLink(pending.linkId as string);
    if (link === null) throw linkError('link_not_found', 404, { linkId: pending.linkId });
    this.logger.info(
      { linkId: link.id, inboxId: link.inboxId, orgId: link.orgId, resumedActions },
      'link re-authorised',
    );
    await this.audit(link, actor, 'reauthorized', {
      status: { from: before?.status ?? null, to: link.status },
      resumedActions: { from: null, to: resumedActions },
    });
    return { kind: 'link', link, created: false, purpose: 'reauth', resumedActions, initiator };
  }

  /** One link per inbox: a grant that arrives for an inbox linked meanwhile is revoked, not kept. */
  private async refuseIfInboxLinked(pending: OAuthPending, tokens: Grant): Promise<void> {
    try {
      await this.refuseSecondLink(pending.inboxId);
    } catch (error) {
      await this.revokeQuietly(pending.loginUrl, tokens.refreshToken);
      throw error;
    }
  }

  /** The wizard's callback: the grant is verified and kept, encrypted, until the admin chooses the target. */
  private async keepPendingLink(
    pending: OAuthPending,
    tokens: Grant,
    identity: Identity,
    actor: Actor,
    initiator: OAuthInitiator | null,
  ): Promise<CallbackResult> {
    await this.refuseIfInboxLinked(pending, tokens);
    const now = this.now();
    const pendingLink = await this.store.console.savePendingLink({
      inboxId: pending.inboxId,
      inboxName: pending.inboxName,
      ...authFields(pending, tokens, identity),
      createdBy: actor,
      createdAt: now,
      expiresAt: now + this.pendingLinkTtlMs,
    });
    this.logger.info(
      { pendingLinkId: pendingLink.id, inboxId: pendingLink.inboxId, orgId: pendingLink.orgId },
      'salesforce authorised; the link waits for its target',
    );
    return { kind: 'pending_link', pendingLink, initiator };
  }

  private async refuseSecondLink(inboxId: string): Promise<void> {
    const existing = await this.store.getLinkForInbox(inboxId);
    if (existing !== null) {
      throw linkError('link_exists', 409, { inboxId, linkId: existing.id, status: existing.status });
    }
  }

  private async audit(
    link: Link,
    actor: Actor,
    event: LinkAuditEntry['event'],
    changes: LinkAuditEntry['changes'],
  ): Promise<void> {
    await this.store.console.addLinkAudit({
      inboxId: link.inboxId,
      linkId: link.id,
      at: this.now(),
      actor,
      event,
      changes,
    });
  }

  private saveAuth(pending: OAuthPending, tokens: Grant, identity: Identity, now: number): Promise<SalesforceAuth> {
    return this.store.saveAuth(authFields(pending, tokens, identity), now);
  }

  /** Sets links of the authorisation that wait for re-authentication active again and resumes their held actions. */
  private async reactivateLinksOfAuth(authId: string, exceptLinkId: string | null): Promise<number> {
    const now = this.now();
    let resumed = 0;
    for (const link of await this.linksOfAuth(authId)) {
      if (link.id === exceptLinkId || link.status === 'disabled') continue;
      if (link.status !== 'active') await this.store.setLinkStatus(link.id, 'active', null, now);
      resumed += await this.store.resumeHeldActions(link.id, now);
    }
    return resumed;
  }

  private async linksOfAuth(authId: string): Promise<Link[]> {
    return (await this.store.listLinks()).filter((link) => link.authId === authId && link.status !== 'deleted');
  }

  private async revokeQuietly(loginUrl: string, token: string): Promise<boolean> {
    try {
      await this.oauth.revoke(loginUrl, token);
      return true;
    } catch (error) {
      this.logger.warn({ err: error, loginUrl }, 'revoking a salesforce token failed');
      return false;
    }
  }

  private async requireLiveLink(linkId: string): Promise<Link> {
    const link = await this.store.getLink(linkId);
    if (link === null) throw linkError('link_not_found', 404, { linkId });
    if (link.status === 'deleted') {
      throw linkError('link_deleted', 409, { linkId });
    }
    return link;
  }

  private async requireAuth(link: Link): Promise<SalesforceAuth> {
    const auth = await this.store.getAuth(link.authId);
    if (auth === null)
      throw new BridgeError('permanent', `The authorisation of link ${link.id} is missing.`, { code: 'auth_missing' });
    return auth;
  }
}

/** What a fresh grant tells about the authorisation, as the store keeps it. */
function authFields(
  pending: OAuthPending,
  tokens: Grant,
  identity: Identity,
): NewSalesforceAuth & { accessToken: string } {
  return {
    orgId: identity.organizationId,
    userId: identity.userId,
    username: identity.username,
    displayName: identity.displayName,
    instanceUrl: tokens.instanceUrl,
    loginUrl: pending.loginUrl,
    environment: pending.environment,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    scope: tokens.scope,
    issuedAt: tokens.issuedAt,
  };
}
