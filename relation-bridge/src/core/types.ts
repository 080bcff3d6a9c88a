/**
 * Domain types shared by intake, sync, links and the store. The store persists these;
 * no other module sees rows or ciphertext.
 */

/** The webhook body (contract v1, docs/webhook-contract.md). Validated by intake/schema.ts. */
export interface ActionPayload {
  type: 'ticket.action.created';
  action: {
    id: string;
    kind: string;
    occurred_at: string;
    channel: string;
    direction: 'inbound' | 'outbound' | 'internal';
    subject?: string | null | undefined;
    body?: string | null | undefined;
    operator?: { id?: string | null; name?: string | null; email?: string | null } | null | undefined;
    call?: { duration_seconds?: number | null; phone?: string | null } | null | undefined;
  };
  ticket: { id: string; title?: string | null | undefined; status?: string | null | undefined; url: string };
  inbox: { id: string; name?: string | null | undefined };
  customer: {
    id?: string | null | undefined;
    name?: string | null | undefined;
    code?: string | null | undefined;
    emails?: string[] | null | undefined;
    phones?: string[] | null | undefined;
  };
}

/**
 * Lifecycle of an action:
 * received → (classification) → skipped | pending
 * pending → synced | unmatched | failed | held | pending (retry later)
 * held → pending (after re-authentication); failed/unmatched → pending (admin retry)
 */
export type ActionState = 'received' | 'pending' | 'synced' | 'skipped' | 'unmatched' | 'failed' | 'held';

/** Why an action was not synced; kept on the action for the error log. */
export type SkipReason = 'no_link' | 'before_link' | 'channel_not_supported' | 'kind_not_synced';
/**
 * disabled_in_salesforce: the org's link policy (custom metadata) switched the inbox off; the
 * actions are kept and sync once the policy is active again.
 * link_deleted: the link was deleted while the action waited; it syncs through the inbox's
 * next link.
 * package_missing / field_access_missing: the managed package is not installed in the org, or
 * the authorising user lacks its Integration permission set (no field-level access to the
 * Activity fields every Event carries); the actions sync once a later check finds it fixed.
 */
export type HoldReason =
  | 'needs_reauth'
  | 'link_disabled'
  | 'disabled_in_salesforce'
  | 'link_deleted'
  | 'package_missing'
  | 'field_access_missing';
/** unreadable_action: the stored action could not be read back (it never reaches Salesforce). */
/**
 * matched_record_deleted: the Contact or Lead the customer matched was deleted or merged, and a
 * fresh match found it gone again.
 */
export type FailReason =
  | 'salesforce_rejected'
  | 'retries_exhausted'
  | 'invalid_for_salesforce'
  | 'unreadable_action'
  | 'matched_record_deleted';
export type UnmatchedReason = 'no_customer_identifier' | 'no_matching_record';
export type ActionReason = SkipReason | HoldReason | FailReason | UnmatchedReason;

export type MatchedObject = 'Contact' | 'Lead';

export interface MatchCandidate {
  id: string;
  object: MatchedObject;
  /** The identifier that found it: the normalised email or phone. */
  via: 'email' | 'phone';
  value: string;
  createdDate: string;
  /**
   * Set when the identifier found a converted Lead and the match follows its
   * ConvertedContactId: the Lead's Id (`id` is then the Contact's, and `createdDate` the Lead's).
   */
  convertedFromLeadId?: string;
}

/** How much of a message body goes into the Event's Description. */
export type BodyCapture = 'full' | 'first_n' | 'none';

/**
 * The link settings one action was synced with: the helpdesk link's own, or those of the
 * org's policy record (`Inbox_Link__mdt`) applied over them.
 */
export interface AppliedPolicy {
  source: 'helpdesk' | 'salesforce';
  /** DeveloperName of the policy record; null for the helpdesk settings. */
  record: string | null;
  target: LinkTarget;
  bodyCapture: BodyCapture;
  /** For `first_n`: how many characters of the body are kept. */
  bodyMaxChars: number | null;
  defaultOwnerId: string;
  /** A part of the policy that could not be applied, and why (e.g. an inactive default owner). */
  note: string | null;
}

/** What matching decided for one action, kept with the action for audit. */
export interface MatchRecord {
  rule: string;
  chosen: MatchCandidate | null;
  candidates: MatchCandidate[];
  /** The link settings that applied (absent on actions synced before policies existed). */
  policy?: AppliedPolicy;
}

export interface NewAction {
  actionId: string;
  webhookId: string;
  inboxId: string;
  inboxName: string | null;
  kind: string;
  channel: string;
  occurredAt: number;
  receivedAt: number;
  payload: ActionPayload;
}

export interface StoredAction extends NewAction {
  state: ActionState;
  reason: ActionReason | null;
  linkId: string | null;
  orgId: string | null;
  attempts: number;
  /** ms epoch; the action is not claimed before this. */
  nextAttemptAt: number;
  /**
   * Set (and committed) just before the action is sent to Salesforce, cleared when the
   * outcome is committed. When set on a claimed action, the outcome of an earlier send is
   * unknown: the engine looks the action id up in Salesforce before sending it again.
   */
  writeAttemptedAt: number | null;
  sfEventId: string | null;
  whoId: string | null;
  ownerId: string | null;
  match: MatchRecord | null;
  errorCode: string | null;
  errorMessage: string | null;
  updatedAt: number;
  /** To be matched afresh, past the match cache (retried, swept, or its matched record was gone). */
  rematch: boolean;
}

/**
 * accepted: new and committed; duplicate: this delivery or this action was committed before;
 * conflict: the webhook id was committed before with another body (a sender bug, refused).
 */
export type IngestResult = { status: 'accepted' | 'duplicate' | 'conflict'; actionId: string };

export type LinkTarget = 'contact' | 'lead' | 'contact_then_lead';
export type LinkStatus = 'active' | 'needs_reauth' | 'disabled' | 'deleted';
export type SfEnvironment = 'production' | 'sandbox' | 'custom';

/** Who did something: a console user, or a script holding BRIDGE_ADMIN_TOKEN. */
export interface Actor {
  kind: 'user' | 'token';
  id: string | null;
  name: string;
}

/** One Salesforce authorisation (an org and the user who allowed the app). Tokens are plaintext in memory only. */
export interface SalesforceAuth {
  id: string;
  orgId: string;
  userId: string;
  username: string;
  displayName: string | null;
  instanceUrl: string;
  /** The OAuth host used: https://login.salesforce.com, https://test.salesforce.com or a My Domain. */
  loginUrl: string;
  environment: SfEnvironment;
  /** The org's name and whether it is a sandbox, as Salesforce said when it was authorised (null: not known). */
  orgName: string | null;
  orgIsSandbox: boolean | null;
  accessToken: string | null;
  refreshToken: string;
  scope: string;
  /** ms epoch of the last token issue. */
  issuedAt: number;
  /** Who first obtained it (null for authorisations older than this record). */
  createdBy: Actor | null;
  createdAt: number;
  updatedAt: number;
}

/** Inbox → org. At most one non-deleted link per inbox. */
export interface Link {
  id: string;
  inboxId: string;
  inboxName: string | null;
  authId: string;
  orgId: string;
  instanceUrl: string;
  environment: SfEnvironment;
  authorizedUserId: string;
  authorizedUsername: string;
  target: LinkTarget;
  /** Salesforce User id used as OwnerId when the operator has no active user. */
  defaultOwnerId: string;
  /** The default owner's name and email when it was chosen (null: not known, e.g. a link made before they were kept). */
  defaultOwnerName: string | null;
  defaultOwnerEmail: string | null;
  /** The org's name and whether it is a sandbox, from its authorisation (null: not known). */
  orgName: string | null;
  orgIsSandbox: boolean | null;
  status: LinkStatus;
  statusReason: string | null;
  statusChangedAt: number;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
  /** Grows with every change of the link's settings: a change based on an older version is refused. */
  version: number;
}

export type OAuthPurpose = 'link' | 'reauth';

/** An OAuth web-server flow in progress, keyed by its `state`; single use, short-lived. */
export interface OAuthPending {
  state: string;
  codeVerifier: string;
  purpose: OAuthPurpose;
  inboxId: string;
  inboxName: string | null;
  environment: SfEnvironment;
  loginUrl: string;
  target: LinkTarget;
  defaultOwnerId: string | null;
  /** For purpose 'reauth': the link being re-authenticated. */
  linkId: string | null;
  createdAt: number;
  expiresAt: number;
}

/** Per-org sync state: pauses and what Salesforce last told us about the API budget. */
export interface OrgState {
  orgId: string;
  pausedUntil: number | null;
  pauseReason: string | null;
  /** From Sforce-Limit-Info: org-wide calls in the rolling 24 h, and the daily max. */
  apiUsed: number | null;
  apiMax: number | null;
  apiSeenAt: number | null;
  lastSyncAt: number | null;
}
