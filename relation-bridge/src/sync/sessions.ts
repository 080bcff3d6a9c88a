import { BridgeError } from '../core/errors';
import type { SalesforceAuth } from '../core/types';
import type { Logger } from '../logging';
import type { OAuthClient } from '../salesforce/oauth-client';
import { SalesforceRestClient } from '../salesforce/rest-client';
import type { LimitInfo, SalesforceApi } from '../salesforce/types';
import type { Store } from '../store/store';

export interface SessionSettings {
  apiVersion: string;
  timeoutMs: number;
  /** Share of the org's daily API requests this bridge may use (0..1]. */
  budgetShare: number;
  /** How long to wait before trying again once our share is used up. */
  budgetPauseMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * What a call is for. Sync stops this share of the bridge's allowance short of it, so that
 * the health record (at most one call a minute per org) can still tell the Salesforce
 * admin that syncing is paused for the budget.
 */
export type ApiLane = 'sync' | 'health';
const HEALTH_RESERVE_SHARE = 0.02;

/**
 * Owns the access tokens of every Salesforce authorisation for the sync engine: refreshes
 * them once per expiry (one refresh at a time per authorisation), persists rotated
 * tokens, and guards every API call with the budget share.
 */
export class SalesforceSessions {
  private readonly accessTokens = new Map<string, string | null>();
  private readonly refreshing = new Map<string, Promise<string>>();

  constructor(
    private readonly deps: {
      store: Store;
      oauth: OAuthClient;
      settings: SessionSettings;
      logger: Logger;
      now: () => number;
    },
  ) {}

  clientFor(auth: SalesforceAuth, lane: ApiLane = 'sync'): SalesforceApi {
    if (!this.accessTokens.has(auth.id)) this.accessTokens.set(auth.id, auth.accessToken);
    const { settings } = this.deps;
    return new SalesforceRestClient({
      instanceUrl: auth.instanceUrl,
      apiVersion: settings.apiVersion,
      timeoutMs: settings.timeoutMs,
      hooks: {
        getAccessToken: async () => this.accessTokens.get(auth.id) ?? null,
        refreshAccessToken: () => this.refresh(auth.id),
        beforeApiCall: () => this.checkBudget(auth.orgId, lane),
        afterApiCall: (limit) => this.recordCall(auth.orgId, limit),
      },
    });
  }

  /** Forgets the in-memory token (after re-authentication stored a new one). */
  invalidate(authId: string): void {
    this.accessTokens.delete(authId);
  }

  private refresh(authId: string): Promise<string> {
    const running = this.refreshing.get(authId);
    if (running !== undefined) return running;
    const attempt = this.refreshOnce(authId).finally(() => this.refreshing.delete(authId));
    this.refreshing.set(authId, attempt);
    return attempt;
  }

  private async refreshOnce(authId: string): Promise<string> {
    const { store, oauth, logger, now } = this.deps;
    const auth = await store.getAuth(authId);
    if (auth === null) {
      throw new BridgeError('needs_reauth', 'the Salesforce authorisation no longer exists', { code: 'auth_missing' });
    }
    const tokens = await oauth.refresh(auth.loginUrl, auth.refreshToken);
    await store.updateAuthTokens(
      authId,
      {
        accessToken: tokens.accessToken,
        ...(tokens.refreshToken !== null ? { refreshToken: tokens.refreshToken } : {}),
        issuedAt: tokens.issuedAt,
      },
      now(),
    );
    this.accessTokens.set(authId, tokens.accessToken);
    logger.info(
      { authId, orgId: auth.orgId, rotated: tokens.refreshToken !== null },
      'salesforce access token refreshed',
    );
    return tokens.accessToken;
  }

  private async checkBudget(orgId: string, lane: ApiLane): Promise<void> {
    const { store, settings, now } = this.deps;
    const at = now();
    const state = await store.getOrgState(orgId);
    if (state.apiMax === null) return;
    // The org-wide figure is only as fresh as the last response; once a pause has passed,
    // one call goes through as a probe and brings the current figure.
    const seenAt = state.apiSeenAt ?? 0;
    if (state.apiUsed !== null && state.apiUsed >= state.apiMax && at - seenAt < settings.budgetPauseMs) {
      throw new BridgeError(
        'api_budget',
        `the org has used its daily API requests (${state.apiUsed}/${state.apiMax})`,
        {
          code: 'org_budget_exhausted',
          retryAt: seenAt + settings.budgetPauseMs,
        },
      );
    }
    const share = Math.floor(state.apiMax * settings.budgetShare);
    const allowance = lane === 'health' ? share : share - Math.floor(share * HEALTH_RESERVE_SHARE);
    const used = await store.countApiCalls(orgId, at - DAY_MS);
    if (used >= allowance) {
      throw new BridgeError(
        'api_budget',
        `the bridge has used its share of the org's daily API requests (${used}/${allowance}, ${Math.round(settings.budgetShare * 100)}% of ${state.apiMax})`,
        { code: 'bridge_share_exhausted', retryAt: at + settings.budgetPauseMs },
      );
    }
  }

  private async recordCall(orgId: string, limit: LimitInfo | null): Promise<void> {
    const { store, now } = this.deps;
    const at = now();
    await store.addApiCalls(orgId, 1, at);
    if (limit !== null) await store.recordOrgLimitInfo(orgId, limit.used, limit.max, at);
  }
}
