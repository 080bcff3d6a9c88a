import { BridgeError, isBridgeError } from '../core/errors';
import type { Link, MatchCandidate, MatchRecord, StoredAction } from '../core/types';
import type { Logger } from '../logging';
import { soqlString } from '../salesforce/soql';
import type { NewRecord, RecordError } from '../salesforce/types';
import type { ActionOutcome, Store } from '../store/store';
import { backoffDelay } from './backoff';
import { buildEvent, packagedFieldNames, type EventFieldNames } from './event-builder';
import type { HealthReporter } from './health';
import { chunkValues, runLookups, type Lookup } from './lookups';
import type { LruCache } from './lru-cache';
import { CustomerMatcher } from './matcher';
import { OwnerResolver } from './owners';
import { applyPolicy, type EffectiveLink, type PolicyCache } from './policies';
import type { PolicyHolds } from './policy-holds';
import type { SalesforceSessions } from './sessions';

export interface PipelineSettings {
  batchSize: number;
  leaseMs: number;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  budgetPauseMs: number;
  namespace: string;
  language: 'ja' | 'en';
}

export interface PipelineDeps {
  store: Store;
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
}

export interface BatchReport {
  claimed: number;
  synced: number;
  unmatched: number;
  failed: number;
  held: number;
  retrying: number;
  paused: boolean;
}

interface GroupResult {
  outcomes: ActionOutcome[];
  /** Set when the org was paused for its API budget. */
  pausedUntil: number | null;
  reauthLinks: string[];
}

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

  constructor(
    readonly orgId: string,
    private readonly deps: PipelineDeps,
  ) {
    this.matcher = new CustomerMatcher(deps.matchCache, orgId);
    this.owners = new OwnerResolver(deps.ownerCache, orgId);
    this.fields = packagedFieldNames(deps.settings.namespace);
  }

  /** Runs batches until the org has nothing due (or is paused). */
  async drain(): Promise<BatchReport[]> {
    const reports: BatchReport[] = [];
    for (;;) {
      const report = await this.runBatch();
      if (report.claimed > 0) reports.push(report);
      if (report.paused || report.claimed < this.deps.settings.batchSize) return reports;
    }
  }

  async runBatch(): Promise<BatchReport> {
    const { store, settings, now, workerId, logger } = this.deps;
    const report: BatchReport = { claimed: 0, synced: 0, unmatched: 0, failed: 0, held: 0, retrying: 0, paused: false };
    const state = await store.getOrgState(this.orgId);
    if (state.pausedUntil !== null) {
      if (state.pausedUntil > now()) return { ...report, paused: true };
      await store.setOrgPause(this.orgId, null, null);
      logger.info({ orgId: this.orgId }, 'org pause over: sync resumes');
    }
    const claimed = await store.claimDueActions({
      orgId: this.orgId,
      limit: settings.batchSize,
      leaseOwner: workerId,
      leaseMs: settings.leaseMs,
      now: now(),
    });
    report.claimed = claimed.length;
    if (claimed.length === 0) return report;

    const links = new Map<string, Link | null>();
    for (const linkId of new Set(claimed.map((a) => a.linkId).filter((id): id is string => id !== null))) {
      links.set(linkId, await store.getLink(linkId));
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

    const reauthLinks: string[] = [];
    let pausedUntil: number | null = null;
    for (const [authId, actions] of byAuth) {
      if (pausedUntil !== null) {
        const until = pausedUntil;
        outcomes.push(...actions.map((a) => this.postpone(a, until)));
        continue;
      }
      const result = await this.syncGroup(authId, actions, links);
      outcomes.push(...result.outcomes);
      pausedUntil = result.pausedUntil;
      reauthLinks.push(...result.reauthLinks);
    }
    report.paused = pausedUntil !== null;

    await store.completeActions(outcomes, workerId, now());
    for (const linkId of reauthLinks) await store.holdLinkActions(linkId, 'needs_reauth', now());
    this.reportHealth(claimed, outcomes);
    for (const outcome of outcomes) {
      if (outcome.state === 'synced') report.synced += 1;
      else if (outcome.state === 'unmatched') report.unmatched += 1;
      else if (outcome.state === 'failed') report.failed += 1;
      else if (outcome.state === 'held') report.held += 1;
      else if (outcome.state === 'pending') report.retrying += 1;
    }
    if (report.synced > 0) await store.recordOrgSync(this.orgId, now());
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
      const auth = await store.getAuth(authId);
      if (auth === null) {
        throw new BridgeError('needs_reauth', 'the Salesforce authorisation of this link is missing', {
          code: 'auth_missing',
        });
      }
      const api = sessions.clientFor(auth);
      const query = (queries: string[]) => api.queryManySettled(queries);
      // The org's link policies decide what each action is matched against, so a stale read is
      // renewed first (sharing its call with the look-up of uncertain sends, when there is one).
      let policyRead: Lookup[] = policies.isFresh(this.orgId) ? [] : [policies.lookupFor(this.orgId)];

      let toSend = actions;
      const uncertain = actions.filter((a) => a.writeAttemptedAt !== null);
      if (uncertain.length > 0) {
        const existing = new Map<string, string>();
        await runLookups(query, [
          this.existingEventsLookup(
            uncertain.map((a) => a.actionId),
            existing,
          ),
          ...policyRead,
        ]);
        policyRead = [];
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
        toSend = actions.filter((a) => !existing.has(a.actionId));
      }
      if (toSend.length === 0) return { outcomes: [...decided.values()], pausedUntil: null, reauthLinks: [] };

      await runLookups(query, policyRead);
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
      for (const action of toSend) {
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
        // A lease that ran out meanwhile may belong to another worker now: send only what is still ours.
        const marked = new Set(
          await store.markWriteAttempted(
            sending.map((s) => s.action.actionId),
            this.deps.workerId,
            this.deps.now(),
          ),
        );
        const owned = sending.filter((s) => marked.has(s.action.actionId));
        const results = owned.length === 0 ? [] : await api.createRecords(owned.map((s) => s.record));
        owned.forEach((item, index) => {
          const result = results[index];
          if (result?.success === true && result.id !== null) {
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
      return { outcomes: [...decided.values()], pausedUntil: null, reauthLinks: [] };
    } catch (error) {
      const rest = actions.filter((a) => !decided.has(a.actionId));
      const handled = await this.groupFailure(authId, rest, error);
      return { ...handled, outcomes: [...decided.values(), ...handled.outcomes] };
    }
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
    if (first.fields.includes('WhoId') && intended.whoId) this.matcher.forgetRecord(intended.whoId);
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

  private async groupFailure(authId: string, actions: StoredAction[], error: unknown): Promise<GroupResult> {
    const { store, logger, now, settings } = this.deps;
    const failure = isBridgeError(error)
      ? error
      : new BridgeError('retryable', 'unexpected error while syncing', { code: 'internal_error', cause: error });
    const message = failure.remoteMessage ?? failure.message;
    const log = { orgId: this.orgId, authId, actions: actions.length, kind: failure.kind, code: failure.code };
    switch (failure.kind) {
      case 'retryable':
        if (isBridgeError(error)) logger.warn(log, `sync batch will be retried: ${failure.message}`);
        else logger.error({ ...log, err: error }, 'unexpected error while syncing; will retry');
        return {
          outcomes: actions.map((a) => this.retryLater(a, failure.code, message, failure.retryAt, true)),
          pausedUntil: null,
          reauthLinks: [],
        };
      case 'needs_reauth': {
        const linkIds = await store.setLinkStatusByAuth(authId, 'needs_reauth', `${failure.code}: ${message}`, now());
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
          pausedUntil: null,
          reauthLinks: linkIds,
        };
      }
      case 'api_budget': {
        const until = Math.max(failure.retryAt ?? 0, now() + settings.budgetPauseMs);
        await store.setOrgPause(this.orgId, until, `${failure.code}: ${failure.message}`);
        for (const linkId of new Set(actions.map((a) => a.linkId))) {
          if (linkId !== null) this.deps.health.recordError(linkId, now(), `${failure.code}: ${message}`);
        }
        logger.warn(
          { ...log, pausedUntil: new Date(until).toISOString() },
          `org paused for API budget: ${failure.message}`,
        );
        return { outcomes: actions.map((a) => this.postpone(a, until)), pausedUntil: until, reauthLinks: [] };
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
          pausedUntil: null,
          reauthLinks: [],
        };
    }
  }
}
