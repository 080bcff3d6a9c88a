import type { LimitInfo } from './types';

/**
 * Reads `Sforce-Limit-Info: api-usage=18/15000[, per-app-api-usage=…]` leniently: other
 * entries, spaces and odd casing are tolerated; anything unreadable gives null.
 */
export function parseLimitInfo(header: string | null | undefined): LimitInfo | null {
  if (header === null || header === undefined) return null;
  const match = /(?:^|[\s,;])api-usage\s*=\s*(\d+)\s*\/\s*(\d+)/i.exec(header);
  if (match === null) return null;
  const used = Number(match[1]);
  const max = Number(match[2]);
  if (!Number.isSafeInteger(used) || !Number.isSafeInteger(max) || max <= 0) return null;
  return { used, max };
}
