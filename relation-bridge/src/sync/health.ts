import { isBridgeError } from '../core/errors';
import type { Link, OrgState } from '../core/types';
import type { Logger } from '../logging';
import type { NewRecord } from '../salesforce/types';
import type { LinksRepository } from '../links/links-repository';
import type { Store } from '../store/store';
import type { ActionsRepository } from './actions-repository';
import type { OrgRepository } from './org-repository';
import { cutText } from './event-builder';
import { applyPolicy, PACKAGE_ABSENT_CODES, type PolicyCache } from './policies';
import type { SalesforceSessions } from './sessions';
import { type HealthNames, packageApiNames } from '../salesforce/package-names';

export interface HealthSettings {
  /** At most one upsert per org (so per inbox) in this time. */
  intervalMs: number;
  namespace: string;
}

/** `Link_State__c` of the health record. */
export type LinkState = 'Active' | 'Needs_Reauth' | 'Paused' | 'Disabled';

export type { HealthNames };

/** The packaged health object and its fields under the namespace prefix ('' = none). */
export function healthNames(namespace: string): HealthNames {
  return packageApiNames(namespace).syncHealth;
}

const DAY_MS = 24 * 60 * 60_000;
/** An org with no news still gets its counts (and the bridge's heartbeat) refreshed this often. */
const HEARTBEAT_MS = 60 * 60_000;
/** How long an org without the health object (package not installed) is left alone. */
const ABSENT_RECHECK_MS = 60 * 60_000;
const NAME_MAX = 80;
const MESSAGE_MAX = 4000;

interface InboxActivity {
  lastSuccessAt: number | null;
  lastErrorAt: number | null;
  lastErrorMessage: string | null;
}

interface OrgReport {
  /** Something changed since the last upsert. */
  dirty: boolean;
  lastSentAt: number | null;
  /** The org has no health object: nothing is sent before this. */
  absentUntil: number | null;
}

/**
 * Keeps one `Inbox_Sync_Health__c` record per inbox up to date in the inbox's org: its link
 * state, last success, last error with Salesforce's message, and the day's counts. All
 * inboxes of an org go in one sObject Collections upsert, at most once per interval, and
 * only when something changed (or hourly, as a heartbeat). Writing health never fails or
 * delays the sync: a failed upsert is logged and tried again at the next interval.
 *
 * Last success and last error are what this process saw; after a restart they are left
 * out of the upsert (so Salesforce keeps the earlier values) until they happen again.
 */
export class HealthReporter {
  private readonly orgs = new Map<string, OrgReport>();
  private readonly activity = new Map<string, InboxActivity>();
  private lastScanAt: number | null = null;
  private flushing: Promise<number> | null = null;
  readonly names: HealthNames;

  constructor(
    private readonly deps: {
      store: Store<{ actions: ActionsRepository; links: LinksRepository; orgs: OrgRepository }>;
      sessions: SalesforceSessions;
      policies: PolicyCache;
      settings: HealthSettings;
      logger: Logger;
      now: () => number;
    },
  ) {
    this.names = healthNames(deps.settings.namespace);
  }

  recordSuccess(linkId: string, at: number): void {
    this.activityOf(linkId).lastSuccessAt = at;
  }

  recordError(linkId: string, at: number, message: string): void {
    const activity = this.activityOf(linkId);
    activity.lastErrorAt = at;
    activity.lastErrorMessage = message;
  }

  /** The org's health changed (a batch ran, a pause, a link's status): upsert at the next chance. */
  markChanged(orgId: string): void {
    this.reportOf(orgId).dirty = true;
  }

  /**
   * Upserts the health records of every org that has news and whose interval has passed.
   * Returns how many orgs were written; never throws. A call while one runs joins it.
   */
  flushDue(): Promise<number> {
    this.flushing ??= this.flushOnce().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async flushOnce(): Promise<number> {
    const now = this.deps.now();
    try {
      let links: Link[] | null = null;
      if (this.lastScanAt === null || now - this.lastScanAt >= this.deps.settings.intervalMs) {
        this.lastScanAt = now;
        links = await this.deps.store.links.listLinks();
        for (const orgId of new Set(links.map((link) => link.orgId))) {
          const report = this.reportOf(orgId);
          if (report.lastSentAt === null || now - report.lastSentAt >= HEARTBEAT_MS) report.dirty = true;
        }
      }
      const due = [...this.orgs].filter(([, report]) => this.isDue(report, now)).map(([orgId]) => orgId);
      if (due.length === 0) return 0;
      links ??= await this.deps.store.links.listLinks();
      let written = 0;
      for (const orgId of due) {
        const orgLinks = links.filter((link) => link.orgId === orgId);
        if (await this.send(orgId, orgLinks, now)) written += 1;
      }
      return written;
    } catch (error) {
      this.deps.logger.error({ err: error }, 'sync health could not be prepared; trying again at the next interval');
      return 0;
    }
  }

  private isDue(report: OrgReport, now: number): boolean {
    if (!report.dirty) return false;
    if (report.absentUntil !== null && report.absentUntil > now) return false;
    return report.lastSentAt === null || now - report.lastSentAt >= this.deps.settings.intervalMs;
  }

  private async send(orgId: string, links: Link[], now: number): Promise<boolean> {
    const { store, sessions, logger } = this.deps;
    const report = this.reportOf(orgId);
    if (links.length === 0) {
      report.dirty = false;
      return false;
    }
    // Set before trying, so that a failure waits for the next interval.
    report.lastSentAt = now;
    // Any authorisation of the org can write; one whose link needs re-authentication may
    // still hold a working access token.
    const writer = links.find((link) => link.status === 'active') ?? (links[0] as Link);
    const auth = await store.links.getAuth(writer.authId);
    if (auth === null) return false;
    const state = await store.orgs.getState(orgId);
    const records: NewRecord[] = [];
    for (const link of links) records.push(await this.recordFor(link, state, now));
    try {
      const results = await sessions
        .clientFor(auth, 'health')
        .upsertRecords(this.names.type, this.names.inboxId, records);
      report.dirty = false;
      report.absentUntil = null;
      results.forEach((result, index) => {
        if (!result.success) {
          logger.warn(
            { orgId, inboxId: links[index]?.inboxId, errors: result.errors },
            'Salesforce refused a sync health record',
          );
        }
      });
      return true;
    } catch (error) {
      // Without the package, or without its Integration permission set, the health object is
      // not there for this user, so the record cannot say what is wrong exactly when it matters
      // most (the Events fail for the same reason). The fix is shown by the bridge instead: the
      // link health (admin API and console) and the held actions name it. Where the object is
      // writable and only the Activity fields are out of reach, the record's last error does.
      if (isBridgeError(error) && PACKAGE_ABSENT_CODES.has(error.code)) {
        if (report.absentUntil === null) {
          logger.info(
            { orgId, code: error.code, message: error.remoteMessage ?? error.message },
            `the org has no sync health object ${this.names.type} (managed package not installed, or no access to it); ` +
              'health is not written there',
          );
        }
        report.absentUntil = now + ABSENT_RECHECK_MS;
        return false;
      }
      const kind = isBridgeError(error) ? error.kind : 'unexpected';
      // No token works for the org: nothing to do until a re-authentication (or the heartbeat).
      if (kind === 'needs_reauth') report.dirty = false;
      // A paused org is expected to refuse calls; that is no news for the log.
      logger[kind === 'api_budget' ? 'debug' : 'warn'](
        {
          orgId,
          kind,
          code: isBridgeError(error) ? error.code : undefined,
          message: error instanceof Error ? error.message : String(error),
        },
        'sync health could not be written to Salesforce; trying again at the next interval',
      );
      return false;
    }
  }

  private async recordFor(link: Link, state: OrgState, now: number): Promise<NewRecord> {
    const { store } = this.deps;
    const names = this.names;
    const day = await store.actions.countByState({ linkId: link.id, since: now - DAY_MS });
    const all = await store.actions.countByState({ linkId: link.id });
    const activity = this.activity.get(link.id);
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      attributes: { type: names.type },
      Name: cutText(link.inboxName ?? link.inboxId, NAME_MAX),
      [names.inboxId]: link.inboxId,
      [names.linkState]: this.linkState(link, state, now),
      [names.synced24h]: day.synced,
      [names.pending]: all.pending + all.held,
      [names.failed24h]: day.failed,
      [names.unmatched24h]: day.unmatched,
      [names.bridgeUpdatedAt]: iso(now),
      ...(activity?.lastSuccessAt ? { [names.lastSuccessAt]: iso(activity.lastSuccessAt) } : {}),
      ...(activity?.lastErrorAt
        ? {
            [names.lastErrorAt]: iso(activity.lastErrorAt),
            [names.lastErrorMessage]: cutText(activity.lastErrorMessage ?? '', MESSAGE_MAX),
          }
        : {}),
    };
  }

  private linkState(link: Link, state: OrgState, now: number): LinkState {
    if (link.status === 'needs_reauth') return 'Needs_Reauth';
    if (link.status === 'disabled') return 'Disabled';
    if (!applyPolicy(link, this.deps.policies.current(link.orgId)).active) return 'Disabled';
    if (state.pausedUntil !== null && state.pausedUntil > now) return 'Paused';
    return 'Active';
  }

  private activityOf(linkId: string): InboxActivity {
    let activity = this.activity.get(linkId);
    if (activity === undefined) {
      activity = { lastSuccessAt: null, lastErrorAt: null, lastErrorMessage: null };
      this.activity.set(linkId, activity);
    }
    return activity;
  }

  private reportOf(orgId: string): OrgReport {
    let report = this.orgs.get(orgId);
    if (report === undefined) {
      report = { dirty: false, lastSentAt: null, absentUntil: null };
      this.orgs.set(orgId, report);
    }
    return report;
  }
}
