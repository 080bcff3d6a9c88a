/**
 * Store v2: one record per OAuth flow (the PKCE verifier and who started it, together), who
 * created each Salesforce authorisation, the rematching of unmatched actions, a version for optimistic concurrency on links, the
 * names people read instead of ids (the org's, the default owner's), the
 * body hash of each delivery (a webhook-id reused for another body is refused), and named
 * leases (one sync writer per org, one token refresh per authorisation, across instances).
 * OAuth flows in progress during the upgrade are dropped: they last minutes, and the admin
 * starts again.
 */
export const sql = `
DROP TABLE oauth_pending;
DROP TABLE oauth_initiators;

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
  created_at        INTEGER NOT NULL,
  expires_at        INTEGER NOT NULL
);
CREATE INDEX oauth_flows_expiry ON oauth_flows (expires_at);

ALTER TABLE salesforce_auths ADD COLUMN created_by_kind TEXT CHECK (created_by_kind IN ('user', 'token'));
ALTER TABLE salesforce_auths ADD COLUMN created_by_id   TEXT;
ALTER TABLE salesforce_auths ADD COLUMN created_by_name TEXT;

ALTER TABLE links ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- What people read instead of ids, captured when an org is authorised or an owner chosen
-- (older rows have none and show the ids): the org's name and whether it is a sandbox, and
-- the default owner's name and email.
ALTER TABLE salesforce_auths ADD COLUMN org_name       TEXT;
ALTER TABLE salesforce_auths ADD COLUMN org_is_sandbox INTEGER;
ALTER TABLE pending_links ADD COLUMN org_name       TEXT;
ALTER TABLE pending_links ADD COLUMN org_is_sandbox INTEGER;
ALTER TABLE pending_links ADD COLUMN user_email     TEXT;
ALTER TABLE links ADD COLUMN org_name            TEXT;
ALTER TABLE links ADD COLUMN org_is_sandbox      INTEGER;
ALTER TABLE links ADD COLUMN default_owner_name  TEXT;
ALTER TABLE links ADD COLUMN default_owner_email TEXT;

ALTER TABLE deliveries ADD COLUMN body_hash TEXT;

-- An action to match afresh, past the cache (a retry, the sweep of unmatched actions, a
-- matched record found deleted), and when the sweep last gave it another chance.
ALTER TABLE actions ADD COLUMN rematch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE actions ADD COLUMN rematched_at INTEGER;
CREATE INDEX actions_unmatched ON actions (org_id, rematched_at) WHERE state = 'unmatched';

CREATE TABLE leases (
  name       TEXT    PRIMARY KEY,
  owner      TEXT    NOT NULL,
  expires_at INTEGER NOT NULL
);

-- Notices (src/notices): what the last check of each Salesforce authorisation found that
-- would break its links (its user, its token, its approvals), as JSON, and when.
CREATE TABLE link_checks (
  auth_id    TEXT    PRIMARY KEY,
  checked_at INTEGER NOT NULL,
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
  started_at       INTEGER NOT NULL,
  last_seen_at     INTEGER NOT NULL,
  resolved_at      INTEGER,
  sent_at          INTEGER,
  sent_to          TEXT    NOT NULL DEFAULT '[]',
  claimed_by       TEXT,
  claim_expires_at INTEGER,
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL DEFAULT 0,
  last_error       TEXT
);
CREATE UNIQUE INDEX link_notices_open ON link_notices (link_id, code) WHERE resolved_at IS NULL;
CREATE INDEX link_notices_link ON link_notices (link_id, started_at);

-- The language of a console user's notice e-mails (and of the console when they sign in).
ALTER TABLE console_users ADD COLUMN language TEXT NOT NULL DEFAULT 'ja' CHECK (language IN ('ja', 'en'));
`;
