import type { Actor, LinkTarget, SfEnvironment } from '../core/types';
import type { SecretBox } from '../crypto/secret-box';
import type { SqlExecutor } from '../store/database';
import { sql } from '../store/sql';

/**
 * OAuth web-server flows in progress, one record each, keyed by `state`: the PKCE verifier
 * (sealed), what the flow is for, who started it and from which console session.
 * Single use and short-lived.
 */

/** link: the API's one-step link; pending_link: the wizard (target chosen after 許可); reauth: renew a link. */
export type OAuthFlowMode = 'link' | 'pending_link' | 'reauth';

export interface OAuthFlow {
  state: string;
  codeVerifier: string;
  mode: OAuthFlowMode;
  inboxId: string;
  inboxName: string | null;
  environment: SfEnvironment;
  loginUrl: string;
  /** For mode 'link': the target asked for; otherwise the link's, or chosen later. */
  target: LinkTarget;
  defaultOwnerId: string | null;
  /** For mode 'reauth': the link being re-authenticated. */
  linkId: string | null;
  actor: Actor;
  /** Hash of the console session that started it (null: a script with the admin token). */
  sessionHash: string | null;
  createdAt: number;
  expiresAt: number;
}

export interface OAuthFlowsRepository {
  save(flow: OAuthFlow): Promise<void>;
  /** Reads without consuming; null when unknown or expired. */
  peek(state: string, now: number): Promise<OAuthFlow | null>;
  /**
   * Returns and deletes the flow (single use), but only for the console session that
   * started it (a flow started by a script is bound to none); also drops expired flows.
   * Null when unknown, expired, or bound to another session, which stays usable by its own.
   */
  take(state: string, sessionHash: string | null, now: number): Promise<OAuthFlow | null>;
}

interface FlowRow {
  state: string;
  code_verifier_enc: string;
  mode: OAuthFlowMode;
  inbox_id: string;
  inbox_name: string | null;
  environment: SfEnvironment;
  login_url: string;
  target: LinkTarget;
  default_owner_id: string | null;
  link_id: string | null;
  actor_kind: Actor['kind'];
  actor_id: string | null;
  actor_name: string;
  session_hash: string | null;
  created_at: number;
  expires_at: number;
}

const COLUMNS = sql.raw(
  'state, code_verifier_enc, mode, inbox_id, inbox_name, environment, login_url, target, default_owner_id, ' +
    'link_id, actor_kind, actor_id, actor_name, session_hash, created_at, expires_at',
);

export function createOAuthFlowsRepository(db: SqlExecutor, secretBox: SecretBox): OAuthFlowsRepository {
  const toFlow = (row: FlowRow): OAuthFlow => ({
    state: row.state,
    codeVerifier: secretBox.decrypt(row.code_verifier_enc),
    mode: row.mode,
    inboxId: row.inbox_id,
    inboxName: row.inbox_name,
    environment: row.environment,
    loginUrl: row.login_url,
    target: row.target,
    defaultOwnerId: row.default_owner_id,
    linkId: row.link_id,
    actor: { kind: row.actor_kind, id: row.actor_id, name: row.actor_name },
    sessionHash: row.session_hash,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  });

  return {
    async save(flow) {
      await db.run(sql`
        INSERT INTO oauth_flows (${COLUMNS})
        VALUES (${flow.state}, ${secretBox.encrypt(flow.codeVerifier)}, ${flow.mode}, ${flow.inboxId},
                ${flow.inboxName}, ${flow.environment}, ${flow.loginUrl}, ${flow.target}, ${flow.defaultOwnerId},
                ${flow.linkId}, ${flow.actor.kind}, ${flow.actor.id}, ${flow.actor.name}, ${flow.sessionHash},
                ${flow.createdAt}, ${flow.expiresAt})`);
    },

    async peek(state, now) {
      const row = await db.one<FlowRow>(
        sql`SELECT ${COLUMNS} FROM oauth_flows WHERE state = ${state} AND expires_at > ${now}`,
      );
      return row === null ? null : toFlow(row);
    },

    async take(state, sessionHash, now) {
      const [taken] = await db.batch([
        sql`DELETE FROM oauth_flows
             WHERE state = ${state} AND expires_at > ${now}
               AND (session_hash IS NULL OR session_hash = ${sql.text(sessionHash)})
            RETURNING ${COLUMNS}`,
        sql`DELETE FROM oauth_flows WHERE expires_at <= ${now}`,
      ]);
      const row = taken?.rows[0] as FlowRow | undefined;
      return row === undefined ? null : toFlow(row);
    },
  };
}
