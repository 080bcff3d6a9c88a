import { BridgeError, type HttpReason, isBridgeError } from '../core/errors';
import type { SalesforceAuth } from '../core/types';
import type { Logger } from '../logging';
import type { OAuthClient } from '../salesforce/oauth-client';
import { assessPackageAccess, type PackageAccess, packageAccessReads } from '../salesforce/package-access';
import { PACKAGE_NAMESPACE, PACKAGE_PERMISSION_SETS } from '../salesforce/package-names';
import { SalesforceRestClient } from '../salesforce/rest-client';
import type { Identity, SalesforceApi, SObjectRecord, TokenResponse } from '../salesforce/types';
import type { OrgRepository } from '../sync/org-repository';
import type { NamedUser } from './links-repository';
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
  return new BridgeError('bad_input', linkErrorText(code, details).en, { code, reason, details, cause });
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

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

/** The user as people read them (their name and email), from the users read. */
function namedUser(users: SObjectRecord[], userId: string): NamedUser {
  const user = users.find((candidate) => sameSalesforceId(candidate.Id, userId));
  return { id: userId, name: text(user?.Name), email: text(user?.Email) };
}

/** What people read of an org instead of its id: its name, and whether it is a sandbox. */
export interface OrgFacts {
  name: string | null;
  isSandbox: boolean | null;
}

/** What a check before linking learnt besides the access itself: the org's name and the default owner's. */
export interface LinkingFacts {
  org: OrgFacts | null;
  owner: NamedUser;
}

/** The org's record, or null when it could not be read (nothing else depends on it). */
function orgFacts(read: SObjectRecord[] | BridgeError | undefined): OrgFacts | null {
  const [org] = read === undefined || read instanceof BridgeError ? [] : read;
  if (org === undefined) return null;
  return { name: text(org.Name), isSandbox: typeof org.IsSandbox === 'boolean' ? org.IsSandbox : null };
}

export interface LinkingSalesforceOptions {
  oauth: OAuthClient;
  orgs: OrgRepository;
  apiVersion: string;
  /** SF_NAMESPACE: the package's namespace, whose fields every Event carries. Default `inbx`. */
  namespace?: string;
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
 * call that proves API access, the package's fields writable by the user and an active
 * default owner, revocations, and the user list. Each failure becomes an answer the admin
 * can act on.
 *
 * A link whose user cannot write the package's fields (the package missing, or the
 * Integration permission set not assigned) is refused rather than made with its actions
 * held: the admin is looking at the wizard at that moment, the fix is a minute in Setup, and
 * linking again proves it at once, where a link made anyway would say "ready" and show
 * whether the fix worked only at the sync's next check. Nothing is lost by refusing: actions
 * before a link are not synced anyway, and a refused re-authentication leaves the link with
 * the authorisation it had. When the package goes later, the sync holds the actions instead.
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
   * One REST call proves what the seed asks for: the org has API access and the user may use
   * it. The same call (a composite) confirms that the chosen default owner is an active user
   * of this org, since every Event of the link may fall back to it, and, with a describe of
   * Event and the package's license, that the user can write the package's fields.
   */
  async verifyApiAccess(tokens: TokenResponse, identity: Identity, ownerId: string): Promise<LinkingFacts> {
    const { logger } = this.options;
    const orgId = identity.organizationId;
    let users: SObjectRecord[];
    let access: PackageAccess | BridgeError;
    let org: OrgFacts | null;
    try {
      ({ users, access, org } = await this.checkAccess(this.restClient(tokens.instanceUrl, tokens.accessToken, orgId), [
        identity.userId,
        ownerId,
      ]));
    } catch (error) {
      if (!isBridgeError(error)) throw error;
      if (error.kind === 'api_budget') {
        // The org answered through the API, so access exists; its daily budget is simply spent.
        logger.warn({ orgId, code: error.code }, 'api budget exhausted while checking api access; linking anyway');
        return { org: null, owner: { id: ownerId, name: null, email: null } };
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
    this.refuseWithoutPackage(access, orgId, identity.username);
    if (!isActiveUserAmong(users, ownerId))
      throw linkError('owner_not_found', 'bad_input', { defaultOwnerId: ownerId });
    return { org, owner: namedUser(users, ownerId) };
  }

  /** Checks that `ownerId` is an active user of the org, with one access token and no refresh. */
  async requireActiveOwner(
    instanceUrl: string,
    accessToken: string,
    orgId: string,
    ownerId: string,
  ): Promise<NamedUser> {
    const users = await this.call(() => this.queryUsers(instanceUrl, accessToken, orgId, [ownerId]));
    if (!isActiveUserAmong(users, ownerId))
      throw linkError('owner_not_found', 'bad_input', { defaultOwnerId: ownerId });
    return namedUser(users, ownerId);
  }

  /**
   * Proves that a held authorisation still works, that its user can write the package's
   * fields and that the owner is active: one call through the engine's refreshing session.
   */
  async requireUsableAuth(auth: SalesforceAuth, ownerId: string): Promise<LinkingFacts> {
    let users: SObjectRecord[];
    let access: PackageAccess | BridgeError;
    let org: OrgFacts | null;
    try {
      ({ users, access, org } = await this.checkAccess(this.apiFor(auth), [auth.userId, ownerId]));
    } catch (error) {
      throw this.reuseFailure(error, auth.id);
    }
    this.refuseWithoutPackage(access, auth.orgId, auth.username);
    if (!isActiveUserAmong(users, ownerId))
      throw linkError('owner_not_found', 'bad_input', { defaultOwnerId: ownerId });
    return { org, owner: namedUser(users, ownerId) };
  }

  /**
   * A new default owner is checked with the access token the bridge already holds. The
   * check is best effort: refreshing here could race the sync engine's own refresh (and,
   * with rotating refresh tokens, cost the link its authorisation), so an expired token
   * or an unreachable org lets the change through, and a wrong owner then shows up as
   * the Events' Salesforce error. The owner comes back with their name and email when they
   * could be read.
   */
  async checkOwnerIfPossible(auth: SalesforceAuth | null, orgId: string, ownerId: string): Promise<NamedUser> {
    const unknown: NamedUser = { id: ownerId, name: null, email: null };
    if (auth === null || auth.accessToken === null) return unknown;
    let users: SObjectRecord[];
    try {
      users = await this.queryUsers(auth.instanceUrl, auth.accessToken, orgId, [ownerId]);
    } catch (error) {
      this.options.logger.info(
        { orgId, code: isBridgeError(error) ? error.code : undefined },
        'default owner not checked: salesforce could not be asked now',
      );
      return unknown;
    }
    if (!isActiveUserAmong(users, ownerId))
      throw linkError('owner_not_found', 'bad_input', { defaultOwnerId: ownerId });
    return namedUser(users, ownerId);
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

  /**
   * The users (`SELECT Id, IsActive, Name, Email FROM User`), a describe of Event and the
   * package's license, and the org's name (`SELECT Name, IsSandbox FROM Organization`), in one
   * composite call. A describe that failed on its own comes back as its error; an org that
   * could not be read has no name.
   */
  private async checkAccess(
    api: SalesforceApi,
    userIds: string[],
  ): Promise<{ users: SObjectRecord[]; access: PackageAccess | BridgeError; org: OrgFacts | null }> {
    const namespace = this.options.namespace ?? PACKAGE_NAMESPACE;
    const reads = packageAccessReads(namespace);
    const read = await api.readSettled({
      queries: [usersQuery(userIds), ...reads.queries, ORGANIZATION_QUERY],
      describes: reads.describes,
    });
    const users = read.queries[0];
    if (users === undefined || users instanceof BridgeError) {
      throw users ?? new BridgeError('retryable', 'Salesforce answered no user query', { code: 'MALFORMED_RESPONSE' });
    }
    const described =
      read.describes[0] ??
      new BridgeError('retryable', 'Salesforce sent no describe of Event', { code: 'MALFORMED_RESPONSE' });
    return {
      users,
      access: assessPackageAccess(namespace, described, reads.queries.length === 0 ? undefined : read.queries[1]),
      org: orgFacts(read.queries[1 + reads.queries.length]),
    };
  }

  /** A link is not made for a user who cannot write the package's fields: the error names the fix. */
  private refuseWithoutPackage(access: PackageAccess | BridgeError, orgId: string, username: string): void {
    const { logger } = this.options;
    if (access instanceof BridgeError) {
      // Nothing can be told; the sync checks again before its first write and holds if need be.
      logger.warn(
        { orgId, code: access.code, message: access.remoteMessage ?? access.message },
        'the package fields could not be checked while linking; linking anyway',
      );
      return;
    }
    if (access.state === 'ok') return;
    logger.warn({ orgId, username, problem: access.state }, 'link refused: the user cannot write the package fields');
    throw linkError(access.state, 'bad_input', {
      orgId,
      username,
      permissionSet: PACKAGE_PERMISSION_SETS.integration.name,
      ...(access.state === 'field_access_missing'
        ? { missingFields: access.missingFields, readOnlyFields: access.readOnlyFields }
        : {}),
    });
  }

  /** `SELECT Id, IsActive FROM User` for the given ids, with one access token and no refresh. */
  private queryUsers(
    instanceUrl: string,
    accessToken: string,
    orgId: string,
    userIds: string[],
  ): Promise<SObjectRecord[]> {
    return this.restClient(instanceUrl, accessToken, orgId).query(usersQuery(userIds));
  }
}

const ORGANIZATION_QUERY = 'SELECT Name, IsSandbox FROM Organization';

function usersQuery(userIds: string[]): string {
  const ids = [...new Set(userIds)];
  // Only well-formed ids reach the SOQL text, so nothing can be injected through them.
  for (const id of ids) if (!isUserId(id)) throw invalidOwner(id);
  return `SELECT Id, IsActive, Name, Email FROM User WHERE Id IN (${ids.map((id) => `'${id}'`).join(', ')})`;
}
