import type { SObjectRecord } from '../salesforce/types';

/**
 * A set of queries whose results one consumer applies. Lookups from several consumers are
 * run together so that they share composite calls (5 queries per API call).
 */
export interface Lookup {
  queries: string[];
  apply(results: SObjectRecord[][]): void;
}

export async function runLookups(
  execute: (queries: string[]) => Promise<SObjectRecord[][]>,
  lookups: Lookup[],
): Promise<void> {
  const all = lookups.flatMap((lookup) => lookup.queries);
  if (all.length === 0) return;
  const results = await execute(all);
  let offset = 0;
  for (const lookup of lookups) {
    lookup.apply(results.slice(offset, offset + lookup.queries.length));
    offset += lookup.queries.length;
  }
}

/**
 * Splits values for `IN (…)` lists: at most `maxCount` values and `maxChars` characters of
 * quoted values per chunk, well inside SOQL's 4,000-character WHERE strings and the
 * 16,384-byte REST URL limit.
 */
export function chunkValues(values: string[], maxCount = 100, maxChars = 3000): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let chars = 0;
  for (const value of values) {
    const cost = value.length + 3;
    if (current.length > 0 && (current.length >= maxCount || chars + cost > maxChars)) {
      chunks.push(current);
      current = [];
      chars = 0;
    }
    current.push(value);
    chars += cost;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
