// The admin API’s answers, as the console reads them: written from docs/openapi.json
// (relation-bridge/src/admin/contract.ts) by `npm run docs:generate -w relation-bridge`. Do not edit.

export type Action = {
  actionId: string;
  webhookId: string;
  inboxId: string;
  inboxName: string | null;
  kind: string;
  channel: string;
  direction: 'inbound' | 'outbound' | 'internal';
  occurredAt: string;
  receivedAt: string;
  state: ActionState;
  reason: ActionReason | null;
  /** Salesforce's (or the bridge's) error for this action, kept for the error log. */
  error: {
    code: string | null;
    message: string | null;
  } | null;
  linkId: string | null;
  orgId: string | null;
  attempts: number;
  /** Set while pending. */
  nextAttemptAt: string | null;
  /** The Salesforce Event created for this action. */
  sfEventId: string | null;
  whoId: string | null;
  ownerId: string | null;
  /** How the customer was matched (rule, chosen record, candidates). */
  match: {
    rule: string;
    chosen: MatchCandidate | null;
    candidates: MatchCandidate[];
    policy?: AppliedPolicy;
  } | null;
  ticket: {
    id: string;
    title: string | null;
    url: string;
  };
  customer: {
    id: string | null;
    name: string | null;
    emails: string[];
    phones: string[];
  };
  updatedAt: string;
};

export type ActionCounts = {
  received: number;
  pending: number;
  synced: number;
  skipped: number;
  unmatched: number;
  failed: number;
  held: number;
};

export type ActionReason =
  | 'no_link'
  | 'before_link'
  | 'channel_not_supported'
  | 'kind_not_synced'
  | 'needs_reauth'
  | 'link_disabled'
  | 'disabled_in_salesforce'
  | 'link_deleted'
  | 'package_missing'
  | 'field_access_missing'
  | 'salesforce_rejected'
  | 'retries_exhausted'
  | 'invalid_for_salesforce'
  | 'unreadable_action'
  | 'matched_record_deleted'
  | 'no_customer_identifier'
  | 'no_matching_record';

export type ActionsPage = {
  /** RETENTION_DAYS; finished, failed and unmatched actions older than this are purged. */
  retentionDays: number;
  actions: Action[];
  /** Pass as `before` for the next page; null on the last page. */
  nextCursor: string | null;
};

export type ActionState = 'received' | 'pending' | 'synced' | 'skipped' | 'unmatched' | 'failed' | 'held';

export type ActionWithPayload = {
  actionId: string;
  webhookId: string;
  inboxId: string;
  inboxName: string | null;
  kind: string;
  channel: string;
  direction: 'inbound' | 'outbound' | 'internal';
  occurredAt: string;
  receivedAt: string;
  state: ActionState;
  reason: ActionReason | null;
  /** Salesforce's (or the bridge's) error for this action, kept for the error log. */
  error: {
    code: string | null;
    message: string | null;
  } | null;
  linkId: string | null;
  orgId: string | null;
  attempts: number;
  /** Set while pending. */
  nextAttemptAt: string | null;
  /** The Salesforce Event created for this action. */
  sfEventId: string | null;
  whoId: string | null;
  ownerId: string | null;
  /** How the customer was matched (rule, chosen record, candidates). */
  match: {
    rule: string;
    chosen: MatchCandidate | null;
    candidates: MatchCandidate[];
    policy?: AppliedPolicy;
  } | null;
  ticket: {
    id: string;
    title: string | null;
    url: string;
  };
  customer: {
    id: string | null;
    name: string | null;
    emails: string[];
    phones: string[];
  };
  updatedAt: string;
  /** The webhook body it arrived with (docs/webhook-contract.md). */
  payload: {
    /** The event type; the only one in v1. */
    type: 'ticket.action.created';
    action: {
      /** The action's idempotency key: a retried delivery may carry a new webhook-id but the same action.id. */
      id: string;
      /** message_received, message_sent, response_memo, call_memo, comment, status_changed, assignee_changed, label_changed; any other kind is accepted and not synced. */
      kind: string;
      /** When the action happened: RFC 3339 with a Z or ±hh:mm offset (a time without an offset is refused). */
      occurred_at: string;
      /** The 12 channels that sync: email, sms, response_memo, call_memo, line, r_messe, yahoo, chatplus, chatwork, instagram_dm, messenger, chat_widget. Any other channel is accepted and recorded as channel_not_supported. */
      channel: string;
      direction: 'inbound' | 'outbound' | 'internal';
      subject?: string | null;
      /** The message or memo text, any Unicode. */
      body?: string | null;
      /** The helpdesk user who took the action; their email chooses the Event owner. */
      operator?: {
        id?: string | null;
        name?: string | null;
        email?: string | null;
      } | null;
      /** Present on call_memo actions. */
      call?: {
        duration_seconds?: number | null;
        phone?: string | null;
      } | null;
    };
    ticket: {
      id: string;
      title?: string | null;
      status?: string | null;
      /** An http(s) link to the ticket in the helpdesk. */
      url: string;
    };
    inbox: {
      id: string;
      name?: string | null;
    };
    /** Who the action concerns; matched to a Contact or Lead by email, then phone. */
    customer: {
      id?: string | null;
      name?: string | null;
      code?: string | null;
      emails?: string[] | null;
      phones?: string[] | null;
    };
  };
  /** The synced Event in Salesforce (its record page on the org's My Domain); null until synced. */
  eventUrl: string | null;
};

export type AddedWebhookSecret = {
  /** `config-<n>` for those from WEBHOOK_SECRETS. */
  id: string;
  label: string;
  /** The first 12 hex digits of the secret's SHA-256. */
  fingerprint: string;
  source: 'config' | 'console';
  createdAt: string | null;
  createdBy: string | null;
  /** The generated secret, shown once (null when one was given). */
  secret: string | null;
};

/** The link settings the action was synced with (the org's policy, if any). */
export type AppliedPolicy = {
  source: 'helpdesk' | 'salesforce';
  record: string | null;
  target: Target;
  bodyCapture: 'full' | 'first_n' | 'none';
  bodyMaxChars: number | null;
  defaultOwnerId: string;
  note: string | null;
};

export type AuditEntry = {
  id: number;
  inboxId: string;
  linkId: string;
  at: string;
  actor: {
    kind: 'user' | 'token';
    id: string | null;
    /** The console user (name <email>), or BRIDGE_ADMIN_TOKEN. */
    name: string;
  };
  event: 'created' | 'changed' | 'reauthorized' | 'deleted';
  /** Per field (target, defaultOwnerId, status, …), the value before and after; an id (a user's, an org's) with how it reads (`name <email>`, the org's name) when the bridge knew it then. */
  changes: Record<
    string,
    {
      from?: unknown;
      to?: unknown;
      fromLabel?: string | null;
      toLabel?: string | null;
    }
  >;
};

export type AuditLog = {
  entries: AuditEntry[];
};

export type AuthorizationList = {
  authorizations: SalesforceAuthorization[];
};

/** An OAuth flow waiting for the admin in Salesforce (10 minutes). */
export type AuthorizationStarted = {
  /** Open in a browser. */
  authorizeUrl: string;
  /** The OAuth state of this flow (single use). */
  state: string;
  expiresAt: string;
};

export type ConsoleUser = {
  id: string;
  email: string;
  name: string;
  isOwner: boolean;
  /** The language of their notice e-mails, and of the console when they sign in. */
  language: 'ja' | 'en';
  roles: Array<{
    inboxId: string;
    role: InboxRole;
  }>;
  createdAt: string;
  passwordChangedAt: string;
};

/** The generated password is returned this once. */
export type CreatedUser = {
  user: ConsoleUser;
  generatedPassword: string | null;
};

export type DeleteResult = {
  deleted: true;
  /** Whether this deletion revoked the refresh token at Salesforce. */
  revoked: boolean;
  revokeSkipped: 'already_deleted' | 'auth_shared' | 'revoke_failed' | null;
  message: string;
  link: Link;
};

export type DiscardResult = {
  discarded: true;
  revoked: boolean;
};

/** production → SF_LOGIN_URL_PRODUCTION, sandbox → SF_LOGIN_URL_SANDBOX, custom → myDomain. */
export type Environment = 'production' | 'sandbox' | 'custom';

/** Every refusal and failure: one code, one message. */
export type Error = {
  /** A stable machine-readable code. */
  error: string;
  /** What went wrong, in English. */
  message: string;
  /** Structured details; for invalid_request, an array of { path, message }. */
  details?: unknown;
};

export type Inbox = {
  inboxId: string;
  name: string;
  registeredAt: string;
  role: Role;
  link: LinkSummary | null;
};

export type InboxHealth = {
  inboxId: string;
  status: 'active' | 'needs_reauth' | 'disabled' | 'deleted' | 'not_linked';
  link: Link | null;
  window: {
    since: string;
    until: string;
  };
  counts: ActionCounts;
  org: {
    orgId: string;
    pausedUntil: string | null;
    pauseReason: string | null;
    /** The org-wide daily API usage Salesforce last reported (Sforce-Limit-Info). */
    apiUsage: {
      used: number;
      max: number;
      seenAt: string | null;
    } | null;
    /** Calls this bridge made to the org. */
    bridgeApiCallsLast24h: number;
  } | null;
  /** When this inbox's newest synced action was synced, through this link or an earlier one (null: none kept). */
  lastSyncAt: string | null;
  problems: Array<{
    /** not_linked, needs_reauth, link_disabled, org_paused, package_missing, field_access_missing, failed_actions, unmatched_actions; the link check’s warnings user_inactive, user_frozen, token_expiring, approval_limit; or another one later (links/link-health.ts LinkProblemCode). */
    code: string;
    message: string;
    /** What the problem says beside its code: e.g. `username`; `expiresAt` (ISO 8601, null: ended already) of token_expiring; `count`, `oldestAt` and `oursIsOldest` of approval_limit; `cause` of needs_reauth (user_inactive, api_disabled, token_refused); `pausedUntil` and `budget` of org_paused. */
    details?: Record<string, string | number | boolean | null>;
    /** For the problems the inbox’s admins are e-mailed about: when they were (null: not yet, or notices are off). */
    notifiedAt?: string | null;
  }>;
  /** The last check of the link's authorisation for what would break it (null: none yet). */
  checks: {
    checkedAt: string;
    /** What Salesforce does not show the authorising user, so that the check could not see it: whether the user is frozen (needs Manage Users), their approvals of the app, when the refresh token ends (introspection). */
    notVisible: Array<'user_frozen' | 'approvals' | 'token_expiry'>;
  } | null;
};

export type InboxList = {
  inboxes: Inbox[];
  /** Empty for anyone but an owner. */
  unregistered: UnregisteredInbox[];
};

export type InboxRole = 'admin' | 'member';

export type Link = {
  id: string;
  inboxId: string;
  inboxName: string | null;
  /** 18-character Salesforce organisation id. */
  orgId: string;
  /** The org's name (null: authorised before it was kept). */
  orgName: string | null;
  /** Whether the org is a sandbox (null: not known). */
  orgIsSandbox: boolean | null;
  /** The org's My Domain (where its users sign in and the API is called). */
  instanceUrl: string;
  environment: Environment;
  authorizedUser: {
    id: string;
    username: string;
  };
  target: Target;
  defaultOwnerId: string;
  /** The default owner's name, as Salesforce said when they were chosen (null: not known then). */
  defaultOwnerName: string | null;
  defaultOwnerEmail: string | null;
  /** Grows with every change of the link. Send it back with PATCH /links/{id}: a change made on an older version is refused (409 link_changed). */
  version: number;
  status: LinkStatus;
  statusReason: string | null;
  statusChangedAt: string;
  /** Only actions that occurred after this are synced. */
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
};

export type LinkList = {
  links: Link[];
};

/** needs_reauth: Salesforce refused the refresh token; actions are held until re-authorisation. */
export type LinkStatus = 'active' | 'needs_reauth' | 'disabled' | 'deleted';

export type LinkSummary = {
  id: string;
  status: LinkStatus;
  target: Target;
  orgId: string;
};

export type MatchCandidate = {
  id: string;
  object: 'Contact' | 'Lead';
  via: 'email' | 'phone';
  value: string;
  createdDate: string;
  /** Set when a converted Lead led to its Contact: the Lead's Id. */
  convertedFromLeadId?: string;
};

export type Member = {
  userId: string;
  email: string | null;
  name: string | null;
  role: InboxRole;
  grantedAt: string | null;
};

export type MemberList = {
  members: Member[];
};

export type PendingLink = {
  id: string;
  inboxId: string;
  inboxName: string | null;
  orgId: string;
  /** The org's name (null: authorised before it was kept). */
  orgName: string | null;
  /** Whether the org is a sandbox (null: not known). */
  orgIsSandbox: boolean | null;
  instanceUrl: string;
  environment: Environment;
  authorizedUser: {
    id: string;
    username: string;
    displayName: string | null;
  };
  createdBy: string;
  createdAt: string;
  /** Then it is revoked at Salesforce and removed. */
  expiresAt: string;
};

export type PendingLinkList = {
  pendingLinks: PendingLink[];
};

/** What the retry will do, decided when it is made. */
export type RetryResult = {
  /** How many actions were classified again. */
  retried: number;
  /** Of those, due to sync now, their customer matched afresh (past the match cache). */
  willSync: number;
  /** Of those, waiting by reason (the link needs re-authentication, or is disabled). */
  held: Record<string, number>;
  /** Of those, not synced by reason (`before_link`: it happened before the current link; `no_link`). */
  skipped: Record<string, number>;
  /** Held for a deleted link with no link yet: left waiting for the inbox's next link. */
  waitingForLink: number;
  /** Ids that were not failed, held or unmatched (synced, skipped, pending, or unknown). */
  notRetryable: number;
};

export type Role = 'owner' | 'admin' | 'member';

export type SalesforceAuthorization = {
  id: string;
  orgId: string;
  /** The org's name (null: authorised before it was kept). */
  orgName: string | null;
  /** Whether the org is a sandbox (null: not known). */
  orgIsSandbox: boolean | null;
  instanceUrl: string;
  environment: Environment;
  user: {
    id: string;
    username: string;
    displayName: string | null;
  };
  /** False while a link of it needs re-authentication. */
  usable: boolean;
  links: Array<{
    id: string;
    inboxId: string;
    inboxName: string | null;
    status: LinkStatus;
  }>;
  createdAt: string;
  updatedAt: string;
};

export type SalesforceUser = {
  id: string;
  name: string;
  username: string;
  email: string | null;
};

/** Active users of the org, by name (at most 500). */
export type SalesforceUserList = {
  users: SalesforceUser[];
};

export type Session = {
  /** null for the admin token. */
  user: ConsoleUser | null;
  isOwner: boolean;
  /** Send as X-CSRF-Token on every request that is not GET. */
  csrfToken: string | null;
  /** The session's absolute end. */
  expiresAt: string | null;
  idleTimeoutSeconds: number | null;
};

/** Where Events are created; contact_then_lead looks for a Contact first, then a Lead. */
export type Target = 'contact' | 'lead' | 'contact_then_lead';

/** An inbox id found in actions or links without a registration. */
export type UnregisteredInbox = {
  inboxId: string;
  inboxName: string | null;
  actions: number;
  lastSeenAt: string | null;
  link: LinkSummary | null;
};

export type UserList = {
  users: ConsoleUser[];
};

export type WebhookSecret = {
  /** `config-<n>` for those from WEBHOOK_SECRETS. */
  id: string;
  label: string;
  /** The first 12 hex digits of the secret's SHA-256. */
  fingerprint: string;
  source: 'config' | 'console';
  createdAt: string | null;
  createdBy: string | null;
};

export type WebhookSecretList = {
  secrets: WebhookSecret[];
};
