import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BridgeError } from '../../core/errors';
import { newId } from '../../core/ids';
import type {
  ActionReason,
  ActionState,
  IngestResult,
  Link,
  LinkStatus,
  NewAction,
  OAuthPending,
  OrgState,
  SalesforceAuth,
  StoredAction,
} from '../../core/types';
import type { SecretBox } from '../../crypto/secret-box';
import type { Logger } from '../../logging';
import {
  LinkConflictError,
  type ActionFilter,
  type ActionOutcome,
  type ClaimOptions,
  type Classification,
  type LinkPatch,
  type NewLink,
  type NewSalesforceAuth,
  type Store,
} from '../store';
import { SqliteConsoleStore } from './console-store';
import { migrate } from './migrate';
import {
  toLink,
  toOAuthPending,
  toOrgState,
  toSalesforceAuth,
  toStoredAction,
  type ActionRow,
  type AuthRow,
  type LinkRow,
  type OAuthPendingRow,
  type OrgStateRow,
} from './rows';

export interface SqliteStoreOptions {
  /** Path of the database file; its folder is created if missing. */
  file: string;
  secretBox: SecretBox;
  logger?: Logger;
  /** Most ingests committed in one transaction; a full group is committed at once. */
  maxGroupSize?: number;
  /** How long a statement waits for another process's write lock. */
  busyTimeoutMs?: number;
}

export interface SqliteStoreStats {
  /** Transactions that committed groups of ingested actions. */
  commits: number;
  /** Ingest calls answered (accepted or duplicate). */
  ingested: number;
  /** The most ingests committed in one transaction so far. */
  largestGroup: number;
}

export interface SqliteStore extends Store {
  stats(): SqliteStoreStats;
}

export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStoreImpl(options);
}

const ACTION_STATES: readonly ActionState[] = [
  'received',
  'pending',
  'synced',
  'skipped',
  'unmatched',
  'failed',
  'held',
];
/** Kept after the retention horizon: failed and unmatched actions wait for an admin's retry. */
const PURGEABLE_STATES: readonly ActionState[] = ['synced', 'skipped'];
const RETRYABLE_STATES: readonly ActionState[] = ['failed', 'held', 'unmatched'];
/** Purged after the error log's retention; held actions are still waiting for a re-authentication. */
const ERROR_LOG_PURGEABLE_STATES: readonly ActionState[] = ['failed', 'unmatched'];
const MINUTE_MS = 60_000;
/** API call buckets are kept a day beyond the rolling 24 h that budgets look at. */
const API_CALL_HISTORY_MS = 48 * 60 * MINUTE_MS;
const PURGE_BATCH = 2_000;
const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 1_000;

interface QueuedIngest {
  action: NewAction;
  resolve: (result: IngestResult) => void;
  reject: (error: unknown) => void;
}

type Params = Record<string, string | number | null>;

/**
 * SQLite behind the Store interface. better-sqlite3 is synchronous, so each method runs
 * to completion within one event-loop turn. Every write is one IMMEDIATE transaction: the
 * write lock is taken up front, so two processes on one file wait for each other (up to
 * the busy timeout) instead of failing when a read lock cannot be upgraded.
 */
class SqliteStoreImpl implements SqliteStore {
  private readonly db: Database.Database;
  private readonly secretBox: SecretBox;
  private readonly logger: Logger | undefined;
  private readonly maxGroupSize: number;
  private closed = false;
  private ingestQueue: QueuedIngest[] = [];
  private scheduledFlush: NodeJS.Immediate | null = null;
  private readonly counters: SqliteStoreStats = { commits: 0, ingested: 0, largestGroup: 0 };
  private readonly sql: ReturnType<typeof prepareStatements>;
  readonly console: SqliteConsoleStore;
  private readonly commitIngestGroup: (actions: NewAction[]) => IngestResult[];

  constructor(options: SqliteStoreOptions) {
    this.secretBox = options.secretBox;
    this.logger = options.logger;
    this.maxGroupSize = Math.max(1, options.maxGroupSize ?? 512);
    fs.mkdirSync(path.dirname(path.resolve(options.file)), { recursive: true });
    this.db = new Database(options.file, { timeout: options.busyTimeoutMs ?? 5_000 });
    try {
      const journalMode = this.db.pragma('journal_mode = WAL', { simple: true });
      if (journalMode !== 'wal') {
        this.logger?.warn({ journalMode }, 'store: WAL is not available for this database file');
      }
      // FULL: a commit is on disk before ingestAction resolves (and before the 2xx).
      this.db.pragma('synchronous = FULL');
      this.db.pragma('foreign_keys = ON');
      migrate(this.db, this.logger);
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.sql = prepareStatements(this.db);
    this.console = new SqliteConsoleStore(this.db, this.secretBox, {
      read: (work) => this.guard(work),
      write: (work) => this.transaction(work),
    });
    const ingestTransaction = this.db.transaction((actions: NewAction[]) =>
      actions.map((action) => this.ingestOne(action)),
    );
    this.commitIngestGroup = (actions) => ingestTransaction.immediate(actions);
  }

  stats(): SqliteStoreStats {
    return { ...this.counters };
  }

  // ---- intake -------------------------------------------------------------------

  /**
   * Group commit: calls made in the same event-loop turn share one transaction (one
   * fsync). The group is committed on the next setImmediate, or at once when it is full.
   */
  ingestAction(action: NewAction): Promise<IngestResult> {
    if (this.closed) return Promise.reject(storeClosed());
    return new Promise<IngestResult>((resolve, reject) => {
      this.ingestQueue.push({ action, resolve, reject });
      if (this.ingestQueue.length >= this.maxGroupSize) {
        this.flushIngests();
      } else if (this.scheduledFlush === null) {
        this.scheduledFlush = setImmediate(() => this.flushIngests());
      }
    });
  }

  private flushIngests(): void {
    if (this.scheduledFlush !== null) {
      clearImmediate(this.scheduledFlush);
      this.scheduledFlush = null;
    }
    const group = this.ingestQueue;
    this.ingestQueue = [];
    if (group.length === 0) return;
    let results: IngestResult[];
    try {
      results = this.commitIngestGroup(group.map((queued) => queued.action));
    } catch (error) {
      const failure = asStoreError(error);
      this.logger?.error(
        { err: failure, groupSize: group.length },
        'store: ingest commit failed; nothing of this group was stored',
      );
      for (const queued of group) queued.reject(failure);
      return;
    }
    this.counters.commits += 1;
    this.counters.ingested += group.length;
    this.counters.largestGroup = Math.max(this.counters.largestGroup, group.length);
    group.forEach((queued, index) => queued.resolve(results[index] as IngestResult));
  }

  /** Runs inside the group's transaction, so a duplicate earlier in the same group is seen. */
  private ingestOne(action: NewAction): IngestResult {
    const delivered = this.sql.deliveryById.get({ webhookId: action.webhookId });
    if (delivered !== undefined) return { status: 'duplicate', actionId: delivered.action_id };
    const inserted = this.sql.insertAction.run({
      actionId: action.actionId,
      webhookId: action.webhookId,
      inboxId: action.inboxId,
      inboxName: action.inboxName,
      kind: action.kind,
      channel: action.channel,
      occurredAt: action.occurredAt,
      receivedAt: action.receivedAt,
      payload: JSON.stringify(action.payload),
    });
    this.sql.insertDelivery.run({
      webhookId: action.webhookId,
      actionId: action.actionId,
      receivedAt: action.receivedAt,
    });
    return { status: inserted.changes === 1 ? 'accepted' : 'duplicate', actionId: action.actionId };
  }

  // ---- classification -------------------------------------------------------------

  async listReceived(limit: number): Promise<StoredAction[]> {
    return this.guard(() => this.sql.listReceived.all({ limit }).map(toStoredAction));
  }

  async applyClassifications(items: Classification[], now: number): Promise<void> {
    this.transaction(() => {
      for (const item of items) {
        this.sql.classify.run({
          actionId: item.actionId,
          state: item.state,
          reason: item.reason,
          linkId: item.linkId,
          orgId: item.orgId,
          now,
        });
      }
    });
  }

  // ---- sync ---------------------------------------------------------------------

  async listOrgsWithDueActions(now: number): Promise<string[]> {
    return this.guard(() => this.sql.orgsWithDueActions.all({ now }).map((row) => row.org_id));
  }

  async claimDueActions(options: ClaimOptions): Promise<StoredAction[]> {
    const rows = this.transaction(() =>
      this.sql.claimDue.all({
        orgId: options.orgId,
        limit: options.limit,
        leaseOwner: options.leaseOwner,
        leaseUntil: options.now + options.leaseMs,
        now: options.now,
      }),
    );
    // RETURNING gives no order guarantee (neither does PostgreSQL's): restore oldest first.
    return rows
      .sort((a, b) => a.occurred_at - b.occurred_at || compareText(a.action_id, b.action_id))
      .map(toStoredAction);
  }

  /**
   * Marks only actions `leaseOwner` still holds, even past the lease's end: until another
   * worker claims them, the mark is what makes a later claim look the action up first.
   */
  async markWriteAttempted(actionIds: string[], leaseOwner: string, at: number): Promise<string[]> {
    if (actionIds.length === 0) return [];
    return this.transaction(() =>
      (
        this.sql.markWriteAttempted.all({ ids: JSON.stringify(actionIds), leaseOwner, at }) as Array<{
          action_id: string;
        }>
      ).map((row) => row.action_id),
    );
  }

  /**
   * Outcome fields follow one rule: `reason`, `errorCode` and `errorMessage` describe this
   * outcome (absent means none); `sfEventId`, `whoId`, `ownerId` and `match` are kept
   * unless given (null clears them).
   */
  async completeActions(outcomes: ActionOutcome[], leaseOwner: string, now: number): Promise<void> {
    this.transaction(() => {
      for (const outcome of outcomes) {
        this.sql.complete.run({
          actionId: outcome.actionId,
          leaseOwner,
          now,
          state: outcome.state,
          reason: outcome.reason ?? null,
          nextAttemptAt: outcome.nextAttemptAt ?? now,
          attemptIncrement: outcome.countAttempt === true ? 1 : 0,
          keepWriteAttempted: outcome.keepWriteAttempted === true ? 1 : 0,
          ...optionalColumn('sfEventId', outcome.sfEventId),
          ...optionalColumn('whoId', outcome.whoId),
          ...optionalColumn('ownerId', outcome.ownerId),
          ...optionalColumn('match', outcome.match == null ? outcome.match : JSON.stringify(outcome.match)),
          errorCode: outcome.errorCode ?? null,
          errorMessage: outcome.errorMessage ?? null,
        });
      }
    });
  }

  async holdLinkActions(linkId: string, reason: ActionReason, now: number): Promise<number> {
    return this.transaction(() => this.sql.holdLinkActions.run({ linkId, reason, now }).changes);
  }

  async resumeHeldActions(linkId: string, now: number): Promise<number> {
    return this.transaction(() => this.sql.resumeHeldActions.run({ linkId, now }).changes);
  }

  async retryActions(actionIds: string[], now: number): Promise<number> {
    if (actionIds.length === 0) return 0;
    return this.transaction(() => this.sql.retryActions.run({ ids: JSON.stringify(actionIds), now }).changes);
  }

  async getAction(actionId: string): Promise<StoredAction | null> {
    return this.guard(() => {
      const row = this.sql.actionById.get({ actionId });
      return row === undefined ? null : toStoredAction(row);
    });
  }

  /** Newest `updatedAt` first; `since`/`until` bound `updatedAt` (until exclusive). */
  async listActions(filter: ActionFilter): Promise<StoredAction[]> {
    return this.guard(() => {
      const { where, params } = actionConditions(filter);
      if (filter.before !== undefined) {
        where.push(
          '(updated_at < @beforeUpdatedAt OR (updated_at = @beforeUpdatedAt AND action_id < @beforeActionId))',
        );
        params.beforeUpdatedAt = filter.before.updatedAt;
        params.beforeActionId = filter.before.actionId;
      }
      params.limit = Math.min(Math.max(1, filter.limit ?? DEFAULT_LIST_LIMIT), MAX_LIST_LIMIT);
      const sql = `SELECT * FROM actions ${whereClause(where)} ORDER BY updated_at DESC, action_id DESC LIMIT @limit`;
      return this.db.prepare<Params, ActionRow>(sql).all(params).map(toStoredAction);
    });
  }

  async countActionsByState(
    filter: Pick<ActionFilter, 'inboxId' | 'linkId' | 'since'>,
  ): Promise<Record<ActionState, number>> {
    return this.guard(() => {
      const { where, params } = actionConditions(filter);
      const sql = `SELECT state, COUNT(*) AS count FROM actions ${whereClause(where)} GROUP BY state`;
      const counts = Object.fromEntries(ACTION_STATES.map((state) => [state, 0])) as Record<ActionState, number>;
      for (const row of this.db.prepare<Params, { state: ActionState; count: number }>(sql).all(params)) {
        counts[row.state] = row.count;
      }
      return counts;
    });
  }

  // ---- Salesforce authorisations -----------------------------------------------------

  async saveAuth(auth: NewSalesforceAuth, now: number): Promise<SalesforceAuth> {
    const row = this.transaction(() => {
      const saved = this.sql.upsertAuth.get({
        id: newId('auth'),
        orgId: auth.orgId,
        userId: auth.userId,
        username: auth.username,
        displayName: auth.displayName,
        instanceUrl: auth.instanceUrl,
        loginUrl: auth.loginUrl,
        environment: auth.environment,
        accessTokenEnc: auth.accessToken === null ? null : this.secretBox.encrypt(auth.accessToken),
        refreshTokenEnc: this.secretBox.encrypt(auth.refreshToken),
        scope: auth.scope,
        issuedAt: auth.issuedAt,
        now,
      }) as AuthRow;
      this.sql.followAuthInstance.run({ authId: saved.id, instanceUrl: saved.instance_url, now });
      return saved;
    });
    return toSalesforceAuth(row, this.secretBox);
  }

  async getAuth(authId: string): Promise<SalesforceAuth | null> {
    return this.guard(() => {
      const row = this.sql.authById.get({ authId });
      return row === undefined ? null : toSalesforceAuth(row, this.secretBox);
    });
  }

  async listAuths(): Promise<SalesforceAuth[]> {
    return this.guard(() => this.sql.listAuths.all({}).map((row) => toSalesforceAuth(row, this.secretBox)));
  }

  async updateAuthTokens(
    authId: string,
    tokens: { accessToken: string | null; refreshToken?: string; issuedAt: number },
    now: number,
  ): Promise<void> {
    this.transaction(() => {
      const changed = this.sql.updateAuthTokens.run({
        authId,
        accessTokenEnc: tokens.accessToken === null ? null : this.secretBox.encrypt(tokens.accessToken),
        refreshTokenEnc: tokens.refreshToken === undefined ? null : this.secretBox.encrypt(tokens.refreshToken),
        issuedAt: tokens.issuedAt,
        now,
      }).changes;
      if (changed === 0) throw authNotFound(authId);
    });
  }

  /** @throws BridgeError `auth_in_use` while a link that is not deleted uses it. */
  async deleteAuth(authId: string): Promise<void> {
    this.transaction(() => {
      const users = this.sql.liveLinksOfAuth.all({ authId });
      if (users.length > 0) {
        throw new BridgeError('bad_input', `the authorisation is used by ${users.length} link(s); delete them first`, {
          code: 'auth_in_use',
          httpStatus: 409,
          details: { linkIds: users.map((row) => row.id) },
        });
      }
      this.sql.deleteAuth.run({ authId });
    });
  }

  // ---- links --------------------------------------------------------------------

  async createLink(link: NewLink): Promise<Link> {
    return this.transaction(() => {
      const auth = this.sql.authById.get({ authId: link.authId });
      if (auth === undefined) throw authNotFound(link.authId);
      const id = newId('lnk');
      try {
        this.sql.insertLink.run({
          id,
          inboxId: link.inboxId,
          inboxName: link.inboxName,
          authId: auth.id,
          orgId: auth.org_id,
          instanceUrl: auth.instance_url,
          environment: auth.environment,
          authorizedUserId: auth.user_id,
          authorizedUsername: auth.username,
          target: link.target,
          defaultOwnerId: link.defaultOwnerId,
          createdAt: link.createdAt,
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new LinkConflictError(link.inboxId);
        throw error;
      }
      return toLink(this.sql.linkById.get({ linkId: id }) as LinkRow);
    });
  }

  async getLink(linkId: string): Promise<Link | null> {
    return this.guard(() => {
      const row = this.sql.linkById.get({ linkId });
      return row === undefined ? null : toLink(row);
    });
  }

  async getLinkForInbox(inboxId: string): Promise<Link | null> {
    return this.guard(() => {
      const row = this.sql.liveLinkOfInbox.get({ inboxId });
      return row === undefined ? null : toLink(row);
    });
  }

  async listLinks(options?: { includeDeleted?: boolean }): Promise<Link[]> {
    return this.guard(() => {
      const statement = options?.includeDeleted === true ? this.sql.listAllLinks : this.sql.listLiveLinks;
      return statement.all({}).map(toLink);
    });
  }

  async updateLink(linkId: string, patch: LinkPatch, now: number): Promise<Link> {
    return this.transaction(() => {
      this.requireLiveLink(linkId);
      this.sql.patchLink.run({
        linkId,
        now,
        ...optionalColumn('target', patch.target),
        ...optionalColumn('defaultOwnerId', patch.defaultOwnerId),
        ...optionalColumn('inboxName', patch.inboxName),
      });
      return toLink(this.sql.linkById.get({ linkId }) as LinkRow);
    });
  }

  async setLinkStatus(linkId: string, status: LinkStatus, reason: string | null, now: number): Promise<Link> {
    return this.transaction(() => {
      this.requireLiveLink(linkId);
      this.sql.setLinkStatus.run({ linkId, status, reason, now });
      return toLink(this.sql.linkById.get({ linkId }) as LinkRow);
    });
  }

  async setLinkStatusByAuth(authId: string, status: LinkStatus, reason: string | null, now: number): Promise<string[]> {
    return this.transaction(() =>
      this.sql.setLinkStatusByAuth.all({ authId, status, reason, now }).map((row) => row.id),
    );
  }

  private requireLiveLink(linkId: string): void {
    const row = this.sql.linkById.get({ linkId });
    if (row === undefined) {
      throw new BridgeError('bad_input', `no link ${linkId}`, { code: 'link_not_found', httpStatus: 404 });
    }
    if (row.status === 'deleted') {
      throw new BridgeError('bad_input', `link ${linkId} is deleted`, { code: 'link_deleted', httpStatus: 409 });
    }
  }

  // ---- OAuth flows in progress ----------------------------------------------------------

  async saveOAuthPending(pending: OAuthPending): Promise<void> {
    this.transaction(() => {
      this.sql.insertOAuthPending.run({
        state: pending.state,
        codeVerifierEnc: this.secretBox.encrypt(pending.codeVerifier),
        purpose: pending.purpose,
        inboxId: pending.inboxId,
        inboxName: pending.inboxName,
        environment: pending.environment,
        loginUrl: pending.loginUrl,
        target: pending.target,
        defaultOwnerId: pending.defaultOwnerId,
        linkId: pending.linkId,
        createdAt: pending.createdAt,
        expiresAt: pending.expiresAt,
      });
    });
  }

  async takeOAuthPending(state: string, now: number): Promise<OAuthPending | null> {
    const row = this.transaction(() => {
      const taken = this.sql.takeOAuthPending.get({ state });
      this.sql.deleteExpiredOAuthPending.run({ now });
      return taken;
    });
    if (row === undefined || row.expires_at <= now) return null;
    return toOAuthPending(row, this.secretBox);
  }

  // ---- per-org state and API accounting -------------------------------------------------

  async getOrgState(orgId: string): Promise<OrgState> {
    return this.guard(() => toOrgState(orgId, this.sql.orgState.get({ orgId })));
  }

  async setOrgPause(orgId: string, pausedUntil: number | null, reason: string | null): Promise<void> {
    this.transaction(() => this.sql.setOrgPause.run({ orgId, pausedUntil, reason }));
  }

  async recordOrgLimitInfo(orgId: string, used: number, max: number, at: number): Promise<void> {
    this.transaction(() => this.sql.recordOrgLimitInfo.run({ orgId, used, max, at }));
  }

  async recordOrgSync(orgId: string, at: number): Promise<void> {
    this.transaction(() => this.sql.recordOrgSync.run({ orgId, at }));
  }

  async addApiCalls(orgId: string, count: number, at: number): Promise<void> {
    if (count <= 0) return;
    this.transaction(() => {
      this.sql.addApiCalls.run({ orgId, minute: minuteOf(at), count });
      this.sql.pruneApiCalls.run({ orgId, before: minuteOf(at - API_CALL_HISTORY_MS) });
    });
  }

  /** Sums the minute buckets from the one containing `since` on (never undercounts). */
  async countApiCalls(orgId: string, since: number): Promise<number> {
    return this.guard(() => this.sql.countApiCalls.get({ orgId, since: minuteOf(since) })?.calls ?? 0);
  }

  /**
   * Deletes synced and skipped actions last updated before `cutoff`, with their
   * deliveries, in batches so that ingests are not held up behind one long transaction.
   */
  async purgeFinishedBefore(cutoff: number): Promise<number> {
    let purged = 0;
    for (;;) {
      const deleted = this.transaction(
        () =>
          this.sql.purgeFinished.run({ cutoff, states: JSON.stringify(PURGEABLE_STATES), limit: PURGE_BATCH }).changes,
      );
      purged += deleted;
      if (deleted < PURGE_BATCH) return purged;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async purgeErrorLogBefore(cutoff: number): Promise<number> {
    let purged = 0;
    for (;;) {
      const deleted = this.transaction(
        () =>
          this.sql.purgeFinished.run({ cutoff, states: JSON.stringify(ERROR_LOG_PURGEABLE_STATES), limit: PURGE_BATCH })
            .changes,
      );
      purged += deleted;
      if (deleted < PURGE_BATCH) return purged;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flushIngests();
    this.closed = true;
    this.db.close();
  }

  // ---- helpers ------------------------------------------------------------------

  private guard<T>(work: () => T): T {
    if (this.closed) throw storeClosed();
    try {
      return work();
    } catch (error) {
      throw asStoreError(error);
    }
  }

  private transaction<T>(work: () => T): T {
    return this.guard(() => this.db.transaction(work).immediate());
  }
}

function prepareStatements(db: Database.Database) {
  const statement = <R = unknown>(sql: string) => db.prepare<Params, R>(sql);
  return {
    deliveryById: statement<{ action_id: string }>('SELECT action_id FROM deliveries WHERE webhook_id = @webhookId'),
    insertAction: statement(`
      INSERT INTO actions (action_id, webhook_id, inbox_id, inbox_name, kind, channel, occurred_at, received_at,
                           payload, state, next_attempt_at, updated_at)
      VALUES (@actionId, @webhookId, @inboxId, @inboxName, @kind, @channel, @occurredAt, @receivedAt,
              @payload, 'received', @receivedAt, @receivedAt)
      ON CONFLICT (action_id) DO NOTHING`),
    insertDelivery: statement(
      'INSERT INTO deliveries (webhook_id, action_id, received_at) VALUES (@webhookId, @actionId, @receivedAt) ON CONFLICT (webhook_id) DO NOTHING',
    ),
    listReceived: statement<ActionRow>(
      "SELECT * FROM actions WHERE state = 'received' ORDER BY received_at, action_id LIMIT @limit",
    ),
    classify: statement(`
      UPDATE actions
         SET state = @state, reason = @reason, link_id = @linkId, org_id = @orgId,
             next_attempt_at = @now, updated_at = @now
       WHERE action_id = @actionId AND state = 'received'`),
    orgsWithDueActions: statement<{ org_id: string }>(`
      SELECT DISTINCT org_id FROM actions
       WHERE state = 'pending' AND org_id IS NOT NULL AND next_attempt_at <= @now
         AND (lease_until IS NULL OR lease_until <= @now)`),
    // PostgreSQL: the inner SELECT takes FOR UPDATE SKIP LOCKED, so concurrent claimers
    // never wait on or take each other's rows.
    claimDue: statement<ActionRow>(`
      UPDATE actions
         SET lease_owner = @leaseOwner, lease_until = @leaseUntil
       WHERE action_id IN (
               SELECT action_id FROM actions
                WHERE state = 'pending' AND org_id = @orgId AND next_attempt_at <= @now
                  AND (lease_until IS NULL OR lease_until <= @now)
                ORDER BY occurred_at, action_id
                LIMIT @limit)
      RETURNING *`),
    markWriteAttempted: statement(`
      UPDATE actions SET write_attempted_at = @at
       WHERE action_id IN (SELECT value FROM json_each(@ids))
         AND state = 'pending' AND lease_owner = @leaseOwner AND lease_until > @at
      RETURNING action_id`),
    complete: statement(`
      UPDATE actions
         SET state = @state,
             reason = @reason,
             next_attempt_at = CASE WHEN @state = 'pending' THEN @nextAttemptAt ELSE next_attempt_at END,
             attempts = attempts + @attemptIncrement,
             write_attempted_at = CASE WHEN @keepWriteAttempted = 1 THEN write_attempted_at ELSE NULL END,
             sf_event_id = CASE WHEN @setSfEventId = 1 THEN @sfEventId ELSE sf_event_id END,
             who_id = CASE WHEN @setWhoId = 1 THEN @whoId ELSE who_id END,
             owner_id = CASE WHEN @setOwnerId = 1 THEN @ownerId ELSE owner_id END,
             match_record = CASE WHEN @setMatch = 1 THEN @match ELSE match_record END,
             error_code = @errorCode,
             error_message = @errorMessage,
             lease_owner = NULL,
             lease_until = NULL,
             updated_at = @now
       WHERE action_id = @actionId AND lease_owner = @leaseOwner`),
    holdLinkActions: statement(`
      UPDATE actions SET state = 'held', reason = @reason, updated_at = @now
       WHERE link_id = @linkId AND state = 'pending'`),
    resumeHeldActions: statement(`
      UPDATE actions SET state = 'pending', reason = NULL, next_attempt_at = @now, updated_at = @now
       WHERE link_id = @linkId AND state = 'held'`),
    retryActions: statement(`
      UPDATE actions
         SET state = 'pending', reason = NULL, attempts = 0, next_attempt_at = @now, updated_at = @now
       WHERE action_id IN (SELECT value FROM json_each(@ids))
         AND state IN (${RETRYABLE_STATES.map((state) => `'${state}'`).join(', ')})`),
    actionById: statement<ActionRow>('SELECT * FROM actions WHERE action_id = @actionId'),
    purgeFinished: statement(`
      DELETE FROM actions
       WHERE action_id IN (
               SELECT action_id FROM actions
                WHERE state IN (SELECT value FROM json_each(@states)) AND updated_at < @cutoff
                LIMIT @limit)`),

    upsertAuth: statement<AuthRow>(`
      INSERT INTO salesforce_auths (id, org_id, user_id, username, display_name, instance_url, login_url, environment,
                                    access_token_enc, refresh_token_enc, scope, issued_at, created_at, updated_at)
      VALUES (@id, @orgId, @userId, @username, @displayName, @instanceUrl, @loginUrl, @environment,
              @accessTokenEnc, @refreshTokenEnc, @scope, @issuedAt, @now, @now)
      ON CONFLICT (org_id, user_id) DO UPDATE
         SET username = excluded.username, display_name = excluded.display_name,
             instance_url = excluded.instance_url, login_url = excluded.login_url,
             environment = excluded.environment, access_token_enc = excluded.access_token_enc,
             refresh_token_enc = excluded.refresh_token_enc, scope = excluded.scope,
             issued_at = excluded.issued_at, updated_at = excluded.updated_at
      RETURNING *`),
    followAuthInstance: statement(`
      UPDATE links SET instance_url = @instanceUrl, updated_at = @now
       WHERE auth_id = @authId AND status <> 'deleted' AND instance_url <> @instanceUrl`),
    authById: statement<AuthRow>('SELECT * FROM salesforce_auths WHERE id = @authId'),
    listAuths: statement<AuthRow>('SELECT * FROM salesforce_auths ORDER BY created_at, id'),
    updateAuthTokens: statement(`
      UPDATE salesforce_auths
         SET access_token_enc = @accessTokenEnc,
             refresh_token_enc = COALESCE(@refreshTokenEnc, refresh_token_enc),
             issued_at = @issuedAt, updated_at = @now
       WHERE id = @authId`),
    liveLinksOfAuth: statement<{ id: string }>("SELECT id FROM links WHERE auth_id = @authId AND status <> 'deleted'"),
    deleteAuth: statement('DELETE FROM salesforce_auths WHERE id = @authId'),

    insertLink: statement(`
      INSERT INTO links (id, inbox_id, inbox_name, auth_id, org_id, instance_url, environment, authorized_user_id,
                         authorized_username, target, default_owner_id, status, status_reason, status_changed_at,
                         created_at, updated_at, deleted_at)
      VALUES (@id, @inboxId, @inboxName, @authId, @orgId, @instanceUrl, @environment, @authorizedUserId,
              @authorizedUsername, @target, @defaultOwnerId, 'active', NULL, @createdAt,
              @createdAt, @createdAt, NULL)`),
    linkById: statement<LinkRow>('SELECT * FROM links WHERE id = @linkId'),
    liveLinkOfInbox: statement<LinkRow>("SELECT * FROM links WHERE inbox_id = @inboxId AND status <> 'deleted'"),
    listLiveLinks: statement<LinkRow>("SELECT * FROM links WHERE status <> 'deleted' ORDER BY created_at, id"),
    listAllLinks: statement<LinkRow>('SELECT * FROM links ORDER BY created_at, id'),
    patchLink: statement(`
      UPDATE links
         SET target = CASE WHEN @setTarget = 1 THEN @target ELSE target END,
             default_owner_id = CASE WHEN @setDefaultOwnerId = 1 THEN @defaultOwnerId ELSE default_owner_id END,
             inbox_name = CASE WHEN @setInboxName = 1 THEN @inboxName ELSE inbox_name END,
             updated_at = @now
       WHERE id = @linkId`),
    setLinkStatus: statement(`
      UPDATE links
         SET status_changed_at = CASE WHEN status <> @status THEN @now ELSE status_changed_at END,
             status = @status, status_reason = @reason, updated_at = @now,
             deleted_at = CASE WHEN @status = 'deleted' THEN @now ELSE NULL END
       WHERE id = @linkId`),
    setLinkStatusByAuth: statement<{ id: string }>(`
      UPDATE links
         SET status_changed_at = CASE WHEN status <> @status THEN @now ELSE status_changed_at END,
             status = @status, status_reason = @reason, updated_at = @now,
             deleted_at = CASE WHEN @status = 'deleted' THEN @now ELSE NULL END
       WHERE auth_id = @authId AND status <> 'deleted'
      RETURNING id`),

    insertOAuthPending: statement(`
      INSERT INTO oauth_pending (state, code_verifier_enc, purpose, inbox_id, inbox_name, environment, login_url,
                                 target, default_owner_id, link_id, created_at, expires_at)
      VALUES (@state, @codeVerifierEnc, @purpose, @inboxId, @inboxName, @environment, @loginUrl,
              @target, @defaultOwnerId, @linkId, @createdAt, @expiresAt)`),
    takeOAuthPending: statement<OAuthPendingRow>('DELETE FROM oauth_pending WHERE state = @state RETURNING *'),
    deleteExpiredOAuthPending: statement('DELETE FROM oauth_pending WHERE expires_at <= @now'),

    orgState: statement<OrgStateRow>('SELECT * FROM org_state WHERE org_id = @orgId'),
    setOrgPause: statement(`
      INSERT INTO org_state (org_id, paused_until, pause_reason) VALUES (@orgId, @pausedUntil, @reason)
      ON CONFLICT (org_id) DO UPDATE SET paused_until = excluded.paused_until, pause_reason = excluded.pause_reason`),
    recordOrgLimitInfo: statement(`
      INSERT INTO org_state (org_id, api_used, api_max, api_seen_at) VALUES (@orgId, @used, @max, @at)
      ON CONFLICT (org_id) DO UPDATE
         SET api_used = excluded.api_used, api_max = excluded.api_max, api_seen_at = excluded.api_seen_at`),
    recordOrgSync: statement(`
      INSERT INTO org_state (org_id, last_sync_at) VALUES (@orgId, @at)
      ON CONFLICT (org_id) DO UPDATE SET last_sync_at = excluded.last_sync_at`),
    addApiCalls: statement(`
      INSERT INTO api_calls (org_id, minute, calls) VALUES (@orgId, @minute, @count)
      ON CONFLICT (org_id, minute) DO UPDATE SET calls = calls + excluded.calls`),
    pruneApiCalls: statement('DELETE FROM api_calls WHERE org_id = @orgId AND minute < @before'),
    countApiCalls: statement<{ calls: number | null }>(
      'SELECT SUM(calls) AS calls FROM api_calls WHERE org_id = @orgId AND minute >= @since',
    ),
  };
}

/** The `set…` flag and value of a column that an absent field leaves unchanged. */
function optionalColumn(name: string, value: string | null | undefined): Params {
  const flag = `set${name.charAt(0).toUpperCase()}${name.slice(1)}`;
  return { [flag]: value === undefined ? 0 : 1, [name]: value ?? null };
}

function actionConditions(
  filter: Pick<ActionFilter, 'inboxId' | 'linkId' | 'states' | 'reasons' | 'since' | 'until'>,
): {
  where: string[];
  params: Params;
} {
  const where: string[] = [];
  const params: Params = {};
  if (filter.inboxId !== undefined) {
    where.push('inbox_id = @inboxId');
    params.inboxId = filter.inboxId;
  }
  if (filter.linkId !== undefined) {
    where.push('link_id = @linkId');
    params.linkId = filter.linkId;
  }
  if (filter.states !== undefined) {
    where.push('state IN (SELECT value FROM json_each(@states))');
    params.states = JSON.stringify(filter.states);
  }
  if (filter.reasons !== undefined) {
    where.push('reason IN (SELECT value FROM json_each(@reasons))');
    params.reasons = JSON.stringify(filter.reasons);
  }
  if (filter.since !== undefined) {
    where.push('updated_at >= @since');
    params.since = filter.since;
  }
  if (filter.until !== undefined) {
    where.push('updated_at < @until');
    params.until = filter.until;
  }
  return { where, params };
}

function whereClause(conditions: string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}

function minuteOf(at: number): number {
  return at - (((at % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The SQLite result code of an error, read from its `code` rather than by `instanceof
 * SqliteError`: the native addon is loaded once per process and keeps the SqliteError class
 * of whichever module instance loaded it first (jest gives each test file its own).
 */
function sqliteErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

function isUniqueViolation(error: unknown): boolean {
  return sqliteErrorCode(error) === 'SQLITE_CONSTRAINT_UNIQUE';
}

function storeClosed(): BridgeError {
  return new BridgeError('retryable', 'the store is closed', { code: 'store_unavailable', httpStatus: 503 });
}

function authNotFound(authId: string): BridgeError {
  return new BridgeError('bad_input', `no Salesforce authorisation ${authId}`, {
    code: 'auth_not_found',
    httpStatus: 404,
  });
}

/**
 * Domain errors pass through. A violated constraint is a bug in the caller (bad input);
 * anything else (disk full, I/O error, lock timeout, closed database) is the store being
 * unavailable, which the caller may retry.
 */
function asStoreError(error: unknown): unknown {
  if (error instanceof BridgeError || error instanceof LinkConflictError) return error;
  if (sqliteErrorCode(error)?.startsWith('SQLITE_CONSTRAINT') === true) {
    return new BridgeError('bad_input', `the store refused the write: ${(error as Error).message}`, {
      code: 'store_constraint',
      cause: error,
    });
  }
  return new BridgeError('retryable', 'the store is unavailable', {
    code: 'store_unavailable',
    httpStatus: 503,
    cause: error,
  });
}
