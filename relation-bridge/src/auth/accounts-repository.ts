import { BridgeError } from '../core/errors';
import { newId } from '../core/ids';
import { isConstraintViolation, type SqlExecutor } from '../store/database';
import { sql } from '../store/sql';

/** Console accounts, their signed-in sessions, and sign-in throttling. */

/** A console account. `email` is lower-cased; the password is only ever held as a hash. */
export interface ConsoleUser {
  id: string;
  email: string;
  name: string;
  isOwner: boolean;
  /** The language of the user's notice e-mails and of the console when they sign in. */
  language: ConsoleLanguage;
  passwordHash: string;
  passwordChangedAt: number;
  createdAt: number;
  updatedAt: number;
}

export type ConsoleLanguage = 'ja' | 'en';

export interface NewConsoleUser {
  email: string;
  name: string;
  isOwner: boolean;
  /** Default Japanese. */
  language?: ConsoleLanguage;
  passwordHash: string;
  now: number;
}

export type ConsoleUserPatch = Partial<Pick<ConsoleUser, 'name' | 'isOwner' | 'passwordHash' | 'language'>>;

/** A signed-in browser. Only the SHA-256 of the session id is stored; the id lives in the cookie. */
export interface ConsoleSession {
  idHash: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  /** Absolute end, whatever the activity. */
  expiresAt: number;
}

export interface LoginThrottle {
  key: string;
  failures: number;
  windowStart: number;
  lockedUntil: number | null;
}

export interface ThrottlePolicy {
  windowMs: number;
  maxFailures: number;
  lockMs: number;
}

export interface AccountsRepository {
  /** @throws BridgeError `email_taken` (409) when the email is in use. */
  createUser(user: NewConsoleUser): Promise<ConsoleUser>;
  getUser(userId: string): Promise<ConsoleUser | null>;
  getUserByEmail(email: string): Promise<ConsoleUser | null>;
  listUsers(): Promise<ConsoleUser[]>;
  /** @throws BridgeError `user_not_found` (404), `last_owner` (409) when it would leave no owner. */
  updateUser(userId: string, patch: ConsoleUserPatch, now: number): Promise<ConsoleUser>;
  /** Removes the user with their sessions and roles. @throws BridgeError `user_not_found`, `last_owner`. */
  deleteUser(userId: string): Promise<void>;

  createSession(session: ConsoleSession): Promise<void>;
  getSession(idHash: string): Promise<ConsoleSession | null>;
  touchSession(idHash: string, at: number): Promise<void>;
  deleteSession(idHash: string): Promise<void>;
  /** Signs the user out everywhere, except (optionally) the session that asked. */
  deleteSessionsOfUser(userId: string, exceptIdHash?: string): Promise<number>;
  /** Removes sessions past their absolute end or idle since `idleBefore`. */
  deleteExpiredSessions(now: number, idleBefore: number): Promise<number>;

  getThrottle(key: string): Promise<LoginThrottle | null>;
  /**
   * Counts one attempt against the key in a single atomic statement, so that parallel
   * attempts cannot all pass a check made before any of them was counted: the window
   * restarts when it has passed, and the key locks when the count reaches the maximum.
   * Returns the throttle as it stood before this attempt and after it.
   */
  countAttempt(
    key: string,
    now: number,
    policy: ThrottlePolicy,
  ): Promise<{ before: LoginThrottle | null; after: LoginThrottle }>;
  /** Takes back one counted attempt (it succeeded), and the lock that attempt alone set. */
  uncountAttempt(key: string, maxFailures: number): Promise<void>;
  clearThrottle(key: string): Promise<void>;
  deleteStaleThrottles(before: number): Promise<number>;
}

interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  is_owner: number;
  language: ConsoleLanguage;
  password_changed_at: number;
  created_at: number;
  updated_at: number;
}

interface SessionRow {
  id_hash: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

interface ThrottleRow {
  key: string;
  failures: number;
  window_start: number;
  locked_until: number | null;
}

const USER_COLUMNS = sql.raw(
  'id, email, name, password_hash, is_owner, language, password_changed_at, created_at, updated_at',
);

function toUser(row: UserRow): ConsoleUser {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    isOwner: row.is_owner === 1,
    language: row.language,
    passwordHash: row.password_hash,
    passwordChangedAt: row.password_changed_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toThrottle(row: ThrottleRow): LoginThrottle {
  return { key: row.key, failures: row.failures, windowStart: row.window_start, lockedUntil: row.locked_until };
}

function userNotFound(userId: string): BridgeError {
  return new BridgeError('bad_input', `No console user has the id "${userId}".`, {
    code: 'user_not_found',
    reason: 'not_found',
  });
}

function lastOwner(): BridgeError {
  return new BridgeError('bad_input', 'The console must keep at least one owner.', {
    code: 'last_owner',
    reason: 'conflict',
  });
}

/** PostgreSQL: lock the owners' rows, so that two demotions cannot both see another owner left. */
const LOCK_ROWS = sql.dialect({ sqlite: '', postgres: 'FOR UPDATE' });

export function createAccountsRepository(db: SqlExecutor): AccountsRepository {
  const userIn = async (tx: SqlExecutor, userId: string) => {
    const row = await tx.one<UserRow>(sql`SELECT ${USER_COLUMNS} FROM console_users WHERE id = ${userId}`);
    return row === null ? null : toUser(row);
  };

  /** Refuses to take away the last owner; locks every owner row until the transaction ends. */
  const keepAnOwner = async (tx: SqlExecutor, userId: string) => {
    const owners = await tx.all<{ id: string }>(
      sql`SELECT id FROM console_users WHERE is_owner = 1 ORDER BY id ${LOCK_ROWS}`,
    );
    if (owners.length === 1 && owners[0]?.id === userId) throw lastOwner();
  };

  return {
    createUser(user) {
      return db.atomic(async (tx) => {
        const id = newId('usr');
        try {
          await tx.run(sql`
            INSERT INTO console_users (id, email, name, password_hash, is_owner, language, password_changed_at,
                                       created_at, updated_at)
            VALUES (${id}, ${user.email}, ${user.name}, ${user.passwordHash}, ${user.isOwner ? 1 : 0},
                    ${user.language ?? 'ja'}, ${user.now}, ${user.now}, ${user.now})`);
        } catch (error) {
          if (isConstraintViolation(error, 'unique')) {
            throw new BridgeError('bad_input', `A console user with the email ${user.email} exists already.`, {
              code: 'email_taken',
              reason: 'conflict',
            });
          }
          throw error;
        }
        return (await userIn(tx, id)) as ConsoleUser;
      });
    },

    getUser: (userId) => userIn(db, userId),

    async getUserByEmail(email) {
      const row = await db.one<UserRow>(sql`SELECT ${USER_COLUMNS} FROM console_users WHERE email = ${email}`);
      return row === null ? null : toUser(row);
    },

    async listUsers() {
      const rows = await db.all<UserRow>(sql`SELECT ${USER_COLUMNS} FROM console_users ORDER BY created_at, id`);
      return rows.map(toUser);
    },

    updateUser(userId, patch, now) {
      return db.atomic(async (tx) => {
        const user = await userIn(tx, userId);
        if (user === null) throw userNotFound(userId);
        if (patch.isOwner === false && user.isOwner) await keepAnOwner(tx, userId);
        const passwordChanged = patch.passwordHash !== undefined;
        await tx.run(sql`
          UPDATE console_users
             SET name = ${patch.name ?? user.name},
                 is_owner = ${(patch.isOwner ?? user.isOwner) ? 1 : 0},
                 language = ${patch.language ?? user.language},
                 password_hash = ${patch.passwordHash ?? user.passwordHash},
                 password_changed_at = ${passwordChanged ? now : user.passwordChangedAt},
                 updated_at = ${now}
           WHERE id = ${userId}`);
        return (await userIn(tx, userId)) as ConsoleUser;
      });
    },

    deleteUser(userId) {
      return db.atomic(async (tx) => {
        const user = await userIn(tx, userId);
        if (user === null) throw userNotFound(userId);
        if (user.isOwner) await keepAnOwner(tx, userId);
        await tx.run(sql`DELETE FROM console_users WHERE id = ${userId}`);
      });
    },

    async createSession(session) {
      await db.run(sql`
        INSERT INTO console_sessions (id_hash, user_id, created_at, last_seen_at, expires_at)
        VALUES (${session.idHash}, ${session.userId}, ${session.createdAt}, ${session.lastSeenAt},
                ${session.expiresAt})`);
    },

    async getSession(idHash) {
      const row = await db.one<SessionRow>(sql`
        SELECT id_hash, user_id, created_at, last_seen_at, expires_at FROM console_sessions WHERE id_hash = ${idHash}`);
      return row === null
        ? null
        : {
            idHash: row.id_hash,
            userId: row.user_id,
            createdAt: row.created_at,
            lastSeenAt: row.last_seen_at,
            expiresAt: row.expires_at,
          };
    },

    async touchSession(idHash, at) {
      await db.run(sql`UPDATE console_sessions SET last_seen_at = ${at} WHERE id_hash = ${idHash}`);
    },

    async deleteSession(idHash) {
      await db.run(sql`DELETE FROM console_sessions WHERE id_hash = ${idHash}`);
    },

    deleteSessionsOfUser(userId, exceptIdHash) {
      return db.run(sql`DELETE FROM console_sessions WHERE user_id = ${userId} AND id_hash <> ${exceptIdHash ?? ''}`);
    },

    deleteExpiredSessions(now, idleBefore) {
      return db.run(sql`DELETE FROM console_sessions WHERE expires_at <= ${now} OR last_seen_at < ${idleBefore}`);
    },

    async getThrottle(key) {
      const row = await db.one<ThrottleRow>(
        sql`SELECT key, failures, window_start, locked_until FROM login_failures WHERE key = ${key}`,
      );
      return row === null ? null : toThrottle(row);
    },

    countAttempt(key, now, policy) {
      return db.atomic(async (tx) => {
        const before = await tx.one<ThrottleRow>(sql`
          SELECT key, failures, window_start, locked_until FROM login_failures WHERE key = ${key}
          ${LOCK_ROWS}`);
        // A new window starts when the old one has passed or a lock has ended.
        const fresh = sql`(login_failures.window_start <= ${now - policy.windowMs}
                           OR (login_failures.locked_until IS NOT NULL AND login_failures.locked_until <= ${now}))`;
        const counted = sql`(CASE WHEN ${fresh} THEN 1 ELSE login_failures.failures + 1 END)`;
        const after = (await tx.one<ThrottleRow>(sql`
          INSERT INTO login_failures (key, failures, window_start, locked_until)
          VALUES (${key}, 1, ${now}, ${policy.maxFailures <= 1 ? now + policy.lockMs : null})
          ON CONFLICT (key) DO UPDATE
             SET failures = ${counted},
                 window_start = CASE WHEN ${fresh} THEN ${sql.int(now)} ELSE login_failures.window_start END,
                 locked_until = CASE
                   WHEN login_failures.locked_until > ${now} THEN login_failures.locked_until
                   WHEN ${counted} >= ${policy.maxFailures} THEN ${sql.int(now + policy.lockMs)}
                   ELSE NULL END
          RETURNING key, failures, window_start, locked_until`)) as ThrottleRow;
        return { before: before === null ? null : toThrottle(before), after: toThrottle(after) };
      });
    },

    async uncountAttempt(key, maxFailures) {
      await db.run(sql`
        UPDATE login_failures
           SET failures = failures - 1,
               locked_until = CASE WHEN failures = ${maxFailures} THEN NULL ELSE locked_until END
         WHERE key = ${key} AND failures > 0`);
    },

    async clearThrottle(key) {
      await db.run(sql`DELETE FROM login_failures WHERE key = ${key}`);
    },

    deleteStaleThrottles(before) {
      return db.run(sql`
        DELETE FROM login_failures
         WHERE window_start < ${before} AND (locked_until IS NULL OR locked_until < ${before})`);
    },
  };
}
