import type { NewAction } from '../../../src/core/types';
import { newAction, openTempStore, type TempStore } from '../temp-store';

const ORG = '00D000000000001AAA';
const OTHER_ORG = '00D000000000002AAA';
const LINK = 'lnk_a';
const T0 = Date.parse('2026-11-28T02:00:00Z');
const LEASE_MS = 60_000;

describe('SQLite store: classification, leases and outcomes', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(async () => {
    await temp.cleanup();
  });

  /** Ingests the actions and classifies them pending for the org, due at T0. */
  async function pendingActions(count: number, orgId = ORG, linkId = LINK): Promise<NewAction[]> {
    const actions = Array.from({ length: count }, () => newAction());
    await Promise.all(actions.map((action) => temp.store.ingestAction(action)));
    await temp.store.applyClassifications(
      actions.map((action) => ({ actionId: action.actionId, state: 'pending' as const, reason: null, linkId, orgId })),
      T0,
    );
    return actions;
  }

  const claim = (leaseOwner: string, now: number, limit = 10, orgId = ORG) =>
    temp.store.claimDueActions({ orgId, limit, leaseOwner, leaseMs: LEASE_MS, now });

  it('lists received actions in arrival order and classifies only those still received', async () => {
    const [early, late] = [newAction({ receivedAt: T0 - 2 }), newAction({ receivedAt: T0 - 1 })] as [
      NewAction,
      NewAction,
    ];
    await temp.store.ingestAction(late);
    await temp.store.ingestAction(early);
    expect((await temp.store.listReceived(10)).map((a) => a.actionId)).toEqual([early.actionId, late.actionId]);

    await temp.store.applyClassifications(
      [{ actionId: early.actionId, state: 'skipped', reason: 'no_link', linkId: null, orgId: null }],
      T0,
    );
    await temp.store.applyClassifications(
      [{ actionId: early.actionId, state: 'pending', reason: null, linkId: LINK, orgId: ORG }],
      T0 + 1,
    );
    expect(await temp.store.getAction(early.actionId)).toMatchObject({
      state: 'skipped',
      reason: 'no_link',
      updatedAt: T0,
    });
    expect((await temp.store.listReceived(10)).map((a) => a.actionId)).toEqual([late.actionId]);
  });

  it('keeps actions classified as held out of claims until their link resumes', async () => {
    const action = newAction();
    await temp.store.ingestAction(action);
    await temp.store.applyClassifications(
      [{ actionId: action.actionId, state: 'held', reason: 'needs_reauth', linkId: LINK, orgId: ORG }],
      T0,
    );
    expect(await claim('worker-1', T0)).toEqual([]);
    expect(await temp.store.resumeHeldActions(LINK, T0 + 5)).toBe(1);
    expect((await claim('worker-1', T0 + 5)).map((a) => a.actionId)).toEqual([action.actionId]);
  });

  it('lists the orgs with due, unleased pending actions', async () => {
    await pendingActions(1, ORG);
    await pendingActions(1, OTHER_ORG);
    expect((await temp.store.listOrgsWithDueActions(T0)).sort()).toEqual([ORG, OTHER_ORG]);
    expect(await temp.store.listOrgsWithDueActions(T0 - 1)).toEqual([]);
    await claim('worker-1', T0, 10, OTHER_ORG);
    expect(await temp.store.listOrgsWithDueActions(T0)).toEqual([ORG]);
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
    const [action] = (await pendingActions(1)) as [NewAction];
    await claim('worker-1', T0);
    await temp.store.completeActions(
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
    const [action] = (await pendingActions(1)) as [NewAction];
    await claim('worker-slow', T0);
    await claim('worker-2', T0 + LEASE_MS);

    expect(await temp.store.markWriteAttempted([action.actionId], 'worker-slow', T0 + LEASE_MS + 1)).toEqual([]);
    await temp.store.completeActions(
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
    expect(await temp.store.getAction(action.actionId)).toMatchObject({
      state: 'pending',
      writeAttemptedAt: null,
      errorCode: null,
    });

    await temp.store.completeActions(
      [{ actionId: action.actionId, state: 'synced', reason: null, sfEventId: '00U000000000001AAA' }],
      'worker-2',
      T0 + LEASE_MS + 3,
    );
    expect(await temp.store.getAction(action.actionId)).toMatchObject({
      state: 'synced',
      sfEventId: '00U000000000001AAA',
    });
  });

  it('a worker whose lease expired but was not re-claimed still records its outcome', async () => {
    const [action] = (await pendingActions(1)) as [NewAction];
    await claim('worker-1', T0);
    await temp.store.completeActions(
      [{ actionId: action.actionId, state: 'synced', sfEventId: '00U1' }],
      'worker-1',
      T0 + LEASE_MS * 2,
    );
    expect(await temp.store.getAction(action.actionId)).toMatchObject({ state: 'synced', sfEventId: '00U1' });
  });

  it('keeps the write-attempted marker when the outcome is unknown, and clears it otherwise', async () => {
    const [uncertain, retried] = (await pendingActions(2)) as [NewAction, NewAction];
    await claim('worker-1', T0);
    expect(await temp.store.markWriteAttempted([uncertain.actionId, retried.actionId], 'worker-1', T0 + 5)).toEqual([
      uncertain.actionId,
      retried.actionId,
    ]);
    expect(await temp.store.getAction(uncertain.actionId)).toMatchObject({ writeAttemptedAt: T0 + 5 });

    await temp.store.completeActions(
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
    const [action] = (await pendingActions(1)) as [NewAction];
    await claim('worker-1', T0);
    await temp.store.completeActions(
      [{ actionId: action.actionId, state: 'pending', nextAttemptAt: T0 + 1_000 }],
      'worker-1',
      T0,
    );
    expect(await temp.store.getAction(action.actionId)).toMatchObject({ attempts: 0, nextAttemptAt: T0 + 1_000 });
  });

  it('records the match, the Event and the owner, and keeps them when a later outcome omits them', async () => {
    const [action] = (await pendingActions(1)) as [NewAction];
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
    await temp.store.completeActions(
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
    expect(await temp.store.getAction(action.actionId)).toMatchObject({
      state: 'failed',
      reason: 'salesforce_rejected',
      whoId: '003A',
      ownerId: '005A',
      match,
      errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
      errorMessage: '件名は必須です',
      updatedAt: T0 + 1,
    });

    await temp.store.retryActions([action.actionId], T0 + 2);
    await claim('worker-1', T0 + 2);
    await temp.store.completeActions(
      [{ actionId: action.actionId, state: 'synced', sfEventId: '00U9' }],
      'worker-1',
      T0 + 3,
    );
    expect(await temp.store.getAction(action.actionId)).toMatchObject({
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
    const [otherLinkAction] = (await pendingActions(1, ORG, 'lnk_b')) as [NewAction];
    expect(await temp.store.holdLinkActions(LINK, 'needs_reauth', T0 + 1)).toBe(2);
    expect((await claim('worker-1', T0 + 1)).map((a) => a.actionId)).toEqual([otherLinkAction.actionId]);
    expect(await temp.store.getAction(actions[0]?.actionId ?? '')).toMatchObject({
      state: 'held',
      reason: 'needs_reauth',
    });

    expect(await temp.store.resumeHeldActions(LINK, T0 + 100)).toBe(2);
    const resumed = await claim('worker-1', T0 + 100);
    expect(resumed.map((a) => a.actionId)).toEqual(actions.map((a) => a.actionId));
    expect(resumed.every((a) => a.reason === null && a.nextAttemptAt === T0 + 100)).toBe(true);
  });

  it('retries failed, held and unmatched actions only, with a fresh attempt count', async () => {
    const [failed, unmatched, synced] = (await pendingActions(3)) as [NewAction, NewAction, NewAction];
    await claim('worker-1', T0);
    await temp.store.completeActions(
      [
        { actionId: failed.actionId, state: 'failed', reason: 'retries_exhausted', countAttempt: true },
        { actionId: unmatched.actionId, state: 'unmatched', reason: 'no_matching_record' },
        { actionId: synced.actionId, state: 'synced', sfEventId: '00U1' },
      ],
      'worker-1',
      T0 + 1,
    );
    expect(
      await temp.store.retryActions([failed.actionId, unmatched.actionId, synced.actionId, 'act_unknown'], T0 + 5),
    ).toBe(2);
    const retried = await claim('worker-1', T0 + 5);
    expect(retried.map((a) => a.actionId).sort()).toEqual([failed.actionId, unmatched.actionId].sort());
    expect(retried.every((a) => a.attempts === 0 && a.state === 'pending')).toBe(true);
    expect(await temp.store.getAction(synced.actionId)).toMatchObject({ state: 'synced' });
  });

  it('counts actions by state with every state present', async () => {
    await pendingActions(2);
    await temp.store.ingestAction(newAction({ inboxId: '99' }));
    expect(await temp.store.countActionsByState({})).toEqual({
      received: 1,
      pending: 2,
      synced: 0,
      skipped: 0,
      unmatched: 0,
      failed: 0,
      held: 0,
    });
    expect(await temp.store.countActionsByState({ inboxId: '99' })).toMatchObject({ received: 1, pending: 0 });
    expect(await temp.store.countActionsByState({ linkId: LINK })).toMatchObject({ received: 0, pending: 2 });
  });

  it('lists actions newest first, filtered, page by page with a cursor', async () => {
    const actions = await pendingActions(5);
    await claim('worker-1', T0);
    await temp.store.completeActions(
      actions.map((action, index) => ({
        actionId: action.actionId,
        state: index % 2 === 0 ? ('synced' as const) : ('unmatched' as const),
      })),
      'worker-1',
      T0 + 10,
    );
    const all = await temp.store.listActions({ linkId: LINK });
    expect(all).toHaveLength(5);
    const firstPage = await temp.store.listActions({ linkId: LINK, limit: 2 });
    const last = firstPage[1];
    const secondPage = await temp.store.listActions({
      linkId: LINK,
      limit: 2,
      before: { updatedAt: last?.updatedAt ?? 0, actionId: last?.actionId ?? '' },
    });
    expect([...firstPage, ...secondPage].map((a) => a.actionId)).toEqual(all.slice(0, 4).map((a) => a.actionId));

    const unmatched = await temp.store.listActions({ states: ['unmatched'] });
    expect(unmatched.map((a) => a.actionId).sort()).toEqual([actions[1]?.actionId, actions[3]?.actionId].sort());
    expect(await temp.store.listActions({ reasons: ['no_link'] })).toEqual([]);
    expect(await temp.store.listActions({ since: T0 + 11 })).toEqual([]);
    expect(await temp.store.listActions({ until: T0 + 10 })).toEqual([]);
    expect(await temp.store.listActions({ inboxId: '12', since: T0 + 10 })).toHaveLength(5);
  });

  it('purges synced and skipped actions older than the cutoff with their deliveries, keeping the rest', async () => {
    const [synced, failed, fresh] = (await pendingActions(3)) as [NewAction, NewAction, NewAction];
    await claim('worker-1', T0);
    await temp.store.completeActions(
      [
        { actionId: synced.actionId, state: 'synced', sfEventId: '00U1' },
        { actionId: failed.actionId, state: 'failed', reason: 'salesforce_rejected' },
      ],
      'worker-1',
      T0 + 1,
    );
    expect(await temp.store.purgeFinishedBefore(T0 + 2)).toBe(1);
    expect(await temp.store.getAction(synced.actionId)).toBeNull();
    expect(await temp.store.getAction(failed.actionId)).not.toBeNull();
    expect(await temp.store.getAction(fresh.actionId)).not.toBeNull();
    await expect(temp.store.ingestAction({ ...synced, webhookId: synced.webhookId })).resolves.toMatchObject({
      status: 'accepted',
    });
  });
});
