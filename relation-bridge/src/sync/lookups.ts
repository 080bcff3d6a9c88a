import { BridgeError } from '../core/errors';
import type { SObjectRecord } from '../salesforce/types';

/**
 * A set of queries whose results one consumer applies. Lookups from several consumers are
 * run together so that they share composite calls (5 queries per API call).
 */
export interface Lookup {
  queries: string[];
  /** Takes the records of every query; required unless settle is given. */
  apply?(results: SObjectRecord[][]): void;
  /**
   * Takes a query's own rejection (e.g. INVALID_TYPE when the package is not installed)
   * instead of failing the whole round; without it, such a rejection is thrown.
   */
  reject?(error: BridgeError): void;
  /**
   * Takes every query's own answer, records or its rejection, in place of apply and reject:
   * for consumers that can tell which of their items each query served, so that a rejected
   * query costs only the items that depended on it.
   */
  settle?(results: Array<SObjectRecord[] | BridgeError>): void;
}

/** Runs the lookups' queries together; `execute` answers each query with records or its own error. */
export async function runLookups(
  execute: (queries: string[]) => Promise<Array<SObjectRecord[] | BridgeError>>,
  lookups: Lookup[],
): Promise<void> {
  const all = lookups.flatMap((lookup) => lookup.queries);
  if (all.length === 0) return;
  const results = await execute(all);
  const parts = lookups.map((lookup, index) => {
    const offset = lookups.slice(0, index).reduce((sum, earlier) => sum + earlier.queries.length, 0);
    const own = results.slice(offset, offset + lookup.queries.length);
    const error = own.find((result): result is BridgeError => result instanceof BridgeError);
    if (error !== undefined && lookup.reject === undefined && lookup.settle === undefined) throw error;
    return { lookup, own, error };
  });
  for (const { lookup, own, error } of parts) {
    if (lookup.settle !== undefined) lookup.settle(own);
    else if (error !== undefined) lookup.reject?.(error);
    else lookup.apply?.(own as SObjectRecord[][]);
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
