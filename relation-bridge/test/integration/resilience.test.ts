import { startBridgeHarness, type BridgeHarness } from '../helpers/bridge-harness';
import { actionPayload, sendAll } from '../helpers/payloads';

const TARO = 'taro.yamada@example.co.jp';
const some = (n: number) => Array.from({ length: n }, () => actionPayload({ emails: [TARO] }));

async function states(h: BridgeHarness, ids: string[]): Promise<string[]> {
  return Promise.all(ids.map(async (id) => (await h.bridge.store.actions.get(id))?.state ?? 'missing'));
}

/** Waits (bounded) for the engine to make every listed action synced. */
async function syncedEventually(h: BridgeHarness, ids: string[], passes = 100): Promise<void> {
  for (let pass = 0; pass < passes; pass += 1) {
    await h.bridge.engine.runUntilIdle();
    if ((await states(h, ids)).every((s) => s === 'synced')) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`not synced: ${(await states(h, ids)).join(', ')}`);
}

describe('when Salesforce or the network fails', () => {
  let h: BridgeHarness;

  afterEach(async () => {
    await h.close();
  });

  it('refreshes an expired access token once and goes on syncing', async () => {
    h = await startBridgeHarness();
    const link = await h.linkInbox();
    const before = await h.bridge.store.links.getAuth(link.authId);
    h.org.expireAccessTokens();
    const payloads = some(3);
    await sendAll(h.baseUrl, payloads);
    await h.bridge.engine.runUntilIdle();
    expect(
      await states(
        h,
        payloads.map((p) => p.action.id),
      ),
    ).toEqual(['synced', 'synced', 'synced']);
    const after = await h.bridge.store.links.getAuth(link.authId);
    expect(after?.accessToken).not.toBe(before?.accessToken);
    expect((await h.bridge.store.links.getLink(link.id))?.status).toBe('active');
  });

  it('puts the link in needs re-authentication when the refresh token is revoked, holds its actions, and syncs them after re-authentication', async () => {
    h = await startBridgeHarness();
    const link = await h.linkInbox();
    h.org.revokeRefreshTokens();
    h.org.expireAccessTokens();
    const first = some(3);
    await sendAll(h.baseUrl, first);
    await h.bridge.engine.runUntilIdle();

    expect((await h.bridge.store.links.getLink(link.id))?.status).toBe('needs_reauth');
    const held = first.map((p) => p.action.id);
    expect(await states(h, held)).toEqual(['held', 'held', 'held']);
    const later = some(2);
    await sendAll(h.baseUrl, later);
    await h.bridge.engine.runUntilIdle();
    expect(
      await states(
        h,
        later.map((p) => p.action.id),
      ),
    ).toEqual(['held', 'held']);
    expect(h.org.records('Event')).toHaveLength(0);

    await h.reauthorize(link.id);
    expect((await h.bridge.store.links.getLink(link.id))?.status).toBe('active');
    const all = [...first, ...later].map((p) => p.action.id);
    await syncedEventually(h, all);
    for (const id of all) expect(h.eventsFor(id)).toHaveLength(1);
  });

  it('pauses the org when its daily API budget is exhausted and resumes later with nothing lost', async () => {
    h = await startBridgeHarness({ env: { SYNC_BUDGET_PAUSE_MS: '300' } });
    await h.linkInbox();
    h.org.exhaustApiBudget();
    const payloads = some(4);
    await sendAll(h.baseUrl, payloads);
    await h.bridge.engine.runUntilIdle();

    const ids = payloads.map((p) => p.action.id);
    expect(await states(h, ids)).toEqual(['pending', 'pending', 'pending', 'pending']);
    const paused = await h.bridge.store.orgs.getState(h.org.orgId);
    expect(paused.pausedUntil).not.toBeNull();
    expect(paused.pauseReason).toContain('REQUEST_LIMIT_EXCEEDED');
    expect(h.org.records('Event')).toHaveLength(0);

    h.org.resetApiBudget();
    await syncedEventually(h, ids);
    expect((await h.bridge.store.orgs.getState(h.org.orgId)).pausedUntil).toBeNull();
    for (const id of ids) expect(h.eventsFor(id)).toHaveLength(1);
  });

  it('never uses more than its share of the org’s daily API requests', async () => {
    // 10% of 60 = 6 calls in 24 h: the link check and a first batch fit, a second does not.
    h = await startBridgeHarness({ orgOptions: { dailyApiMax: 60 }, env: { SYNC_API_BUDGET_SHARE: '0.1' } });
    await h.linkInbox();
    const first = some(1);
    await sendAll(h.baseUrl, first);
    await h.bridge.engine.runUntilIdle();
    const used = await h.bridge.store.orgs.countApiCalls(h.org.orgId, 0);
    expect(used).toBeLessThanOrEqual(6);

    const rest = Array.from({ length: 10 }, (_, i) => actionPayload({ emails: [`someone${i}@example.org`] }));
    for (const payload of rest) {
      await sendAll(h.baseUrl, [payload]);
      await h.bridge.engine.runUntilIdle();
    }
    expect(await h.bridge.store.orgs.countApiCalls(h.org.orgId, 0)).toBeLessThanOrEqual(6);
    const state = await h.bridge.store.orgs.getState(h.org.orgId);
    expect(state.pauseReason).toContain('bridge_share_exhausted');
    const kept = await states(
      h,
      rest.map((p) => p.action.id),
    );
    expect(kept.every((s) => s === 'pending' || s === 'unmatched')).toBe(true);
    expect(kept).toContain('pending');
  });

  it('retries 5xx answers and record locks with backoff until the Events are written', async () => {
    h = await startBridgeHarness();
    await h.linkInbox();
    h.local.faults.serverError({ path: '/composite', status: 503, count: 2 });
    h.local.faults.lockRecords({ count: 1, objectType: 'Event' });
    const payloads = some(3);
    await sendAll(h.baseUrl, payloads);
    const ids = payloads.map((p) => p.action.id);
    await syncedEventually(h, ids);
    for (const id of ids) expect(h.eventsFor(id)).toHaveLength(1);
    const attempts = await Promise.all(ids.map(async (id) => (await h.bridge.store.actions.get(id))?.attempts ?? 0));
    expect(Math.max(...attempts)).toBeGreaterThan(0);
  });

  it('does not write twice when Salesforce committed a batch but its answer never arrived', async () => {
    // The uncertain actions are looked up (and found) only once Salesforce can no longer be working on that send.
    h = await startBridgeHarness({ env: { SF_REQUEST_TIMEOUT_MS: '1500', SYNC_UNCERTAIN_WAIT_MS: '3000' } });
    await h.linkInbox();
    const hold = h.local.faults.holdAfterCommit({ path: '/composite' });
    let held = false;
    const holding = hold.waitForHold().then(() => {
      held = true;
    });
    const payloads = some(5);
    await sendAll(h.baseUrl, payloads);
    // On a loaded machine an earlier call may time out too; passes go on until the write is held.
    for (let pass = 0; pass < 100 && !held; pass += 1) {
      await h.bridge.engine.runUntilIdle();
      if (!held) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await holding;
    const ids = payloads.map((p) => p.action.id);
    expect(h.org.records('Event')).toHaveLength(5);
    expect(await states(h, ids)).toEqual(Array(5).fill('pending'));
    const uncertain = await h.bridge.store.actions.get(ids[0] as string);
    expect(uncertain?.writeAttemptedAt).not.toBeNull();

    hold.remove();
    await syncedEventually(h, ids);
    for (const id of ids) expect(h.eventsFor(id)).toHaveLength(1);
    hold.release();
  });
});

describe('when a link is deleted', () => {
  it("keeps the actions it was holding for the inbox's next link, records later ones as no_link, and the new link syncs the held ones exactly once", async () => {
    const h = await startBridgeHarness();
    try {
      const link = await h.linkInbox();
      h.org.revokeRefreshTokens();
      h.org.expireAccessTokens();
      const held = some(2);
      await sendAll(h.baseUrl, held);
      await h.bridge.engine.runUntilIdle();
      const heldIds = held.map((p) => p.action.id);
      expect(await states(h, heldIds)).toEqual(['held', 'held']);

      expect((await h.admin('DELETE', `/links/${link.id}`)).status).toBe(200);
      const between = some(1);
      await sendAll(h.baseUrl, between);
      await h.bridge.engine.runUntilIdle();
      for (const id of heldIds) {
        expect(await h.bridge.store.actions.get(id)).toMatchObject({ state: 'held', reason: 'link_deleted' });
      }
      // The FAQ's gap rule: an action while no link exists is not synced.
      expect(await h.bridge.store.actions.get(between[0]!.action.id)).toMatchObject({
        state: 'skipped',
        reason: 'no_link',
      });

      const remade = await h.linkInbox();
      const after = some(1);
      await sendAll(h.baseUrl, after);
      await h.bridge.engine.runUntilIdle();
      for (const id of [...heldIds, after[0]!.action.id]) {
        expect(h.eventsFor(id)).toHaveLength(1);
        expect(await h.bridge.store.actions.get(id)).toMatchObject({ state: 'synced', linkId: remade.id });
      }
      expect(h.eventsFor(between[0]!.action.id)).toHaveLength(0);
      expect(h.org.records('Event')).toHaveLength(3);
    } finally {
      await h.close();
    }
  });
});
