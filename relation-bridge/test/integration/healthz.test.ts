import { startBridgeHarness } from '../helpers/bridge-harness';

describe('GET /healthz', () => {
  it('answers 200 while the store answers, and 503 once it does not', async () => {
    const h = await startBridgeHarness();
    try {
      const ready = await fetch(`${h.baseUrl}/healthz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ok' });

      await h.bridge.store.close();
      const down = await fetch(`${h.baseUrl}/healthz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({ status: 'unavailable' });
    } finally {
      await h.close();
    }
  });
});
