import type { ActionState, Link, OrgState } from '../core/types';
import { isPackageProblem, PACKAGE_PROBLEMS, packageFixText } from '../salesforce/package-access';
import type { LinksStore } from './link-lifecycle';

/**
 * What can be wrong with an inbox's link, each with a fix an admin can act on. The console
 * says each in Japanese and English from its code (`problem.<code>`) and its details; the
 * inbox's admins are e-mailed about those that stop or will stop the sync (src/notices), once
 * per incident.
 */
export type LinkProblemCode =
  | 'not_linked'
  | 'needs_reauth'
  | 'link_disabled'
  | 'org_paused'
  /** The managed package is not installed in the org: install it (then assign the permission set). */
  | 'package_missing'
  /** The authorising user lacks the Integration permission set: assign it to them. */
  | 'field_access_missing'
  | 'failed_actions'
  | 'unmatched_actions'
  // Warnings of the link check (src/notices): the link works, but will not for long.
  /** The authorising user is deactivated in Salesforce: re-authorise with another user. */
  | 'user_inactive'
  /** The authorising user is frozen: their token stops at its next refresh. */
  | 'user_frozen'
  /** The org's refresh-token policy ends the token (`details.expiresAt`; null: ended already). */
  | 'token_expiring'
  /** The user has as many approvals of the app as Salesforce keeps: one more revokes the oldest. */
  | 'approval_limit';

/** What a problem says beside its code, for the console's and the e-mails' texts: names, ISO times, counts. */
export type LinkProblemDetails = Record<string, string | number | boolean | null>;

export interface LinkProblem {
  code: LinkProblemCode;
  /** In English, with the fix. */
  message: string;
  details?: LinkProblemDetails;
  /** When the inbox's admins were e-mailed about it (null: not, or not yet; notices may be off). */
  notifiedAt?: number | null;
}

/** What the last check of the link's authorisation could not see (Salesforce does not show it to that user). */
export type UncheckedFact = 'user_frozen' | 'approvals' | 'token_expiry';

/** When the link's authorisation was last checked for what would break it, and what it could not see. */
export interface LinkCheckSummary {
  checkedAt: number;
  notVisible: UncheckedFact[];
}

export interface InboxHealth {
  inboxId: string;
  link: Link | null;
  status: Link['status'] | 'not_linked';
  /** The last 24 hours; `counts` are of this inbox's actions that changed in it, by state. */
  window: { since: number; until: number };
  counts: Record<ActionState, number>;
  org: (OrgState & { bridgeApiCallsLast24h: number }) | null;
  /** When this inbox's newest synced action was synced (not the org's: other inboxes share it). */
  lastSyncAt: number | null;
  problems: LinkProblem[];
  /** The last check of the link's authorisation (null: none yet, or no link). */
  checks?: LinkCheckSummary | null;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** How an inbox's link is doing: its status, the day's counts, the org's budget and pauses, and what is wrong. */
export async function inboxHealth(store: LinksStore, inboxId: string, until: number): Promise<InboxHealth> {
  const since = until - DAY_MS;
  const link = await store.links.getLinkForInbox(inboxId);
  const counts = await store.actions.countByState({ inboxId, since });
  const problems: InboxHealth['problems'] = [];
  let org: InboxHealth['org'] = null;
  if (link !== null) {
    const state = await store.orgs.getState(link.orgId);
    const bridgeApiCallsLast24h = await store.orgs.countApiCalls(link.orgId, since);
    org = { ...state, bridgeApiCallsLast24h };
    if (link.status === 'needs_reauth') {
      problems.push({
        code: 'needs_reauth',
        message:
          'The Salesforce authorisation has expired or was revoked: re-authorise the link. Actions are held until then.',
      });
    }
    if (link.status === 'disabled') problems.push({ code: 'link_disabled', message: 'The link is disabled.' });
    // The sync's last word on the package, kept with the actions it held: the newest hold says it.
    const [held] = await store.actions.list({
      linkId: link.id,
      states: ['held'],
      reasons: [...PACKAGE_PROBLEMS],
      limit: 1,
    });
    if (held?.reason != null && isPackageProblem(held.reason)) {
      problems.push({
        code: held.reason,
        message: `${packageFixText(held.reason, link.authorizedUsername).en} Actions are held until then, and sync once it is done.`,
      });
    }
    if (state.pausedUntil !== null && state.pausedUntil > until) {
      problems.push({
        code: 'org_paused',
        message: `Syncing to this org is paused until ${new Date(state.pausedUntil).toISOString()} (${state.pauseReason ?? 'no reason recorded'}).`,
      });
    }
  } else {
    problems.push({ code: 'not_linked', message: 'The inbox has no Salesforce link; its actions are not synced.' });
  }
  if (counts.failed > 0) {
    problems.push({ code: 'failed_actions', message: `${counts.failed} action(s) failed in the last 24 hours.` });
  }
  if (counts.unmatched > 0) {
    problems.push({
      code: 'unmatched_actions',
      message: `${counts.unmatched} action(s) matched no Contact or Lead in the last 24 hours.`,
    });
  }
  return {
    inboxId,
    link,
    status: link?.status ?? 'not_linked',
    window: { since, until },
    counts,
    org,
    lastSyncAt: await store.actions.lastSyncedAt(inboxId),
    problems,
  };
}
