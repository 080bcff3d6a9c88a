import { BridgeError } from '../core/errors';
import type { SalesforceAuth } from '../core/types';
import type { Logger } from '../logging';
import type { OAuthClient } from '../salesforce/oauth-client';
import { SalesforceRestClient } from '../salesforce/rest-client';
import type { LinksRepository } from '../links/links-repository';
import type { LimitInfo, SalesforceApi } from '../salesforce/types';
import type { Store } from '../store/store';
import type { OrgRepository } from './org-repository';
import type { SyncEvents } from './sync-events';

export interface SessionSettings {
  apiVersion: string;
  timeoutMs: number;
  /** Share of the org's daily API requests this bridge may use (0..1]. */
  budgetShare: number;
  /** How long to wait before trying again once our share is used up. */
  budgetPauseMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** How long one instance may hold an authorisation's refresh before another may take over. */
const REFRESH_LEASE_MS = 30_000;
const REFRESH_WAIT_STEP_MS = 200;
/**
 * A token another instance stored this recently came from a refresh racing ours: it is used
 * instead of refreshing again. An older stored token may have expired as well, so it is
 * refreshed (a second 401 would wrongly end in needs re-authentication).
 */
const FRESH_TOKEN_MS = 60_000;

/**
 * What a call is for. Sync stops this share of the bridge's allowance short of it, so that
 * the health record (at most one call a minute per org) can still tell the Salesforce
 * admin that syncing is paused for the budget.
 */
export type ApiLane = 'sync' | 'health';
const HEALTH_RESERVE_SHARE = 0.02;

/**
 * Owns the access tokens of every Salesforce authorisation for the sync engine: refreshes
 * them once per expiry (one refresh at a time per authorisation, across every bridge
 * instance on the database), persists rotated tokens, and guards every API call with the
 * budget share, counted across instances.
 */
export class SalesforceSessions {
  private readonly accessTokens = new Map<string, string | null>();
  private readonly refreshing = new Map<string, Promise<string>>();
  /** Per authorisation, a token taken over from another instance's refresh rather than renewed here. */
  private readonly takenOver = new Map<string, string>();

  constructor(
    private readonly deps: {
      store: Store<{ links: LinksRepository; orgs: OrgRepository }>;
      oauth: OAuthClient;
      settings: SessionSettings;
      logger: Logger;
      now: () => number;
      /** This instance, as the holder of refresh leases. */
      instanceId: string;
      /** Waits between looks at another instance's refresh (tests make it instant). */
      sleep?: (ms: number) => Promise<void>;
      /** Told of every refresh and refusal (the metrics). */
      events?: SyncEvents;
    },
  ) {}

  clientFor(auth: SalesforceAuth, lane: ApiLane = 'sync'): SalesforceApi {
    if (!this.accessTokens.has(auth.id)) this.accessTokens.set(auth.id, auth.accessToken);
    const { settings } = this.deps;
    return new SalesforceRestClient({
      http: this.deps.oauth.http,
      instanceUrl: auth.instanceUrl,
      apiVersion: settings.apiVersion,
      timeoutMs: settings.timeoutMs,
      hooks: {
        getAccessToken: async () => this.accessTokens.get(auth.id) ?? null,
        refreshAccessToken: (refused) => this.refresh(auth.id, refused),
        beforeApiCall: () => this.checkBudget(auth.orgId, lane),
        afterApiCall: (limit) => this.recordCall(auth.orgId, limit),
      },
    });
  }

  /** Forgets the in-memory token (after re-authentication stored a new one). */
  invalidate(authId: string): void {
    this.accessTokens.delete(authId);
  }

  private refresh(authId: string, refusedToken?: string | null): Promise<string> {
    const running = this.refreshing.get(authId);
    if (running !== undefined) return running;
    const refused = refusedToken ?? this.accessTokens.get(authId) ?? null;
    // A token taken over from another instance that Salesforce refuses as well: renew for real.
    const renew = refused !== null && this.takenOver.get(authId) === refused;
    const attempt = this.refreshOnce(authId, refused, renew).finally(() => this.refreshing.delete(authId));
    this.refreshing.set(authId, attempt);
    return attempt;
  }

  /**
   * One refresh per authorisation across instances: with rotating refresh tokens, two
   * concurrent refreshes would cost the link its authorisation. The instance holding the
   * refresh lease refreshes; the others wait for it and take the token it stored.
   */
  private async refreshOnce(authId: string, refused: string | null, renew: boolean): Promise<string> {
    const { store, oauth, logger, now, instanceId } = this.deps;
    const lease = `refresh:${authId}`;
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
    for (;;) {
      const auth = await store.links.getAuth(authId);
      if (auth === null) {
        throw new BridgeError('needs_reauth', 'the Salesforce authorisation no longer exists', {
          code: 'auth_missing',
        });
      }
      const freshlyStored = (stored: typeof auth) =>
        !renew &&
        stored.accessToken !== null &&
        stored.accessToken !== refused &&
        now() - stored.issuedAt < FRESH_TOKEN_MS;
      if (freshlyStored(auth)) {
        // Refreshed meanwhile (by another instance, or a re-authorisation): use that token.
        return this.takeOver(authId, auth.accessToken as string);
      }
      if (!(await store.orgs.acquireLease(lease, instanceId, REFRESH_LEASE_MS, now()))) {
        await sleep(REFRESH_WAIT_STEP_MS);
        continue;
      }
      try {
        const current = await store.links.getAuth(authId);
        if (current !== null && freshlyStored(current)) return this.takeOver(authId, current.accessToken as string);
        const tokens = await oauth.refresh(auth.loginUrl, (current ?? auth).refreshToken).catch((error: unknown) => {
          this.deps.events?.tokenRefreshed('failed');
          throw error;
        });
        this.deps.events?.tokenRefreshed('refreshed');
        await store.links.updateAuthTokens(
          authId,
          {
            accessToken: tokens.accessToken,
            ...(tokens.refreshToken !== null ? { refreshToken: tokens.refreshToken } : {}),
            issuedAt: tokens.issuedAt,
          },
          now(),
        );
        this.accessTokens.set(authId, tokens.accessToken);
        this.takenOver.delete(authId);
        logger.info(
          { authId, orgId: auth.orgId, rotated: tokens.refreshToken !== null },
          'salesforce access token refreshed',
        );
        return tokens.accessToken;
      } finally {
        await store.orgs.releaseLease(lease, instanceId);
      }
    }
  }

  private takeOver(authId: string, token: string): string {
    this.accessTokens.set(authId, token);
    this.takenOver.set(authId, token);
    return token;
  }

  private async checkBudget(orgId: string, lane: ApiLane): Promise<void> {
    const { store, settings, now } = this.deps;
    const at = now();
    const state = await store.orgs.getState(orgId);
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
    const used = await store.orgs.countApiCalls(orgId, at - DAY_MS);
    if (used >= allowance) {
      throw new BridgeError(
        'api_budget',
        `the bridge has used its share of the org's daily API requests (${used}/${allowance}, ${Math.round(settings.budgetShare * 100)}% of ${state.apiMax})`,
        { code: 'bridge_share_exhausted', retryAt: at + settings.budgetPauseMs },
      );
    }
  }

  private async recordCall(orgId: string, limit: LimitInfo | null): Promise<void> {
    await this.deps.store.orgs.recordApiCalls(orgId, 1, this.deps.now(), limit);
  }
}
