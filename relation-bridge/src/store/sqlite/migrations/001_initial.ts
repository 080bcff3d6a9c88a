/**
 * The first schema. Times are ms since the epoch (INTEGER); JSON documents are TEXT;
 * columns ending in `_enc` hold SecretBox ciphertext, never plaintext.
 */
export const sql = `
CREATE TABLE actions (
  action_id          TEXT    PRIMARY KEY,
  webhook_id         TEXT    NOT NULL,
  inbox_id           TEXT    NOT NULL,
  inbox_name         TEXT,
  kind               TEXT    NOT NULL,
  channel            TEXT    NOT NULL,
  occurred_at        INTEGER NOT NULL,
  received_at        INTEGER NOT NULL,
  payload            TEXT    NOT NULL,
  state              TEXT    NOT NULL
    CHECK (state IN ('received', 'pending', 'synced', 'skipped', 'unmatched', 'failed', 'held')),
  reason             TEXT,
  link_id            TEXT,
  org_id             TEXT,
  attempts           INTEGER NOT NULL DEFAULT 0,
  next_attempt_at    INTEGER NOT NULL,
  lease_owner        TEXT,
  lease_until        INTEGER,
  write_attempted_at INTEGER,
  sf_event_id        TEXT,
  who_id             TEXT,
  owner_id           TEXT,
  match_record       TEXT,
  error_code         TEXT,
  error_message      TEXT,
  updated_at         INTEGER NOT NULL
);

-- Sync: due pending actions of one org (claim) and orgs with due work.
CREATE INDEX actions_due ON actions (state, org_id, next_attempt_at);
-- Classification: received actions in arrival order.
CREATE INDEX actions_received ON actions (received_at) WHERE state = 'received';
-- Error log and console: newest first, overall, per inbox and per link.
CREATE INDEX actions_updated ON actions (updated_at, action_id);
CREATE INDEX actions_inbox_updated ON actions (inbox_id, updated_at, action_id);
CREATE INDEX actions_link_updated ON actions (link_id, updated_at, action_id);

-- Every delivery seen: a retried delivery re-sends its webhook-id.
CREATE TABLE deliveries (
  webhook_id  TEXT    PRIMARY KEY,
  action_id   TEXT    NOT NULL REFERENCES actions (action_id) ON DELETE CASCADE,
  received_at INTEGER NOT NULL
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
  issued_at         INTEGER NOT NULL,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  UNIQUE (org_id, user_id)
);

-- Org, user and environment are copied from the authorisation so that a deleted link
-- keeps its history after the authorisation is gone; instance_url follows the
-- authorisation while it exists (an org can move to another instance).
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
  status_changed_at   INTEGER NOT NULL,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  deleted_at          INTEGER
);
-- One link per inbox, enforced by the database (a second one is a LinkConflictError).
CREATE UNIQUE INDEX links_one_per_inbox ON links (inbox_id) WHERE status <> 'deleted';
CREATE INDEX links_auth ON links (auth_id);

CREATE TABLE oauth_pending (
  state             TEXT    PRIMARY KEY,
  code_verifier_enc TEXT    NOT NULL,
  purpose           TEXT    NOT NULL CHECK (purpose IN ('link', 'reauth')),
  inbox_id          TEXT    NOT NULL,
  inbox_name        TEXT,
  environment       TEXT    NOT NULL CHECK (environment IN ('production', 'sandbox', 'custom')),
  login_url         TEXT    NOT NULL,
  target            TEXT    NOT NULL CHECK (target IN ('contact', 'lead', 'contact_then_lead')),
  default_owner_id  TEXT,
  link_id           TEXT,
  created_at        INTEGER NOT NULL,
  expires_at        INTEGER NOT NULL
);
CREATE INDEX oauth_pending_expiry ON oauth_pending (expires_at);

CREATE TABLE org_state (
  org_id       TEXT    PRIMARY KEY,
  paused_until INTEGER,
  pause_reason TEXT,
  api_used     INTEGER,
  api_max      INTEGER,
  api_seen_at  INTEGER,
  last_sync_at INTEGER
);

-- API calls this bridge made, one row per org and minute (minute = ms epoch of its start).
CREATE TABLE api_calls (
  org_id TEXT    NOT NULL,
  minute INTEGER NOT NULL,
  calls  INTEGER NOT NULL,
  PRIMARY KEY (org_id, minute)
);
`;
