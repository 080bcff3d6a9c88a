import { openTempStore, type TempStore } from '../temp-store';

const ORG = '00D000000000001AAA';
const MINUTE = 60_000;
/** A minute boundary, so that bucket edges are easy to read. */
const T0 = Date.parse('2026-11-28T02:00:00Z');

describe('SQLite store: per-org state and API call accounting', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(async () => {
    await temp.cleanup();
  });

  it('returns an empty state for an org it has never seen', async () => {
    expect(await temp.store.getOrgState(ORG)).toEqual({
      orgId: ORG,
      pausedUntil: null,
      pauseReason: null,
      apiUsed: null,
      apiMax: null,
      apiSeenAt: null,
      lastSyncAt: null,
    });
  });

  it('keeps pauses, limit info and the last sync independently', async () => {
    await temp.store.recordOrgLimitInfo(ORG, 18, 15_000, T0);
    await temp.store.setOrgPause(ORG, T0 + 15 * MINUTE, 'REQUEST_LIMIT_EXCEEDED');
    await temp.store.recordOrgSync(ORG, T0 + 1);
    expect(await temp.store.getOrgState(ORG)).toEqual({
      orgId: ORG,
      pausedUntil: T0 + 15 * MINUTE,
      pauseReason: 'REQUEST_LIMIT_EXCEEDED',
      apiUsed: 18,
      apiMax: 15_000,
      apiSeenAt: T0,
      lastSyncAt: T0 + 1,
    });
    await temp.store.setOrgPause(ORG, null, null);
    expect(await temp.store.getOrgState(ORG)).toMatchObject({
      pausedUntil: null,
      pauseReason: null,
      apiUsed: 18,
      lastSyncAt: T0 + 1,
    });
  });

  it('counts API calls per org in minute buckets, from the bucket holding `since` on', async () => {
    await temp.store.addApiCalls(ORG, 2, T0 + 5_000);
    await temp.store.addApiCalls(ORG, 3, T0 + 59_999);
    await temp.store.addApiCalls(ORG, 4, T0 + MINUTE);
    await temp.store.addApiCalls(ORG, 10, T0 + 10 * MINUTE);
    await temp.store.addApiCalls('00D000000000002AAA', 100, T0);

    expect(await temp.store.countApiCalls(ORG, T0)).toBe(19);
    expect(await temp.store.countApiCalls(ORG, T0 + 30_000)).toBe(19);
    expect(await temp.store.countApiCalls(ORG, T0 + MINUTE)).toBe(14);
    expect(await temp.store.countApiCalls(ORG, T0 + MINUTE + 1)).toBe(14);
    expect(await temp.store.countApiCalls(ORG, T0 + 2 * MINUTE)).toBe(10);
    expect(await temp.store.countApiCalls(ORG, T0 + 11 * MINUTE)).toBe(0);
    expect(await temp.store.countApiCalls('00D-unknown', T0)).toBe(0);
  });

  it('covers a rolling day: buckets stay for 24 hours', async () => {
    const DAY = 24 * 60 * MINUTE;
    await temp.store.addApiCalls(ORG, 7, T0);
    await temp.store.addApiCalls(ORG, 1, T0 + DAY);
    expect(await temp.store.countApiCalls(ORG, T0 + DAY - DAY)).toBe(8);
    expect(await temp.store.countApiCalls(ORG, T0 + DAY - DAY + MINUTE)).toBe(1);
  });
});
