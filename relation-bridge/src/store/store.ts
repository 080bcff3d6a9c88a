import type {
  ActionReason,
  ActionState,
  IngestResult,
  Link,
  LinkStatus,
  LinkTarget,
  MatchRecord,
  NewAction,
  OAuthPending,
  OrgState,
  SalesforceAuth,
  StoredAction,
} from '../core/types';
import type { ConsoleStore } from './console-store';

/** The result of classifying one `received` action. */
export interface Classification {
  actionId: string;
  /** held: the inbox's link exists but cannot sync now (needs re-authentication, disabled). */
  state: 'pending' | 'skipped' | 'held';
  reason: ActionReason | null;
  linkId: string | null;
  orgId: string | null;
}

/** What the sync engine learnt about one claimed action; applied in one transaction per batch. */
export interface ActionOutcome {
  actionId: string;
  state: Exclude<ActionState, 'received'>;
  reason?: ActionReason | null;
  /** For state 'pending': when to try again. */
  nextAttemptAt?: number;
  /** Count this as a failed attempt (retryable failures); budget pauses do not count. */
  countAttempt?: boolean;
  /**
   * Keep the write-attempted marker: the outcome of a send is still unknown (timeout,
   * connection reset), so the next claim must look the action up before sending again.
   */
  keepWriteAttempted?: boolean;
  sfEventId?: string | null;
  whoId?: string | null;
  ownerId?: string | null;
  match?: MatchRecord | null;
  errorCode?: string | null;
  errorMessage?: string | null;
}

export interface ClaimOptions {
  orgId: string;
  limit: number;
  leaseOwner: string;
  leaseMs: number;
  now: number;
}

export interface ActionFilter {
  inboxId?: string;
  linkId?: string;
  states?: ActionState[];
  reasons?: ActionReason[];
  since?: number;
  until?: number;
  limit?: number;
  /** Opaque cursor from the previous page (exclusive). */
  before?: { updatedAt: number; actionId: string };
}

export interface NewLink {
  inboxId: string;
  inboxName: string | null;
  authId: string;
  target: LinkTarget;
  defaultOwnerId: string;
  createdAt: number;
}

export type LinkPatch = Partial<Pick<Link, 'target' | 'defaultOwnerId' | 'inboxName'>>;

export type NewSalesforceAuth = Omit<SalesforceAuth, 'id' | 'createdAt' | 'updatedAt'>;

export class LinkConflictError extends Error {
  constructor(readonly inboxId: string) {
    super(`inbox ${inboxId} already has a link`);
    this.name = 'LinkConflictError';
  }
}

/**
 * The bridge's durable state behind one interface. SQLite (embedded, default) implements
 * it today; a PostgreSQL implementation for several bridge instances on one database must
 * only implement this interface: no domain code reads rows.
 *
 * Every method is atomic. Writes that return have been committed durably.
 */
export interface Store {
  // ---- intake -------------------------------------------------------------------
  /**
   * Commit a new action, deduplicated on webhook id and on action id. Resolves only after
   * the commit is durable (group-committed with concurrent calls).
   */
  ingestAction(action: NewAction): Promise<IngestResult>;

  // ---- classification -------------------------------------------------------------
  listReceived(limit: number): Promise<StoredAction[]>;
  /** Applies only to actions still in `received`. */
  applyClassifications(items: Classification[], now: number): Promise<void>;

  // ---- sync ---------------------------------------------------------------------
  /** Org ids with pending actions due at `now` whose lease is free. */
  listOrgsWithDueActions(now: number): Promise<string[]>;
  /** Leases up to `limit` due pending actions of the org, oldest first. */
  claimDueActions(options: ClaimOptions): Promise<StoredAction[]>;
  /**
   * Committed before a send whose outcome could become uncertain. Marks only actions whose
   * lease this owner still holds, and returns their ids: only those may be sent.
   */
  markWriteAttempted(actionIds: string[], leaseOwner: string, at: number): Promise<string[]>;
  /** Applies outcomes and releases leases; only rows still leased by `leaseOwner` change. */
  completeActions(outcomes: ActionOutcome[], leaseOwner: string, now: number): Promise<void>;
  /** Moves every pending action of the link to held (e.g. needs re-authentication). */
  holdLinkActions(linkId: string, reason: ActionReason, now: number): Promise<number>;
  /** Moves held actions of the link back to pending, due now. */
  resumeHeldActions(linkId: string, now: number): Promise<number>;
  /** Moves failed, held or unmatched actions (by id) back to pending, due now. */
  retryActions(actionIds: string[], now: number): Promise<number>;

  getAction(actionId: string): Promise<StoredAction | null>;
  listActions(filter: ActionFilter): Promise<StoredAction[]>;
  countActionsByState(filter: Pick<ActionFilter, 'inboxId' | 'linkId' | 'since'>): Promise<Record<ActionState, number>>;

  // ---- Salesforce authorisations -----------------------------------------------------
  /** Inserts, or updates the tokens of the existing authorisation for the same org and user. */
  saveAuth(auth: NewSalesforceAuth, now: number): Promise<SalesforceAuth>;
  getAuth(authId: string): Promise<SalesforceAuth | null>;
  listAuths(): Promise<SalesforceAuth[]>;
  updateAuthTokens(
    authId: string,
    tokens: { accessToken: string | null; refreshToken?: string; issuedAt: number },
    now: number,
  ): Promise<void>;
  deleteAuth(authId: string): Promise<void>;

  // ---- links --------------------------------------------------------------------
  /** @throws LinkConflictError when the inbox already has a non-deleted link. */
  createLink(link: NewLink): Promise<Link>;
  getLink(linkId: string): Promise<Link | null>;
  /** The inbox's link that is not deleted, in any status. */
  getLinkForInbox(inboxId: string): Promise<Link | null>;
  listLinks(options?: { includeDeleted?: boolean }): Promise<Link[]>;
  updateLink(linkId: string, patch: LinkPatch, now: number): Promise<Link>;
  setLinkStatus(linkId: string, status: LinkStatus, reason: string | null, now: number): Promise<Link>;
  /** Sets the status of every non-deleted link using the authorisation; returns their ids. */
  setLinkStatusByAuth(authId: string, status: LinkStatus, reason: string | null, now: number): Promise<string[]>;

  // ---- OAuth flows in progress ----------------------------------------------------------
  saveOAuthPending(pending: OAuthPending): Promise<void>;
  /** Returns and deletes the pending flow (single use); null when unknown or expired. */
  takeOAuthPending(state: string, now: number): Promise<OAuthPending | null>;

  // ---- per-org state and API accounting -------------------------------------------------
  getOrgState(orgId: string): Promise<OrgState>;
  setOrgPause(orgId: string, pausedUntil: number | null, reason: string | null): Promise<void>;
  recordOrgLimitInfo(orgId: string, used: number, max: number, at: number): Promise<void>;
  recordOrgSync(orgId: string, at: number): Promise<void>;
  /** Counts API calls this bridge made to the org (kept per minute, for the rolling 24 h). */
  addApiCalls(orgId: string, count: number, at: number): Promise<void>;
  countApiCalls(orgId: string, since: number): Promise<number>;

  /** Removes finished actions older than the retention horizon. */
  purgeFinishedBefore(cutoff: number): Promise<number>;
  /**
   * Removes failed and unmatched actions last changed before `cutoff` (the error log's
   * retention). Held actions stay: they are waiting for a re-authentication, not finished.
   */
  purgeErrorLogBefore(cutoff: number): Promise<number>;

  /** Accounts, sessions, inboxes, roles, audit, webhook secrets and pending links of the console. */
  readonly console: ConsoleStore;

  /** A cheap round trip to the database, for readiness checks; throws when it is unusable. */
  ping(): Promise<void>;

  close(): Promise<void>;
}
