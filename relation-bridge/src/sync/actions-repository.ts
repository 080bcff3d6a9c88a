import type {
  ActionPayload,
  ActionReason,
  ActionState,
  IngestResult,
  MatchRecord,
  NewAction,
  StoredAction,
} from '../core/types';
import type { SqlExecutor } from '../store/database';
import { bindable, sql, type SqlFragment, type SqlValue } from '../store/sql';

/**
 * The actions aggregate: every action the helpdesk sent (with the deliveries that carried
 * it), from its intake through classification, claims and outcomes to the error log.
 */

/** An action as intake commits it, with the hash of the body that carried it. */
export interface IncomingAction extends NewAction {
  /** SHA-256 (hex) of the raw webhook body: a webhook-id reused for another body is refused. */
  bodyHash: string;
}

/** What classification needs of a received action (not its payload). */
export interface ReceivedAction {
  /** Addresses the row even when its action id could not be stored exactly as sent. */
  rowKey: string | number;
  actionId: string;
  inboxId: string;
  kind: string;
  channel: string;
  occurredAt: number;
  receivedAt: number;
}

/** The result of classifying one `received` action. */
export interface Classification {
  rowKey: string | number;
  /** held: the inbox's link exists but cannot sync now (needs re-authentication, disabled). */
  state: 'pending' | 'skipped' | 'held' | 'failed';
  reason: ActionReason | null;
  linkId: string | null;
  orgId: string | null;
  errorMessage?: string | null;
  /**
   * The inbox's live link the classification was made against, as `id:status` (null: none).
   * Given, the classification applies only if that is still the inbox's link in that status:
   * a link created, changed or deleted since it was read leaves the action received, to be
   * classified again. Omitted, it applies unconditionally (the caller holds the rows locked).
   */
  seenLink?: string | null;
}

/** What the sync engine learnt about one claimed action; applied in one statement per batch. */
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
  /** Match it afresh next time, past the match cache (its matched record turned out to be gone). */
  rematch?: boolean;
}

/** A retried action, classified again against the inbox's link as it is now. */
export interface Reclassification {
  actionId: string;
  state: 'pending' | 'skipped' | 'held';
  reason: ActionReason | null;
  linkId: string | null;
  orgId: string | null;
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

export type ActionCounts = Record<ActionState, number>;

export interface ActionsRepository {
  /**
   * Commits a group of actions and their deliveries in one transaction, deduplicated on
   * webhook id and on action id. Results are in input order.
   */
  ingest(actions: readonly IncomingAction[]): Promise<IngestResult[]>;

  /**
   * A page of received actions in arrival order after `after`. On PostgreSQL the rows are
   * locked (skipping rows other instances hold), so call it inside a transaction.
   */
  lockReceived(after: { receivedAt: number; rowKey: string | number } | null, limit: number): Promise<ReceivedAction[]>;
  /** Applies only to actions still in `received`; returns how many changed. */
  applyClassifications(items: readonly Classification[], now: number): Promise<number>;

  /** Org ids with pending actions due at `now` whose lease is free. */
  orgsWithDueActions(now: number): Promise<string[]>;
  /**
   * Leases up to `limit` due pending actions of the org, those due longest first (the order
   * of the index: a claim reads only the rows it takes, whatever the backlog), returned oldest
   * occurrence first.
   */
  claimDue(options: ClaimOptions): Promise<StoredAction[]>;
  /** Heartbeat: extends the leases `leaseOwner` still holds on these actions; returns how many. */
  extendLeases(actionIds: readonly string[], leaseOwner: string, leaseUntil: number, now: number): Promise<number>;
  /**
   * Committed before a send whose outcome could become uncertain. Marks only actions whose
   * lease this owner still holds, extends that lease to at least `leaseUntil` (the send's
   * longest answer), and returns their ids: only those may be sent.
   */
  markWriteAttempted(
    actionIds: readonly string[],
    leaseOwner: string,
    at: number,
    leaseUntil: number,
  ): Promise<string[]>;
  /** Applies outcomes and releases leases; only rows still leased by `leaseOwner` change. */
  complete(outcomes: readonly ActionOutcome[], leaseOwner: string, now: number): Promise<number>;
  /** Moves every pending action of the link to held (e.g. needs re-authentication). */
  holdLink(linkId: string, reason: ActionReason, now: number): Promise<number>;
  /** Moves held actions of the link (all, or those held for one of `reasons`) back to pending, due now. */
  resumeHeld(linkId: string, now: number, reasons?: readonly ActionReason[]): Promise<number>;
  /** Failed, held or unmatched actions among these ids (what a retry may take). */
  retryable(actionIds: readonly string[]): Promise<StoredAction[]>;
  /**
   * A retry: the actions, still failed, held or unmatched, take their new classification,
   * with a fresh attempt count and a match past the cache; returns how many changed.
   */
  reclassify(items: readonly Reclassification[], now: number): Promise<number>;
  /**
   * The sweep of unmatched actions: up to `limit` of the org's actions left unmatched (no
   * record found) since `since`, those given a chance longest ago first, go back to pending
   * to be matched afresh. Returns how many.
   */
  requeueUnmatched(orgId: string, since: number, limit: number, now: number): Promise<number>;
  /** Orgs with actions left unmatched (no record found) since `since`. */
  orgsWithUnmatched(since: number): Promise<string[]>;
  /**
   * A link is deleted: its pending and held actions wait, held as `link_deleted`, for the
   * inbox's next link.
   */
  holdForDeletedLink(linkId: string, now: number): Promise<number>;
  /** A new link of the inbox takes over the actions held for its deleted predecessor; they sync now. */
  adoptHeld(inboxId: string, linkId: string, orgId: string, now: number): Promise<number>;

  get(actionId: string): Promise<StoredAction | null>;
  /** Newest `updatedAt` first; `since`/`until` bound `updatedAt` (until exclusive). */
  list(filter: ActionFilter): Promise<StoredAction[]>;
  countByState(filter: Pick<ActionFilter, 'inboxId' | 'linkId' | 'since'>): Promise<ActionCounts>;
  /** When the inbox's newest synced action was synced (through any of its links); null when none is kept. */
  lastSyncedAt(inboxId: string): Promise<number | null>;
  /** Every action the store holds, counted by state and reason (for metrics). */
  countByStateAndReason(): Promise<Array<{ state: ActionState; reason: ActionReason | null; count: number }>>;
  /** When the oldest action still waiting (received, or pending and due at `now`) arrived; null when none waits. */
  oldestWaitingSince(now: number): Promise<number | null>;
  /** Removes up to `limit` actions in these states last changed before `cutoff`; returns how many. */
  purge(states: readonly ActionState[], cutoff: number, limit: number): Promise<number>;
}

export const ACTION_STATES: readonly ActionState[] = [
  'received',
  'pending',
  'synced',
  'skipped',
  'unmatched',
  'failed',
  'held',
];
const RETRYABLE_STATES: readonly ActionState[] = ['failed', 'held', 'unmatched'];
const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 1_000;

interface ActionRow {
  action_id: string;
  webhook_id: string;
  inbox_id: string;
  inbox_name: string | null;
  kind: string;
  channel: string;
  occurred_at: number;
  received_at: number;
  payload: string;
  state: ActionState;
  reason: ActionReason | null;
  link_id: string | null;
  org_id: string | null;
  attempts: number;
  next_attempt_at: number;
  write_attempted_at: number | null;
  sf_event_id: string | null;
  who_id: string | null;
  owner_id: string | null;
  match_record: string | null;
  error_code: string | null;
  error_message: string | null;
  updated_at: number;
  rematch: number;
}

function toStoredAction(row: ActionRow): StoredAction {
  return {
    actionId: row.action_id,
    webhookId: row.webhook_id,
    inboxId: row.inbox_id,
    inboxName: row.inbox_name,
    kind: row.kind,
    channel: row.channel,
    occurredAt: row.occurred_at,
    receivedAt: row.received_at,
    payload: JSON.parse(row.payload) as ActionPayload,
    state: row.state,
    reason: row.reason,
    linkId: row.link_id,
    orgId: row.org_id,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    writeAttemptedAt: row.write_attempted_at,
    sfEventId: row.sf_event_id,
    whoId: row.who_id,
    ownerId: row.owner_id,
    match: row.match_record === null ? null : (JSON.parse(row.match_record) as MatchRecord),
    errorCode: row.error_code,
    errorMessage: row.error_message,
    updatedAt: row.updated_at,
    rematch: row.rematch === 1,
  };
}

/** SQLite addresses a row by its rowid; PostgreSQL stores text exactly, so the action id will do. */
const ROW_KEY = sql.dialect({ sqlite: 'rowid', postgres: 'action_id' });
/** PostgreSQL: lock the rows read, skipping those another instance holds. SQLite has one writer. */
const SKIP_LOCKED = sql.dialect({ sqlite: '', postgres: 'FOR UPDATE SKIP LOCKED' });
/**
 * `actions.state` in an UPDATE … FROM a JSON list of rows: SQLite would otherwise walk the
 * index on state and scan the whole list for each row it finds there (a page of 500
 * classifications took half a second with a backlog); kept off the index (the unary `+`),
 * it walks the list and finds each row by its key.
 */
const NO_INDEX_STATE = sql.dialect({ sqlite: '+actions.state', postgres: 'actions.state' });
/**
 * The same for a statement that looks its rows up by id (by primary key, not by walking
 * every pending row) or by age (purge: the few old rows from the index on updated_at, not
 * every finished one).
 */
const STATE_BY_ID = sql.dialect({ sqlite: '+state', postgres: 'state' });
/** Equality where null equals null. */
const IS_SAME = sql.dialect({ sqlite: 'IS', postgres: 'IS NOT DISTINCT FROM' });
/** Received rows in arrival order: the partial index holds only those, so a page reads only them. */
const RECEIVED_INDEX = sql.dialect({ sqlite: 'INDEXED BY actions_received', postgres: '' });
const ACTION_COLUMN_NAMES = [
  'action_id',
  'webhook_id',
  'inbox_id',
  'inbox_name',
  'kind',
  'channel',
  'occurred_at',
  'received_at',
  'payload',
  'state',
  'reason',
  'link_id',
  'org_id',
  'attempts',
  'next_attempt_at',
  'write_attempted_at',
  'sf_event_id',
  'who_id',
  'owner_id',
  'match_record',
  'error_code',
  'error_message',
  'updated_at',
  'rematch',
];
const ACTION_COLUMNS = sql.raw(ACTION_COLUMN_NAMES.join(', '));

function flag(value: unknown): number {
  return value === undefined ? 0 : 1;
}

export function createActionsRepository(db: SqlExecutor): ActionsRepository {
  return {
    async ingest(actions) {
      if (actions.length === 0) return [];
      // Within one group, the first delivery of a webhook id stands for the others.
      const firstByWebhook = new Map<string, IncomingAction>();
      for (const action of actions)
        if (!firstByWebhook.has(action.webhookId)) firstByWebhook.set(action.webhookId, action);
      const deliveries = [...firstByWebhook.values()];
      const firstByAction = new Map<string, IncomingAction>();
      for (const action of deliveries)
        if (!firstByAction.has(action.actionId)) firstByAction.set(action.actionId, action);

      const actionRows = sql.rows(
        [...firstByAction.values()].map((action) => ({
          action_id: action.actionId,
          webhook_id: action.webhookId,
          inbox_id: action.inboxId,
          inbox_name: action.inboxName,
          kind: action.kind,
          channel: action.channel,
          occurred_at: action.occurredAt,
          received_at: action.receivedAt,
          payload: JSON.stringify(action.payload),
        })),
        {
          action_id: 'text',
          webhook_id: 'text',
          inbox_id: 'text',
          inbox_name: 'text',
          kind: 'text',
          channel: 'text',
          occurred_at: 'int',
          received_at: 'int',
          payload: 'text',
        },
        'i',
      );
      const deliveryRows = sql.rows(
        deliveries.map((action) => ({
          webhook_id: action.webhookId,
          action_id: action.actionId,
          received_at: action.receivedAt,
          body_hash: action.bodyHash,
        })),
        { webhook_id: 'text', action_id: 'text', received_at: 'int', body_hash: 'text' },
        'i',
      );
      const [insertedActions, insertedDeliveries, known] = await db.batch([
        sql`INSERT INTO actions (action_id, webhook_id, inbox_id, inbox_name, kind, channel, occurred_at, received_at,
                                 payload, state, next_attempt_at, updated_at)
            SELECT i.action_id, i.webhook_id, i.inbox_id, i.inbox_name, i.kind, i.channel, i.occurred_at,
                   i.received_at, i.payload, 'received', i.received_at, i.received_at
              FROM ${actionRows}
             WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.webhook_id = i.webhook_id)
            ON CONFLICT (action_id) DO NOTHING
            RETURNING action_id`,
        sql`INSERT INTO deliveries (webhook_id, action_id, received_at, body_hash)
            SELECT i.webhook_id, i.action_id, i.received_at, i.body_hash
              FROM ${deliveryRows}
             WHERE EXISTS (SELECT 1 FROM actions a WHERE a.action_id = i.action_id)
            ON CONFLICT (webhook_id) DO NOTHING
            RETURNING webhook_id`,
        sql`SELECT webhook_id, action_id, body_hash FROM deliveries
             WHERE ${sql.in(
               sql`webhook_id`,
               deliveries.map((action) => action.webhookId),
             )}`,
      ]);
      // Ids come back as stored: compare them in the form the database stores (see `bindable`).
      const stored = (value: string) => bindable(value) as string;
      const accepted = new Set((insertedActions?.rows ?? []).map((row) => row.action_id as string));
      const delivered = new Set((insertedDeliveries?.rows ?? []).map((row) => row.webhook_id as string));
      const knownDeliveries = new Map(
        (known?.rows ?? []).map((row) => [
          row.webhook_id as string,
          { actionId: row.action_id as string, bodyHash: row.body_hash as string | null },
        ]),
      );
      return actions.map((action): IngestResult => {
        const first = firstByWebhook.get(action.webhookId) as IncomingAction;
        const existing = knownDeliveries.get(stored(action.webhookId));
        const sameBody = (hash: string | null) => hash === null || hash === action.bodyHash;
        if (first === action && delivered.has(stored(action.webhookId))) {
          const isNew = accepted.has(stored(action.actionId)) && firstByAction.get(action.actionId) === action;
          return { status: isNew ? 'accepted' : 'duplicate', actionId: action.actionId };
        }
        // Compared with the delivery as stored (recorded before this group, or by its first),
        // not with whichever came first in the group: a replay of a stored body stays a
        // duplicate even next to a reuse of its id with another body.
        if (existing !== undefined) {
          return sameBody(existing.bodyHash)
            ? { status: 'duplicate', actionId: existing.actionId }
            : { status: 'conflict', actionId: existing.actionId };
        }
        if (first !== action && !sameBody(first.bodyHash)) return { status: 'conflict', actionId: first.actionId };
        // The delivery could not be recorded: its action vanished meanwhile (purged). Say so, do not pretend.
        return { status: 'duplicate', actionId: action.actionId };
      });
    },

    async lockReceived(after, limit) {
      const cursor =
        after === null
          ? sql.empty
          : sql`AND (received_at > ${after.receivedAt} OR (received_at = ${after.receivedAt} AND ${ROW_KEY} > ${after.rowKey}))`;
      const rows = await db.all<{
        row_key: string | number;
        action_id: string;
        inbox_id: string;
        kind: string;
        channel: string;
        occurred_at: number;
        received_at: number;
      }>(sql`
        SELECT ${ROW_KEY} AS row_key, action_id, inbox_id, kind, channel, occurred_at, received_at
          FROM actions ${RECEIVED_INDEX}
         WHERE state = 'received' ${cursor}
         ORDER BY received_at, ${ROW_KEY}
         LIMIT ${limit}
         ${SKIP_LOCKED}`);
      return rows.map((row) => ({
        rowKey: row.row_key,
        actionId: row.action_id,
        inboxId: row.inbox_id,
        kind: row.kind,
        channel: row.channel,
        occurredAt: row.occurred_at,
        receivedAt: row.received_at,
      }));
    },

    async applyClassifications(items, now) {
      if (items.length === 0) return 0;
      const rows = sql.rows(
        items.map((item) => ({
          row_key: item.rowKey,
          state: item.state,
          reason: item.reason,
          link_id: item.linkId,
          org_id: item.orgId,
          error_message: item.errorMessage ?? null,
          guarded: item.seenLink === undefined ? 0 : 1,
          seen_link: item.seenLink ?? null,
        })),
        {
          row_key: db.dialect === 'sqlite' ? 'int' : 'text',
          state: 'text',
          reason: 'text',
          link_id: 'text',
          org_id: 'text',
          error_message: 'text',
          guarded: 'int',
          seen_link: 'text',
        },
        'c',
      );
      return db.run(sql`
        UPDATE actions
           SET state = c.state, reason = c.reason, link_id = c.link_id, org_id = c.org_id,
               error_message = c.error_message, next_attempt_at = ${now}, updated_at = ${now}
          FROM ${rows}
         WHERE actions.${ROW_KEY} = c.row_key AND ${NO_INDEX_STATE} = 'received'
           AND (c.guarded = 0
                OR (SELECT l.id || ':' || l.status FROM links l
                     WHERE l.inbox_id = actions.inbox_id AND l.status <> 'deleted') ${IS_SAME} c.seen_link)`);
    },

    async orgsWithDueActions(now) {
      // The orgs with pending actions one index seek each (a loose index scan), then whether
      // one of them is due and free: DISTINCT over the rows would read the whole backlog.
      const rows = await db.all<{ org_id: string }>(sql`
        WITH RECURSIVE orgs (org_id) AS (
          SELECT MIN(org_id) FROM actions WHERE state = 'pending' AND org_id IS NOT NULL
          UNION ALL
          SELECT (SELECT MIN(a.org_id) FROM actions a WHERE a.state = 'pending' AND a.org_id > orgs.org_id)
            FROM orgs WHERE orgs.org_id IS NOT NULL)
        SELECT org_id FROM orgs
         WHERE org_id IS NOT NULL
           AND EXISTS (SELECT 1 FROM actions d
                        WHERE d.state = 'pending' AND d.org_id = orgs.org_id AND d.next_attempt_at <= ${now}
                          AND (d.lease_until IS NULL OR d.lease_until <= ${now}))`);
      return rows.map((row) => row.org_id);
    },

    async claimDue({ orgId, limit, leaseOwner, leaseMs, now }) {
      // The rows are picked once, in a CTE: inside IN (…), PostgreSQL may run a LIMITed,
      // locking subquery more than once and take more rows than the limit.
      const rows = await db.all<ActionRow>(sql`
        WITH picked AS (
          SELECT action_id FROM actions
           WHERE state = 'pending' AND org_id = ${orgId} AND next_attempt_at <= ${now}
             AND (lease_until IS NULL OR lease_until <= ${now})
           ORDER BY next_attempt_at
           LIMIT ${limit}
           ${SKIP_LOCKED})
        UPDATE actions
           SET lease_owner = ${leaseOwner}, lease_until = ${now + leaseMs}
          FROM picked
         WHERE actions.action_id = picked.action_id
        RETURNING ${sql.raw(ACTION_COLUMN_NAMES.map((name) => `actions.${name}`).join(', '))}`);
      // RETURNING gives no order guarantee on either database: restore oldest first.
      return rows
        .sort((a, b) => a.occurred_at - b.occurred_at || compareText(a.action_id, b.action_id))
        .map(toStoredAction);
    },

    async extendLeases(actionIds, leaseOwner, leaseUntil, now) {
      if (actionIds.length === 0) return 0;
      return db.run(sql`
        UPDATE actions SET lease_until = ${leaseUntil}
         WHERE ${sql.in(sql`action_id`, actionIds)}
           AND ${STATE_BY_ID} = 'pending' AND lease_owner = ${leaseOwner} AND lease_until > ${now}`);
    },

    async markWriteAttempted(actionIds, leaseOwner, at, leaseUntil) {
      if (actionIds.length === 0) return [];
      const rows = await db.all<{ action_id: string }>(sql`
        UPDATE actions
           SET write_attempted_at = ${at},
               lease_until = CASE WHEN lease_until < ${leaseUntil} THEN ${sql.int(leaseUntil)} ELSE lease_until END
         WHERE ${sql.in(sql`action_id`, actionIds)}
           AND ${STATE_BY_ID} = 'pending' AND lease_owner = ${leaseOwner} AND lease_until > ${at}
        RETURNING action_id`);
      return rows.map((row) => row.action_id);
    },

    /**
     * Outcome fields follow one rule: `reason`, `errorCode` and `errorMessage` describe this
     * outcome (absent means none); `sfEventId`, `whoId`, `ownerId` and `match` are kept
     * unless given (null clears them).
     */
    async complete(outcomes, leaseOwner, now) {
      if (outcomes.length === 0) return 0;
      const rows = sql.rows(
        outcomes.map((outcome) => ({
          action_id: outcome.actionId,
          state: outcome.state,
          reason: outcome.reason ?? null,
          next_attempt_at: outcome.nextAttemptAt ?? now,
          attempt_increment: outcome.countAttempt === true ? 1 : 0,
          keep_write: outcome.keepWriteAttempted === true ? 1 : 0,
          set_event: flag(outcome.sfEventId),
          sf_event_id: outcome.sfEventId ?? null,
          set_who: flag(outcome.whoId),
          who_id: outcome.whoId ?? null,
          set_owner: flag(outcome.ownerId),
          owner_id: outcome.ownerId ?? null,
          set_match: flag(outcome.match),
          match_record: outcome.match == null ? null : JSON.stringify(outcome.match),
          error_code: outcome.errorCode ?? null,
          error_message: outcome.errorMessage ?? null,
          rematch: outcome.rematch === true ? 1 : 0,
        })),
        {
          action_id: 'text',
          state: 'text',
          reason: 'text',
          next_attempt_at: 'int',
          attempt_increment: 'int',
          keep_write: 'int',
          set_event: 'int',
          sf_event_id: 'text',
          set_who: 'int',
          who_id: 'text',
          set_owner: 'int',
          owner_id: 'text',
          set_match: 'int',
          match_record: 'text',
          error_code: 'text',
          error_message: 'text',
          rematch: 'int',
        },
        'o',
      );
      return db.run(sql`
        UPDATE actions
           SET state = o.state,
               reason = o.reason,
               next_attempt_at = CASE WHEN o.state = 'pending' THEN o.next_attempt_at ELSE actions.next_attempt_at END,
               attempts = actions.attempts + o.attempt_increment,
               write_attempted_at = CASE WHEN o.keep_write = 1 THEN actions.write_attempted_at ELSE NULL END,
               sf_event_id = CASE WHEN o.set_event = 1 THEN o.sf_event_id ELSE actions.sf_event_id END,
               who_id = CASE WHEN o.set_who = 1 THEN o.who_id ELSE actions.who_id END,
               owner_id = CASE WHEN o.set_owner = 1 THEN o.owner_id ELSE actions.owner_id END,
               match_record = CASE WHEN o.set_match = 1 THEN o.match_record ELSE actions.match_record END,
               error_code = o.error_code,
               error_message = o.error_message,
               rematch = o.rematch,
               lease_owner = NULL,
               lease_until = NULL,
               updated_at = ${now}
          FROM ${rows}
         WHERE actions.action_id = o.action_id AND actions.lease_owner = ${leaseOwner}`);
    },

    holdLink(linkId, reason, now) {
      return db.run(sql`
        UPDATE actions SET state = 'held', reason = ${reason}, updated_at = ${now}
         WHERE link_id = ${linkId} AND state = 'pending'`);
    },

    resumeHeld(linkId, now, reasons) {
      const only = reasons === undefined ? sql.empty : sql`AND ${sql.in(sql`reason`, reasons)}`;
      return db.run(sql`
        UPDATE actions SET state = 'pending', reason = NULL, next_attempt_at = ${now}, updated_at = ${now}
         WHERE link_id = ${linkId} AND state = 'held' ${only}`);
    },

    async retryable(actionIds) {
      if (actionIds.length === 0) return [];
      const rows = await db.all<ActionRow>(sql`
        SELECT ${ACTION_COLUMNS} FROM actions
         WHERE ${sql.in(sql`action_id`, actionIds)} AND ${sql.in(sql`state`, RETRYABLE_STATES)}`);
      return rows.map(toStoredAction);
    },

    reclassify(items, now) {
      if (items.length === 0) return Promise.resolve(0);
      const rows = sql.rows(
        items.map((item) => ({
          action_id: item.actionId,
          state: item.state,
          reason: item.reason,
          link_id: item.linkId,
          org_id: item.orgId,
        })),
        { action_id: 'text', state: 'text', reason: 'text', link_id: 'text', org_id: 'text' },
        'r',
      );
      return db.run(sql`
        UPDATE actions
           SET state = r.state, reason = r.reason, link_id = r.link_id, org_id = r.org_id,
               attempts = 0, rematch = 1, error_code = NULL, error_message = NULL,
               next_attempt_at = ${now}, updated_at = ${now}
          FROM ${rows}
         WHERE actions.action_id = r.action_id AND ${sql.in(sql`actions.state`, RETRYABLE_STATES)}`);
    },

    requeueUnmatched(orgId, since, limit, now) {
      return db.run(sql`
        WITH picked AS (
          SELECT action_id FROM actions
           WHERE state = 'unmatched' AND reason = 'no_matching_record' AND org_id = ${orgId}
             AND received_at >= ${since}
           ORDER BY COALESCE(rematched_at, 0), received_at
           LIMIT ${limit}
           ${SKIP_LOCKED})
        UPDATE actions
           SET state = 'pending', reason = NULL, rematch = 1, rematched_at = ${now}, next_attempt_at = ${now}
          FROM picked
         WHERE actions.action_id = picked.action_id AND actions.state = 'unmatched'`);
    },

    async orgsWithUnmatched(since) {
      const rows = await db.all<{ org_id: string }>(sql`
        SELECT DISTINCT org_id FROM actions
         WHERE state = 'unmatched' AND reason = 'no_matching_record' AND org_id IS NOT NULL
           AND received_at >= ${since}`);
      return rows.map((row) => row.org_id);
    },

    holdForDeletedLink(linkId, now) {
      return db.run(sql`
        UPDATE actions SET state = 'held', reason = 'link_deleted', lease_owner = NULL, lease_until = NULL,
                           updated_at = ${now}
         WHERE link_id = ${linkId} AND state IN ('pending', 'held')`);
    },

    adoptHeld(inboxId, linkId, orgId, now) {
      return db.run(sql`
        UPDATE actions
           SET link_id = ${linkId}, org_id = ${orgId}, state = 'pending', reason = NULL,
               next_attempt_at = ${now}, updated_at = ${now}
         WHERE inbox_id = ${inboxId} AND state = 'held' AND reason = 'link_deleted'`);
    },

    async get(actionId) {
      const row = await db.one<ActionRow>(sql`SELECT ${ACTION_COLUMNS} FROM actions WHERE action_id = ${actionId}`);
      return row === null ? null : toStoredAction(row);
    },

    async list(filter) {
      const where = actionConditions(filter);
      if (filter.before !== undefined) {
        const { updatedAt, actionId } = filter.before;
        where.push(sql`(updated_at < ${updatedAt} OR (updated_at = ${updatedAt} AND action_id < ${actionId}))`);
      }
      const limit = Math.min(Math.max(1, filter.limit ?? DEFAULT_LIST_LIMIT), MAX_LIST_LIMIT);
      const rows = await db.all<ActionRow>(sql`
        SELECT ${ACTION_COLUMNS} FROM actions ${sql.where(where)}
         ORDER BY updated_at DESC, action_id DESC LIMIT ${limit}`);
      return rows.map(toStoredAction);
    },

    async countByState(filter) {
      const rows = await db.all<{ state: ActionState; count: number }>(
        sql`SELECT state, COUNT(*) AS count FROM actions ${sql.where(actionConditions(filter))} GROUP BY state`,
      );
      const counts = Object.fromEntries(ACTION_STATES.map((state) => [state, 0])) as ActionCounts;
      for (const row of rows) counts[row.state] = row.count;
      return counts;
    },

    async lastSyncedAt(inboxId) {
      const row = await db.one<{ last: number | null }>(sql`
        SELECT MAX(updated_at) AS last FROM actions WHERE inbox_id = ${inboxId} AND state = 'synced'`);
      return row?.last ?? null;
    },

    countByStateAndReason() {
      return db.all<{ state: ActionState; reason: ActionReason | null; count: number }>(
        sql`SELECT state, reason, COUNT(*) AS count FROM actions GROUP BY state, reason`,
      );
    },

    async oldestWaitingSince(now) {
      const row = await db.one<{ oldest: number | null }>(sql`
        SELECT MIN(received_at) AS oldest FROM actions
         WHERE state = 'received' OR (state = 'pending' AND next_attempt_at <= ${now})`);
      return row?.oldest ?? null;
    },

    purge(states, cutoff, limit) {
      return db.run(sql`
        DELETE FROM actions
         WHERE action_id IN (
                 SELECT action_id FROM actions
                  WHERE updated_at < ${cutoff} AND ${sql.in(STATE_BY_ID, states)}
                  LIMIT ${limit})`);
    },
  };
}

function actionConditions(
  filter: Pick<ActionFilter, 'inboxId' | 'linkId' | 'states' | 'reasons' | 'since' | 'until'>,
): SqlFragment[] {
  const where: SqlFragment[] = [];
  if (filter.inboxId !== undefined) where.push(sql`inbox_id = ${filter.inboxId}`);
  if (filter.linkId !== undefined) where.push(sql`link_id = ${filter.linkId}`);
  if (filter.states !== undefined) where.push(sql.in(sql`state`, filter.states as SqlValue[]));
  if (filter.reasons !== undefined) where.push(sql.in(sql`reason`, filter.reasons as SqlValue[]));
  if (filter.since !== undefined) where.push(sql`updated_at >= ${filter.since}`);
  if (filter.until !== undefined) where.push(sql`updated_at < ${filter.until}`);
  return where;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
