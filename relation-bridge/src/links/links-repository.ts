import { BridgeError } from '../core/errors';
import { newId } from '../core/ids';
import type { Actor, Link, LinkStatus, LinkTarget, SalesforceAuth, SfEnvironment } from '../core/types';
import type { SecretBox } from '../crypto/secret-box';
import { isConstraintViolation, type SqlExecutor } from '../store/database';
import { sql } from '../store/sql';
import { linkErrorText } from './messages';

/**
 * Links (inbox → org) and the Salesforce authorisations they sync through: one aggregate,
 * since a link is never without its authorisation. Tokens are sealed with the SecretBox;
 * only the objects returned carry plaintext.
 */

export interface NewLink {
  inboxId: string;
  inboxName: string | null;
  authId: string;
  target: LinkTarget;
  defaultOwnerId: string;
  /** The default owner's name and email, when Salesforce told them. */
  defaultOwnerName?: string | null;
  defaultOwnerEmail?: string | null;
  createdAt: number;
}

/** A new default owner takes its name and email along (null when they are not known). */
export type LinkPatch = Partial<
  Pick<Link, 'target' | 'defaultOwnerId' | 'defaultOwnerName' | 'defaultOwnerEmail' | 'inboxName'>
>;

/** The org's name and sandbox flag are kept when Salesforce told them; an authorisation saved without them keeps those it had. */
export type NewSalesforceAuth = Omit<
  SalesforceAuth,
  'id' | 'createdAt' | 'updatedAt' | 'createdBy' | 'orgName' | 'orgIsSandbox'
> &
  Partial<Pick<SalesforceAuth, 'orgName' | 'orgIsSandbox'>>;

/** A Salesforce user as people read them. */
export interface NamedUser {
  id: string;
  name: string | null;
  email: string | null;
}

/** The store refused a second link for an inbox (its one-link-per-inbox index). */
export class LinkConflictError extends BridgeError {
  constructor(readonly inboxId: string) {
    super('bad_input', linkErrorText('link_exists').en, {
      code: 'link_exists',
      reason: 'conflict',
      details: { inboxId },
    });
    this.name = 'LinkConflictError';
  }
}

export interface LinksRepository {
  /**
   * Inserts, or updates the tokens of the existing authorisation for the same org and user
   * (whose creator stays who it was). Links using it follow a move to another instance.
   */
  saveAuth(auth: NewSalesforceAuth, createdBy: Actor, now: number): Promise<SalesforceAuth>;
  getAuth(authId: string): Promise<SalesforceAuth | null>;
  listAuths(): Promise<SalesforceAuth[]>;
  /** @throws BridgeError `auth_not_found` */
  updateAuthTokens(
    authId: string,
    tokens: { accessToken: string | null; refreshToken?: string; issuedAt: number },
    now: number,
  ): Promise<void>;
  /** @throws BridgeError `auth_in_use` while a link that is not deleted uses it. */
  deleteAuth(authId: string): Promise<void>;

  /** @throws LinkConflictError when the inbox already has a link that is not deleted. */
  createLink(link: NewLink): Promise<Link>;
  getLink(linkId: string): Promise<Link | null>;
  /** The inbox's link that is not deleted, in any status. */
  getLinkForInbox(inboxId: string): Promise<Link | null>;
  listLinks(options?: { includeDeleted?: boolean }): Promise<Link[]>;
  /** Links that are not deleted of these inboxes. */
  liveLinksOfInboxes(inboxIds: readonly string[]): Promise<Link[]>;
  /** Links that are not deleted and use the authorisation. */
  liveLinksOfAuth(authId: string): Promise<Link[]>;
  /**
   * Changes the link's settings and its version. With `expectedVersion`, only when the link
   * is still at that version: null when it is not (someone changed it meanwhile).
   * @throws BridgeError `link_not_found`, `link_deleted`
   */
  updateLink(linkId: string, patch: LinkPatch, now: number, expectedVersion?: number): Promise<Link | null>;
  /**
   * Moves the link to another authorisation of the same org (re-authorised by another user),
   * optionally with a new default owner.
   */
  reassignAuth(linkId: string, auth: SalesforceAuth, defaultOwner: NamedUser, now: number): Promise<Link>;
  /** @throws BridgeError `link_not_found`, `link_deleted` */
  setLinkStatus(linkId: string, status: LinkStatus, reason: string | null, now: number): Promise<Link>;
  /** Sets the status of every link that is not deleted and uses the authorisation; returns their ids. */
  setLinkStatusByAuth(authId: string, status: LinkStatus, reason: string | null, now: number): Promise<string[]>;
}

interface AuthRow {
  id: string;
  org_id: string;
  user_id: string;
  username: string;
  display_name: string | null;
  instance_url: string;
  login_url: string;
  environment: SfEnvironment;
  access_token_enc: string | null;
  refresh_token_enc: string;
  scope: string;
  issued_at: number;
  created_by_kind: Actor['kind'] | null;
  created_by_id: string | null;
  created_by_name: string | null;
  org_name: string | null;
  org_is_sandbox: number | null;
  created_at: number;
  updated_at: number;
}

interface LinkRow {
  id: string;
  inbox_id: string;
  inbox_name: string | null;
  auth_id: string;
  org_id: string;
  instance_url: string;
  environment: SfEnvironment;
  authorized_user_id: string;
  authorized_username: string;
  target: LinkTarget;
  default_owner_id: string;
  status: LinkStatus;
  status_reason: string | null;
  status_changed_at: number;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  version: number;
  org_name: string | null;
  org_is_sandbox: number | null;
  default_owner_name: string | null;
  default_owner_email: string | null;
}

function flagOf(value: number | null): boolean | null {
  return value === null ? null : value === 1;
}

function flagValue(value: boolean | null | undefined): number | null {
  return value === null || value === undefined ? null : value ? 1 : 0;
}

const AUTH_COLUMNS = sql.raw(
  'id, org_id, user_id, username, display_name, instance_url, login_url, environment, access_token_enc, ' +
    'refresh_token_enc, scope, issued_at, created_by_kind, created_by_id, created_by_name, org_name, org_is_sandbox, ' +
    'created_at, updated_at',
);
const LINK_COLUMNS = sql.raw(
  'id, inbox_id, inbox_name, auth_id, org_id, instance_url, environment, authorized_user_id, authorized_username, ' +
    'target, default_owner_id, status, status_reason, status_changed_at, created_at, updated_at, deleted_at, version, ' +
    'org_name, org_is_sandbox, default_owner_name, default_owner_email',
);

function toLink(row: LinkRow): Link {
  return {
    id: row.id,
    inboxId: row.inbox_id,
    inboxName: row.inbox_name,
    authId: row.auth_id,
    orgId: row.org_id,
    instanceUrl: row.instance_url,
    environment: row.environment,
    authorizedUserId: row.authorized_user_id,
    authorizedUsername: row.authorized_username,
    target: row.target,
    defaultOwnerId: row.default_owner_id,
    defaultOwnerName: row.default_owner_name,
    defaultOwnerEmail: row.default_owner_email,
    orgName: row.org_name,
    orgIsSandbox: flagOf(row.org_is_sandbox),
    status: row.status,
    statusReason: row.status_reason,
    statusChangedAt: row.status_changed_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
    version: row.version,
  };
}

export function authNotFound(authId: string): BridgeError {
  return new BridgeError('bad_input', `no Salesforce authorisation ${authId}`, {
    code: 'auth_not_found',
    reason: 'not_found',
  });
}

export function createLinksRepository(db: SqlExecutor, secretBox: SecretBox): LinksRepository {
  const toAuth = (row: AuthRow): SalesforceAuth => ({
    id: row.id,
    orgId: row.org_id,
    userId: row.user_id,
    username: row.username,
    displayName: row.display_name,
    instanceUrl: row.instance_url,
    loginUrl: row.login_url,
    environment: row.environment,
    orgName: row.org_name,
    orgIsSandbox: flagOf(row.org_is_sandbox),
    accessToken: row.access_token_enc === null ? null : secretBox.decrypt(row.access_token_enc),
    refreshToken: secretBox.decrypt(row.refresh_token_enc),
    scope: row.scope,
    issuedAt: row.issued_at,
    createdBy:
      row.created_by_kind === null
        ? null
        : { kind: row.created_by_kind, id: row.created_by_id, name: row.created_by_name ?? '' },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });

  return {
    saveAuth(auth, createdBy, now) {
      return db.atomic(async (tx) => {
        const row = (await tx.one<AuthRow>(sql`
          INSERT INTO salesforce_auths (id, org_id, user_id, username, display_name, instance_url, login_url,
                                        environment, access_token_enc, refresh_token_enc, scope, issued_at,
                                        created_by_kind, created_by_id, created_by_name, org_name, org_is_sandbox,
                                        created_at, updated_at)
          VALUES (${newId('auth')}, ${auth.orgId}, ${auth.userId}, ${auth.username}, ${auth.displayName},
                  ${auth.instanceUrl}, ${auth.loginUrl}, ${auth.environment},
                  ${auth.accessToken === null ? null : secretBox.encrypt(auth.accessToken)},
                  ${secretBox.encrypt(auth.refreshToken)}, ${auth.scope}, ${auth.issuedAt},
                  ${createdBy.kind}, ${createdBy.id}, ${createdBy.name}, ${sql.text(auth.orgName ?? null)},
                  ${sql.int(flagValue(auth.orgIsSandbox))}, ${now}, ${now})
          ON CONFLICT (org_id, user_id) DO UPDATE
             SET username = excluded.username, display_name = excluded.display_name,
                 instance_url = excluded.instance_url, login_url = excluded.login_url,
                 environment = excluded.environment, access_token_enc = excluded.access_token_enc,
                 refresh_token_enc = excluded.refresh_token_enc, scope = excluded.scope,
                 issued_at = excluded.issued_at, updated_at = excluded.updated_at,
                 org_name = COALESCE(excluded.org_name, salesforce_auths.org_name),
                 org_is_sandbox = COALESCE(excluded.org_is_sandbox, salesforce_auths.org_is_sandbox)
          RETURNING ${AUTH_COLUMNS}`)) as AuthRow;
        // Links follow their authorisation to another instance, and to the org's current name.
        await tx.run(sql`
          UPDATE links
             SET instance_url = ${row.instance_url}, org_name = ${sql.text(row.org_name)},
                 org_is_sandbox = ${sql.int(row.org_is_sandbox)}, updated_at = ${now}
           WHERE auth_id = ${row.id} AND status <> 'deleted'
             AND (instance_url <> ${row.instance_url}
                  OR COALESCE(org_name, '') <> COALESCE(${sql.text(row.org_name)}, '')
                  OR COALESCE(org_is_sandbox, -1) <> COALESCE(${sql.int(row.org_is_sandbox)}, -1))`);
        return toAuth(row);
      });
    },

    async getAuth(authId) {
      const row = await db.one<AuthRow>(sql`SELECT ${AUTH_COLUMNS} FROM salesforce_auths WHERE id = ${authId}`);
      return row === null ? null : toAuth(row);
    },

    async listAuths() {
      const rows = await db.all<AuthRow>(sql`SELECT ${AUTH_COLUMNS} FROM salesforce_auths ORDER BY created_at, id`);
      return rows.map(toAuth);
    },

    async updateAuthTokens(authId, tokens, now) {
      const refresh = tokens.refreshToken === undefined ? null : secretBox.encrypt(tokens.refreshToken);
      const changed = await db.run(sql`
        UPDATE salesforce_auths
           SET access_token_enc = ${tokens.accessToken === null ? null : secretBox.encrypt(tokens.accessToken)},
               refresh_token_enc = COALESCE(${sql.text(refresh)}, refresh_token_enc),
               issued_at = ${tokens.issuedAt}, updated_at = ${now}
         WHERE id = ${authId}`);
      if (changed === 0) throw authNotFound(authId);
    },

    deleteAuth(authId) {
      return db.atomic(async (tx) => {
        const users = await tx.all<{ id: string }>(
          sql`SELECT id FROM links WHERE auth_id = ${authId} AND status <> 'deleted'`,
        );
        if (users.length > 0) {
          throw new BridgeError(
            'bad_input',
            `the authorisation is used by ${users.length} link(s); delete them first`,
            {
              code: 'auth_in_use',
              reason: 'conflict',
              details: { linkIds: users.map((row) => row.id) },
            },
          );
        }
        await tx.run(sql`DELETE FROM salesforce_auths WHERE id = ${authId}`);
      });
    },

    createLink(link) {
      return db.atomic(async (tx) => {
        const auth = await tx.one<AuthRow>(sql`SELECT ${AUTH_COLUMNS} FROM salesforce_auths WHERE id = ${link.authId}`);
        if (auth === null) throw authNotFound(link.authId);
        try {
          const row = (await tx.one<LinkRow>(sql`
            INSERT INTO links (id, inbox_id, inbox_name, auth_id, org_id, instance_url, environment,
                               authorized_user_id, authorized_username, target, default_owner_id, status,
                               status_reason, status_changed_at, created_at, updated_at, deleted_at, version,
                               org_name, org_is_sandbox, default_owner_name, default_owner_email)
            VALUES (${newId('lnk')}, ${link.inboxId}, ${link.inboxName}, ${auth.id}, ${auth.org_id},
                    ${auth.instance_url}, ${auth.environment}, ${auth.user_id}, ${auth.username}, ${link.target},
                    ${link.defaultOwnerId}, 'active', NULL, ${link.createdAt}, ${link.createdAt}, ${link.createdAt},
                    NULL, 1, ${sql.text(auth.org_name)}, ${sql.int(auth.org_is_sandbox)},
                    ${sql.text(link.defaultOwnerName ?? null)}, ${sql.text(link.defaultOwnerEmail ?? null)})
            RETURNING ${LINK_COLUMNS}`)) as LinkRow;
          return toLink(row);
        } catch (error) {
          if (isConstraintViolation(error, 'unique')) throw new LinkConflictError(link.inboxId);
          throw error;
        }
      });
    },

    getLink: (linkId) => linkIn(db, linkId),

    async getLinkForInbox(inboxId) {
      const row = await db.one<LinkRow>(
        sql`SELECT ${LINK_COLUMNS} FROM links WHERE inbox_id = ${inboxId} AND status <> 'deleted'`,
      );
      return row === null ? null : toLink(row);
    },

    async listLinks(options) {
      const live = options?.includeDeleted === true ? sql.empty : sql`WHERE status <> 'deleted'`;
      const rows = await db.all<LinkRow>(sql`SELECT ${LINK_COLUMNS} FROM links ${live} ORDER BY created_at, id`);
      return rows.map(toLink);
    },

    async liveLinksOfInboxes(inboxIds) {
      if (inboxIds.length === 0) return [];
      const rows = await db.all<LinkRow>(sql`
        SELECT ${LINK_COLUMNS} FROM links WHERE ${sql.in(sql`inbox_id`, inboxIds)} AND status <> 'deleted'`);
      return rows.map(toLink);
    },

    async liveLinksOfAuth(authId) {
      const rows = await db.all<LinkRow>(sql`
        SELECT ${LINK_COLUMNS} FROM links WHERE auth_id = ${authId} AND status <> 'deleted' ORDER BY created_at, id`);
      return rows.map(toLink);
    },

    updateLink(linkId, patch, now, expectedVersion) {
      return db.atomic(async (tx) => {
        const current = await requireLiveLinkIn(tx, linkId);
        if (expectedVersion !== undefined && current.version !== expectedVersion) return null;
        // A new default owner brings its own name and email (or none); the same owner keeps them.
        const ownerChanges = patch.defaultOwnerId !== undefined && patch.defaultOwnerId !== current.defaultOwnerId;
        const ownerName = ownerChanges
          ? (patch.defaultOwnerName ?? null)
          : (patch.defaultOwnerName ?? current.defaultOwnerName);
        const ownerEmail = ownerChanges
          ? (patch.defaultOwnerEmail ?? null)
          : (patch.defaultOwnerEmail ?? current.defaultOwnerEmail);
        await tx.run(sql`
          UPDATE links
             SET target = ${patch.target ?? current.target},
                 default_owner_id = ${patch.defaultOwnerId ?? current.defaultOwnerId},
                 default_owner_name = ${sql.text(ownerName)}, default_owner_email = ${sql.text(ownerEmail)},
                 inbox_name = ${patch.inboxName === undefined ? current.inboxName : patch.inboxName},
                 version = version + 1,
                 updated_at = ${now}
           WHERE id = ${linkId} AND version = ${current.version}`);
        return (await linkIn(tx, linkId)) as Link;
      });
    },

    reassignAuth(linkId, auth, defaultOwner, now) {
      return db.atomic(async (tx) => {
        await requireLiveLinkIn(tx, linkId);
        await tx.run(sql`
          UPDATE links
             SET auth_id = ${auth.id}, authorized_user_id = ${auth.userId}, authorized_username = ${auth.username},
                 instance_url = ${auth.instanceUrl}, org_name = ${sql.text(auth.orgName)},
                 org_is_sandbox = ${sql.int(flagValue(auth.orgIsSandbox))}, default_owner_id = ${defaultOwner.id},
                 default_owner_name = ${sql.text(defaultOwner.name)}, default_owner_email = ${sql.text(defaultOwner.email)},
                 version = version + 1, updated_at = ${now}
           WHERE id = ${linkId}`);
        return (await linkIn(tx, linkId)) as Link;
      });
    },

    setLinkStatus(linkId, status, reason, now) {
      return db.atomic(async (tx) => {
        await requireLiveLinkIn(tx, linkId);
        await tx.run(sql`
          UPDATE links
             SET status_changed_at = CASE WHEN status <> ${status} THEN ${sql.int(now)} ELSE status_changed_at END,
                 status = ${status}, status_reason = ${reason}, updated_at = ${now},
                 deleted_at = CASE WHEN ${sql.text(status)} = 'deleted' THEN ${sql.int(now)} ELSE NULL END
           WHERE id = ${linkId}`);
        return (await linkIn(tx, linkId)) as Link;
      });
    },

    async setLinkStatusByAuth(authId, status, reason, now) {
      const rows = await db.all<{ id: string }>(sql`
        UPDATE links
           SET status_changed_at = CASE WHEN status <> ${status} THEN ${sql.int(now)} ELSE status_changed_at END,
               status = ${status}, status_reason = ${reason}, updated_at = ${now},
               deleted_at = CASE WHEN ${sql.text(status)} = 'deleted' THEN ${sql.int(now)} ELSE NULL END
         WHERE auth_id = ${authId} AND status <> 'deleted'
        RETURNING id`);
      return rows.map((row) => row.id);
    },
  };

  async function linkIn(tx: SqlExecutor, linkId: string): Promise<Link | null> {
    const row = await tx.one<LinkRow>(sql`SELECT ${LINK_COLUMNS} FROM links WHERE id = ${linkId}`);
    return row === null ? null : toLink(row);
  }

  async function requireLiveLinkIn(tx: SqlExecutor, linkId: string): Promise<Link> {
    const link = await linkIn(tx, linkId);
    if (link === null) {
      throw new BridgeError('bad_input', `no link ${linkId}`, { code: 'link_not_found', reason: 'not_found' });
    }
    if (link.status === 'deleted') {
      throw new BridgeError('bad_input', `link ${linkId} is deleted`, { code: 'link_deleted', reason: 'conflict' });
    }
    return link;
  }
}
