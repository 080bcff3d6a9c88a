import type { ActionReason, Link, StoredAction } from '../core/types';
import type { LinksRepository } from '../links/links-repository';
import type { Store } from '../store/store';
import type { ActionsRepository, Reclassification } from './actions-repository';
import { classifyAction } from './classify';

/** What a retry will do, told before it happens, so that the console can say so truthfully. */
export interface RetryReport {
  /** Actions retried. */
  retried: number;
  /** Of those, how many are due to sync now (matched afresh, past the match cache). */
  willSync: number;
  /** Of those, how many wait, by reason (the link needs re-authentication, is disabled, …). */
  held: Partial<Record<ActionReason, number>>;
  /** Of those, how many will not sync, by reason (`before_link`: it happened before the current link). */
  skipped: Partial<Record<ActionReason, number>>;
  /** Held for a deleted link, with no link yet: left waiting for the inbox's next link. */
  waitingForLink: number;
  /** Ids that were not failed, held or unmatched (synced, skipped, pending, or unknown). */
  notRetryable: number;
}

/**
 * A retry, in one unit of work: each failed, held or unmatched action is classified again
 * against its inbox's link as it is now, and matched afresh (past the match cache, so that a
 * Lead created since is found at once). An action of the current link syncs through it; one
 * from an earlier link is classified like a new one, so one that happened before the current
 * link is `before_link`, and one whose inbox has no link is `no_link`.
 */
export async function retryActions(
  store: Store<{ actions: ActionsRepository; links: LinksRepository }>,
  actionIds: readonly string[],
  syncedKinds: ReadonlySet<string>,
  now: number,
): Promise<RetryReport> {
  const ids = [...new Set(actionIds)];
  return store.transaction(async (tx) => {
    const actions = await tx.actions.retryable(ids);
    const links = new Map<string, Link>(
      (await tx.links.liveLinksOfInboxes([...new Set(actions.map((a) => a.inboxId))])).map((link) => [
        link.inboxId,
        link,
      ]),
    );
    const report: RetryReport = {
      retried: 0,
      willSync: 0,
      held: {},
      skipped: {},
      waitingForLink: 0,
      notRetryable: ids.length - actions.length,
    };
    const items: Reclassification[] = [];
    for (const action of actions) {
      const item = reclassify(action, links.get(action.inboxId) ?? null, syncedKinds);
      if (item === null) {
        report.waitingForLink += 1;
        continue;
      }
      items.push(item);
      if (item.state === 'pending') report.willSync += 1;
      else {
        const bucket = item.state === 'held' ? report.held : report.skipped;
        const reason = item.reason as ActionReason;
        bucket[reason] = (bucket[reason] ?? 0) + 1;
      }
    }
    report.retried = await tx.actions.reclassify(items, now);
    return report;
  });
}

function reclassify(
  action: StoredAction,
  link: Link | null,
  syncedKinds: ReadonlySet<string>,
): Reclassification | null {
  if (link === null && action.state === 'held' && action.reason === 'link_deleted') return null;
  if (link !== null && action.linkId === link.id) {
    // Already the current link's: it goes on through it, whenever it happened.
    const state = link.status === 'active' ? 'pending' : 'held';
    const reason = state === 'pending' ? null : link.status === 'needs_reauth' ? 'needs_reauth' : 'link_disabled';
    return { actionId: action.actionId, state, reason, linkId: link.id, orgId: link.orgId };
  }
  const { state, reason, linkId, orgId } = classifyAction({ ...action, rowKey: action.actionId }, link, syncedKinds);
  return { actionId: action.actionId, state: state === 'failed' ? 'skipped' : state, reason, linkId, orgId };
}
