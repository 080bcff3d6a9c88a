import { newId } from '../core/ids';
import type { Actor, SfEnvironment } from '../core/types';
import type { SecretBox } from '../crypto/secret-box';
import type { SqlExecutor } from '../store/database';
import { sql } from '../store/sql';

/**
 * A Salesforce authorisation the wizard obtained, waiting for the admin to choose the
 * target and the default owner (完了). Nothing syncs through it; when it expires unfinished,
 * its refresh token is revoked and it is removed.
 */
export interface PendingLink {
  id: string;
  inboxId: string;
  inboxName: string | null;
  orgId: string;
  userId: string;
  username: string;
  displayName: string | null;
  /** The authorising user's email (null: not known). */
  userEmail: string | null;
  instanceUrl: string;
  loginUrl: string;
  environment: SfEnvironment;
  /** The org's name and whether it is a sandbox, as Salesforce said (null: not known). */
  orgName: string | null;
  orgIsSandbox: boolean | null;
  accessToken: string;
  refreshToken: string;
  scope: string;
  issuedAt: number;
  createdBy: Actor;
  createdAt: number;
  expiresAt: number;
}

export type NewPendingLink = Omit<PendingLink, 'id' | 'orgName' | 'orgIsSandbox' | 'userEmail'> &
  Partial<Pick<PendingLink, 'orgName' | 'orgIsSandbox' | 'userEmail'>>;

export interface PendingLinksRepository {
  save(pending: NewPendingLink): Promise<PendingLink>;
  get(id: string): Promise<PendingLink | null>;
  list(filter?: { inboxId?: string }): Promise<PendingLink[]>;
  /** @returns whether it existed. */
  delete(id: string): Promise<boolean>;
  /** Removes every pending link of the inbox (another flow linked it); returns them. */
  deleteOfInbox(inboxId: string): Promise<PendingLink[]>;
  listExpired(now: number): Promise<PendingLink[]>;
}

interface PendingLinkRow {
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
  actor_kind: Actor['kind'];
  actor_id: string | null;
  actor_name: string;
  created_at: number;
  expires_at: number;
  org_name: string | null;
  org_is_sandbox: number | null;
  user_email: string | null;
}

const COLUMNS = sql.raw(
  'id, inbox_id, inbox_name, org_id, user_id, username, display_name, instance_url, login_url, environment, ' +
    'access_token_enc, refresh_token_enc, scope, issued_at, actor_kind, actor_id, actor_name, created_at, expires_at, ' +
    'org_name, org_is_sandbox, user_email',
);

export function createPendingLinksRepository(db: SqlExecutor, secretBox: SecretBox): PendingLinksRepository {
  const toPendingLink = (row: PendingLinkRow): PendingLink => ({
    id: row.id,
    inboxId: row.inbox_id,
    inboxName: row.inbox_name,
    orgId: row.org_id,
    userId: row.user_id,
    username: row.username,
    displayName: row.display_name,
    userEmail: row.user_email,
    instanceUrl: row.instance_url,
    loginUrl: row.login_url,
    environment: row.environment,
    orgName: row.org_name,
    orgIsSandbox: row.org_is_sandbox === null ? null : row.org_is_sandbox === 1,
    accessToken: secretBox.decrypt(row.access_token_enc),
    refreshToken: secretBox.decrypt(row.refresh_token_enc),
    scope: row.scope,
    issuedAt: row.issued_at,
    createdBy: { kind: row.actor_kind, id: row.actor_id, name: row.actor_name },
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  });

  return {
    async save(pending) {
      const id = newId('pnd');
      const orgName = pending.orgName ?? null;
      const orgIsSandbox = pending.orgIsSandbox ?? null;
      const userEmail = pending.userEmail ?? null;
      await db.run(sql`
        INSERT INTO pending_links (${COLUMNS})
        VALUES (${id}, ${pending.inboxId}, ${pending.inboxName}, ${pending.orgId}, ${pending.userId},
                ${pending.username}, ${pending.displayName}, ${pending.instanceUrl}, ${pending.loginUrl},
                ${pending.environment}, ${secretBox.encrypt(pending.accessToken)},
                ${secretBox.encrypt(pending.refreshToken)}, ${pending.scope}, ${pending.issuedAt},
                ${pending.createdBy.kind}, ${pending.createdBy.id}, ${pending.createdBy.name},
                ${pending.createdAt}, ${pending.expiresAt}, ${sql.text(orgName)},
                ${sql.int(orgIsSandbox === null ? null : orgIsSandbox ? 1 : 0)}, ${sql.text(userEmail)})`);
      return { ...pending, orgName, orgIsSandbox, userEmail, id };
    },

    async get(id) {
      const row = await db.one<PendingLinkRow>(sql`SELECT ${COLUMNS} FROM pending_links WHERE id = ${id}`);
      return row === null ? null : toPendingLink(row);
    },

    async list(filter = {}) {
      const where = filter.inboxId === undefined ? sql.empty : sql`WHERE inbox_id = ${filter.inboxId}`;
      const rows = await db.all<PendingLinkRow>(
        sql`SELECT ${COLUMNS} FROM pending_links ${where} ORDER BY created_at, id`,
      );
      return rows.map(toPendingLink);
    },

    async delete(id) {
      return (await db.run(sql`DELETE FROM pending_links WHERE id = ${id}`)) === 1;
    },

    async deleteOfInbox(inboxId) {
      const rows = await db.all<PendingLinkRow>(
        sql`DELETE FROM pending_links WHERE inbox_id = ${inboxId} RETURNING ${COLUMNS}`,
      );
      return rows.map(toPendingLink);
    },

    async listExpired(now) {
      const rows = await db.all<PendingLinkRow>(
        sql`SELECT ${COLUMNS} FROM pending_links WHERE expires_at <= ${now} ORDER BY expires_at, id`,
      );
      return rows.map(toPendingLink);
    },
  };
}
