import { BridgeError, type HttpReason, isBridgeError } from '../core/errors';
import type { SalesforceAuth } from '../core/types';
import type { Logger } from '../logging';
import type { OAuthClient } from '../salesforce/oauth-client';
import { SalesforceRestClient } from '../salesforce/rest-client';
import type { Identity, SalesforceApi, SObjectRecord, TokenResponse } from '../salesforce/types';
import type { OrgRepository } from '../sync/org-repository';
import { linkErrorText } from './messages';
import { isUserId, sameSalesforceId } from './salesforce-ids';

/** Salesforce's answers that mean "this org or this user may not use the API". */
const API_ACCESS_ERROR_CODES = new Set([
  'API_DISABLED_FOR_ORG',
  'API_CURRENTLY_DISABLED',
  'FUNCTIONALITY_NOT_ENABLED',
  'INSUFFICIENT_ACCESS',
  'INSUFFICIENT_ACCESS_OR_READONLY',
  'INSUFFICIENT_PRIVILEGES',
]);

export function linkError(code: string, reason: HttpReason, details?: unknown, cause?: unknown): BridgeError {
  return new BridgeError('bad_input', linkErrorText(code).en, { code, reason, details, cause });
}

export function invalidOwner(ownerId: string): BridgeError {
  return linkError('invalid_owner_id', 'bad_input', [
    { path: 'defaultOwnerId', message: `"${ownerId}" must be a 15- or 18-character User id starting with 005` },
  ]);
}

export function salesforceUnavailable(cause: unknown): BridgeError {
  return new BridgeError('retryable', linkErrorText('salesforce_unavailable').en, {
    code: 'salesforce_unavailable',
    reason: 'unavailable',
    cause,
  });
}

function isActiveUserAmong(users: SObjectRecord[], userId: string): boolean {
  const user = users.find((candidate) => sameSalesforceId(candidate.Id, userId));
  return user !== undefined && user.IsActive !== false;
}

export interface LinkingSalesforceOptions {
  oauth: OAuthClient;
  orgs: OrgRepository;
  apiVersion: string;
  requestTimeoutMs: number;
  logger: Logger;
  now: () => number;
  /**
   * A Salesforce client for an authorisation that refreshes its token safely alongside the
   * sync engine (the engine's sessions). Without it, only the stored access token is used.
   */
  salesforceFor?: (auth: SalesforceAuth) => SalesforceApi;
}

/**
 * The Salesforce calls an admin's linking makes: the code exchange, the identity, the one
 * query that proves API access and an active default owner, revocations, and the user list.
 * Each failure becomes an answer the admin can act on.
 */
export class LinkingSalesforce {
  constructor(private readonly options: LinkingSalesforceOptions) {}

  async exchangeCode(loginUrl: string, code: string, codeVerifier: string, inboxId: string): Promise<TokenResponse> {
    try {
      return await this.options.oauth.exchangeCode(loginUrl, code, codeVerifier);
    } catch (error) {
      this.options.logger.warn({ err: error, inboxId, loginUrl }, 'authorisation code exchange failed');
      if (isBridgeError(error) && error.kind === 'retryable') throw salesforceUnavailable(error);
      throw linkError(
        'token_exchange_failed',
        'bad_input',
        isBridgeError(error) ? { salesforceError: error.code } : undefined,
        error,
      );
    }
  }

  identity(tokens: TokenResponse): Promise<Identity> {
    return this.options.oauth.identity(tokens.identityUrl, tokens.accessToken);
  }

  /**
   * One cheap REST call proves what the seed asks for: the org has API access and the
   * user may use it. The same query confirms that the chosen default owner is an active
   * user of this org, since every Event of the link may fall back to it.
   */
  async verifyApiAccess(tokens: TokenResponse, identity: Identity, ownerId: string): Promise<void> {
    const { logger } = this.options;
    const orgId = identity.organizationId;
    let users: SObjectRecord[];
    try {
      users = await this.queryUsers(tokens.instanceUrl, tokens.accessToken, orgId, [identity.userId, ownerId]);
    } catch (error) {
      if (!isBridgeError(error)) throw error;
      if (error.kind === 'api_budget') {
        // The org answered through the API, so access exists; its daily budget is simply spent.
        logger.warn({ orgId, code: error.code }, 'api budget exhausted while checking api access; linking anyway');
        return;
      }
      if (API_ACCESS_ERROR_CODES.has(error.code)) {
        logger.warn({ orgId, userId: identity.userId, code: error.code }, 'org or user has no api access');
        const details = {
          orgId,
          username: identity.username,
          salesforceError: error.code,
          salesforceMessage: error.remoteMessage ?? null,
        };
        throw linkError('api_access_missing', 'bad_input', details, error);
      }
      if (error.kind === 'retryable') throw salesforceUnavailable(error);
      if (error.kind === 'needs_reauth') {
        const details = { salesforceError: error.code, salesforceMessage: error.remoteMessage ?? null };
        throw linkError('token_exchange_failed', 'bad_input', details, error);
      }
      throw error;
    }
    if (!isActiveUserAmong(users, ownerId))
      throw linkError('owner_not_found', 'bad_input', { defaultOwnerId: ownerId });
  }

  /** Checks that `ownerId` is an active user of the org, with one access token and no refresh. */
  async requireActiveOwner(instanceUrl: string, accessToken: string, orgId: string, ownerId: string): Promise<void> {
    const users = await this.call(() => this.queryUsers(instanceUrl, accessToken, orgId, [ownerId]));
    if (!isActiveUserAmong(users, ownerId))
      throw linkError('owner_not_found', 'bad_input', { defaultOwnerId: ownerId });
  }

  /**
   * Proves that a held authorisation still works and that the owner is active: one query
   * through the engine's refreshing session.
   */
  async requireUsableAuth(auth: SalesforceAuth, ownerId: string): Promise<void> {
    let users: SObjectRecord[];
    try {
      users = await this.apiFor(auth).query(
        `SELECT Id, IsActive FROM User WHERE Id IN (${[...new Set([auth.userId, ownerId])].map((id) => `'${id}'`).join(', ')})`,
      );
    } catch (error) {
      throw this.reuseFailure(error, auth.id);
    }
    if (!isActiveUserAmong(users, ownerId))
      throw linkError('owner_not_found', 'bad_input', { defaultOwnerId: ownerId });
  }

  /**
   * A new default owner is checked with the access token the bridge already holds. The
   * check is best effort: refreshing here could race the sync engine's own refresh (and,
   * with rotating refresh tokens, cost the link its authorisation), so an expired token
   * or an unreachable org lets the change through, and a wrong owner then shows up as
   * the Events' Salesforce error.
   */
  async checkOwnerIfPossible(auth: SalesforceAuth | null, orgId: string, ownerId: string): Promise<void> {
    if (auth === null || auth.accessToken === null) return;
    let users: SObjectRecord[];
    try {
      users = await this.queryUsers(auth.instanceUrl, auth.accessToken, orgId, [ownerId]);
    } catch (error) {
      this.options.logger.info(
        { orgId, code: isBridgeError(error) ? error.code : undefined },
        'default owner not checked: salesforce could not be asked now',
      );
      return;
    }
    if (!isActiveUserAmong(users, ownerId))
      throw linkError('owner_not_found', 'bad_input', { defaultOwnerId: ownerId });
  }

  /** The engine's refreshing session when there is one, else the stored access token alone. */
  apiFor(auth: SalesforceAuth): SalesforceApi {
    if (this.options.salesforceFor !== undefined) return this.options.salesforceFor(auth);
    return this.restClient(auth.instanceUrl, auth.accessToken ?? '', auth.orgId);
  }

  /** A REST client with one access token and no refresh, counting its calls for the org. */
  restClient(instanceUrl: string, accessToken: string, orgId: string): SalesforceApi {
    const { orgs, apiVersion, requestTimeoutMs, now } = this.options;
    return new SalesforceRestClient({
      http: this.options.oauth.http,
      instanceUrl,
      apiVersion,
      timeoutMs: requestTimeoutMs,
      hooks: {
        getAccessToken: async () => accessToken,
        refreshAccessToken: async () => {
          throw new BridgeError('needs_reauth', 'Salesforce refused the access token.', { code: 'INVALID_SESSION_ID' });
        },
        beforeApiCall: async () => undefined,
        afterApiCall: async (limit) => orgs.recordApiCalls(orgId, 1, now(), limit),
      },
    });
  }

  /** Salesforce failures of a console request, as answers an admin can act on. */
  async call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!isBridgeError(error)) throw error;
      if (error.kind === 'needs_reauth')
        throw linkError('auth_needs_reauth', 'conflict', { salesforceError: error.code });
      if (error.kind === 'retryable' || error.kind === 'api_budget') throw salesforceUnavailable(error);
      throw error;
    }
  }

  async revokeQuietly(loginUrl: string, token: string): Promise<boolean> {
    try {
      await this.options.oauth.revoke(loginUrl, token);
      return true;
    } catch (error) {
      this.options.logger.warn({ err: error, loginUrl }, 'revoking a salesforce token failed');
      return false;
    }
  }

  private reuseFailure(error: unknown, authId: string): unknown {
    if (!isBridgeError(error)) return error;
    if (error.kind === 'needs_reauth' || API_ACCESS_ERROR_CODES.has(error.code)) {
      return linkError('auth_needs_reauth', 'conflict', { authId, salesforceError: error.code });
    }
    if (error.kind === 'retryable' || error.kind === 'api_budget') return salesforceUnavailable(error);
    return error;
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
}
