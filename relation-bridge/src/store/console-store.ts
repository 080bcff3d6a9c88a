import type { SfEnvironment } from '../core/types';

/**
 * What the admin console keeps: accounts, sessions, sign-in throttling, registered inboxes
 * and roles, the link audit log, webhook secrets, OAuth flow initiators and pending links.
 * Part of the Store (`store.console`); every method is atomic, and writes that return are
 * committed.
 */

export type InboxRole = 'admin' | 'member';

/** A console account. `email` is lower-cased; the password is only ever held as a hash. */
export interface ConsoleUser {
  id: string;
  email: string;
  name: string;
  isOwner: boolean;
  passwordHash: string;
  passwordChangedAt: number;
  createdAt: number;
  updatedAt: number;
}

export interface NewConsoleUser {
  email: string;
  name: string;
  isOwner: boolean;
  passwordHash: string;
  now: number;
}

export type ConsoleUserPatch = Partial<Pick<ConsoleUser, 'name' | 'isOwner' | 'passwordHash'>>;

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

/** An inbox registered by an owner, with the id and name the helpdesk gives it. */
export interface RegisteredInbox {
  inboxId: string;
  name: string;
  registeredAt: number;
  registeredBy: string | null;
}

/** An inbox id that webhooks or links carry, whether registered or not. */
export interface SeenInbox {
  inboxId: string;
  inboxName: string | null;
  actions: number;
  lastSeenAt: number | null;
}

export interface InboxMembership {
  inboxId: string;
  userId: string;
  role: InboxRole;
  grantedAt: number;
}

/** Who did something: a console user, or a script holding BRIDGE_ADMIN_TOKEN. */
export interface Actor {
  kind: 'user' | 'token';
  id: string | null;
  name: string;
}

export type LinkAuditEvent = 'created' | 'changed' | 'reauthorized' | 'deleted';

export interface LinkAuditEntry {
  id: number;
  inboxId: string;
  linkId: string;
  at: number;
  actor: Actor;
  event: LinkAuditEvent;
  /** Per field, the value before and after (null where there was none). */
  changes: Record<string, { from: unknown; to: unknown }>;
}

/** A webhook secret managed in the console; the plaintext exists in memory only. */
export interface WebhookSecretRecord {
  id: string;
  label: string;
  secret: string;
  fingerprint: string;
  createdAt: number;
  createdBy: string;
  revokedAt: number | null;
}

export type OAuthFlowMode = 'link' | 'pending_link' | 'reauth';

/** Who started the OAuth flow with this state, and from which console session (if any). */
export interface OAuthInitiator {
  state: string;
  mode: OAuthFlowMode;
  inboxId: string;
  actor: Actor;
  sessionHash: string | null;
  createdAt: number;
  expiresAt: number;
}

/**
 * A Salesforce authorisation the wizard obtained, waiting for the admin to choose the
 * target and the default owner. Nothing syncs through it; when it expires unfinished, its
 * refresh token is revoked and it is removed.
 */
export interface PendingLink {
  id: string;
  inboxId: string;
  inboxName: string | null;
  orgId: string;
  userId: string;
  username: string;
  displayName: string | null;
  instanceUrl: string;
  loginUrl: string;
  environment: SfEnvironment;
  accessToken: string;
  refreshToken: string;
  scope: string;
  issuedAt: number;
  createdBy: Actor;
  createdAt: number;
  expiresAt: number;
}

export interface ConsoleStore {
  // ---- accounts ---------------------------------------------------------------------
  /** @throws BridgeError `email_taken` (409) when the email is in use. */
  createUser(user: NewConsoleUser): Promise<ConsoleUser>;
  getUser(userId: string): Promise<ConsoleUser | null>;
  getUserByEmail(email: string): Promise<ConsoleUser | null>;
  listUsers(): Promise<ConsoleUser[]>;
  /** @throws BridgeError `user_not_found` (404), `last_owner` (409) when it would leave no owner. */
  updateUser(userId: string, patch: ConsoleUserPatch, now: number): Promise<ConsoleUser>;
  /** Removes the user with their sessions and roles. @throws BridgeError `user_not_found`, `last_owner`. */
  deleteUser(userId: string): Promise<void>;

  // ---- sessions ---------------------------------------------------------------------
  createSession(session: ConsoleSession): Promise<void>;
  getSession(idHash: string): Promise<ConsoleSession | null>;
  touchSession(idHash: string, at: number): Promise<void>;
  deleteSession(idHash: string): Promise<void>;
  /** Signs the user out everywhere, except (optionally) the session that asked. */
  deleteSessionsOfUser(userId: string, exceptIdHash?: string): Promise<number>;
  /** Removes sessions past their absolute end or idle since `idleBefore`. */
  deleteExpiredSessions(now: number, idleBefore: number): Promise<number>;

  // ---- sign-in throttling -----------------------------------------------------------
  getLoginThrottle(key: string): Promise<LoginThrottle | null>;
  /** Counts a failure in the current window; locks the key when the policy's maximum is reached. */
  recordLoginFailure(key: string, now: number, policy: ThrottlePolicy): Promise<LoginThrottle>;
  clearLoginFailures(key: string): Promise<void>;
  deleteStaleLoginFailures(before: number): Promise<number>;

  // ---- inboxes and roles --------------------------------------------------------------
  /** @throws BridgeError `inbox_exists` (409). */
  registerInbox(inbox: {
    inboxId: string;
    name: string;
    registeredBy: string | null;
    now: number;
  }): Promise<RegisteredInbox>;
  /** @throws BridgeError `inbox_not_found` (404). */
  renameInbox(inboxId: string, name: string): Promise<RegisteredInbox>;
  /** Removes the registration and its roles. @throws BridgeError `inbox_not_found`. */
  unregisterInbox(inboxId: string): Promise<void>;
  getInbox(inboxId: string): Promise<RegisteredInbox | null>;
  listInboxes(): Promise<RegisteredInbox[]>;
  /** Every inbox id found in actions or links, with the latest name and the newest action. */
  listSeenInboxes(): Promise<SeenInbox[]>;
  /** Grants, changes (role) or removes (null) a user's role on a registered inbox. */
  setInboxRole(inboxId: string, userId: string, role: InboxRole | null, now: number): Promise<void>;
  listInboxMembers(inboxId: string): Promise<InboxMembership[]>;
  listRolesOfUser(userId: string): Promise<InboxMembership[]>;

  // ---- link audit ---------------------------------------------------------------------
  addLinkAudit(entry: Omit<LinkAuditEntry, 'id'>): Promise<void>;
  /** Newest first. */
  listLinkAudit(inboxId: string, limit: number): Promise<LinkAuditEntry[]>;

  // ---- webhook secrets ----------------------------------------------------------------
  addWebhookSecret(secret: {
    label: string;
    secret: string;
    fingerprint: string;
    createdBy: string;
    now: number;
  }): Promise<WebhookSecretRecord>;
  listWebhookSecrets(options?: { includeRevoked?: boolean }): Promise<WebhookSecretRecord[]>;
  /** @throws BridgeError `webhook_secret_not_found` (404). */
  revokeWebhookSecret(id: string, now: number): Promise<WebhookSecretRecord>;

  // ---- OAuth flows and pending links --------------------------------------------------
  saveOAuthInitiator(initiator: OAuthInitiator): Promise<void>;
  /** Reads without consuming; null when unknown or expired. */
  getOAuthInitiator(state: string, now: number): Promise<OAuthInitiator | null>;
  /** Returns and deletes (single use); also drops expired ones. */
  takeOAuthInitiator(state: string, now: number): Promise<OAuthInitiator | null>;
  savePendingLink(pending: Omit<PendingLink, 'id'>): Promise<PendingLink>;
  getPendingLink(id: string): Promise<PendingLink | null>;
  listPendingLinks(filter?: { inboxId?: string }): Promise<PendingLink[]>;
  /** @returns whether it existed. */
  deletePendingLink(id: string): Promise<boolean>;
  listExpiredPendingLinks(now: number): Promise<PendingLink[]>;
}
