/**
 * The sync runs on the event loop that answers webhooks. Work over a whole batch (up to a
 * thousand actions matched, turned into Events, completed) is done a slice at a time, with a
 * turn of the event loop in between, so that no stretch of it holds back a webhook for more
 * than a few milliseconds.
 */
export const SLICE = 100;

/** One turn of the event loop: whatever waits (a webhook's request, a store answer) goes first. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** `work` over `items` in order, with a turn of the event loop after every SLICE of them. */
export async function mapInSlices<T, R>(items: readonly T[], work: (item: T, index: number) => R): Promise<R[]> {
  const results: R[] = [];
  for (let index = 0; index < items.length; index += 1) {
    if (index > 0 && index % SLICE === 0) await yieldToEventLoop();
    results.push(work(items[index] as T, index));
  }
  return results;
}
