import type Database from 'better-sqlite3';
import { BridgeError } from '../../core/errors';
import { newId } from '../../core/ids';
import type { SfEnvironment } from '../../core/types';
import type { SecretBox } from '../../crypto/secret-box';
import type {
  Actor,
  ConsoleSession,
  ConsoleStore,
  ConsoleUser,
  ConsoleUserPatch,
  InboxMembership,
  InboxRole,
  LinkAuditEntry,
  LinkAuditEvent,
  LoginThrottle,
  NewConsoleUser,
  OAuthFlowMode,
  OAuthInitiator,
  PendingLink,
  RegisteredInbox,
  SeenInbox,
  ThrottlePolicy,
  WebhookSecretRecord,
} from '../console-store';

type Params = Record<string, string | number | null>;

/** How the main store runs work: `read` guards against a closed store, `write` adds an IMMEDIATE transaction. */
export interface StoreRunner {
  read<T>(work: () => T): T;
  write<T>(work: () => T): T;
}

interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  is_owner: number;
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

interface ActorColumns {
  actor_kind: Actor['kind'];
  actor_id: string | null;
  actor_name: string;
}

interface AuditRow extends ActorColumns {
  id: number;
  inbox_id: string;
  link_id: string;
  at: number;
  event: LinkAuditEvent;
  changes: string;
}

interface SecretRow {
  id: string;
  label: string;
  secret_enc: string;
  fingerprint: string;
  created_at: number;
  created_by: string;
  revoked_at: number | null;
}

interface InitiatorRow extends ActorColumns {
  state: string;
  mode: OAuthFlowMode;
  inbox_id: string;
  session_hash: string | null;
  created_at: number;
  expires_at: number;
}

interface PendingLinkRow extends ActorColumns {
  id: string;
  inbox_id: string;
  inbox_name: string | null;
  org_id: string;
  user_id: string;
  username: string;
  display_name: string | null;
  instance_url: string;
  login_url: string;
  environment: SfEnvironment;
  access_token_enc: string;
  refresh_token_enc: string;
  scope: string;
  issued_at: number;
  created_at: number;
  expires_at: number;
}

function toUser(row: UserRow): ConsoleUser {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    isOwner: row.is_owner === 1,
    passwordHash: row.password_hash,
    passwordChangedAt: row.password_changed_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toSession(row: SessionRow): ConsoleSession {
  return {
    idHash: row.id_hash,
    userId: row.user_id,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
  };
}

function toThrottle(row: ThrottleRow): LoginThrottle {
  return { key: row.key, failures: row.failures, windowStart: row.window_start, lockedUntil: row.locked_until };
}

function toInbox(row: InboxRow): RegisteredInbox {
  return { inboxId: row.inbox_id, name: row.name, registeredAt: row.registered_at, registeredBy: row.registered_by };
}

function toMembership(row: RoleRow): InboxMembership {
  return { inboxId: row.inbox_id, userId: row.user_id, role: row.role, grantedAt: row.granted_at };
}

function toActor(row: ActorColumns): Actor {
  return { kind: row.actor_kind, id: row.actor_id, name: row.actor_name };
}

function actorParams(actor: Actor): Params {
  return { actorKind: actor.kind, actorId: actor.id, actorName: actor.name };
}

function toInitiator(row: InitiatorRow): OAuthInitiator {
  return {
    state: row.state,
    mode: row.mode,
    inboxId: row.inbox_id,
    actor: toActor(row),
    sessionHash: row.session_hash,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

function notFound(code: string, what: string): BridgeError {
  return new BridgeError('bad_input', what, { code, httpStatus: 404 });
}

function lastOwner(): BridgeError {
  return new BridgeError('bad_input', 'The console must keep at least one owner.', {
    code: 'last_owner',
    httpStatus: 409,
  });
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

function isForeignKeyViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/** The console's part of the SQLite store, on the same database and transactions. */
export class SqliteConsoleStore implements ConsoleStore {
  private readonly sql: ReturnType<typeof prepareConsoleStatements>;

  constructor(
    db: Database.Database,
    private readonly secretBox: SecretBox,
    private readonly run: StoreRunner,
  ) {
    this.sql = prepareConsoleStatements(db);
  }

  // ---- accounts ---------------------------------------------------------------------

  async createUser(user: NewConsoleUser): Promise<ConsoleUser> {
    return this.run.write(() => {
      const id = newId('usr');
      try {
        this.sql.insertUser.run({
          id,
          email: user.email,
          name: user.name,
          passwordHash: user.passwordHash,
          isOwner: user.isOwner ? 1 : 0,
          now: user.now,
        });
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new BridgeError('bad_input', `A console user with the email ${user.email} exists already.`, {
            code: 'email_taken',
            httpStatus: 409,
          });
        }
        throw error;
      }
      return toUser(this.sql.userById.get({ id }) as UserRow);
    });
  }

  async getUser(userId: string): Promise<ConsoleUser | null> {
    return this.run.read(() => {
      const row = this.sql.userById.get({ id: userId });
      return row === undefined ? null : toUser(row);
    });
  }

  async getUserByEmail(email: string): Promise<ConsoleUser | null> {
    return this.run.read(() => {
      const row = this.sql.userByEmail.get({ email });
      return row === undefined ? null : toUser(row);
    });
  }

  async listUsers(): Promise<ConsoleUser[]> {
    return this.run.read(() => this.sql.listUsers.all({}).map(toUser));
  }

  async updateUser(userId: string, patch: ConsoleUserPatch, now: number): Promise<ConsoleUser> {
    return this.run.write(() => {
      const row = this.sql.userById.get({ id: userId });
      if (row === undefined) throw notFound('user_not_found', `No console user has the id "${userId}".`);
      if (patch.isOwner === false && row.is_owner === 1 && this.ownerCount() === 1) throw lastOwner();
      this.sql.patchUser.run({
        id: userId,
        now,
        setName: patch.name === undefined ? 0 : 1,
        name: patch.name ?? null,
        setOwner: patch.isOwner === undefined ? 0 : 1,
        isOwner: patch.isOwner === true ? 1 : 0,
        setPassword: patch.passwordHash === undefined ? 0 : 1,
        passwordHash: patch.passwordHash ?? null,
      });
      return toUser(this.sql.userById.get({ id: userId }) as UserRow);
    });
  }

  async deleteUser(userId: string): Promise<void> {
    this.run.write(() => {
      const row = this.sql.userById.get({ id: userId });
      if (row === undefined) throw notFound('user_not_found', `No console user has the id "${userId}".`);
      if (row.is_owner === 1 && this.ownerCount() === 1) throw lastOwner();
      this.sql.deleteUser.run({ id: userId });
    });
  }

  private ownerCount(): number {
    return this.sql.ownerCount.get({})?.count ?? 0;
  }

  // ---- sessions ---------------------------------------------------------------------

  async createSession(session: ConsoleSession): Promise<void> {
    this.run.write(() => {
      this.sql.insertSession.run({
        idHash: session.idHash,
        userId: session.userId,
        createdAt: session.createdAt,
        lastSeenAt: session.lastSeenAt,
        expiresAt: session.expiresAt,
      });
    });
  }

  async getSession(idHash: string): Promise<ConsoleSession | null> {
    return this.run.read(() => {
      const row = this.sql.sessionById.get({ idHash });
      return row === undefined ? null : toSession(row);
    });
  }

  async touchSession(idHash: string, at: number): Promise<void> {
    this.run.write(() => this.sql.touchSession.run({ idHash, at }));
  }

  async deleteSession(idHash: string): Promise<void> {
    this.run.write(() => this.sql.deleteSession.run({ idHash }));
  }

  async deleteSessionsOfUser(userId: string, exceptIdHash?: string): Promise<number> {
    return this.run.write(() => this.sql.deleteSessionsOfUser.run({ userId, except: exceptIdHash ?? '' }).changes);
  }

  async deleteExpiredSessions(now: number, idleBefore: number): Promise<number> {
    return this.run.write(() => this.sql.deleteExpiredSessions.run({ now, idleBefore }).changes);
  }

  // ---- sign-in throttling -----------------------------------------------------------

  async getLoginThrottle(key: string): Promise<LoginThrottle | null> {
    return this.run.read(() => {
      const row = this.sql.throttleByKey.get({ key });
      return row === undefined ? null : toThrottle(row);
    });
  }

  async recordLoginFailure(key: string, now: number, policy: ThrottlePolicy): Promise<LoginThrottle> {
    return this.run.write(() => {
      const current = this.sql.throttleByKey.get({ key });
      const fresh = current === undefined || now - current.window_start >= policy.windowMs;
      const failures = fresh ? 1 : current.failures + 1;
      const windowStart = fresh ? now : current.window_start;
      const lockedUntil = failures >= policy.maxFailures ? now + policy.lockMs : (current?.locked_until ?? null);
      this.sql.upsertThrottle.run({ key, failures, windowStart, lockedUntil });
      return { key, failures, windowStart, lockedUntil };
    });
  }

  async clearLoginFailures(key: string): Promise<void> {
    this.run.write(() => this.sql.deleteThrottle.run({ key }));
  }

  async deleteStaleLoginFailures(before: number): Promise<number> {
    return this.run.write(() => this.sql.deleteStaleThrottles.run({ before }).changes);
  }

  // ---- inboxes and roles --------------------------------------------------------------

  async registerInbox(inbox: {
    inboxId: string;
    name: string;
    registeredBy: string | null;
    now: number;
  }): Promise<RegisteredInbox> {
    return this.run.write(() => {
      try {
        this.sql.insertInbox.run({
          inboxId: inbox.inboxId,
          name: inbox.name,
          registeredBy: inbox.registeredBy,
          now: inbox.now,
        });
      } catch (error) {
        if (isUniqueViolation(error) || (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new BridgeError('bad_input', `The inbox ${inbox.inboxId} is registered already.`, {
            code: 'inbox_exists',
            httpStatus: 409,
          });
        }
        throw error;
      }
      return toInbox(this.sql.inboxById.get({ inboxId: inbox.inboxId }) as InboxRow);
    });
  }

  async renameInbox(inboxId: string, name: string): Promise<RegisteredInbox> {
    return this.run.write(() => {
      if (this.sql.renameInbox.run({ inboxId, name }).changes === 0) throw inboxNotFound(inboxId);
      return toInbox(this.sql.inboxById.get({ inboxId }) as InboxRow);
    });
  }

  async unregisterInbox(inboxId: string): Promise<void> {
    this.run.write(() => {
      if (this.sql.deleteInbox.run({ inboxId }).changes === 0) throw inboxNotFound(inboxId);
    });
  }

  async getInbox(inboxId: string): Promise<RegisteredInbox | null> {
    return this.run.read(() => {
      const row = this.sql.inboxById.get({ inboxId });
      return row === undefined ? null : toInbox(row);
    });
  }

  async listInboxes(): Promise<RegisteredInbox[]> {
    return this.run.read(() => this.sql.listInboxes.all({}).map(toInbox));
  }

  async listSeenInboxes(): Promise<SeenInbox[]> {
    return this.run.read(() =>
      this.sql.seenInboxes.all({}).map((row) => ({
        inboxId: row.inbox_id,
        inboxName: row.inbox_name,
        actions: row.actions,
        lastSeenAt: row.last_seen_at,
      })),
    );
  }

  async setInboxRole(inboxId: string, userId: string, role: InboxRole | null, now: number): Promise<void> {
    this.run.write(() => {
      if (role === null) {
        this.sql.deleteRole.run({ inboxId, userId });
        return;
      }
      try {
        this.sql.upsertRole.run({ inboxId, userId, role, now });
      } catch (error) {
        if (isForeignKeyViolation(error)) {
          throw new BridgeError('bad_input', 'The inbox is not registered or the user does not exist.', {
            code: 'inbox_or_user_not_found',
            httpStatus: 404,
          });
        }
        throw error;
      }
    });
  }

  async listInboxMembers(inboxId: string): Promise<InboxMembership[]> {
    return this.run.read(() => this.sql.rolesOfInbox.all({ inboxId }).map(toMembership));
  }

  async listRolesOfUser(userId: string): Promise<InboxMembership[]> {
    return this.run.read(() => this.sql.rolesOfUser.all({ userId }).map(toMembership));
  }

  // ---- link audit ---------------------------------------------------------------------

  async addLinkAudit(entry: Omit<LinkAuditEntry, 'id'>): Promise<void> {
    this.run.write(() => {
      this.sql.insertAudit.run({
        inboxId: entry.inboxId,
        linkId: entry.linkId,
        at: entry.at,
        ...actorParams(entry.actor),
        event: entry.event,
        changes: JSON.stringify(entry.changes),
      });
    });
  }

  async listLinkAudit(inboxId: string, limit: number): Promise<LinkAuditEntry[]> {
    return this.run.read(() =>
      this.sql.auditOfInbox.all({ inboxId, limit }).map((row) => ({
        id: row.id,
        inboxId: row.inbox_id,
        linkId: row.link_id,
        at: row.at,
        actor: toActor(row),
        event: row.event,
        changes: JSON.parse(row.changes) as LinkAuditEntry['changes'],
      })),
    );
  }

  // ---- webhook secrets ----------------------------------------------------------------

  async addWebhookSecret(secret: {
    label: string;
    secret: string;
    fingerprint: string;
    createdBy: string;
    now: number;
  }): Promise<WebhookSecretRecord> {
    const id = newId('whs');
    this.run.write(() => {
      this.sql.insertSecret.run({
        id,
        label: secret.label,
        secretEnc: this.secretBox.encrypt(secret.secret),
        fingerprint: secret.fingerprint,
        createdBy: secret.createdBy,
        now: secret.now,
      });
    });
    return {
      id,
      label: secret.label,
      secret: secret.secret,
      fingerprint: secret.fingerprint,
      createdAt: secret.now,
      createdBy: secret.createdBy,
      revokedAt: null,
    };
  }

  async listWebhookSecrets(options: { includeRevoked?: boolean } = {}): Promise<WebhookSecretRecord[]> {
    return this.run.read(() =>
      (options.includeRevoked === true ? this.sql.listAllSecrets : this.sql.listActiveSecrets)
        .all({})
        .map((row) => this.toSecret(row)),
    );
  }

  async revokeWebhookSecret(id: string, now: number): Promise<WebhookSecretRecord> {
    return this.run.write(() => {
      this.sql.revokeSecret.run({ id, now });
      const row = this.sql.secretById.get({ id });
      if (row === undefined) throw notFound('webhook_secret_not_found', `No webhook secret has the id "${id}".`);
      return this.toSecret(row);
    });
  }

  private toSecret(row: SecretRow): WebhookSecretRecord {
    return {
      id: row.id,
      label: row.label,
      secret: this.secretBox.decrypt(row.secret_enc),
      fingerprint: row.fingerprint,
      createdAt: row.created_at,
      createdBy: row.created_by,
      revokedAt: row.revoked_at,
    };
  }

  // ---- OAuth flows and pending links --------------------------------------------------

  async saveOAuthInitiator(initiator: OAuthInitiator): Promise<void> {
    this.run.write(() => {
      this.sql.insertInitiator.run({
        state: initiator.state,
        mode: initiator.mode,
        inboxId: initiator.inboxId,
        ...actorParams(initiator.actor),
        sessionHash: initiator.sessionHash,
        createdAt: initiator.createdAt,
        expiresAt: initiator.expiresAt,
      });
    });
  }

  async getOAuthInitiator(state: string, now: number): Promise<OAuthInitiator | null> {
    return this.run.read(() => {
      const row = this.sql.initiatorByState.get({ state });
      return row === undefined || row.expires_at <= now ? null : toInitiator(row);
    });
  }

  async takeOAuthInitiator(state: string, now: number): Promise<OAuthInitiator | null> {
    const row = this.run.write(() => {
      const taken = this.sql.takeInitiator.get({ state });
      this.sql.deleteExpiredInitiators.run({ now });
      return taken;
    });
    return row === undefined || row.expires_at <= now ? null : toInitiator(row);
  }

  async savePendingLink(pending: Omit<PendingLink, 'id'>): Promise<PendingLink> {
    const id = newId('pnd');
    this.run.write(() => {
      this.sql.insertPendingLink.run({
        id,
        inboxId: pending.inboxId,
        inboxName: pending.inboxName,
        orgId: pending.orgId,
        userId: pending.userId,
        username: pending.username,
        displayName: pending.displayName,
        instanceUrl: pending.instanceUrl,
        loginUrl: pending.loginUrl,
        environment: pending.environment,
        accessTokenEnc: this.secretBox.encrypt(pending.accessToken),
        refreshTokenEnc: this.secretBox.encrypt(pending.refreshToken),
        scope: pending.scope,
        issuedAt: pending.issuedAt,
        ...actorParams(pending.createdBy),
        createdAt: pending.createdAt,
        expiresAt: pending.expiresAt,
      });
    });
    return { ...pending, id };
  }

  async getPendingLink(id: string): Promise<PendingLink | null> {
    return this.run.read(() => {
      const row = this.sql.pendingLinkById.get({ id });
      return row === undefined ? null : this.toPendingLink(row);
    });
  }

  async listPendingLinks(filter: { inboxId?: string } = {}): Promise<PendingLink[]> {
    return this.run.read(() =>
      (filter.inboxId === undefined
        ? this.sql.listPendingLinks.all({})
        : this.sql.pendingLinksOfInbox.all({ inboxId: filter.inboxId })
      ).map((row) => this.toPendingLink(row)),
    );
  }

  async deletePendingLink(id: string): Promise<boolean> {
    return this.run.write(() => this.sql.deletePendingLink.run({ id }).changes === 1);
  }

  async listExpiredPendingLinks(now: number): Promise<PendingLink[]> {
    return this.run.read(() => this.sql.expiredPendingLinks.all({ now }).map((row) => this.toPendingLink(row)));
  }

  private toPendingLink(row: PendingLinkRow): PendingLink {
    return {
      id: row.id,
      inboxId: row.inbox_id,
      inboxName: row.inbox_name,
      orgId: row.org_id,
      userId: row.user_id,
      username: row.username,
      displayName: row.display_name,
      instanceUrl: row.instance_url,
      loginUrl: row.login_url,
      environment: row.environment,
      accessToken: this.secretBox.decrypt(row.access_token_enc),
      refreshToken: this.secretBox.decrypt(row.refresh_token_enc),
      scope: row.scope,
      issuedAt: row.issued_at,
      createdBy: toActor(row),
      createdAt: row.created_at,
      expiresAt: row.expires_at,
    };
  }
}

function inboxNotFound(inboxId: string): BridgeError {
  return notFound('inbox_not_found', `The inbox ${inboxId} is not registered.`);
}

function prepareConsoleStatements(db: Database.Database) {
  const statement = <R = unknown>(sql: string) => db.prepare<Params, R>(sql);
  return {
    insertUser: statement(`
      INSERT INTO console_users (id, email, name, password_hash, is_owner, password_changed_at, created_at, updated_at)
      VALUES (@id, @email, @name, @passwordHash, @isOwner, @now, @now, @now)`),
    userById: statement<UserRow>('SELECT * FROM console_users WHERE id = @id'),
    userByEmail: statement<UserRow>('SELECT * FROM console_users WHERE email = @email'),
    listUsers: statement<UserRow>('SELECT * FROM console_users ORDER BY created_at, id'),
    ownerCount: statement<{ count: number }>('SELECT COUNT(*) AS count FROM console_users WHERE is_owner = 1'),
    patchUser: statement(`
      UPDATE console_users
         SET name = CASE WHEN @setName = 1 THEN @name ELSE name END,
             is_owner = CASE WHEN @setOwner = 1 THEN @isOwner ELSE is_owner END,
             password_hash = CASE WHEN @setPassword = 1 THEN @passwordHash ELSE password_hash END,
             password_changed_at = CASE WHEN @setPassword = 1 THEN @now ELSE password_changed_at END,
             updated_at = @now
       WHERE id = @id`),
    deleteUser: statement('DELETE FROM console_users WHERE id = @id'),

    insertSession: statement(`
      INSERT INTO console_sessions (id_hash, user_id, created_at, last_seen_at, expires_at)
      VALUES (@idHash, @userId, @createdAt, @lastSeenAt, @expiresAt)`),
    sessionById: statement<SessionRow>('SELECT * FROM console_sessions WHERE id_hash = @idHash'),
    touchSession: statement('UPDATE console_sessions SET last_seen_at = @at WHERE id_hash = @idHash'),
    deleteSession: statement('DELETE FROM console_sessions WHERE id_hash = @idHash'),
    deleteSessionsOfUser: statement('DELETE FROM console_sessions WHERE user_id = @userId AND id_hash <> @except'),
    deleteExpiredSessions: statement(
      'DELETE FROM console_sessions WHERE expires_at <= @now OR last_seen_at < @idleBefore',
    ),

    throttleByKey: statement<ThrottleRow>('SELECT * FROM login_failures WHERE key = @key'),
    upsertThrottle: statement(`
      INSERT INTO login_failures (key, failures, window_start, locked_until)
      VALUES (@key, @failures, @windowStart, @lockedUntil)
      ON CONFLICT (key) DO UPDATE
         SET failures = excluded.failures, window_start = excluded.window_start, locked_until = excluded.locked_until`),
    deleteThrottle: statement('DELETE FROM login_failures WHERE key = @key'),
    deleteStaleThrottles: statement(
      'DELETE FROM login_failures WHERE window_start < @before AND (locked_until IS NULL OR locked_until < @before)',
    ),

    insertInbox: statement(`
      INSERT INTO inboxes (inbox_id, name, registered_at, registered_by)
      VALUES (@inboxId, @name, @now, @registeredBy)`),
    inboxById: statement<InboxRow>('SELECT * FROM inboxes WHERE inbox_id = @inboxId'),
    renameInbox: statement('UPDATE inboxes SET name = @name WHERE inbox_id = @inboxId'),
    deleteInbox: statement('DELETE FROM inboxes WHERE inbox_id = @inboxId'),
    listInboxes: statement<InboxRow>('SELECT * FROM inboxes ORDER BY registered_at, inbox_id'),
    seenInboxes: statement<{
      inbox_id: string;
      inbox_name: string | null;
      actions: number;
      last_seen_at: number | null;
    }>(`
      SELECT inbox_id,
             (SELECT a.inbox_name FROM actions a WHERE a.inbox_id = seen.inbox_id AND a.inbox_name IS NOT NULL
               ORDER BY a.received_at DESC LIMIT 1) AS inbox_name,
             SUM(actions) AS actions,
             MAX(last_seen_at) AS last_seen_at
        FROM (SELECT inbox_id, COUNT(*) AS actions, MAX(received_at) AS last_seen_at FROM actions GROUP BY inbox_id
              UNION ALL
              SELECT inbox_id, 0, NULL FROM links GROUP BY inbox_id) AS seen
       GROUP BY inbox_id
       ORDER BY inbox_id`),

    upsertRole: statement(`
      INSERT INTO inbox_roles (inbox_id, user_id, role, granted_at) VALUES (@inboxId, @userId, @role, @now)
      ON CONFLICT (inbox_id, user_id) DO UPDATE SET role = excluded.role, granted_at = excluded.granted_at`),
    deleteRole: statement('DELETE FROM inbox_roles WHERE inbox_id = @inboxId AND user_id = @userId'),
    rolesOfInbox: statement<RoleRow>(
      'SELECT * FROM inbox_roles WHERE inbox_id = @inboxId ORDER BY granted_at, user_id',
    ),
    rolesOfUser: statement<RoleRow>('SELECT * FROM inbox_roles WHERE user_id = @userId ORDER BY inbox_id'),

    insertAudit: statement(`
      INSERT INTO link_audit (inbox_id, link_id, at, actor_kind, actor_id, actor_name, event, changes)
      VALUES (@inboxId, @linkId, @at, @actorKind, @actorId, @actorName, @event, @changes)`),
    auditOfInbox: statement<AuditRow>(
      'SELECT * FROM link_audit WHERE inbox_id = @inboxId ORDER BY at DESC, id DESC LIMIT @limit',
    ),

    insertSecret: statement(`
      INSERT INTO webhook_secrets (id, label, secret_enc, fingerprint, created_at, created_by, revoked_at)
      VALUES (@id, @label, @secretEnc, @fingerprint, @now, @createdBy, NULL)`),
    secretById: statement<SecretRow>('SELECT * FROM webhook_secrets WHERE id = @id'),
    listActiveSecrets: statement<SecretRow>(
      'SELECT * FROM webhook_secrets WHERE revoked_at IS NULL ORDER BY created_at, id',
    ),
    listAllSecrets: statement<SecretRow>('SELECT * FROM webhook_secrets ORDER BY created_at, id'),
    revokeSecret: statement('UPDATE webhook_secrets SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL'),

    insertInitiator: statement(`
      INSERT INTO oauth_initiators (state, mode, inbox_id, actor_kind, actor_id, actor_name, session_hash,
                                    created_at, expires_at)
      VALUES (@state, @mode, @inboxId, @actorKind, @actorId, @actorName, @sessionHash, @createdAt, @expiresAt)`),
    initiatorByState: statement<InitiatorRow>('SELECT * FROM oauth_initiators WHERE state = @state'),
    takeInitiator: statement<InitiatorRow>('DELETE FROM oauth_initiators WHERE state = @state RETURNING *'),
    deleteExpiredInitiators: statement('DELETE FROM oauth_initiators WHERE expires_at <= @now'),

    insertPendingLink: statement(`
      INSERT INTO pending_links (id, inbox_id, inbox_name, org_id, user_id, username, display_name, instance_url,
                                 login_url, environment, access_token_enc, refresh_token_enc, scope, issued_at,
                                 actor_kind, actor_id, actor_name, created_at, expires_at)
      VALUES (@id, @inboxId, @inboxName, @orgId, @userId, @username, @displayName, @instanceUrl,
              @loginUrl, @environment, @accessTokenEnc, @refreshTokenEnc, @scope, @issuedAt,
              @actorKind, @actorId, @actorName, @createdAt, @expiresAt)`),
    pendingLinkById: statement<PendingLinkRow>('SELECT * FROM pending_links WHERE id = @id'),
    listPendingLinks: statement<PendingLinkRow>('SELECT * FROM pending_links ORDER BY created_at, id'),
    pendingLinksOfInbox: statement<PendingLinkRow>(
      'SELECT * FROM pending_links WHERE inbox_id = @inboxId ORDER BY created_at, id',
    ),
    deletePendingLink: statement('DELETE FROM pending_links WHERE id = @id'),
    expiredPendingLinks: statement<PendingLinkRow>(
      'SELECT * FROM pending_links WHERE expires_at <= @now ORDER BY expires_at, id',
    ),
  };
}
