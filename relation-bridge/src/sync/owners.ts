import { soqlString } from '../salesforce/soql';
import { normalizeEmail } from './identifiers';
import { chunkValues, type Lookup } from './lookups';
import type { LruCache } from './lru-cache';

/**
 * Resolves operators to Salesforce Users: the active User whose email equals the
 * operator's (several: the lowest Id), else the link's default owner.
 */
export class OwnerResolver {
  private known = new Map<string, string | null>();

  constructor(
    private readonly cache: LruCache<{ userId: string | null }>,
    private readonly orgId: string,
  ) {}

  /** The lookup for the operators missing from the cache; run it before calling ownerFor. */
  lookupFor(operatorEmails: Array<string | null | undefined>): Lookup {
    this.known = new Map();
    const missing: string[] = [];
    for (const raw of operatorEmails) {
      const email = typeof raw === 'string' ? normalizeEmail(raw) : null;
      if (email === null || this.known.has(email)) continue;
      const cached = this.cache.get(this.key(email));
      if (cached === undefined) missing.push(email);
      else this.known.set(email, cached.userId);
    }
    const unique = [...new Set(missing)];
    return {
      queries: chunkValues(unique).map(
        (chunk) =>
          `SELECT Id, Email FROM User WHERE IsActive = true AND Email IN (${chunk.map(soqlString).join(', ')})`,
      ),
      apply: (results) => {
        const found = new Map<string, string>();
        for (const record of results.flat()) {
          const email = typeof record.Email === 'string' ? normalizeEmail(record.Email) : null;
          if (email === null) continue;
          const current = found.get(email);
          if (current === undefined || record.Id < current) found.set(email, record.Id);
        }
        for (const email of unique) {
          const userId = found.get(email) ?? null;
          this.known.set(email, userId);
          this.cache.set(this.key(email), { userId });
        }
      },
    };
  }

  ownerFor(
    operatorEmail: string | null | undefined,
    defaultOwnerId: string,
  ): { ownerId: string; fromOperator: boolean } {
    const email = typeof operatorEmail === 'string' ? normalizeEmail(operatorEmail) : null;
    const userId = email === null ? null : (this.known.get(email) ?? null);
    return userId === null ? { ownerId: defaultOwnerId, fromOperator: false } : { ownerId: userId, fromOperator: true };
  }

  forgetUser(userId: string): void {
    this.cache.deleteWhere((key, value) => key.startsWith(`${this.orgId}|`) && value.userId === userId);
  }

  private key(email: string): string {
    return `${this.orgId}|user|${email}`;
  }
}
