/**
 * Exponential backoff with jitter: the delay for the n-th failed attempt (1-based) is drawn
 * from [cap/2, cap] where cap = min(max, base·2^(n-1)), so that many actions failing
 * together do not come back together.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(cap / 2 + (cap / 2) * random());
}
