import type { OrgState } from '../core/types';
import type { SqlExecutor } from '../store/database';
import { sql } from '../store/sql';

/**
 * Per-org state shared by every bridge instance on the database: pauses, what Salesforce
 * last said about the org's API budget, the API calls the bridges made (per minute, for
 * the rolling 24 hours), and named leases (one sync writer per org, one token refresh per
 * authorisation).
 */
export interface OrgRepository {
  getState(orgId: string): Promise<OrgState>;
  setPause(orgId: string, pausedUntil: number | null, reason: string | null): Promise<void>;
  recordSync(orgId: string, at: number): Promise<void>;
  /** Counts API calls made to the org and, when Salesforce reported it, the org-wide usage. */
  recordApiCalls(orgId: string, count: number, at: number, limit: { used: number; max: number } | null): Promise<void>;
  /** API calls every bridge instance made to the org since `since`. */
  countApiCalls(orgId: string, since: number): Promise<number>;
  /**
   * Takes the named lease, or renews it when `owner` holds it already; false while another
   * live owner holds it. A lease not renewed within `ttlMs` passes to whoever asks next.
   */
  acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<boolean>;
  releaseLease(name: string, owner: string): Promise<void>;
  /** Who holds the lease now (null: nobody, or expired). */
  leaseHolder(name: string, now: number): Promise<string | null>;
}

const MINUTE_MS = 60_000;
/** API call buckets are kept a day beyond the rolling 24 h that budgets look at. */
const API_CALL_HISTORY_MS = 48 * 60 * MINUTE_MS;

interface OrgStateRow {
  paused_until: number | null;
  pause_reason: string | null;
  api_used: number | null;
  api_max: number | null;
  api_seen_at: number | null;
  last_sync_at: number | null;
}

function minuteOf(at: number): number {
  return at - (((at % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
}

export function createOrgRepository(db: SqlExecutor): OrgRepository {
  return {
    async getState(orgId) {
      const row = await db.one<OrgStateRow>(sql`
        SELECT paused_until, pause_reason, api_used, api_max, api_seen_at, last_sync_at
          FROM org_state WHERE org_id = ${orgId}`);
      return {
        orgId,
        pausedUntil: row?.paused_until ?? null,
        pauseReason: row?.pause_reason ?? null,
        apiUsed: row?.api_used ?? null,
        apiMax: row?.api_max ?? null,
        apiSeenAt: row?.api_seen_at ?? null,
        lastSyncAt: row?.last_sync_at ?? null,
      };
    },

    async setPause(orgId, pausedUntil, reason) {
      await db.run(sql`
        INSERT INTO org_state (org_id, paused_until, pause_reason) VALUES (${orgId}, ${pausedUntil}, ${reason})
        ON CONFLICT (org_id) DO UPDATE SET paused_until = excluded.paused_until, pause_reason = excluded.pause_reason`);
    },

    async recordSync(orgId, at) {
      await db.run(sql`
        INSERT INTO org_state (org_id, last_sync_at) VALUES (${orgId}, ${at})
        ON CONFLICT (org_id) DO UPDATE SET last_sync_at = excluded.last_sync_at`);
    },

    async recordApiCalls(orgId, count, at, limit) {
      await db.batch([
        sql`INSERT INTO api_calls (org_id, minute, calls) VALUES (${orgId}, ${minuteOf(at)}, ${count})
            ON CONFLICT (org_id, minute) DO UPDATE SET calls = api_calls.calls + excluded.calls`,
        sql`DELETE FROM api_calls WHERE org_id = ${orgId} AND minute < ${minuteOf(at - API_CALL_HISTORY_MS)}`,
        ...(limit === null
          ? []
          : [
              sql`INSERT INTO org_state (org_id, api_used, api_max, api_seen_at)
                  VALUES (${orgId}, ${limit.used}, ${limit.max}, ${at})
                  ON CONFLICT (org_id) DO UPDATE
                     SET api_used = excluded.api_used, api_max = excluded.api_max, api_seen_at = excluded.api_seen_at`,
            ]),
      ]);
    },

    async countApiCalls(orgId, since) {
      const row = await db.one<{ calls: number | null }>(
        sql`SELECT SUM(calls) AS calls FROM api_calls WHERE org_id = ${orgId} AND minute >= ${minuteOf(since)}`,
      );
      return row?.calls ?? 0;
    },

    async acquireLease(name, owner, ttlMs, now) {
      const row = await db.one<{ owner: string }>(sql`
        INSERT INTO leases (name, owner, expires_at) VALUES (${name}, ${owner}, ${now + ttlMs})
        ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE leases.owner = excluded.owner OR leases.expires_at <= ${now}
        RETURNING owner`);
      return row?.owner === owner;
    },

    async releaseLease(name, owner) {
      await db.run(sql`DELETE FROM leases WHERE name = ${name} AND owner = ${owner}`);
    },

    async leaseHolder(name, now) {
      const row = await db.one<{ owner: string }>(
        sql`SELECT owner FROM leases WHERE name = ${name} AND expires_at > ${now}`,
      );
      return row?.owner ?? null;
    },
  };
}
