import type { ActionReason } from '../../src/core/types';
import type { Classification, IncomingAction } from '../../src/sync/actions-repository';
import { newAction } from './actions-fixtures';
import { countRows, describeEachStore } from './databases';

const ORG = '00D000000000001AAA';
const OTHER_ORG = '00D000000000002AAA';
const LINK = 'lnk_a';
const T0 = Date.parse('2026-11-28T02:00:00Z');
const LEASE_MS = 60_000;

describeEachStore('Store: the actions of the sync, from classification to outcomes', ({ store }) => {
  const ingest = (action: IncomingAction) =>
    store()
      .actions.ingest([action])
      .then(([result]) => result);

  /** The received actions in arrival order, as classification reads them. */
  const received = (limit: number) =>
    store().transaction(async (tx) => (await tx.actions.lockReceived(null, limit)).map((action) => action.actionId));

  /** Classifies actions by id (classification itself addresses rows by their row key). */
  async function classify(
    items: Array<Omit<Classification, 'rowKey'> & { actionId: string }>,
    now: number,
  ): Promise<number> {
    return store().transaction(async (tx) => {
      const page = await tx.actions.lockReceived(null, 1000);
      const keys = new Map(page.map((action) => [action.actionId, action.rowKey]));
      const known = items.filter((item) => keys.has(item.actionId));
      return tx.actions.applyClassifications(
        known.map(({ actionId, ...item }) => ({ ...item, rowKey: keys.get(actionId) as string | number })),
        now,
      );
    });
  }

  /** Ingests the actions and classifies them pending for the org, due at T0. */
  async function pendingActions(count: number, orgId = ORG, linkId = LINK): Promise<IncomingAction[]> {
    const actions = Array.from({ length: count }, () => newAction());
    await store().actions.ingest(actions);
    await classify(
      actions.map((action) => ({ actionId: action.actionId, state: 'pending' as const, reason: null, linkId, orgId })),
      T0,
    );
    return actions;
  }

  const claim = (leaseOwner: string, now: number, limit = 10, orgId = ORG) =>
    store().actions.claimDue({ orgId, limit, leaseOwner, leaseMs: LEASE_MS, now });

  it('lists received actions in arrival order and classifies only those still received', async () => {
    const [early, late] = [newAction({ receivedAt: T0 - 2 }), newAction({ receivedAt: T0 - 1 })] as [
      IncomingAction,
      IncomingAction,
    ];
    await ingest(late);
    await ingest(early);
    expect(await received(10)).toEqual([early.actionId, late.actionId]);

    await classify([{ actionId: early.actionId, state: 'skipped', reason: 'no_link', linkId: null, orgId: null }], T0);
    await classify([{ actionId: early.actionId, state: 'pending', reason: null, linkId: LINK, orgId: ORG }], T0 + 1);
    expect(await store().actions.get(early.actionId)).toMatchObject({
      state: 'skipped',
      reason: 'no_link',
      updatedAt: T0,
    });
    expect(await received(10)).toEqual([late.actionId]);
  });

  it('keeps actions classified as held out of claims until their link resumes', async () => {
    const action = newAction();
    await ingest(action);
    await classify(
      [{ actionId: action.actionId, state: 'held', reason: 'needs_reauth', linkId: LINK, orgId: ORG }],
      T0,
    );
    expect(await claim('worker-1', T0)).toEqual([]);
    expect(await store().actions.resumeHeld(LINK, T0 + 5)).toBe(1);
    expect((await claim('worker-1', T0 + 5)).map((a) => a.actionId)).toEqual([action.actionId]);
  });

  it('lists the orgs with due, unleased pending actions', async () => {
    await pendingActions(1, ORG);
    await pendingActions(1, OTHER_ORG);
    expect((await store().actions.orgsWithDueActions(T0)).sort()).toEqual([ORG, OTHER_ORG]);
    expect(await store().actions.orgsWithDueActions(T0 - 1)).toEqual([]);
    await claim('worker-1', T0, 10, OTHER_ORG);
    expect(await store().actions.orgsWithDueActions(T0)).toEqual([ORG]);
  });

  it('claims due actions of one org oldest first, and never the same action for two live leases', async () => {
    const actions = await pendingActions(3);
    await pendingActions(2, OTHER_ORG);
    const first = await claim('worker-1', T0, 2);
    expect(first.map((a) => a.actionId)).toEqual(actions.slice(0, 2).map((a) => a.actionId));
    const second = await claim('worker-2', T0 + 1);
    expect(second.map((a) => a.actionId)).toEqual([actions[2]?.actionId]);
    expect(await claim('worker-3', T0 + 2)).toEqual([]);
  });

  it('does not claim actions whose next attempt is later', async () => {
    const [action] = (await pendingActions(1)) as [IncomingAction];
    await claim('worker-1', T0);
    await store().actions.complete(
      [{ actionId: action.actionId, state: 'pending', nextAttemptAt: T0 + 30_000, countAttempt: true }],
      'worker-1',
      T0,
    );
    expect(await claim('worker-1', T0 + 29_999)).toEqual([]);
    const due = await claim('worker-1', T0 + 30_000);
    expect(due).toHaveLength(1);
    expect(due[0]).toMatchObject({ attempts: 1, nextAttemptAt: T0 + 30_000 });
  });

  it('gives a crashed worker’s actions to another worker once the lease expired', async () => {
    const actions = await pendingActions(2);
    await claim('worker-crashed', T0);
    expect(await claim('worker-2', T0 + LEASE_MS - 1)).toEqual([]);
    const reclaimed = await claim('worker-2', T0 + LEASE_MS);
    expect(reclaimed.map((a) => a.actionId)).toEqual(actions.map((a) => a.actionId));
  });

  it('refuses to mark a send for, and ignores the outcome of, a worker whose lease expired and was claimed by another', async () => {
    const [action] = (await pendingActions(1)) as [IncomingAction];
    await claim('worker-slow', T0);
    await claim('worker-2', T0 + LEASE_MS);

    expect(
      await store().actions.markWriteAttempted([action.actionId], 'worker-slow', T0 + LEASE_MS + 1, T0 + LEASE_MS + 1),
    ).toEqual([]);
    await store().actions.complete(
      [
        {
          actionId: action.actionId,
          state: 'failed',
          reason: 'salesforce_rejected',
          errorCode: 'X',
          errorMessage: 'stale',
        },
      ],
      'worker-slow',
      T0 + LEASE_MS + 2,
    );
    expect(await store().actions.get(action.actionId)).toMatchObject({
      state: 'pending',
      writeAttemptedAt: null,
      errorCode: null,
    });

    await store().actions.complete(
      [{ actionId: action.actionId, state: 'synced', reason: null, sfEventId: '00U000000000001AAA' }],
      'worker-2',
      T0 + LEASE_MS + 3,
    );
    expect(await store().actions.get(action.actionId)).toMatchObject({
      state: 'synced',
      sfEventId: '00U000000000001AAA',
    });
  });

  it('a worker whose lease expired but was not re-claimed still records its outcome', async () => {
    const [action] = (await pendingActions(1)) as [IncomingAction];
    await claim('worker-1', T0);
    await store().actions.complete(
      [{ actionId: action.actionId, state: 'synced', sfEventId: '00U1' }],
      'worker-1',
      T0 + LEASE_MS * 2,
    );
    expect(await store().actions.get(action.actionId)).toMatchObject({ state: 'synced', sfEventId: '00U1' });
  });

  it('keeps the write-attempted marker when the outcome is unknown, and clears it otherwise', async () => {
    const [uncertain, retried] = (await pendingActions(2)) as [IncomingAction, IncomingAction];
    await claim('worker-1', T0);
    expect(
      await store().actions.markWriteAttempted([uncertain.actionId, retried.actionId], 'worker-1', T0 + 5, T0 + 5),
    ).toEqual([uncertain.actionId, retried.actionId]);
    expect(await store().actions.get(uncertain.actionId)).toMatchObject({ writeAttemptedAt: T0 + 5 });

    await store().actions.complete(
      [
        {
          actionId: uncertain.actionId,
          state: 'pending',
          nextAttemptAt: T0 + 10,
          countAttempt: true,
          keepWriteAttempted: true,
          errorCode: 'timeout',
        },
        {
          actionId: retried.actionId,
          state: 'pending',
          nextAttemptAt: T0 + 10,
          countAttempt: true,
          errorCode: 'UNABLE_TO_LOCK_ROW',
        },
      ],
      'worker-1',
      T0 + 6,
    );
    const next = await claim('worker-2', T0 + 10);
    const byId = new Map(next.map((a) => [a.actionId, a]));
    expect(byId.get(uncertain.actionId)).toMatchObject({ writeAttemptedAt: T0 + 5, attempts: 1, errorCode: 'timeout' });
    expect(byId.get(retried.actionId)).toMatchObject({
      writeAttemptedAt: null,
      attempts: 1,
      errorCode: 'UNABLE_TO_LOCK_ROW',
    });
  });

  it('does not count an attempt when told not to (a budget pause)', async () => {
    const [action] = (await pendingActions(1)) as [IncomingAction];
    await claim('worker-1', T0);
    await store().actions.complete(
      [{ actionId: action.actionId, state: 'pending', nextAttemptAt: T0 + 1_000 }],
      'worker-1',
      T0,
    );
    expect(await store().actions.get(action.actionId)).toMatchObject({ attempts: 0, nextAttemptAt: T0 + 1_000 });
  });

  it('records the match, the Event and the owner, and keeps them when a later outcome omits them', async () => {
    const [action] = (await pendingActions(1)) as [IncomingAction];
    const match = {
      rule: 'contact_then_lead/newest',
      chosen: {
        id: '003A',
        object: 'Contact' as const,
        via: 'email' as const,
        value: 'taro.yamada@example.com',
        createdDate: '2026-01-01T00:00:00Z',
      },
      candidates: [],
    };
    await claim('worker-1', T0);
    await store().actions.complete(
      [
        {
          actionId: action.actionId,
          state: 'failed',
          reason: 'salesforce_rejected',
          whoId: '003A',
          ownerId: '005A',
          match,
          errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
          errorMessage: '件名は必須です',
        },
      ],
      'worker-1',
      T0 + 1,
    );
    expect(await store().actions.get(action.actionId)).toMatchObject({
      state: 'failed',
      reason: 'salesforce_rejected',
      whoId: '003A',
      ownerId: '005A',
      match,
      errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
      errorMessage: '件名は必須です',
      updatedAt: T0 + 1,
    });

    await store().actions.reclassify(
      [{ actionId: action.actionId, state: 'pending', reason: null, linkId: LINK, orgId: ORG }],
      T0 + 2,
    );
    await claim('worker-1', T0 + 2);
    await store().actions.complete(
      [{ actionId: action.actionId, state: 'synced', sfEventId: '00U9' }],
      'worker-1',
      T0 + 3,
    );
    expect(await store().actions.get(action.actionId)).toMatchObject({
      state: 'synced',
      reason: null,
      sfEventId: '00U9',
      whoId: '003A',
      match,
      errorCode: null,
      errorMessage: null,
    });
  });

  it('holds the pending actions of a link, and resumes them due at once', async () => {
    const actions = await pendingActions(2, ORG, LINK);
    const [otherLinkAction] = (await pendingActions(1, ORG, 'lnk_b')) as [IncomingAction];
    expect(await store().actions.holdLink(LINK, 'needs_reauth', T0 + 1)).toBe(2);
    expect((await claim('worker-1', T0 + 1)).map((a) => a.actionId)).toEqual([otherLinkAction.actionId]);
    expect(await store().actions.get(actions[0]?.actionId ?? '')).toMatchObject({
      state: 'held',
      reason: 'needs_reauth',
    });

    expect(await store().actions.resumeHeld(LINK, T0 + 100)).toBe(2);
    const resumed = await claim('worker-1', T0 + 100);
    expect(resumed.map((a) => a.actionId)).toEqual(actions.map((a) => a.actionId));
    expect(resumed.every((a) => a.reason === null && a.nextAttemptAt === T0 + 100)).toBe(true);
  });

  it('retries failed, held and unmatched actions only, with a fresh attempt count', async () => {
    const [failed, unmatched, synced] = (await pendingActions(3)) as [IncomingAction, IncomingAction, IncomingAction];
    await claim('worker-1', T0);
    await store().actions.complete(
      [
        { actionId: failed.actionId, state: 'failed', reason: 'retries_exhausted', countAttempt: true },
        { actionId: unmatched.actionId, state: 'unmatched', reason: 'no_matching_record' },
        { actionId: synced.actionId, state: 'synced', sfEventId: '00U1' },
      ],
      'worker-1',
      T0 + 1,
    );
    const retryable = await store().actions.retryable([failed.actionId, unmatched.actionId, synced.actionId, 'act_x']);
    expect(retryable.map((a) => a.actionId).sort()).toEqual([failed.actionId, unmatched.actionId].sort());
    // The synced one is not retryable, whatever the caller asks.
    expect(
      await store().actions.reclassify(
        [failed, unmatched, synced].map((a) => ({
          actionId: a.actionId,
          state: 'pending' as const,
          reason: null,
          linkId: LINK,
          orgId: ORG,
        })),
        T0 + 5,
      ),
    ).toBe(2);
    const retried = await claim('worker-1', T0 + 5);
    expect(retried.map((a) => a.actionId).sort()).toEqual([failed.actionId, unmatched.actionId].sort());
    expect(retried.every((a) => a.attempts === 0 && a.state === 'pending' && a.rematch)).toBe(true);
    expect(await store().actions.get(synced.actionId)).toMatchObject({ state: 'synced' });
  });

  it('counts actions by state with every state present', async () => {
    await pendingActions(2);
    await ingest(newAction({ inboxId: '99' }));
    expect(await store().actions.countByState({})).toEqual({
      received: 1,
      pending: 2,
      synced: 0,
      skipped: 0,
      unmatched: 0,
      failed: 0,
      held: 0,
    });
    expect(await store().actions.countByState({ inboxId: '99' })).toMatchObject({ received: 1, pending: 0 });
    expect(await store().actions.countByState({ linkId: LINK })).toMatchObject({ received: 0, pending: 2 });
  });

  it("knows when an inbox's newest synced action was synced, whatever its link or the org's other inboxes", async () => {
    expect(await store().actions.lastSyncedAt('12')).toBeNull();
    const [first, second] = (await pendingActions(2)) as [IncomingAction, IncomingAction];
    await ingest(newAction({ inboxId: '99' }));
    await claim('worker-1', T0);
    await store().actions.complete(
      [{ actionId: first.actionId, state: 'synced', sfEventId: '00U1' }],
      'worker-1',
      T0 + 5,
    );
    await store().actions.complete(
      [{ actionId: second.actionId, state: 'failed', reason: 'salesforce_rejected' }],
      'worker-1',
      T0 + 9,
    );
    expect(await store().actions.lastSyncedAt('12')).toBe(T0 + 5);
    expect(await store().actions.lastSyncedAt('99')).toBeNull();
  });

  it('lists actions newest first, filtered, page by page with a cursor', async () => {
    const actions = await pendingActions(5);
    await claim('worker-1', T0);
    await store().actions.complete(
      actions.map((action, index) => ({
        actionId: action.actionId,
        state: index % 2 === 0 ? ('synced' as const) : ('unmatched' as const),
      })),
      'worker-1',
      T0 + 10,
    );
    const all = await store().actions.list({ linkId: LINK });
    expect(all).toHaveLength(5);
    const firstPage = await store().actions.list({ linkId: LINK, limit: 2 });
    const last = firstPage[1];
    const secondPage = await store().actions.list({
      linkId: LINK,
      limit: 2,
      before: { updatedAt: last?.updatedAt ?? 0, actionId: last?.actionId ?? '' },
    });
    expect([...firstPage, ...secondPage].map((a) => a.actionId)).toEqual(all.slice(0, 4).map((a) => a.actionId));

    const unmatched = await store().actions.list({ states: ['unmatched'] });
    expect(unmatched.map((a) => a.actionId).sort()).toEqual([actions[1]?.actionId, actions[3]?.actionId].sort());
    expect(await store().actions.list({ reasons: ['no_link'] })).toEqual([]);
    expect(await store().actions.list({ since: T0 + 11 })).toEqual([]);
    expect(await store().actions.list({ until: T0 + 10 })).toEqual([]);
    expect(await store().actions.list({ inboxId: '12', since: T0 + 10 })).toHaveLength(5);
  });

  it('purges synced and skipped actions older than the cutoff with their deliveries, keeping the rest', async () => {
    const [synced, failed, fresh] = (await pendingActions(3)) as [IncomingAction, IncomingAction, IncomingAction];
    await claim('worker-1', T0);
    await store().actions.complete(
      [
        { actionId: synced.actionId, state: 'synced', sfEventId: '00U1' },
        { actionId: failed.actionId, state: 'failed', reason: 'salesforce_rejected' },
      ],
      'worker-1',
      T0 + 1,
    );
    expect(await store().actions.purge(['synced', 'skipped'], T0 + 2, 1000)).toBe(1);
    expect(await store().actions.get(synced.actionId)).toBeNull();
    expect(await store().actions.get(failed.actionId)).not.toBeNull();
    expect(await store().actions.get(fresh.actionId)).not.toBeNull();
    await expect(ingest({ ...synced, webhookId: synced.webhookId })).resolves.toMatchObject({
      status: 'accepted',
    });
  });

  it('on PostgreSQL-like concurrency, two claims at once never share an action', async () => {
    await pendingActions(20);
    const [first, second] = await Promise.all([claim('worker-1', T0, 15), claim('worker-2', T0, 15)]);
    const ids = [...(first ?? []), ...(second ?? [])].map((a) => a.actionId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(20);
  });

  it('extends the leases a worker still holds, and only those', async () => {
    const [mine, lost] = (await pendingActions(2)) as [IncomingAction, IncomingAction];
    await claim('worker-1', T0);
    // worker-1 stalls past its lease; worker-2 takes the oldest action over.
    expect((await claim('worker-2', T0 + LEASE_MS, 1)).map((a) => a.actionId)).toEqual([mine.actionId]);
    expect(
      await store().actions.extendLeases([mine.actionId, lost.actionId], 'worker-1', T0 + 3 * LEASE_MS, T0 + LEASE_MS),
    ).toBe(0);
    expect(await store().actions.extendLeases([mine.actionId], 'worker-2', T0 + 3 * LEASE_MS, T0 + LEASE_MS + 1)).toBe(
      1,
    );
    expect(await claim('worker-3', T0 + 2 * LEASE_MS + 1)).toEqual([
      expect.objectContaining({ actionId: lost.actionId }),
    ]);
  });

  it('marking a send extends the lease to cover the longest answer', async () => {
    const [action] = (await pendingActions(1)) as [IncomingAction];
    await claim('worker-1', T0);
    expect(await store().actions.markWriteAttempted([action.actionId], 'worker-1', T0 + 5, T0 + 5 * LEASE_MS)).toEqual([
      action.actionId,
    ]);
    expect(await claim('worker-2', T0 + 2 * LEASE_MS)).toEqual([]);
  });

  it("a deleted link's pending and held actions wait for the inbox's next link, which takes them over", async () => {
    const [waiting, failed] = (await pendingActions(2)) as [IncomingAction, IncomingAction];
    await claim('worker-1', T0);
    await store().actions.complete(
      [
        { actionId: waiting.actionId, state: 'held', reason: 'needs_reauth' as ActionReason },
        { actionId: failed.actionId, state: 'failed', reason: 'salesforce_rejected' },
      ],
      'worker-1',
      T0 + 1,
    );
    expect(await store().actions.holdForDeletedLink(LINK, T0 + 2)).toBe(1);
    expect(await store().actions.get(waiting.actionId)).toMatchObject({ state: 'held', reason: 'link_deleted' });
    expect(await store().actions.adoptHeld('12', 'lnk_new', OTHER_ORG, T0 + 3)).toBe(1);
    expect(await store().actions.get(waiting.actionId)).toMatchObject({
      state: 'pending',
      linkId: 'lnk_new',
      orgId: OTHER_ORG,
      nextAttemptAt: T0 + 3,
    });
    expect(await store().actions.get(failed.actionId)).toMatchObject({ state: 'failed', linkId: LINK });
  });

  it('sweeps unmatched actions back for a fresh match, those given a chance longest ago first, within the window', async () => {
    const actions = await pendingActions(4);
    await claim('worker-1', T0);
    await store().actions.complete(
      actions.map((a) => ({
        actionId: a.actionId,
        state: 'unmatched' as const,
        reason: 'no_matching_record' as const,
      })),
      'worker-1',
      T0 + 1,
    );
    expect(await store().actions.orgsWithUnmatched(0)).toEqual([ORG]);
    expect(await store().actions.requeueUnmatched(ORG, 0, 3, T0 + 10)).toBe(3);
    const first = await claim('worker-1', T0 + 10);
    expect(first).toHaveLength(3);
    expect(first.every((a) => a.rematch && a.reason === null)).toBe(true);
    // Still nothing found: back to unmatched; the one not swept yet goes first next time.
    await store().actions.complete(
      first.map((a) => ({ actionId: a.actionId, state: 'unmatched' as const, reason: 'no_matching_record' as const })),
      'worker-1',
      T0 + 11,
    );
    expect(await store().actions.requeueUnmatched(ORG, 0, 1, T0 + 20)).toBe(1);
    const second = await claim('worker-1', T0 + 20);
    expect(second.map((a) => a.actionId)).toEqual(
      actions.map((a) => a.actionId).filter((id) => !first.some((f) => f.actionId === id)),
    );
    expect(await store().actions.requeueUnmatched(ORG, T0 + 1_000_000, 10, T0 + 30)).toBe(0);
  });

  it('classification pages by cursor, so that a page never reads the same row twice', async () => {
    const actions = Array.from({ length: 7 }, (_, index) => newAction({ receivedAt: T0 + index }));
    await store().actions.ingest(actions);
    const seen: string[] = [];
    let after: { receivedAt: number; rowKey: string | number } | null = null;
    for (;;) {
      const page = await store().transaction((tx) => tx.actions.lockReceived(after, 3));
      seen.push(...page.map((action) => action.actionId));
      const last = page[page.length - 1];
      if (page.length < 3 || last === undefined) break;
      after = { receivedAt: last.receivedAt, rowKey: last.rowKey };
    }
    expect(seen).toEqual(actions.map((action) => action.actionId));
  });

  it('stores strings that are not well-formed Unicode so that they read back as they are looked up', async () => {
    const action = newAction({ actionId: 'act_\ud800_lone' });
    expect(await ingest(action)).toMatchObject({ status: 'accepted' });
    const [row] = await store().transaction((tx) => tx.actions.lockReceived(null, 10));
    expect(row?.actionId).toBe('act_\ufffd_lone');
    expect(
      await classify(
        [{ actionId: row?.actionId ?? '', state: 'skipped', reason: 'no_link', linkId: null, orgId: null }],
        T0,
      ),
    ).toBe(1);
    expect(await store().actions.get(action.actionId)).toMatchObject({ state: 'skipped' });
    expect(await countRows(store().database, 'actions')).toBe(1);
  });
});
