/**
 * The admin console: local accounts and their sessions, sign-in throttling, registered
 * inboxes and per-inbox roles, the link audit log, webhook secrets managed in the console,
 * who started each OAuth flow, and fresh Salesforce authorisations waiting for the wizard's
 * last step. Columns ending in `_enc` hold SecretBox ciphertext; `*_hash` hold SHA-256
 * digests of values that only the browser keeps.
 */
export const sql = `
CREATE TABLE console_users (
  id                  TEXT    PRIMARY KEY,
  email               TEXT    NOT NULL,
  name                TEXT    NOT NULL,
  password_hash       TEXT    NOT NULL,
  is_owner            INTEGER NOT NULL CHECK (is_owner IN (0, 1)),
  password_changed_at INTEGER NOT NULL,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL
);
-- Emails are stored lower-cased, so this is a case-insensitive uniqueness.
CREATE UNIQUE INDEX console_users_email ON console_users (email);

CREATE TABLE console_sessions (
  id_hash      TEXT    PRIMARY KEY,
  user_id      TEXT    NOT NULL REFERENCES console_users (id) ON DELETE CASCADE,
  created_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- Failed sign-ins per account ('account:<email>') and per client address ('ip:<address>').
CREATE TABLE login_failures (
  key          TEXT    PRIMARY KEY,
  failures     INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  locked_until INTEGER
);

CREATE TABLE inboxes (
  inbox_id      TEXT    PRIMARY KEY,
  name          TEXT    NOT NULL,
  registered_at INTEGER NOT NULL,
  registered_by TEXT
);

CREATE TABLE inbox_roles (
  inbox_id   TEXT    NOT NULL REFERENCES inboxes (inbox_id) ON DELETE CASCADE,
  user_id    TEXT    NOT NULL REFERENCES console_users (id) ON DELETE CASCADE,
  role       TEXT    NOT NULL CHECK (role IN ('admin', 'member')),
  granted_at INTEGER NOT NULL,
  PRIMARY KEY (inbox_id, user_id)
);
CREATE INDEX inbox_roles_user ON inbox_roles (user_id);

-- Kept for as long as the bridge runs: who created, changed, re-authorised or deleted a link.
CREATE TABLE link_audit (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  inbox_id   TEXT    NOT NULL,
  link_id    TEXT    NOT NULL,
  at         INTEGER NOT NULL,
  actor_kind TEXT    NOT NULL CHECK (actor_kind IN ('user', 'token')),
  actor_id   TEXT,
  actor_name TEXT    NOT NULL,
  event      TEXT    NOT NULL CHECK (event IN ('created', 'changed', 'reauthorized', 'deleted')),
  changes    TEXT    NOT NULL
);
CREATE INDEX link_audit_inbox ON link_audit (inbox_id, at);

CREATE TABLE webhook_secrets (
  id          TEXT    PRIMARY KEY,
  label       TEXT    NOT NULL,
  secret_enc  TEXT    NOT NULL,
  fingerprint TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  created_by  TEXT    NOT NULL,
  revoked_at  INTEGER
);

-- Who started an OAuth flow (oauth_pending.state), and from which console session.
CREATE TABLE oauth_initiators (
  state        TEXT    PRIMARY KEY,
  mode         TEXT    NOT NULL CHECK (mode IN ('link', 'pending_link', 'reauth')),
  inbox_id     TEXT    NOT NULL,
  actor_kind   TEXT    NOT NULL CHECK (actor_kind IN ('user', 'token')),
  actor_id     TEXT,
  actor_name   TEXT    NOT NULL,
  session_hash TEXT,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
);
CREATE INDEX oauth_initiators_expiry ON oauth_initiators (expires_at);

-- A Salesforce authorisation obtained by the wizard, waiting for the target choice (完了).
CREATE TABLE pending_links (
  id                TEXT    PRIMARY KEY,
  inbox_id          TEXT    NOT NULL,
  inbox_name        TEXT,
  org_id            TEXT    NOT NULL,
  user_id           TEXT    NOT NULL,
  username          TEXT    NOT NULL,
  display_name      TEXT,
  instance_url      TEXT    NOT NULL,
  login_url         TEXT    NOT NULL,
  environment       TEXT    NOT NULL CHECK (environment IN ('production', 'sandbox', 'custom')),
  access_token_enc  TEXT    NOT NULL,
  refresh_token_enc TEXT    NOT NULL,
  scope             TEXT    NOT NULL,
  issued_at         INTEGER NOT NULL,
  actor_kind        TEXT    NOT NULL CHECK (actor_kind IN ('user', 'token')),
  actor_id          TEXT,
  actor_name        TEXT    NOT NULL,
  created_at        INTEGER NOT NULL,
  expires_at        INTEGER NOT NULL
);
CREATE INDEX pending_links_inbox ON pending_links (inbox_id);
CREATE INDEX pending_links_expiry ON pending_links (expires_at);
`;
