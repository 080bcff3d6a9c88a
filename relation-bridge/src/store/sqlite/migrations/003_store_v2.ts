/**
 * Store v2: one record per OAuth flow (the PKCE verifier and who started it, together), who
 * created each Salesforce authorisation, the rematching of unmatched actions, a version for optimistic concurrency on links, the
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
`;
