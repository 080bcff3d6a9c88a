import type { BridgeError } from '../core/errors';
import { soqlString } from '../salesforce/soql';
import { normalizeEmail } from './identifiers';
import { chunkValues, type Lookup } from './lookups';
import type { LruCache } from './lru-cache';

/**
 * Resolves operators to Salesforce Users: the active User whose email equals the
 * operator's (several: the lowest Id), else the link's default owner. When Salesforce
 * refuses the look-up of some operators, only their actions wait (failureFor): an Event
 * is never given the default owner for want of an answer.
 */
export class OwnerResolver {
  private known = new Map<string, string | null>();
  private failed = new Map<string, BridgeError>();

  constructor(
    private readonly cache: LruCache<{ userId: string | null }>,
    private readonly orgId: string,
  ) {}

  /** The lookup for the operators missing from the cache; run it before calling ownerFor. */
  lookupFor(operatorEmails: Array<string | null | undefined>): Lookup {
    this.known = new Map();
    this.failed = new Map();
    const missing: string[] = [];
    for (const raw of operatorEmails) {
      const email = typeof raw === 'string' ? normalizeEmail(raw) : null;
      if (email === null || this.known.has(email)) continue;
      const cached = this.cache.get(this.key(email));
      if (cached === undefined) missing.push(email);
      else this.known.set(email, cached.userId);
    }
    const unique = [...new Set(missing)];
    const chunks = chunkValues(unique);
    return {
      queries: chunks.map(
        (chunk) =>
          `SELECT Id, Email FROM User WHERE IsActive = true AND Email IN (${chunk.map(soqlString).join(', ')})`,
      ),
      settle: (results) => {
        results.forEach((result, index) => {
          const chunk = chunks[index] ?? [];
          if (!Array.isArray(result)) {
            for (const email of chunk) this.failed.set(email, result);
            return;
          }
          const found = new Map<string, string>();
          for (const record of result) {
            const email = typeof record.Email === 'string' ? normalizeEmail(record.Email) : null;
            if (email === null) continue;
            const current = found.get(email);
            if (current === undefined || record.Id < current) found.set(email, record.Id);
          }
          for (const email of chunk) {
            const userId = found.get(email) ?? null;
            this.known.set(email, userId);
            this.cache.set(this.key(email), { userId });
          }
        });
      },
    };
  }

  /** Why this operator's User could not be looked up in this batch; null when it could. */
  failureFor(operatorEmail: string | null | undefined): BridgeError | null {
    const email = typeof operatorEmail === 'string' ? normalizeEmail(operatorEmail) : null;
    return email === null ? null : (this.failed.get(email) ?? null);
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
