import type { Classification } from '../../src/sync/actions-repository';
import { newAction } from './actions-fixtures';
import { describeEachStore } from './databases';

const ORG = '00D000000000001AAA';
const T0 = Date.parse('2026-11-28T02:00:00Z');

describeEachStore('Store: what the metrics read at each scrape', ({ store }) => {
  async function classify(items: Array<Omit<Classification, 'rowKey'> & { actionId: string }>, now: number) {
    await store().transaction(async (tx) => {
      const keys = new Map((await tx.actions.lockReceived(null, 1000)).map((a) => [a.actionId, a.rowKey]));
      await tx.actions.applyClassifications(
        items.map(({ actionId, ...item }) => ({ ...item, rowKey: keys.get(actionId) as string | number })),
        now,
      );
    });
  }

  it('counts every action by state and reason', async () => {
    const actions = Array.from({ length: 5 }, (_, index) => newAction({ receivedAt: T0 + index }));
    await store().actions.ingest(actions);
    const [a, b, c] = actions.map((action) => action.actionId) as [string, string, string];
    await classify(
      [
        { actionId: a, state: 'skipped', reason: 'no_link', linkId: null, orgId: null },
        { actionId: b, state: 'skipped', reason: 'no_link', linkId: null, orgId: null },
        { actionId: c, state: 'pending', reason: null, linkId: 'lnk_a', orgId: ORG },
      ],
      T0,
    );
    const rows = await store().actions.countByStateAndReason();
    expect(rows.sort((x, y) => x.state.localeCompare(y.state))).toEqual([
      { state: 'pending', reason: null, count: 1 },
      { state: 'received', reason: null, count: 2 },
      { state: 'skipped', reason: 'no_link', count: 2 },
    ]);
  });

  it('finds when the oldest waiting action arrived: received ones, and pending ones once they are due', async () => {
    expect(await store().actions.oldestWaitingSince(T0)).toBeNull();
    const [early, late] = [newAction({ receivedAt: T0 - 60_000 }), newAction({ receivedAt: T0 - 10_000 })];
    await store().actions.ingest([early, late]);
    expect(await store().actions.oldestWaitingSince(T0)).toBe(T0 - 60_000);

    // The early one is classified pending but not due before T0 + 5 minutes (a retry later).
    await classify([{ actionId: early.actionId, state: 'pending', reason: null, linkId: 'lnk_a', orgId: ORG }], T0);
    await store().transaction(async (tx) => {
      const [claimed] = await tx.actions.claimDue({ orgId: ORG, limit: 1, leaseOwner: 'w', leaseMs: 1_000, now: T0 });
      await tx.actions.complete(
        [{ actionId: (claimed as { actionId: string }).actionId, state: 'pending', nextAttemptAt: T0 + 300_000 }],
        'w',
        T0,
      );
    });
    expect(await store().actions.oldestWaitingSince(T0)).toBe(T0 - 10_000);
    expect(await store().actions.oldestWaitingSince(T0 + 300_000)).toBe(T0 - 60_000);

    await classify([{ actionId: late.actionId, state: 'skipped', reason: 'no_link', linkId: null, orgId: null }], T0);
    expect(await store().actions.oldestWaitingSince(T0)).toBeNull();
  });
});
