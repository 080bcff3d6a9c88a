/**
 * The whole schema of version 3 (store v2) for PostgreSQL, in one migration. Times are
 * bigint ms since the epoch; JSON documents are text; columns ending in `_enc` hold
 * SecretBox ciphertext and `*_hash` SHA-256 digests. Table by table it is the SQLite schema
 * of migrations 1 to 3, so that the repositories' SQL runs on both.
 */
export const sql = `
CREATE TABLE actions (
  action_id          TEXT    PRIMARY KEY,
  webhook_id         TEXT    NOT NULL,
  inbox_id           TEXT    NOT NULL,
  inbox_name         TEXT,
  kind               TEXT    NOT NULL,
  channel            TEXT    NOT NULL,
  occurred_at        BIGINT  NOT NULL,
  received_at        BIGINT  NOT NULL,
  payload            TEXT    NOT NULL,
  state              TEXT    NOT NULL
    CHECK (state IN ('received', 'pending', 'synced', 'skipped', 'unmatched', 'failed', 'held')),
  reason             TEXT,
  link_id            TEXT,
  org_id             TEXT,
  attempts           INTEGER NOT NULL DEFAULT 0,
  next_attempt_at    BIGINT  NOT NULL,
  lease_owner        TEXT,
  lease_until        BIGINT,
  write_attempted_at BIGINT,
  sf_event_id        TEXT,
  who_id             TEXT,
  owner_id           TEXT,
  match_record       TEXT,
  error_code         TEXT,
  error_message      TEXT,
  updated_at         BIGINT  NOT NULL,
  rematch            INTEGER NOT NULL DEFAULT 0,
  rematched_at       BIGINT
);
CREATE INDEX actions_due ON actions (state, org_id, next_attempt_at);
CREATE INDEX actions_received ON actions (received_at) WHERE state = 'received';
CREATE INDEX actions_updated ON actions (updated_at, action_id);
CREATE INDEX actions_inbox_updated ON actions (inbox_id, updated_at, action_id);
CREATE INDEX actions_link_updated ON actions (link_id, updated_at, action_id);
CREATE INDEX actions_unmatched ON actions (org_id, rematched_at) WHERE state = 'unmatched';

CREATE TABLE deliveries (
  webhook_id  TEXT   PRIMARY KEY,
  action_id   TEXT   NOT NULL REFERENCES actions (action_id) ON DELETE CASCADE,
  received_at BIGINT NOT NULL,
  body_hash   TEXT
);
CREATE INDEX deliveries_action ON deliveries (action_id);

CREATE TABLE salesforce_auths (
  id                TEXT    PRIMARY KEY,
  org_id            TEXT    NOT NULL,
  user_id           TEXT    NOT NULL,
  username          TEXT    NOT NULL,
  display_name      TEXT,
  instance_url      TEXT    NOT NULL,
  login_url         TEXT    NOT NULL,
  environment       TEXT    NOT NULL CHECK (environment IN ('production', 'sandbox', 'custom')),
  access_token_enc  TEXT,
  refresh_token_enc TEXT    NOT NULL,
  scope             TEXT    NOT NULL,
  issued_at         BIGINT  NOT NULL,
  created_at        BIGINT  NOT NULL,
  updated_at        BIGINT  NOT NULL,
  created_by_kind   TEXT    CHECK (created_by_kind IN ('user', 'token')),
  created_by_id     TEXT,
  created_by_name   TEXT,
  org_name          TEXT,
  org_is_sandbox    INTEGER,
  UNIQUE (org_id, user_id)
);

CREATE TABLE links (
  id                  TEXT    PRIMARY KEY,
  inbox_id            TEXT    NOT NULL,
  inbox_name          TEXT,
  auth_id             TEXT    NOT NULL,
  org_id              TEXT    NOT NULL,
  instance_url        TEXT    NOT NULL,
  environment         TEXT    NOT NULL CHECK (environment IN ('production', 'sandbox', 'custom')),
  authorized_user_id  TEXT    NOT NULL,
  authorized_username TEXT    NOT NULL,
  target              TEXT    NOT NULL CHECK (target IN ('contact', 'lead', 'contact_then_lead')),
  default_owner_id    TEXT    NOT NULL,
  status              TEXT    NOT NULL CHECK (status IN ('active', 'needs_reauth', 'disabled', 'deleted')),
  status_reason       TEXT,
  status_changed_at   BIGINT  NOT NULL,
  created_at          BIGINT  NOT NULL,
  updated_at          BIGINT  NOT NULL,
  deleted_at          BIGINT,
  version             INTEGER NOT NULL DEFAULT 1,
  org_name            TEXT,
  org_is_sandbox      INTEGER,
  default_owner_name  TEXT,
  default_owner_email TEXT
);
CREATE UNIQUE INDEX links_one_per_inbox ON links (inbox_id) WHERE status <> 'deleted';
CREATE INDEX links_auth ON links (auth_id);

CREATE TABLE oauth_flows (
  state             TEXT    PRIMARY KEY,
  code_verifier_enc TEXT    NOT NULL,
  mode              TEXT    NOT NULL CHECK (mode IN ('link', 'pending_link', 'reauth')),
  inbox_id          TEXT    NOT NULL,
  inbox_name        TEXT,
  environment       TEXT    NOT NULL CHECK (environment IN ('production', 'sandbox', 'custom')),
  login_url         TEXT    NOT NULL,
  target            TEXT    NOT NULL CHECK (target IN ('contact', 'lead', 'contact_then_lead')),
  default_owner_id  TEXT,
  link_id           TEXT,
  actor_kind        TEXT    NOT NULL CHECK (actor_kind IN ('user', 'token')),
  actor_id          TEXT,
  actor_name        TEXT    NOT NULL,
  session_hash      TEXT,
  created_at        BIGINT  NOT NULL,
  expires_at        BIGINT  NOT NULL
);
CREATE INDEX oauth_flows_expiry ON oauth_flows (expires_at);

CREATE TABLE org_state (
  org_id       TEXT   PRIMARY KEY,
  paused_until BIGINT,
  pause_reason TEXT,
  api_used     BIGINT,
  api_max      BIGINT,
  api_seen_at  BIGINT,
  last_sync_at BIGINT
);

CREATE TABLE api_calls (
  org_id TEXT   NOT NULL,
  minute BIGINT NOT NULL,
  calls  BIGINT NOT NULL,
  PRIMARY KEY (org_id, minute)
);

CREATE TABLE leases (
  name       TEXT   PRIMARY KEY,
  owner      TEXT   NOT NULL,
  expires_at BIGINT NOT NULL
);

CREATE TABLE console_users (
  id                  TEXT    PRIMARY KEY,
  email               TEXT    NOT NULL,
  name                TEXT    NOT NULL,
  password_hash       TEXT    NOT NULL,
  is_owner            INTEGER NOT NULL CHECK (is_owner IN (0, 1)),
  password_changed_at BIGINT  NOT NULL,
  created_at          BIGINT  NOT NULL,
  updated_at          BIGINT  NOT NULL
);
CREATE UNIQUE INDEX console_users_email ON console_users (email);

CREATE TABLE console_sessions (
  id_hash      TEXT   PRIMARY KEY,
  user_id      TEXT   NOT NULL REFERENCES console_users (id) ON DELETE CASCADE,
  created_at   BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

CREATE TABLE login_failures (
  key          TEXT    PRIMARY KEY,
  failures     INTEGER NOT NULL,
  window_start BIGINT  NOT NULL,
  locked_until BIGINT
);

CREATE TABLE inboxes (
  inbox_id      TEXT   PRIMARY KEY,
  name          TEXT   NOT NULL,
  registered_at BIGINT NOT NULL,
  registered_by TEXT
);

CREATE TABLE inbox_roles (
  inbox_id   TEXT   NOT NULL REFERENCES inboxes (inbox_id) ON DELETE CASCADE,
  user_id    TEXT   NOT NULL REFERENCES console_users (id) ON DELETE CASCADE,
  role       TEXT   NOT NULL CHECK (role IN ('admin', 'member')),
  granted_at BIGINT NOT NULL,
  PRIMARY KEY (inbox_id, user_id)
);
CREATE INDEX inbox_roles_user ON inbox_roles (user_id);

CREATE TABLE link_audit (
  id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  inbox_id   TEXT   NOT NULL,
  link_id    TEXT   NOT NULL,
  at         BIGINT NOT NULL,
  actor_kind TEXT   NOT NULL CHECK (actor_kind IN ('user', 'token')),
  actor_id   TEXT,
  actor_name TEXT   NOT NULL,
  event      TEXT   NOT NULL CHECK (event IN ('created', 'changed', 'reauthorized', 'deleted')),
  changes    TEXT   NOT NULL
);
CREATE INDEX link_audit_inbox ON link_audit (inbox_id, at);

CREATE TABLE webhook_secrets (
  id          TEXT   PRIMARY KEY,
  label       TEXT   NOT NULL,
  secret_enc  TEXT   NOT NULL,
  fingerprint TEXT   NOT NULL,
  created_at  BIGINT NOT NULL,
  created_by  TEXT   NOT NULL,
  revoked_at  BIGINT
);

CREATE TABLE pending_links (
  id                TEXT   PRIMARY KEY,
  inbox_id          TEXT   NOT NULL,
  inbox_name        TEXT,
  org_id            TEXT   NOT NULL,
  user_id           TEXT   NOT NULL,
  username          TEXT   NOT NULL,
  display_name      TEXT,
  instance_url      TEXT   NOT NULL,
  login_url         TEXT   NOT NULL,
  environment       TEXT   NOT NULL CHECK (environment IN ('production', 'sandbox', 'custom')),
  access_token_enc  TEXT   NOT NULL,
  refresh_token_enc TEXT   NOT NULL,
  scope             TEXT   NOT NULL,
  issued_at         BIGINT NOT NULL,
  actor_kind        TEXT   NOT NULL CHECK (actor_kind IN ('user', 'token')),
  actor_id          TEXT,
  actor_name        TEXT   NOT NULL,
  created_at        BIGINT NOT NULL,
  expires_at        BIGINT NOT NULL,
  org_name          TEXT,
  org_is_sandbox    INTEGER,
  user_email        TEXT
);
CREATE INDEX pending_links_inbox ON pending_links (inbox_id);
CREATE INDEX pending_links_expiry ON pending_links (expires_at);

-- Notices (src/notices): what the last check of each Salesforce authorisation found that
-- would break its links (its user, its token, its approvals), as JSON, and when.
CREATE TABLE link_checks (
  auth_id    TEXT    PRIMARY KEY,
  checked_at BIGINT  NOT NULL,
  findings   TEXT    NOT NULL
);

-- One row per incident: a link's problem from when it was first seen to when it was
-- resolved. At most one open incident per link and problem; the notice e-mail is claimed
-- (claimed_by until claim_expires_at) by one instance, and sent_to lists who has it already,
-- so that several instances and restarts send it once.
CREATE TABLE link_notices (
  id               TEXT    PRIMARY KEY,
  link_id          TEXT    NOT NULL,
  inbox_id         TEXT    NOT NULL,
  code             TEXT    NOT NULL,
  details          TEXT    NOT NULL,
  started_at       BIGINT  NOT NULL,
  last_seen_at     BIGINT  NOT NULL,
  resolved_at      BIGINT,
  sent_at          BIGINT,
  sent_to          TEXT    NOT NULL DEFAULT '[]',
  claimed_by       TEXT,
  claim_expires_at BIGINT,
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  BIGINT  NOT NULL DEFAULT 0,
  last_error       TEXT
);
CREATE UNIQUE INDEX link_notices_open ON link_notices (link_id, code) WHERE resolved_at IS NULL;
CREATE INDEX link_notices_link ON link_notices (link_id, started_at);

-- The language of a console user's notice e-mails (and of the console when they sign in).
ALTER TABLE console_users ADD COLUMN language TEXT NOT NULL DEFAULT 'ja' CHECK (language IN ('ja', 'en'));
`;
