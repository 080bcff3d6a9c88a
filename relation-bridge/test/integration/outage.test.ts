import { startBridgeHarness, type BridgeHarness } from '../helpers/bridge-harness';
import { actionPayload, sendAll } from '../helpers/payloads';

const TARO = 'taro.yamada@example.co.jp';

/**
 * A Salesforce outage (every data request 503, or unreachable): the org pauses, a second at
 * first and twice as long with each failed probe, instead of every batch hammering it; the
 * actions wait without spending their attempts, and sync once Salesforce answers again.
 */
describe('when Salesforce is down for a while', () => {
  let h: BridgeHarness;
  let clock: number;

  afterEach(async () => {
    await h.close();
  });

  it('pauses the org with a growing pause, spends no attempts, and syncs everything once it is back', async () => {
    clock = Date.now();
    h = await startBridgeHarness({ now: () => clock });
    const link = await h.linkInbox();
    const outage = h.local.faults.serverError({ path: /\/services\/data\//, status: 503, count: Infinity });
    const payloads = Array.from({ length: 20 }, () => actionPayload({ emails: [TARO] }));
    await sendAll(h.baseUrl, payloads);

    const pauses: number[] = [];
    for (let probe = 0; probe < 4; probe += 1) {
      await h.bridge.engine.runUntilIdle();
      const state = await h.bridge.store.orgs.getState(link.orgId);
      expect(state.pauseReason).toMatch(/SERVER_UNAVAILABLE|HTTP_503/);
      pauses.push((state.pausedUntil ?? 0) - clock);
      clock = (state.pausedUntil ?? clock) + 1;
    }
    expect(pauses).toEqual([1_000, 2_000, 4_000, 8_000]);
    for (const payload of payloads) {
      expect(await h.bridge.store.actions.get(payload.action.id)).toMatchObject({ state: 'pending', attempts: 0 });
    }

    outage.remove();
    await h.bridge.engine.runUntilIdle();
    for (const payload of payloads) {
      expect(await h.bridge.store.actions.get(payload.action.id)).toMatchObject({ state: 'synced', attempts: 0 });
      expect(h.eventsFor(payload.action.id)).toHaveLength(1);
    }
    expect((await h.bridge.store.orgs.getState(link.orgId)).pausedUntil).toBeNull();
  });
});
