import { describeEachStore } from './databases';

const ORG = '00D000000000001AAA';
const MINUTE = 60_000;
/** A minute boundary, so that bucket edges are easy to read. */
const T0 = Date.parse('2026-11-28T02:00:00Z');

describeEachStore('Store: per-org state, API call accounting and leases', ({ store }) => {
  it('returns an empty state for an org it has never seen', async () => {
    expect(await store().orgs.getState(ORG)).toEqual({
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
    await store().orgs.recordApiCalls(ORG, 0, T0, { used: 18, max: 15_000 });
    await store().orgs.setPause(ORG, T0 + 15 * MINUTE, 'REQUEST_LIMIT_EXCEEDED');
    await store().orgs.recordSync(ORG, T0 + 1);
    expect(await store().orgs.getState(ORG)).toEqual({
      orgId: ORG,
      pausedUntil: T0 + 15 * MINUTE,
      pauseReason: 'REQUEST_LIMIT_EXCEEDED',
      apiUsed: 18,
      apiMax: 15_000,
      apiSeenAt: T0,
      lastSyncAt: T0 + 1,
    });
    await store().orgs.setPause(ORG, null, null);
    expect(await store().orgs.getState(ORG)).toMatchObject({
      pausedUntil: null,
      pauseReason: null,
      apiUsed: 18,
      lastSyncAt: T0 + 1,
    });
  });

  it('counts API calls per org in minute buckets, from the bucket holding `since` on', async () => {
    await store().orgs.recordApiCalls(ORG, 2, T0 + 5_000, null);
    await store().orgs.recordApiCalls(ORG, 3, T0 + 59_999, null);
    await store().orgs.recordApiCalls(ORG, 4, T0 + MINUTE, null);
    await store().orgs.recordApiCalls(ORG, 10, T0 + 10 * MINUTE, null);
    await store().orgs.recordApiCalls('00D000000000002AAA', 100, T0, null);

    expect(await store().orgs.countApiCalls(ORG, T0)).toBe(19);
    expect(await store().orgs.countApiCalls(ORG, T0 + 30_000)).toBe(19);
    expect(await store().orgs.countApiCalls(ORG, T0 + MINUTE)).toBe(14);
    expect(await store().orgs.countApiCalls(ORG, T0 + MINUTE + 1)).toBe(14);
    expect(await store().orgs.countApiCalls(ORG, T0 + 2 * MINUTE)).toBe(10);
    expect(await store().orgs.countApiCalls(ORG, T0 + 11 * MINUTE)).toBe(0);
    expect(await store().orgs.countApiCalls('00D-unknown', T0)).toBe(0);
  });

  it('covers a rolling day: buckets stay for 24 hours', async () => {
    const DAY = 24 * 60 * MINUTE;
    await store().orgs.recordApiCalls(ORG, 7, T0, null);
    await store().orgs.recordApiCalls(ORG, 1, T0 + DAY, null);
    expect(await store().orgs.countApiCalls(ORG, T0 + DAY - DAY)).toBe(8);
    expect(await store().orgs.countApiCalls(ORG, T0 + DAY - DAY + MINUTE)).toBe(1);
  });

  it('hands a named lease to one owner at a time, renews it for its owner, and passes it on once it expired', async () => {
    expect(await store().orgs.acquireLease('org:x', 'a', MINUTE, T0)).toBe(true);
    expect(await store().orgs.acquireLease('org:x', 'b', MINUTE, T0 + 1)).toBe(false);
    expect(await store().orgs.acquireLease('org:x', 'a', MINUTE, T0 + 30_000)).toBe(true);
    expect(await store().orgs.leaseHolder('org:x', T0 + 60_000)).toBe('a');
    expect(await store().orgs.acquireLease('org:x', 'b', MINUTE, T0 + 30_000 + MINUTE - 1)).toBe(false);
    expect(await store().orgs.acquireLease('org:x', 'b', MINUTE, T0 + 30_000 + MINUTE)).toBe(true);
    await store().orgs.releaseLease('org:x', 'a');
    expect(await store().orgs.leaseHolder('org:x', T0 + 30_000 + MINUTE)).toBe('b');
    await store().orgs.releaseLease('org:x', 'b');
    expect(await store().orgs.leaseHolder('org:x', T0 + 30_000 + MINUTE)).toBeNull();
  });

  it('gives a lease to exactly one of many owners asking at once', async () => {
    const owners = Array.from({ length: 12 }, (_, index) => `owner-${index}`);
    const granted = await Promise.all(owners.map((owner) => store().orgs.acquireLease('org:y', owner, MINUTE, T0)));
    expect(granted.filter(Boolean)).toHaveLength(1);
  });

  it('counts the API calls of every instance in the same buckets, atomically', async () => {
    await Promise.all(Array.from({ length: 40 }, () => store().orgs.recordApiCalls(ORG, 1, T0 + 1_000, null)));
    expect(await store().orgs.countApiCalls(ORG, T0)).toBe(40);
  });
});
