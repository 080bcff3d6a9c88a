import { randomBytes } from 'node:crypto';
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
import type { Identity, SObjectRecord, TokenResponse } from '../salesforce/types';
import { LinkConflictError, type Store } from '../store/store';
import { type CustomHostPolicy, isLoopbackHost, type LoginUrls, resolveLoginUrl } from './login-host';
import { linkErrorText } from './messages';
import { isUserId, sameSalesforceId } from './salesforce-ids';

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
}

export interface CallbackResult {
  link: Link;
  /** true for a new link, false for a re-authentication. */
  created: boolean;
  purpose: OAuthPurpose;
  /** Held actions moved back to pending (re-authentication, or a new grant for a shared user). */
  resumedActions: number;
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
    this.customHosts = options.customHosts ?? {
      allowLoopback: isLoopbackHost(new URL(options.loginUrls.production).hostname),
    };
  }

  async startLink(input: StartLinkInput): Promise<AuthorizationStart> {
    if (input.defaultOwnerId != null && !isUserId(input.defaultOwnerId)) throw invalidOwner(input.defaultOwnerId);
    const loginUrl = resolveLoginUrl(input.environment, input.myDomain, this.loginUrls, this.customHosts);
    const existing = await this.store.getLinkForInbox(input.inboxId);
    if (existing !== null) {
      throw linkError('link_exists', 409, { inboxId: input.inboxId, linkId: existing.id, status: existing.status });
    }
    return this.beginAuthorization({
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

  /** Renews the authorisation of a link that needs it (or rotates an active one). */
  async startReauth(linkId: string): Promise<AuthorizationStart> {
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
    return this.beginAuthorization({
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

  async completeCallback(input: CallbackInput): Promise<CallbackResult> {
    const now = this.now();
    const pending = input.state ? await this.store.takeOAuthPending(input.state, now) : null;
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
    return pending.purpose === 'link'
      ? this.createLinkFromGrant(pending, grant, identity)
      : this.renewLinkFromGrant(pending, grant, identity);
  }

  async updateLink(linkId: string, changes: LinkChanges): Promise<Link> {
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
    return updated;
  }

  /**
   * Marks the link deleted (later actions of its inbox are recorded as no_link), then
   * revokes the refresh token unless another link still uses the same authorisation.
   * A failed revoke does not undo the deletion; the result says so.
   */
  async deleteLink(linkId: string): Promise<DeleteLinkResult> {
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
    flow: Omit<OAuthPending, 'state' | 'codeVerifier' | 'createdAt' | 'expiresAt'>,
  ): Promise<AuthorizationStart> {
    const now = this.now();
    const state = randomBytes(32).toString('base64url');
    const pkce = this.oauth.createPkce();
    const expiresAt = now + this.pendingTtlMs;
    await this.store.saveOAuthPending({ ...flow, state, codeVerifier: pkce.verifier, createdAt: now, expiresAt });
    // prompt=login makes the admin choose the Salesforce user and org deliberately instead
    // of silently reusing whatever session the browser already has.
    const authorizeUrl = this.oauth.authorizeUrl(flow.loginUrl, {
      state,
      codeChallenge: pkce.challenge,
      prompt: 'login',
    });
    this.logger.info(
      { purpose: flow.purpose, inboxId: flow.inboxId, linkId: flow.linkId, loginUrl: flow.loginUrl },
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
    const api = new SalesforceRestClient({
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
    return api.query(`SELECT Id, IsActive FROM User WHERE Id IN (${ids.map((id) => `'${id}'`).join(', ')})`);
  }

  private async createLinkFromGrant(pending: OAuthPending, tokens: Grant, identity: Identity): Promise<CallbackResult> {
    const conflict = await this.store.getLinkForInbox(pending.inboxId);
    if (conflict !== null) {
      await this.revokeQuietly(pending.loginUrl, tokens.refreshToken);
      throw linkError('link_exists', 409, { inboxId: pending.inboxId, linkId: conflict.id, status: conflict.status });
    }
    const now = this.now();
    const auth = await this.saveAuth(pending, tokens, identity, now);
    let link: Link;
    try {
      link = await this.store.createLink({
        inboxId: pending.inboxId,
        inboxName: pending.inboxName,
        authId: auth.id,
        target: pending.target,
        defaultOwnerId: pending.defaultOwnerId ?? identity.userId,
        createdAt: now,
      });
    } catch (error) {
      if (error instanceof LinkConflictError) {
        // Another flow linked the inbox in the meantime: drop this grant unless it now serves other links.
        if ((await this.linksOfAuth(auth.id)).length === 0) {
          await this.revokeQuietly(pending.loginUrl, tokens.refreshToken);
          await this.store.deleteAuth(auth.id);
        }
        const existing = await this.store.getLinkForInbox(pending.inboxId);
        throw linkError('link_exists', 409, { inboxId: pending.inboxId, linkId: existing?.id ?? null });
      }
      throw error;
    }
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
    // The same user's fresh grant replaces the shared authorisation's tokens, so links
    // of that user that were waiting for re-authentication can go on as well.
    const resumedActions = await this.reactivateLinksOfAuth(auth.id, link.id);
    this.onReauthorized(auth.id);
    return { link, created: true, purpose: 'link', resumedActions };
  }

  private async renewLinkFromGrant(pending: OAuthPending, tokens: Grant, identity: Identity): Promise<CallbackResult> {
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
    return { link, created: false, purpose: 'reauth', resumedActions };
  }

  private saveAuth(pending: OAuthPending, tokens: Grant, identity: Identity, now: number): Promise<SalesforceAuth> {
    return this.store.saveAuth(
      {
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
      },
      now,
    );
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
