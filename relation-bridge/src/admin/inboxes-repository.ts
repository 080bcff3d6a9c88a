import { BridgeError } from '../core/errors';
import { isConstraintViolation, type SqlExecutor } from '../store/database';
import { sql } from '../store/sql';

/** The inboxes an owner registered, and who holds which role on each. */

export type InboxRole = 'admin' | 'member';

/** An inbox registered by an owner, with the id and name the helpdesk gives it. */
export interface RegisteredInbox {
  inboxId: string;
  name: string;
  registeredAt: number;
  registeredBy: string | null;
}

/** An inbox id that webhooks or links carry, whether registered or not. */
export interface SeenInbox {
  inboxId: string;
  inboxName: string | null;
  actions: number;
  lastSeenAt: number | null;
}

export interface InboxMembership {
  inboxId: string;
  userId: string;
  role: InboxRole;
  grantedAt: number;
}

export interface InboxesRepository {
  /** @throws BridgeError `inbox_exists` (409). */
  register(inbox: {
    inboxId: string;
    name: string;
    registeredBy: string | null;
    now: number;
  }): Promise<RegisteredInbox>;
  /** @throws BridgeError `inbox_not_found` (404). */
  rename(inboxId: string, name: string): Promise<RegisteredInbox>;
  /** Removes the registration and its roles. @throws BridgeError `inbox_not_found`. */
  unregister(inboxId: string): Promise<void>;
  get(inboxId: string): Promise<RegisteredInbox | null>;
  list(): Promise<RegisteredInbox[]>;
  /** Every inbox id found in actions or links, with the latest name and the newest action. */
  listSeen(): Promise<SeenInbox[]>;
  /** Grants, changes (role) or removes (null) a user's role on a registered inbox. */
  setRole(inboxId: string, userId: string, role: InboxRole | null, now: number): Promise<void>;
  listMembers(inboxId: string): Promise<InboxMembership[]>;
  listRolesOfUser(userId: string): Promise<InboxMembership[]>;
}

interface InboxRow {
  inbox_id: string;
  name: string;
  registered_at: number;
  registered_by: string | null;
}

interface RoleRow {
  inbox_id: string;
  user_id: string;
  role: InboxRole;
  granted_at: number;
}

function toInbox(row: InboxRow): RegisteredInbox {
  return { inboxId: row.inbox_id, name: row.name, registeredAt: row.registered_at, registeredBy: row.registered_by };
}

function toMembership(row: RoleRow): InboxMembership {
  return { inboxId: row.inbox_id, userId: row.user_id, role: row.role, grantedAt: row.granted_at };
}

export function inboxNotFound(inboxId: string): BridgeError {
  return new BridgeError('bad_input', `The inbox ${inboxId} is not registered.`, {
    code: 'inbox_not_found',
    reason: 'not_found',
  });
}

export function createInboxesRepository(db: SqlExecutor): InboxesRepository {
  const inboxIn = async (tx: SqlExecutor, inboxId: string) => {
    const row = await tx.one<InboxRow>(
      sql`SELECT inbox_id, name, registered_at, registered_by FROM inboxes WHERE inbox_id = ${inboxId}`,
    );
    return row === null ? null : toInbox(row);
  };

  return {
    register(inbox) {
      return db.atomic(async (tx) => {
        try {
          await tx.run(sql`
            INSERT INTO inboxes (inbox_id, name, registered_at, registered_by)
            VALUES (${inbox.inboxId}, ${inbox.name}, ${inbox.now}, ${inbox.registeredBy})`);
        } catch (error) {
          if (isConstraintViolation(error, 'unique')) {
            throw new BridgeError('bad_input', `The inbox ${inbox.inboxId} is registered already.`, {
              code: 'inbox_exists',
              reason: 'conflict',
            });
          }
          throw error;
        }
        return (await inboxIn(tx, inbox.inboxId)) as RegisteredInbox;
      });
    },

    rename(inboxId, name) {
      return db.atomic(async (tx) => {
        if ((await tx.run(sql`UPDATE inboxes SET name = ${name} WHERE inbox_id = ${inboxId}`)) === 0) {
          throw inboxNotFound(inboxId);
        }
        return (await inboxIn(tx, inboxId)) as RegisteredInbox;
      });
    },

    async unregister(inboxId) {
      if ((await db.run(sql`DELETE FROM inboxes WHERE inbox_id = ${inboxId}`)) === 0) throw inboxNotFound(inboxId);
    },

    get: (inboxId) => inboxIn(db, inboxId),

    async list() {
      const rows = await db.all<InboxRow>(
        sql`SELECT inbox_id, name, registered_at, registered_by FROM inboxes ORDER BY registered_at, inbox_id`,
      );
      return rows.map(toInbox);
    },

    async listSeen() {
      const rows = await db.all<{
        inbox_id: string;
        inbox_name: string | null;
        actions: number;
        last_seen_at: number | null;
      }>(sql`
        SELECT inbox_id,
               (SELECT a.inbox_name FROM actions a WHERE a.inbox_id = seen.inbox_id AND a.inbox_name IS NOT NULL
                 ORDER BY a.received_at DESC LIMIT 1) AS inbox_name,
               SUM(actions) AS actions,
               MAX(last_seen_at) AS last_seen_at
          FROM (SELECT inbox_id, COUNT(*) AS actions, MAX(received_at) AS last_seen_at FROM actions GROUP BY inbox_id
                UNION ALL
                SELECT inbox_id, 0, NULL FROM links GROUP BY inbox_id) AS seen
         GROUP BY inbox_id
         ORDER BY inbox_id`);
      return rows.map((row) => ({
        inboxId: row.inbox_id,
        inboxName: row.inbox_name,
        actions: row.actions,
        lastSeenAt: row.last_seen_at,
      }));
    },

    async setRole(inboxId, userId, role, now) {
      if (role === null) {
        await db.run(sql`DELETE FROM inbox_roles WHERE inbox_id = ${inboxId} AND user_id = ${userId}`);
        return;
      }
      try {
        await db.run(sql`
          INSERT INTO inbox_roles (inbox_id, user_id, role, granted_at) VALUES (${inboxId}, ${userId}, ${role}, ${now})
          ON CONFLICT (inbox_id, user_id) DO UPDATE SET role = excluded.role, granted_at = excluded.granted_at`);
      } catch (error) {
        if (isConstraintViolation(error, 'foreign_key')) {
          throw new BridgeError('bad_input', 'The inbox is not registered or the user does not exist.', {
            code: 'inbox_or_user_not_found',
            reason: 'not_found',
          });
        }
        throw error;
      }
    },

    async listMembers(inboxId) {
      const rows = await db.all<RoleRow>(sql`
        SELECT inbox_id, user_id, role, granted_at FROM inbox_roles WHERE inbox_id = ${inboxId}
         ORDER BY granted_at, user_id`);
      return rows.map(toMembership);
    },

    async listRolesOfUser(userId) {
      const rows = await db.all<RoleRow>(sql`
        SELECT inbox_id, user_id, role, granted_at FROM inbox_roles WHERE user_id = ${userId} ORDER BY inbox_id`);
      return rows.map(toMembership);
    },
  };
}
