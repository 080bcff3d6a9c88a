import type { Actor } from '../core/types';
import type { SqlExecutor } from '../store/database';
import { sql } from '../store/sql';

export type LinkAuditEvent = 'created' | 'changed' | 'reauthorized' | 'deleted';

/**
 * One field's change. A value people would read as an id (a user, an org) carries how it
 * reads (a user's name and email, an org's name) when the bridge knew it then.
 */
export interface AuditChange {
  from: unknown;
  to: unknown;
  fromLabel?: string | null;
  toLabel?: string | null;
}

/** Who created, changed, re-authorised or deleted a link, when, and what changed. Kept for good. */
export interface LinkAuditEntry {
  id: number;
  inboxId: string;
  linkId: string;
  at: number;
  actor: Actor;
  event: LinkAuditEvent;
  /** Per field, the value before and after (null where there was none). */
  changes: Record<string, AuditChange>;
}

export interface AuditRepository {
  add(entry: Omit<LinkAuditEntry, 'id'>): Promise<void>;
  /** Newest first. */
  list(inboxId: string, limit: number): Promise<LinkAuditEntry[]>;
}

interface AuditRow {
  id: number;
  inbox_id: string;
  link_id: string;
  at: number;
  actor_kind: Actor['kind'];
  actor_id: string | null;
  actor_name: string;
  event: LinkAuditEvent;
  changes: string;
}

export function createAuditRepository(db: SqlExecutor): AuditRepository {
  return {
    async add(entry) {
      await db.run(sql`
        INSERT INTO link_audit (inbox_id, link_id, at, actor_kind, actor_id, actor_name, event, changes)
        VALUES (${entry.inboxId}, ${entry.linkId}, ${entry.at}, ${entry.actor.kind}, ${entry.actor.id},
                ${entry.actor.name}, ${entry.event}, ${JSON.stringify(entry.changes)})`);
    },

    async list(inboxId, limit) {
      const rows = await db.all<AuditRow>(sql`
        SELECT id, inbox_id, link_id, at, actor_kind, actor_id, actor_name, event, changes
          FROM link_audit WHERE inbox_id = ${inboxId} ORDER BY at DESC, id DESC LIMIT ${limit}`);
      return rows.map((row) => ({
        id: row.id,
        inboxId: row.inbox_id,
        linkId: row.link_id,
        at: row.at,
        actor: { kind: row.actor_kind, id: row.actor_id, name: row.actor_name },
        event: row.event,
        changes: JSON.parse(row.changes) as LinkAuditEntry['changes'],
      }));
    },
  };
}
