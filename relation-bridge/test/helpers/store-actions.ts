import { createHash } from 'node:crypto';
import type { IngestResult, NewAction } from '../../src/core/types';
import type { BridgeStore } from '../../src/repositories';
import type { Classification } from '../../src/sync/actions-repository';

/** Commits actions as intake would (one group), for tests that set the store up directly. */
export async function ingestActions(
  store: Pick<BridgeStore, 'actions'>,
  actions: NewAction[],
): Promise<IngestResult[]> {
  return store.actions.ingest(
    actions.map((action) => ({
      ...action,
      bodyHash: createHash('sha256').update(JSON.stringify(action.payload)).digest('hex'),
    })),
  );
}

/** Classifies received actions by id, as the engine would after reading them. */
export async function classifyActions(
  store: Pick<BridgeStore, 'transaction'>,
  items: Array<Omit<Classification, 'rowKey'> & { actionId: string }>,
  now: number,
): Promise<number> {
  return store.transaction(async (tx) => {
    const keys = new Map<string, string | number>();
    let after: { receivedAt: number; rowKey: string | number } | null = null;
    for (;;) {
      const page = await tx.actions.lockReceived(after, 1000);
      for (const action of page) keys.set(action.actionId, action.rowKey);
      const last = page[page.length - 1];
      if (page.length < 1000 || last === undefined) break;
      after = { receivedAt: last.receivedAt, rowKey: last.rowKey };
    }
    const known = items.filter((item) => keys.has(item.actionId));
    return tx.actions.applyClassifications(
      known.map(({ actionId, ...item }) => ({ ...item, rowKey: keys.get(actionId) as string | number })),
      now,
    );
  });
}
