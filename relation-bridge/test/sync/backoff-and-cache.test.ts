import { backoffDelay } from '../../src/sync/backoff';
import { chunkValues } from '../../src/sync/lookups';
import { LruCache } from '../../src/sync/lru-cache';

describe('backoffDelay', () => {
  it('doubles per attempt within [cap/2, cap] and stops at the maximum', () => {
    expect(backoffDelay(1, 1000, 60_000, () => 0)).toBe(500);
    expect(backoffDelay(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(backoffDelay(4, 1000, 60_000, () => 1)).toBe(8000);
    expect(backoffDelay(30, 1000, 60_000, () => 1)).toBe(60_000);
  });
});

describe('LruCache', () => {
  it('evicts the least recently used entry beyond its size', () => {
    const cache = new LruCache<number>(2, 1000, () => 0);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
  });

  it('forgets entries after their time to live', () => {
    let now = 0;
    const cache = new LruCache<number>(10, 100, () => now);
    cache.set('a', 1);
    now = 100;
    expect(cache.get('a')).toBeUndefined();
  });
});

describe('chunkValues', () => {
  it('bounds each chunk by count and by characters', () => {
    const values = Array.from({ length: 250 }, (_, i) => `user${i}@example.com`);
    const chunks = chunkValues(values, 100, 3000);
    expect(chunks.flat()).toEqual(values);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(100);
      expect(chunk.reduce((n, v) => n + v.length + 3, 0)).toBeLessThanOrEqual(3000);
    }
  });
});
