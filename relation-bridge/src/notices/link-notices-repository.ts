import { newId } from '../core/ids';
import type { SqlExecutor } from '../store/database';
import { sql } from '../store/sql';

/** What the inbox's admins are e-mailed about: a link's problems that stop or will stop its sync. */
export type NoticeCode =
  | 'needs_reauth'
  | 'org_paused'
  | 'package_missing'
  | 'field_access_missing'
  | 'user_inactive'
  | 'user_frozen'
  | 'token_expiring'
  | 'approval_limit';

export const NOTICE_CODES: readonly NoticeCode[] = [
  'needs_reauth',
  'org_paused',
  'package_missing',
  'field_access_missing',
  'user_inactive',
  'user_frozen',
  'token_expiring',
  'approval_limit',
];

/** What a notice says beside its code: names, times (ISO 8601), counts. */
export type NoticeDetails = Record<string, string | number | boolean | null>;

/**
 * One incident: a link's problem from when it was first seen until it was resolved, and the
 * notice about it: who has it, when it was sent, and the claim of the instance sending it.
 */
export interface Incident {
  id: string;
  linkId: string;
  inboxId: string;
  code: NoticeCode;
  details: NoticeDetails;
  startedAt: number;
  lastSeenAt: number;
  resolvedAt: number | null;
  /** When the notice went to everyone it was for (null: not yet). */
  sentAt: number | null;
  /** Console users who have the notice already. */
  sentTo: string[];
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
}

export interface LinkNoticesRepository {
  /**
   * The link has the problem now: opens an incident when none is open (true), or marks the
   * open one seen, with the latest details (false).
   */
  observe(
    incident: { linkId: string; inboxId: string; code: NoticeCode; details: NoticeDetails },
    at: number,
  ): Promise<boolean>;
  /** Open incidents, of these links or of all. */
  open(linkIds?: readonly string[]): Promise<Incident[]>;
  /** Ends an open incident; a later problem of the same kind is a new incident. */
  resolve(id: string, at: number): Promise<boolean>;
  /** Every incident of a link, newest first (for tests and the history). */
  ofLink(linkId: string): Promise<Incident[]>;
  /**
   * Claims the oldest open incident whose notice is due, unsent and unclaimed (or whose
   * claim has expired) for `leaseMs`: one instance sends it.
   */
  claimDue(owner: string, at: number, leaseMs: number): Promise<Incident | null>;
  /** Records that a recipient has the notice (under the claim). */
  addRecipient(id: string, owner: string, userId: string): Promise<void>;
  /** Every recipient has it: sent, and the claim released. */
  markSent(id: string, owner: string, at: number): Promise<void>;
  /** Sending failed: the claim released, the next attempt due at `nextAttemptAt`. */
  release(id: string, owner: string, nextAttemptAt: number, error: string): Promise<void>;
}

interface IncidentRow {
  id: string;
  link_id: string;
  inbox_id: string;
  code: NoticeCode;
  details: string;
  started_at: number;
  last_seen_at: number;
  resolved_at: number | null;
  sent_at: number | null;
  sent_to: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
}

const COLUMNS = sql.raw(
  'id, link_id, inbox_id, code, details, started_at, last_seen_at, resolved_at, sent_at, sent_to, attempts, ' +
    'next_attempt_at, last_error',
);

function toIncident(row: IncidentRow): Incident {
  return {
    id: row.id,
    linkId: row.link_id,
    inboxId: row.inbox_id,
    code: row.code,
    details: JSON.parse(row.details) as NoticeDetails,
    startedAt: row.started_at,
    lastSeenAt: row.last_seen_at,
    resolvedAt: row.resolved_at,
    sentAt: row.sent_at,
    sentTo: JSON.parse(row.sent_to) as string[],
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
  };
}

export function createLinkNoticesRepository(db: SqlExecutor): LinkNoticesRepository {
  return {
    async observe(incident, at) {
      const details = JSON.stringify(incident.details);
      // The partial unique index (one open incident per link and code) turns a second opening into nothing.
      const opened = await db.run(sql`
        INSERT INTO link_notices (id, link_id, inbox_id, code, details, started_at, last_seen_at)
        VALUES (${newId('ntc')}, ${incident.linkId}, ${incident.inboxId}, ${incident.code}, ${details}, ${at}, ${at})
        ON CONFLICT DO NOTHING`);
      if (opened > 0) return true;
      await db.run(sql`
        UPDATE link_notices SET last_seen_at = ${at}, details = ${details}
         WHERE link_id = ${incident.linkId} AND code = ${incident.code} AND resolved_at IS NULL`);
      return false;
    },

    async open(linkIds) {
      if (linkIds !== undefined && linkIds.length === 0) return [];
      const scope = linkIds === undefined ? sql.empty : sql`AND ${sql.in(sql`link_id`, linkIds)}`;
      const rows = await db.all<IncidentRow>(sql`
        SELECT ${COLUMNS} FROM link_notices WHERE resolved_at IS NULL ${scope} ORDER BY started_at, id`);
      return rows.map(toIncident);
    },

    async resolve(id, at) {
      return (
        (await db.run(sql`UPDATE link_notices SET resolved_at = ${at} WHERE id = ${id} AND resolved_at IS NULL`)) > 0
      );
    },

    async ofLink(linkId) {
      const rows = await db.all<IncidentRow>(
        sql`SELECT ${COLUMNS} FROM link_notices WHERE link_id = ${linkId} ORDER BY started_at DESC, id`,
      );
      return rows.map(toIncident);
    },

    async claimDue(owner, at, leaseMs) {
      const unclaimed = sql`resolved_at IS NULL AND sent_at IS NULL AND (claim_expires_at IS NULL OR claim_expires_at <= ${at})`;
      const row = await db.one<IncidentRow>(sql`
        UPDATE link_notices SET claimed_by = ${owner}, claim_expires_at = ${at + leaseMs}
         WHERE id = (SELECT id FROM link_notices
                      WHERE ${unclaimed} AND next_attempt_at <= ${at}
                      ORDER BY started_at, id LIMIT 1)
           AND ${unclaimed}
        RETURNING ${COLUMNS}`);
      return row === null ? null : toIncident(row);
    },

    async addRecipient(id, owner, userId) {
      await db.atomic(async (tx) => {
        const row = await tx.one<{ sent_to: string }>(
          sql`SELECT sent_to FROM link_notices WHERE id = ${id} AND claimed_by = ${owner}`,
        );
        if (row === null) return;
        const sentTo = new Set(JSON.parse(row.sent_to) as string[]).add(userId);
        await tx.run(sql`UPDATE link_notices SET sent_to = ${JSON.stringify([...sentTo])} WHERE id = ${id}`);
      });
    },

    async markSent(id, owner, at) {
      await db.run(sql`
        UPDATE link_notices SET sent_at = ${at}, claimed_by = NULL, claim_expires_at = NULL, last_error = NULL
         WHERE id = ${id} AND claimed_by = ${owner}`);
    },

    async release(id, owner, nextAttemptAt, error) {
      await db.run(sql`
        UPDATE link_notices
           SET claimed_by = NULL, claim_expires_at = NULL, attempts = attempts + 1,
               next_attempt_at = ${nextAttemptAt}, last_error = ${error}
         WHERE id = ${id} AND claimed_by = ${owner}`);
    },
  };
}
