import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { BridgeError, isBridgeError } from '../core/errors';
import type { Link, MatchCandidate, MatchRecord, StoredAction } from '../core/types';
import type { Logger } from '../logging';
import { mapInSlices, SLICE, yieldToEventLoop } from '../core/yield';
import { packageHoldMessage, type PackageRefusal } from '../salesforce/package-access';
import { soqlString } from '../salesforce/soql';
import type { LinksRepository } from '../links/links-repository';
import type { NewRecord, RecordError, SalesforceApi, SaveResult } from '../salesforce/types';
import type { Store } from '../store/store';
import type { ActionOutcome, ActionsRepository } from './actions-repository';
import { backoffDelay } from './backoff';
import { buildEvent, packagedFieldNames, type EventFieldNames } from './event-builder';
import type { HealthReporter } from './health';
import type { IntakePressure } from './intake-pressure';
import { chunkValues, runLookups, type Lookup } from './lookups';
import type { LruCache } from './lru-cache';
import { CustomerMatcher } from './matcher';
import type { OrgRepository } from './org-repository';
import { OwnerResolver } from './owners';
import { applyPolicy, type EffectiveLink, type PolicyCache } from './policies';
import type { PolicyHolds } from './policy-holds';
import type { SalesforceSessions } from './sessions';
import type { SyncEvents } from './sync-events';

export interface PipelineSettings {
  batchSize: number;
  /**
   * How long a claim (and the org's writer lease) lasts without renewal. Renewed every third
   * of it while a batch runs, so a killed instance's work passes to another within this time.
   */
  leaseMs: number;
  /** Salesforce's answer to a send is awaited at most this long (SF_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs: number;
  /**
   * After a send whose outcome is unknown, how long Salesforce may still be processing it
   * (SYNC_UNCERTAIN_WAIT_MS): the actions are looked up, and sent again if absent, only after.
   */
  uncertainWaitMs: number;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  budgetPauseMs: number;
  namespace: string;
  language: 'ja' | 'en';
}

/**
 * The most actions one store statement of the sync touches. A batch has up to
 * SYNC_BATCH_SIZE (1,000) actions, sent to Salesforce together; claiming, marking and
 * completing them goes to the store a chunk at a time, so that no single statement holds
 * SQLite's one writer (and the webhooks waiting on it) for more than a few milliseconds.
 * Each chunk is whole: an action's outcome is always written at once.
 */
const STORE_CHUNK = 100;

/** `work` over `items` a chunk at a time, one after the other; the results in order. */
async function inChunks<T, R>(items: readonly T[], work: (chunk: T[]) => Promise<R[]>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += STORE_CHUNK) {
    results.push(...(await work(items.slice(start, start + STORE_CHUNK))));
  }
  return results;
}

/** The share of the event loop a backlog's batches may keep busy, on average, one after the other. */
const SYNC_LOOP_SHARE = 0.35;
/** The longest pause between two batches of a backlog. */
const MAX_ROOM_MS = 1_000;
/** A share of slow webhook answers (IntakePressure) above this makes the batches leave more room. */
const SLOW_SHARE_LIMIT = 0.01;
/** Under pressure, the pause starts at this share of the batch's time and doubles batch after batch. */
const FIRST_PRESSED_ROOM = 0.5;
const MAX_PRESSED_ROOM = 8;

export interface Room {
  waitMs: number;
  /** The pause under pressure, as a share of the batch's time: carried to the next batch. */
  pressedRoom: number;
}

/**
 * The pause between two full batches of a backlog, so that webhooks arriving meanwhile are
 * answered without waiting behind it: they come first. Two measures, the longer pause wins:
 *
 * - The event loop: when it was busier than SYNC_LOOP_SHARE while the batch ran (the batch's
 *   own work, and the webhooks arriving meanwhile), long enough to bring it back to that share.
 * - The answers themselves: while more than SLOW_SHARE_LIMIT of the last second's were slow
 *   (for whatever reason: SQLite's writer, PostgreSQL's processes on the same cores), a pause
 *   of half the batch's time, doubling batch after batch (up to 8×); halving once they are fast.
 *
 * A backlog then drains at most about half as fast as it could on an idle process, and more
 * slowly still while webhooks are answered slowly; with no webhooks arriving, at full speed.
 */
export function roomAfterBatch(batch: {
  elapsedMs: number;
  loopUtilization: number;
  slowShare: number;
  pressedRoom: number;
}): Room {
  const pressed = batch.slowShare > SLOW_SHARE_LIMIT;
  const pressedRoom = pressed
    ? Math.min(MAX_PRESSED_ROOM, Math.max(FIRST_PRESSED_ROOM, batch.pressedRoom * 2))
    : batch.pressedRoom / 2 < FIRST_PRESSED_ROOM
      ? 0
      : batch.pressedRoom / 2;
  const forLoop = batch.elapsedMs * (batch.loopUtilization / SYNC_LOOP_SHARE - 1);
  const waitMs = Math.min(MAX_ROOM_MS, Math.max(0, forLoop, batch.elapsedMs * pressedRoom));
  return { waitMs, pressedRoom };
}

export type PipelineStore = Store<{ actions: ActionsRepository; links: LinksRepository; orgs: OrgRepository }>;

export interface PipelineDeps {
  store: PipelineStore;
  sessions: SalesforceSessions;
  settings: PipelineSettings;
  logger: Logger;
  now: () => number;
  random: () => number;
  workerId: string;
  matchCache: LruCache<MatchCandidate[]>;
  ownerCache: LruCache<{ userId: string | null }>;
  policies: PolicyCache;
  policyHolds: PolicyHolds;
  health: HealthReporter;
  events: SyncEvents;
  /** How the webhooks are answered; without it, the batches pace on the event loop alone. */
  pressure?: IntakePressure;
}

export interface BatchReport {
  claimed: number;
  synced: number;
  unmatched: number;
  failed: number;
  held: number;
  retrying: number;
  paused: boolean;
  /** The org's writer lease could not be renewed during the batch: another instance may hold it now. */
  lostLease?: boolean;
}

interface GroupResult {
  outcomes: ActionOutcome[];
  /** Set when the org was paused for its API budget. */
  pause: { until: number; reason: string } | null;
  /** Set when Salesforce refused the authorisation: its links need re-authentication. */
  reauth: { authId: string; reason: string } | null;
}

/**
 * Whole-request failures that say Salesforce (or the way to it) is down, not that anything
 * in the batch is wrong: the org pauses, growing from a second to five minutes while the
 * outage lasts, and the actions wait without spending their attempts, so that a long outage
 * ends with every action synced rather than given up.
 */
const OUTAGE_CODES = new Set(['TIMEOUT', 'NETWORK_ERROR', 'PROXY_ERROR', 'SERVER_UNAVAILABLE']);
const OUTAGE_STATUSES = new Set([502, 503, 504]);
const OUTAGE_PAUSE_FIRST_MS = 1_000;
const OUTAGE_PAUSE_MAX_MS = 5 * 60_000;

function isOutage(failure: BridgeError): boolean {
  return (
    failure.kind === 'retryable' &&
    (OUTAGE_CODES.has(failure.code) ||
      (failure.remoteStatus !== undefined && OUTAGE_STATUSES.has(failure.remoteStatus)))
  );
}

/** The matched Contact or Lead is gone (deleted, or merged into another). */
const GONE_RECORD_ERRORS = new Set(['ENTITY_IS_DELETED', 'INVALID_CROSS_REFERENCE_KEY']);

/**
 * Salesforce's refusals of a field the bridge writes: the package's fields are gone, or out
 * of the user's reach, since the last check (or some other field is), so the check is made
 * again before anything is decided.
 */
const FIELD_REFUSALS = new Set(['INVALID_FIELD', 'INVALID_FIELD_FOR_INSERT_UPDATE']);

/** Record-level errors that a later attempt can get past. */
const RETRYABLE_RECORD_ERRORS = new Set(['UNABLE_TO_LOCK_ROW', 'REQUEST_RUNNING_TOO_LONG', 'SERVER_UNAVAILABLE']);

/**
 * The sync pipeline of one Salesforce org: claims due actions with a lease, matches their
 * customers in one go, writes their Events with sObject Collections, and records each
 * action's outcome — deciding every failure from its kind.
 */
export class OrgPipeline {
  private readonly matcher: CustomerMatcher;
  private readonly owners: OwnerResolver;
  private readonly fields: EventFieldNames;
  /** Consecutive batches that met an outage: the next outage pause doubles with each. */
  private outages = 0;
  private outageInBatch = false;
  /** See roomAfterBatch. */
  private pressedRoom = 0;

  constructor(
    readonly orgId: string,
    private readonly deps: PipelineDeps,
  ) {
    this.matcher = new CustomerMatcher(deps.matchCache, orgId);
    this.owners = new OwnerResolver(deps.ownerCache, orgId);
    this.fields = packagedFieldNames(deps.settings.namespace);
  }

  /**
   * Runs batches until the org has nothing due (or is paused). One writer per org across
   * every bridge instance: without the org's lease, another instance is syncing it.
   */
  async drain(): Promise<BatchReport[]> {
    const { store, settings, now, workerId } = this.deps;
    const lease = `org:${this.orgId}`;
    if (!(await store.orgs.acquireLease(lease, workerId, settings.leaseMs, now()))) return [];
    const reports: BatchReport[] = [];
    try {
      for (;;) {
        const started = performance.now();
        const loopBefore = performance.eventLoopUtilization();
        const report = await this.runBatch();
        if (report.claimed > 0) reports.push(report);
        if (report.paused || report.claimed < settings.batchSize || report.lostLease) return reports;
        await this.leaveRoomForWebhooks(started, loopBefore);
      }
    } finally {
      await store.orgs
        .releaseLease(lease, workerId)
        .catch((error: unknown) =>
          this.deps.logger.warn({ err: error, orgId: this.orgId }, 'the org lease could not be released; it expires'),
        );
    }
  }

  async runBatch(): Promise<BatchReport> {
    const { store, settings, now, workerId, logger } = this.deps;
    const report: BatchReport = { claimed: 0, synced: 0, unmatched: 0, failed: 0, held: 0, retrying: 0, paused: false };
    const state = await store.orgs.getState(this.orgId);
    if (state.pausedUntil !== null) {
      if (state.pausedUntil > now()) return { ...report, paused: true };
      await store.orgs.setPause(this.orgId, null, null);
      logger.info({ orgId: this.orgId }, 'org pause over: sync resumes');
    }
    const claimed: StoredAction[] = [];
    for (;;) {
      const limit = Math.min(STORE_CHUNK, settings.batchSize - claimed.length);
      const chunk = await store.actions.claimDue({
        orgId: this.orgId,
        limit,
        leaseOwner: workerId,
        leaseMs: settings.leaseMs,
        now: now(),
      });
      claimed.push(...chunk);
      if (chunk.length < limit || claimed.length >= settings.batchSize) break;
    }
    report.claimed = claimed.length;
    if (claimed.length === 0) return report;
    this.deps.events.leasesReclaimed(claimed.filter((action) => action.writeAttemptedAt !== null).length);
    const heartbeat = this.heartbeat(claimed.map((action) => action.actionId));
    let done: BatchReport;
    try {
      done = await this.syncClaimed(claimed, report);
    } finally {
      report.lostLease = await heartbeat.stop();
    }
    if (report.lostLease === true)
      logger.warn({ orgId: this.orgId }, 'the org lease passed to another instance mid-batch');
    return done;
  }

  /** Between two full batches of a backlog: see roomAfterBatch. */
  private async leaveRoomForWebhooks(started: number, loopBefore: EventLoopUtilization): Promise<void> {
    const room = roomAfterBatch({
      elapsedMs: performance.now() - started,
      loopUtilization: performance.eventLoopUtilization(loopBefore).utilization,
      slowShare: this.deps.pressure?.slowShare() ?? 0,
      pressedRoom: this.pressedRoom,
    });
    this.pressedRoom = room.pressedRoom;
    if (room.waitMs >= 1) await new Promise((resolve) => setTimeout(resolve, room.waitMs));
  }

  /**
   * Renews the org's lease and the batch's claims every third of the lease while the batch
   * runs, so that only a dead instance loses them. `stop` says whether a renewal failed.
   */
  private heartbeat(actionIds: string[]): { stop(): Promise<boolean> } {
    const { store, settings, now, workerId, logger } = this.deps;
    let lost = false;
    let beating: Promise<void> = Promise.resolve();
    const beat = () => {
      beating = (async () => {
        const at = now();
        const held = await store.orgs.acquireLease(`org:${this.orgId}`, workerId, settings.leaseMs, at);
        await inChunks(actionIds, async (chunk) => [
          await store.actions.extendLeases(chunk, workerId, at + settings.leaseMs, at),
        ]);
        if (!held) lost = true;
      })().catch((error: unknown) => {
        logger.warn({ err: error, orgId: this.orgId }, 'lease renewal failed; trying again at the next beat');
      });
    };
    const timer = setInterval(beat, Math.max(50, Math.floor(settings.leaseMs / 3)));
    timer.unref();
    return {
      async stop() {
        clearInterval(timer);
        await beating;
        return lost;
      },
    };
  }

  private async syncClaimed(claimed: StoredAction[], report: BatchReport): Promise<BatchReport> {
    const { store, now, workerId, logger } = this.deps;
    const links = new Map<string, Link | null>();
    for (const linkId of new Set(claimed.map((a) => a.linkId).filter((id): id is string => id !== null))) {
      links.set(linkId, await store.links.getLink(linkId));
    }
    const outcomes: ActionOutcome[] = [];
    const byAuth = new Map<string, StoredAction[]>();
    for (const action of claimed) {
      const link = action.linkId === null ? null : (links.get(action.linkId) ?? null);
      if (link === null || link.status === 'deleted') {
        outcomes.push({ actionId: action.actionId, state: 'skipped', reason: 'no_link' });
      } else if (link.status !== 'active') {
        outcomes.push({
          actionId: action.actionId,
          state: 'held',
          reason: link.status === 'needs_reauth' ? 'needs_reauth' : 'link_disabled',
          keepWriteAttempted: true,
        });
      } else {
        const group = byAuth.get(link.authId) ?? [];
        group.push(action);
        byAuth.set(link.authId, group);
      }
    }

    const reauths: Array<{ authId: string; reason: string }> = [];
    let pause: GroupResult['pause'] = null;
    for (const [authId, actions] of byAuth) {
      if (pause !== null) {
        const until = pause.until;
        outcomes.push(...actions.map((a) => this.postpone(a, until)));
        continue;
      }
      const result = await this.syncGroup(authId, actions, links);
      outcomes.push(...result.outcomes);
      pause = result.pause;
      if (result.reauth !== null) reauths.push(result.reauth);
    }
    report.paused = pause !== null;
    if (!this.outageInBatch) this.outages = 0;
    this.outageInBatch = false;
    const synced = outcomes.some((outcome) => outcome.state === 'synced');

    // The outcomes, each action's whole outcome in one statement, a chunk at a time. When the
    // batch learnt something about the org (links that need re-authentication, with their
    // other actions held; the org's pause), that and the outcomes are one unit of work: an
    // action held for a link must never be left with the link still active. Otherwise the
    // chunks commit one by one, so that no transaction holds SQLite's writer for the whole
    // batch; a crash in between leaves the rest leased, to come back when the lease ends
    // (whatever was marked write-attempted is looked up in Salesforce before it is sent again).
    const at = now();
    const completeAll = (actions: ActionsRepository) =>
      inChunks(outcomes, async (chunk) => [await actions.complete(chunk, workerId, at)]);
    let needReauth = 0;
    if (reauths.length > 0 || pause !== null) {
      needReauth = await store.transaction(async (tx) => {
        await completeAll(tx.actions);
        let links = 0;
        for (const reauth of reauths) {
          for (const linkId of await tx.links.setLinkStatusByAuth(reauth.authId, 'needs_reauth', reauth.reason, at)) {
            await tx.actions.holdLink(linkId, 'needs_reauth', at);
            links += 1;
          }
        }
        if (pause !== null) await tx.orgs.setPause(this.orgId, pause.until, pause.reason);
        if (synced) await tx.orgs.recordSync(this.orgId, at);
        return links;
      });
    } else {
      await completeAll(store.actions);
      if (synced) await store.orgs.recordSync(this.orgId, at);
    }
    if (needReauth > 0) this.deps.events.reauthNeeded(needReauth);
    this.reportHealth(claimed, outcomes);
    for (const outcome of outcomes) {
      if (outcome.state === 'synced') report.synced += 1;
      else if (outcome.state === 'unmatched') report.unmatched += 1;
      else if (outcome.state === 'failed') report.failed += 1;
      else if (outcome.state === 'held') report.held += 1;
      else if (outcome.state === 'pending') report.retrying += 1;
    }
    logger.info({ orgId: this.orgId, ...report }, 'sync batch done');
    return report;
  }

  /** What the batch did, per link, for the sync health records in Salesforce. */
  private reportHealth(claimed: StoredAction[], outcomes: ActionOutcome[]): void {
    const { health, now } = this.deps;
    const at = now();
    const linkOf = new Map(claimed.map((action) => [action.actionId, action.linkId]));
    for (const outcome of outcomes) {
      const linkId = linkOf.get(outcome.actionId);
      if (linkId === null || linkId === undefined) continue;
      if (outcome.state === 'synced') health.recordSuccess(linkId, at);
      else if (outcome.errorMessage) {
        health.recordError(linkId, at, `${outcome.errorCode ?? 'ERROR'}: ${outcome.errorMessage}`);
      }
    }
    health.markChanged(this.orgId);
  }

  private async syncGroup(
    authId: string,
    actions: StoredAction[],
    links: Map<string, Link | null>,
  ): Promise<GroupResult> {
    const { store, sessions, policies } = this.deps;
    const decided = new Map<string, ActionOutcome>();
    try {
      const auth = await store.links.getAuth(authId);
      if (auth === null) {
        throw new BridgeError('needs_reauth', 'the Salesforce authorisation of this link is missing', {
          code: 'auth_missing',
        });
      }
      const api = sessions.clientFor(auth);
      const query = (queries: string[]) => api.queryManySettled(queries);
      // The org's link policies decide what each action is matched against, and the user's
      // access to the package's fields whether any Event can be written at all: what is stale
      // of both is renewed first, in one call. Without the package or the access, the actions
      // wait held until a later check finds it fixed.
      await policies.refresh(api, this.orgId, auth);
      const refusal = policies.refusalOf(authId);
      if (refusal !== null) {
        const held = actions.map((a) => this.heldForPackage(a, refusal, auth.username, null, true));
        return { outcomes: held, pause: null, reauth: null };
      }

      // A send of another worker (a crashed instance) may still be answered for as long as its
      // request could last: look those actions up only once it cannot be in flight any more.
      const { requestTimeoutMs, uncertainWaitMs } = this.deps.settings;
      const inFlightUntil = (a: StoredAction) =>
        (a.writeAttemptedAt ?? 0) + Math.max(requestTimeoutMs, uncertainWaitMs);
      const maybeInFlight = actions.filter((a) => a.writeAttemptedAt !== null && inFlightUntil(a) > this.deps.now());
      for (const action of maybeInFlight) decided.set(action.actionId, this.postpone(action, inFlightUntil(action)));
      let toSend = actions.filter((a) => !decided.has(a.actionId));
      const uncertain = toSend.filter((a) => a.writeAttemptedAt !== null);
      if (uncertain.length > 0) {
        const existing = new Map<string, string>();
        await runLookups(query, [
          this.existingEventsLookup(
            uncertain.map((a) => a.actionId),
            existing,
          ),
        ]);
        for (const [actionId, eventId] of existing) {
          decided.set(actionId, {
            actionId,
            state: 'synced',
            reason: null,
            sfEventId: eventId,
            errorCode: null,
            errorMessage: null,
          });
        }
        toSend = toSend.filter((a) => !existing.has(a.actionId));
      }
      if (toSend.length === 0) return { outcomes: [...decided.values()], pause: null, reauth: null };

      const effective = (action: StoredAction): EffectiveLink =>
        applyPolicy(links.get(action.linkId ?? '') as Link, policies.current(this.orgId));
      const ownerCheck = policies.ownerCheckFor(this.orgId);
      const ownerLookup = this.owners.lookupFor(toSend.map((a) => a.payload.action.operator?.email));
      const matches = await this.matcher.matchAll(
        api,
        // An inbox the policy switched off is not even matched.
        toSend
          .filter((a) => effective(a).active)
          .map((a) => ({
            actionId: a.actionId,
            target: effective(a).target,
            emails: a.payload.customer.emails ?? [],
            fresh: a.rematch,
            phones: [...(a.payload.customer.phones ?? []), a.payload.action.call?.phone ?? ''].filter((p) => p !== ''),
          })),
        [ownerLookup, ...(ownerCheck === null ? [] : [ownerCheck])],
      );

      const sending: Array<{
        action: StoredAction;
        record: NewRecord;
        outcome: ActionOutcome;
        ownerFromPolicy: boolean;
      }> = [];
      for (const [index, action] of toSend.entries()) {
        if (index > 0 && index % SLICE === 0) await yieldToEventLoop();
        const settings = effective(action);
        if (!settings.active) {
          decided.set(action.actionId, {
            actionId: action.actionId,
            state: 'held',
            reason: 'disabled_in_salesforce',
            keepWriteAttempted: true,
          });
          this.deps.policyHolds.add(this.orgId, action.linkId as string);
          continue;
        }
        const match = matches.get(action.actionId);
        if (match === undefined) continue;
        const matchRecord = { ...match.record, policy: settings.applied };
        if (match.lookupFailure !== undefined) {
          decided.set(action.actionId, this.lookupFailed(action, match.lookupFailure, matchRecord));
          continue;
        }
        if (!match.matched) {
          decided.set(action.actionId, {
            actionId: action.actionId,
            state: 'unmatched',
            reason: match.reason,
            match: matchRecord,
            errorCode: null,
            errorMessage: null,
          });
          continue;
        }
        const ownerFailure = this.owners.failureFor(action.payload.action.operator?.email);
        if (ownerFailure !== null) {
          decided.set(action.actionId, this.lookupFailed(action, ownerFailure, matchRecord));
          continue;
        }
        const whoId = match.record.chosen.id;
        const owner = this.owners.ownerFor(action.payload.action.operator?.email, settings.defaultOwnerId);
        const body = { capture: settings.bodyCapture, maxChars: settings.bodyMaxChars };
        sending.push({
          action,
          record: buildEvent(action, { whoId, ownerId: owner.ownerId }, this.fields, this.deps.settings.language, body),
          outcome: {
            actionId: action.actionId,
            state: 'synced',
            reason: null,
            whoId,
            ownerId: owner.ownerId,
            match: matchRecord,
          },
          ownerFromPolicy:
            !owner.fromOperator && settings.defaultOwnerId !== (links.get(action.linkId ?? '') as Link).defaultOwnerId,
        });
      }

      if (sending.length > 0) {
        // A lease that ran out meanwhile may belong to another worker now: send only what is
        // still ours, with the lease renewed for at least as long as the send can take.
        const at = this.deps.now();
        const marked = new Set(
          await inChunks(
            sending.map((s) => s.action.actionId),
            (chunk) =>
              store.actions.markWriteAttempted(
                chunk,
                this.deps.workerId,
                at,
                at + Math.max(this.deps.settings.leaseMs, this.deps.settings.requestTimeoutMs),
              ),
          ),
        );
        const owned = sending.filter((s) => marked.has(s.action.actionId));
        let results: SaveResult[];
        try {
          results = owned.length === 0 ? [] : await api.createRecords(owned.map((s) => s.record));
        } catch (error) {
          const refused = isBridgeError(error) && FIELD_REFUSALS.has(error.code) ? error.code : null;
          const found = refused === null ? null : await this.refusalNow(api, auth);
          if (found === null) throw error;
          for (const { action } of owned) {
            decided.set(action.actionId, this.heldForPackage(action, found, auth.username, refused, false));
          }
          return { outcomes: [...decided.values()], pause: null, reauth: null };
        }
        const fieldRefused = (result: SaveResult | undefined) =>
          result?.errors.find((error) => FIELD_REFUSALS.has(error.statusCode))?.statusCode ?? null;
        const found = results.some((result) => fieldRefused(result) !== null) ? await this.refusalNow(api, auth) : null;
        await mapInSlices(owned, (item, index) => {
          const result = results[index];
          const refused = fieldRefused(result);
          if (found !== null && refused !== null) {
            decided.set(item.action.actionId, this.heldForPackage(item.action, found, auth.username, refused, false));
          } else if (result?.success === true && result.id !== null) {
            decided.set(item.action.actionId, {
              ...item.outcome,
              sfEventId: result.id,
              errorCode: null,
              errorMessage: null,
            });
          } else {
            decided.set(
              item.action.actionId,
              this.recordFailure(item.action, item.outcome, result?.errors ?? [], item.ownerFromPolicy),
            );
          }
        });
      }
      return { outcomes: [...decided.values()], pause: null, reauth: null };
    } catch (error) {
      const rest = actions.filter((a) => !decided.has(a.actionId));
      const handled = this.groupFailure(authId, rest, error);
      return { ...handled, outcomes: [...decided.values(), ...handled.outcomes] };
    }
  }

  /**
   * The package is missing, or the user cannot write its fields: the action waits, held with
   * the fix, until a later check finds it fixed (PolicyHolds brings it back). The fix goes to
   * the inbox's sync health too, which Salesforce shows wherever the user may still write it.
   * `keepWriteAttempted`: false when Salesforce has just refused this very write (nothing was
   * created), true when an earlier send's outcome may still be unknown.
   */
  private heldForPackage(
    action: StoredAction,
    refusal: PackageRefusal,
    username: string,
    errorCode: string | null,
    keepWriteAttempted: boolean,
  ): ActionOutcome {
    const message = packageHoldMessage(refusal, username);
    if (action.linkId !== null) {
      this.deps.policyHolds.add(this.orgId, action.linkId);
      this.deps.health.recordError(action.linkId, this.deps.now(), message);
    }
    return {
      actionId: action.actionId,
      state: 'held',
      reason: refusal.state,
      keepWriteAttempted,
      errorCode,
      errorMessage: message,
    };
  }

  /** After Salesforce refused a field: the package access checked again now; what keeps Events out, if that is it. */
  private async refusalNow(api: SalesforceApi, auth: { id: string; username: string }): Promise<PackageRefusal | null> {
    await this.deps.policies.refresh(api, this.orgId, auth, { force: true });
    return this.deps.policies.refusalOf(auth.id);
  }

  /** Finds the Events already written for these actions (an earlier send whose outcome was lost). */
  private existingEventsLookup(actionIds: string[], found: Map<string, string>): Lookup {
    const field = this.fields.actionId;
    return {
      queries: chunkValues(actionIds).map(
        (chunk) => `SELECT Id, ${field} FROM Event WHERE ${field} IN (${chunk.map(soqlString).join(', ')})`,
      ),
      apply: (results) => {
        for (const record of results.flat()) {
          const actionId = record[field];
          if (typeof actionId === 'string' && !found.has(actionId)) found.set(actionId, record.Id);
        }
      },
    };
  }

  private recordFailure(
    action: StoredAction,
    intended: ActionOutcome,
    errors: RecordError[],
    ownerFromPolicy: boolean,
  ): ActionOutcome {
    const first = errors[0] ?? { statusCode: 'UNKNOWN_ERROR', message: 'Salesforce gave no reason', fields: [] };
    if (RETRYABLE_RECORD_ERRORS.has(first.statusCode)) {
      return this.retryLater(action, first.statusCode, first.message, undefined, false);
    }
    if (first.fields.includes('OwnerId') && ownerFromPolicy && intended.ownerId) {
      // The policy's default owner turned inactive since it was checked: the next attempt
      // uses the link's default owner (and the match record says so).
      this.deps.policies.forgetOwner(this.orgId, intended.ownerId);
      return this.retryLater(action, first.statusCode, first.message, undefined, false);
    }
    if (first.fields.includes('WhoId') && intended.whoId) {
      this.matcher.forgetRecord(intended.whoId);
      if (GONE_RECORD_ERRORS.has(first.statusCode)) {
        // Deleted, or merged into another record: match once more, afresh, before giving up.
        if (!action.rematch) {
          return {
            ...this.postpone(action, this.deps.now()),
            keepWriteAttempted: false,
            rematch: true,
            errorCode: first.statusCode,
            errorMessage: first.message,
          };
        }
        return {
          actionId: action.actionId,
          state: 'failed',
          reason: 'matched_record_deleted',
          whoId: intended.whoId,
          ownerId: intended.ownerId ?? null,
          match: intended.match ?? null,
          errorCode: first.statusCode,
          errorMessage: first.message,
        };
      }
    }
    if (first.fields.includes('OwnerId') && intended.ownerId) this.owners.forgetUser(intended.ownerId);
    return {
      actionId: action.actionId,
      state: 'failed',
      reason: 'salesforce_rejected',
      whoId: intended.whoId ?? null,
      ownerId: intended.ownerId ?? null,
      match: intended.match ?? null,
      errorCode: first.statusCode,
      errorMessage: errors
        .map((e) => (e.fields.length > 0 ? `${e.message} (${e.fields.join(', ')})` : e.message))
        .join(' / '),
    };
  }

  /** A look-up this action needed was refused or failed: this action alone waits or fails, the batch goes on. */
  private lookupFailed(action: StoredAction, failure: BridgeError, match: MatchRecord): ActionOutcome {
    const message = failure.remoteMessage ?? failure.message;
    if (failure.kind === 'retryable') return this.retryLater(action, failure.code, message, failure.retryAt, true);
    return {
      actionId: action.actionId,
      state: 'failed',
      reason: 'invalid_for_salesforce',
      countAttempt: true,
      keepWriteAttempted: true,
      match,
      errorCode: failure.code,
      errorMessage: message,
    };
  }

  private retryLater(
    action: StoredAction,
    code: string,
    message: string,
    notBefore: number | undefined,
    keepWriteAttempted: boolean,
  ): ActionOutcome {
    const { settings, now, random } = this.deps;
    const attempt = action.attempts + 1;
    if (attempt >= settings.maxAttempts) {
      return {
        actionId: action.actionId,
        state: 'failed',
        reason: 'retries_exhausted',
        countAttempt: true,
        keepWriteAttempted,
        errorCode: code,
        errorMessage: message,
      };
    }
    const due = now() + backoffDelay(attempt, settings.backoffBaseMs, settings.backoffMaxMs, random);
    return {
      actionId: action.actionId,
      state: 'pending',
      reason: null,
      nextAttemptAt: Math.max(due, notBefore ?? 0),
      countAttempt: true,
      keepWriteAttempted,
      errorCode: code,
      errorMessage: message,
    };
  }

  private postpone(action: StoredAction, until: number): ActionOutcome {
    return {
      actionId: action.actionId,
      state: 'pending',
      reason: null,
      nextAttemptAt: until,
      keepWriteAttempted: true,
    };
  }

  private groupFailure(authId: string, actions: StoredAction[], error: unknown): GroupResult {
    const { logger, now, settings } = this.deps;
    const failure = isBridgeError(error)
      ? error
      : new BridgeError('retryable', 'unexpected error while syncing', { code: 'internal_error', cause: error });
    const message = failure.remoteMessage ?? failure.message;
    const log = { orgId: this.orgId, authId, actions: actions.length, kind: failure.kind, code: failure.code };
    switch (failure.kind) {
      case 'retryable':
        if (isOutage(failure)) {
          this.outageInBatch = true;
          const pauseMs = Math.min(OUTAGE_PAUSE_MAX_MS, OUTAGE_PAUSE_FIRST_MS * 2 ** this.outages);
          this.outages += 1;
          const until = now() + pauseMs;
          logger.warn(
            { ...log, pausedUntil: new Date(until).toISOString() },
            `Salesforce is unreachable; the org pauses ${pauseMs} ms: ${failure.message}`,
          );
          return {
            outcomes: actions.map((a) => ({
              ...this.postpone(a, until),
              keepWriteAttempted: true,
              errorCode: failure.code,
              errorMessage: message,
            })),
            pause: { until, reason: `${failure.code}: ${failure.message}` },
            reauth: null,
          };
        }
        if (isBridgeError(error)) logger.warn(log, `sync batch will be retried: ${failure.message}`);
        else logger.error({ ...log, err: error }, 'unexpected error while syncing; will retry');
        return {
          outcomes: actions.map((a) => this.retryLater(a, failure.code, message, failure.retryAt, true)),
          pause: null,
          reauth: null,
        };
      case 'needs_reauth': {
        logger.warn(log, `link needs re-authentication; its actions are held: ${failure.message}`);
        return {
          outcomes: actions.map((a) => ({
            actionId: a.actionId,
            state: 'held' as const,
            reason: 'needs_reauth' as const,
            keepWriteAttempted: true,
            errorCode: failure.code,
            errorMessage: message,
          })),
          pause: null,
          reauth: { authId, reason: `${failure.code}: ${message}` },
        };
      }
      case 'api_budget': {
        const until = Math.max(failure.retryAt ?? 0, now() + settings.budgetPauseMs);
        for (const linkId of new Set(actions.map((a) => a.linkId))) {
          if (linkId !== null) this.deps.health.recordError(linkId, now(), `${failure.code}: ${message}`);
        }
        logger.warn(
          { ...log, pausedUntil: new Date(until).toISOString() },
          `org paused for API budget: ${failure.message}`,
        );
        return {
          outcomes: actions.map((a) => this.postpone(a, until)),
          pause: { until, reason: `${failure.code}: ${failure.message}` },
          reauth: null,
        };
      }
      case 'permanent':
      case 'bad_input':
        logger.error(log, `sync batch rejected: ${failure.message}`);
        return {
          outcomes: actions.map((a) => ({
            actionId: a.actionId,
            state: 'failed' as const,
            reason: 'invalid_for_salesforce' as const,
            countAttempt: true,
            keepWriteAttempted: true,
            errorCode: failure.code,
            errorMessage: message,
          })),
          pause: null,
          reauth: null,
        };
    }
  }
}
