import type { SqlExecutor } from '../store/database';
import { sql } from '../store/sql';

/**
 * What the last check of a Salesforce authorisation found that would break its links before
 * they break. Every fact is what Salesforce showed to the authorising user's own session;
 * null (or `visible: false`) where it did not show it.
 */
export interface LinkCheckFindings {
  /** The authorisation's user. */
  userId: string;
  username: string;
  /**
   * The org's authorising users as this session saw them: `active` from User.IsActive; `frozen`
   * from UserLogin.IsFrozen, null when the user may not read UserLogin (it needs Manage Users).
   */
  users: Array<{ userId: string; username: string; active: boolean; frozen: boolean | null }>;
  /** What token introspection said of the refresh token; null when it could not be asked. */
  token: { active: boolean; expiresAt: number | null } | null;
  /**
   * The user's live approvals of the app (OauthToken, which shows a user their own): how many,
   * the oldest's time, and whether the oldest is the one this authorisation holds (null: cannot
   * tell). `visible: false`: Salesforce refused the query; `heldByBridge` is what the bridge
   * itself holds for the user (this authorisation and their pending links).
   */
  approvals:
    | { visible: true; count: number; oldestAt: number | null; oursIsOldest: boolean | null }
    | { visible: false; heldByBridge: number };
}

export interface LinkCheck {
  authId: string;
  checkedAt: number;
  findings: LinkCheckFindings;
}

export interface LinkChecksRepository {
  save(check: LinkCheck): Promise<void>;
  get(authId: string): Promise<LinkCheck | null>;
  /** The checks of these authorisations (those of one org, say), newest first. */
  listOf(authIds: readonly string[]): Promise<LinkCheck[]>;
  /** Forgets the checks of authorisations the bridge no longer holds. */
  deleteExcept(authIds: readonly string[]): Promise<number>;
}

interface CheckRow {
  auth_id: string;
  checked_at: number;
  findings: string;
}

function toCheck(row: CheckRow): LinkCheck {
  return { authId: row.auth_id, checkedAt: row.checked_at, findings: JSON.parse(row.findings) as LinkCheckFindings };
}

export function createLinkChecksRepository(db: SqlExecutor): LinkChecksRepository {
  return {
    async save(check) {
      await db.run(sql`
        INSERT INTO link_checks (auth_id, checked_at, findings)
        VALUES (${check.authId}, ${check.checkedAt}, ${JSON.stringify(check.findings)})
        ON CONFLICT (auth_id) DO UPDATE SET checked_at = excluded.checked_at, findings = excluded.findings`);
    },

    async get(authId) {
      const row = await db.one<CheckRow>(
        sql`SELECT auth_id, checked_at, findings FROM link_checks WHERE auth_id = ${authId}`,
      );
      return row === null ? null : toCheck(row);
    },

    async listOf(authIds) {
      if (authIds.length === 0) return [];
      const rows = await db.all<CheckRow>(sql`
        SELECT auth_id, checked_at, findings FROM link_checks
         WHERE ${sql.in(sql`auth_id`, authIds)} ORDER BY checked_at DESC, auth_id`);
      return rows.map(toCheck);
    },

    deleteExcept(authIds) {
      if (authIds.length === 0) return db.run(sql`DELETE FROM link_checks`);
      return db.run(sql`DELETE FROM link_checks WHERE NOT (${sql.in(sql`auth_id`, authIds)})`);
    },
  };
}
