import { isSyncableChannel } from '../core/channels';
import type { Link } from '../core/types';
import type { Classification, ReceivedAction } from './actions-repository';

/**
 * Decides, for a freshly received action, whether it is to be synced and through which
 * link, or why not. Intrinsic reasons (channel, kind) come before the link's, so that the
 * log says the most permanent reason.
 */
export function classifyAction(
  action: ReceivedAction,
  link: Link | null,
  syncedKinds: ReadonlySet<string>,
): Classification {
  const skip = (reason: Classification['reason']): Classification => ({
    rowKey: action.rowKey,
    state: 'skipped',
    reason,
    linkId: link?.id ?? null,
    orgId: link?.orgId ?? null,
  });
  if (!isSyncableChannel(action.channel)) return skip('channel_not_supported');
  if (!syncedKinds.has(action.kind)) return skip('kind_not_synced');
  if (link === null || link.status === 'deleted') return { ...skip('no_link'), linkId: null, orgId: null };
  // No backfill: only actions that happened after the link existed are synced.
  if (action.occurredAt < link.createdAt) return skip('before_link');
  if (link.status === 'needs_reauth' || link.status === 'disabled') {
    return {
      rowKey: action.rowKey,
      state: 'held',
      reason: link.status === 'needs_reauth' ? 'needs_reauth' : 'link_disabled',
      linkId: link.id,
      orgId: link.orgId,
    };
  }
  return { rowKey: action.rowKey, state: 'pending', reason: null, linkId: link.id, orgId: link.orgId };
}
