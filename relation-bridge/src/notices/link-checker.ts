import { BridgeError, isBridgeError } from '../core/errors';
import type { SalesforceAuth } from '../core/types';
import type { LinksRepository } from '../links/links-repository';
import type { PendingLinksRepository } from '../links/pending-links-repository';
import type { Logger } from '../logging';
import type { OAuthClient } from '../salesforce/oauth-client';
import { PACKAGE_APP_LABEL } from '../salesforce/package-names';
import { soqlString } from '../salesforce/soql';
import type { SObjectRecord } from '../salesforce/types';
import type { Store } from '../store/store';
import type { ActionsRepository } from '../sync/actions-repository';
import type { OrgRepository } from '../sync/org-repository';
import type { SalesforceSessions } from '../sync/sessions';
import type { LinkCheckFindings, LinkChecksRepository } from './link-checks-repository';

export type CheckerStore = Store<{
  links: LinksRepository;
  pendingLinks: PendingLinksRepository;
  actions: ActionsRepository;
  orgs: OrgRepository;
  linkChecks: LinkChecksRepository;
}>;

export interface LinkCheckerDeps {
  store: CheckerStore;
  sessions: SalesforceSessions;
  oauth: OAuthClient;
  /** NOTICE_CHECK_INTERVAL_MS: each authorisation is checked at most this often. */
  intervalMs: number;
  logger: Logger;
  now: () => number;
  instanceId: string;
}

/**
 * The refusals that say the session itself is dead (revoked, expired, the user or org inactive,
 * no API access): the links need re-authentication. Other refusals of the `needs_reauth` kind
 * (INSUFFICIENT_ACCESS and the like) answer a query the user may not make, not the session.
 */
const SESSION_REFUSALS = new Set([
  'INVALID_SESSION_ID',
  'invalid_grant',
  'inactive_user',
  'inactive_org',
  'API_DISABLED_FOR_ORG',
  'API_CURRENTLY_DISABLED',
  'auth_missing',
]);

/** How long one instance may take over a check before another may. */
const CHECK_LEASE_MS = 5 * 60_000;
/** After a check that could not be made (an outage, the budget), the next try. */
const RETRY_AFTER_MS = 5 * 60_000;

/**
 * Looks, on a cadence and whatever the sync is doing, for what would break a link before it
 * breaks: each authorisation used by an active link is checked at most once per interval, by
 * one instance, with one API call (a /composite of three queries, on the health record's share
 * of the budget) and one free token introspection:
 *
 * - the org's authorising users (User.IsActive) and whether they are frozen (UserLogin.IsFrozen,
 *   which Salesforce shows only to users with Manage Users: otherwise unknown);
 * - the user's approvals of the app (OauthToken, which shows a user their own): at the limit of
 *   five, the next approval by the same user silently revokes the oldest;
 * - what introspection says of the refresh token: ended already, or when the org's refresh-token
 *   policy ends it (the policy itself is not readable through the API).
 *
 * A session Salesforce refuses (revoked, expired, the user deactivated or without API access)
 * makes the authorisation's links need re-authentication at once, as the sync would at its next
 * action, so that an idle inbox does not look linked for days.
 */
export class LinkChecker {
  /** Authorisations whose check failed for now, and when to try again (this instance only). */
  private readonly retryAt = new Map<string, number>();

  constructor(private readonly deps: LinkCheckerDeps) {}

  /** Checks every authorisation that is due; returns how many were checked. Never throws. */
  async checkDue(): Promise<number> {
    const { store, logger, now } = this.deps;
    try {
      const links = await store.links.listLinks();
      const activeAuths = new Set(links.filter((link) => link.status === 'active').map((link) => link.authId));
      await store.linkChecks.deleteExcept([...new Set(links.map((link) => link.authId))]);
      let checked = 0;
      for (const authId of activeAuths) {
        if ((this.retryAt.get(authId) ?? 0) > now()) continue;
        if (!(await this.isDue(authId))) continue;
        if (await this.checkWithLease(authId, activeAuths)) checked += 1;
      }
      return checked;
    } catch (error) {
      logger.error({ err: error }, 'link checks could not run; trying again later');
      return 0;
    }
  }

  private async isDue(authId: string): Promise<boolean> {
    const last = await this.deps.store.linkChecks.get(authId);
    return last === null || this.deps.now() - last.checkedAt >= this.deps.intervalMs;
  }

  private async checkWithLease(authId: string, activeAuths: ReadonlySet<string>): Promise<boolean> {
    const { store, instanceId, now } = this.deps;
    const lease = `link-check:${authId}`;
    if (!(await store.orgs.acquireLease(lease, instanceId, CHECK_LEASE_MS, now()))) return false;
    try {
      // Another instance may have checked it between the look and the lease.
      if (!(await this.isDue(authId))) return false;
      const auth = await store.links.getAuth(authId);
      if (auth === null) return false;
      return await this.check(auth, activeAuths);
    } finally {
      await store.orgs.releaseLease(lease, instanceId).catch(() => undefined);
    }
  }

  private async check(auth: SalesforceAuth, activeAuths: ReadonlySet<string>): Promise<boolean> {
    const { store, sessions, logger, now } = this.deps;
    const orgAuths = (await store.links.listAuths()).filter(
      (other) => other.orgId === auth.orgId && activeAuths.has(other.id),
    );
    const userIds = [...new Set([auth.userId, ...orgAuths.map((other) => other.userId)])];
    const inList = userIds.map(soqlString).join(', ');
    const usersQuery = `SELECT Id, Username, IsActive FROM User WHERE Id IN (${inList})`;
    const loginsQuery = `SELECT UserId, IsFrozen FROM UserLogin WHERE UserId IN (${inList})`;
    const approvalsQuery =
      `SELECT CreatedDate FROM OauthToken WHERE UserId = ${soqlString(auth.userId)} ` +
      `AND AppName = ${soqlString(PACKAGE_APP_LABEL)} ORDER BY CreatedDate`;
    const api = sessions.clientFor(auth, 'health');
    let users: SObjectRecord[] | BridgeError | undefined;
    let logins: SObjectRecord[] | BridgeError | undefined;
    let approvals: SObjectRecord[] | BridgeError | undefined;
    try {
      [users, logins, approvals] = await api.queryManySettled([usersQuery, loginsQuery, approvalsQuery]);
    } catch (error) {
      if (!isBridgeError(error) || error.kind !== 'needs_reauth' || SESSION_REFUSALS.has(error.code)) {
        await this.checkFailed(auth, error);
        return false;
      }
      // An org that refuses UserLogin with an access error rather than INVALID_TYPE refuses the
      // whole call: ask again without it (frozen is then unknown), which also tells whether the
      // session itself works.
      try {
        [users, approvals] = await api.queryManySettled([usersQuery, approvalsQuery]);
        logins = error;
      } catch (again) {
        await this.checkFailed(auth, again);
        return false;
      }
    }
    // The call may have refreshed (and rotated) the token: introspect the one stored now.
    const current = (await store.links.getAuth(auth.id)) ?? auth;
    const token = await this.introspect(current);
    const findings: LinkCheckFindings = {
      userId: auth.userId,
      username: auth.username,
      users: this.usersSeen(users, logins),
      token,
      approvals:
        approvals instanceof BridgeError || approvals === undefined
          ? { visible: false, heldByBridge: await this.heldByBridge(auth) }
          : approvalsSeen(approvals, token?.issuedAt ?? null),
    };
    for (const [what, result] of [
      ['User', users],
      ['OauthToken', approvals],
    ] as const) {
      if (result instanceof BridgeError) {
        logger.warn(
          { authId: auth.id, orgId: auth.orgId, code: result.code, message: result.remoteMessage ?? result.message },
          `the link check could not read ${what}`,
        );
      }
    }
    this.retryAt.delete(auth.id);
    await store.linkChecks.save({ authId: auth.id, checkedAt: now(), findings: withoutIssuedAt(findings) });
    return true;
  }

  private usersSeen(
    users: SObjectRecord[] | BridgeError | undefined,
    logins: SObjectRecord[] | BridgeError | undefined,
  ): LinkCheckFindings['users'] {
    if (users === undefined || users instanceof BridgeError) return [];
    const frozen = new Map<string, boolean>();
    if (logins !== undefined && !(logins instanceof BridgeError)) {
      for (const login of logins) frozen.set(String(login.UserId), login.IsFrozen === true);
    }
    return users.map((user) => ({
      userId: user.Id,
      username: typeof user.Username === 'string' ? user.Username : user.Id,
      active: user.IsActive === true,
      // Not readable without Manage Users: unknown, not "not frozen".
      frozen: logins instanceof BridgeError || logins === undefined ? null : (frozen.get(user.Id) ?? false),
    }));
  }

  private async introspect(
    auth: SalesforceAuth,
  ): Promise<{ active: boolean; expiresAt: number | null; issuedAt: number | null } | null> {
    try {
      return await this.deps.oauth.introspect(auth.loginUrl, auth.refreshToken, 'refresh_token');
    } catch (error) {
      this.deps.logger.info(
        { authId: auth.id, orgId: auth.orgId, code: isBridgeError(error) ? error.code : undefined },
        'token introspection was not answered; the refresh token’s end is not known',
      );
      return null;
    }
  }

  /** What the bridge itself holds for the user when Salesforce will not list their approvals. */
  private async heldByBridge(auth: SalesforceAuth): Promise<number> {
    const pending = await this.deps.store.pendingLinks.list();
    return 1 + pending.filter((link) => link.orgId === auth.orgId && link.userId === auth.userId).length;
  }

  private async checkFailed(auth: SalesforceAuth, error: unknown): Promise<void> {
    const { store, logger, now } = this.deps;
    const failure = isBridgeError(error) ? error : null;
    if (failure?.kind === 'needs_reauth') {
      // The same unit of work as the sync's: the links need re-authentication, their actions are held.
      const reason = `${failure.code}: ${failure.remoteMessage ?? failure.message}`;
      const at = now();
      const linkIds = await store.transaction(async (tx) => {
        const changed = await tx.links.setLinkStatusByAuth(auth.id, 'needs_reauth', reason, at);
        for (const linkId of changed) await tx.actions.holdLink(linkId, 'needs_reauth', at);
        return changed;
      });
      logger.warn(
        { authId: auth.id, orgId: auth.orgId, code: failure.code, links: linkIds.length },
        `the link check found the authorisation refused: its links need re-authentication (${reason})`,
      );
      return;
    }
    this.retryAt.set(auth.id, now() + Math.min(RETRY_AFTER_MS, this.deps.intervalMs));
    logger[failure?.kind === 'api_budget' ? 'debug' : 'warn'](
      {
        authId: auth.id,
        orgId: auth.orgId,
        kind: failure?.kind ?? 'unexpected',
        code: failure?.code,
        message: error instanceof Error ? error.message : String(error),
      },
      'the link check could not be made; trying again later',
    );
  }
}

/**
 * The user's approvals of the app, oldest first. The one this authorisation holds is the
 * oldest when its refresh token was issued before the second oldest approval; past that the
 * bridge cannot tell (a rotated token is newer than its approval).
 */
function approvalsSeen(rows: SObjectRecord[], tokenIssuedAt: number | null): LinkCheckFindings['approvals'] {
  const times = rows
    .map((row) => (typeof row.CreatedDate === 'string' ? Date.parse(row.CreatedDate) : NaN))
    .filter((time) => Number.isFinite(time))
    .sort((a, b) => a - b);
  const second = times[1];
  const oursIsOldest =
    tokenIssuedAt === null || times.length === 0 ? null : second === undefined || tokenIssuedAt < second ? true : null;
  return { visible: true, count: rows.length, oldestAt: times[0] ?? null, oursIsOldest };
}

/** The findings as kept: the token's issue time served only to place it among the approvals. */
function withoutIssuedAt(findings: LinkCheckFindings): LinkCheckFindings {
  if (findings.token === null) return findings;
  const { active, expiresAt } = findings.token;
  return { ...findings, token: { active, expiresAt } };
}
