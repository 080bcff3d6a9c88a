import type { LinkTarget, MatchCandidate, MatchRecord, MatchedObject } from '../core/types';
import { soqlString, soslTerm } from '../salesforce/soql';
import type { SalesforceApi, SObjectRecord } from '../salesforce/types';
import { normalizeEmail, normalizePhone, phoneSearchTerms } from './identifiers';
import { chunkValues, runLookups, type Lookup } from './lookups';
import type { LruCache } from './lru-cache';

export interface MatchRequest {
  actionId: string;
  target: LinkTarget;
  emails: readonly string[];
  phones: readonly string[];
}

export type MatchOutcome =
  | { matched: true; record: MatchRecord & { chosen: MatchCandidate } }
  | { matched: false; reason: 'no_customer_identifier' | 'no_matching_record'; record: MatchRecord };

type Tier = 'contact_by_email' | 'contact_by_phone' | 'lead_by_email' | 'lead_by_phone';

const TIERS_BY_TARGET: Record<LinkTarget, Tier[]> = {
  contact: ['contact_by_email', 'contact_by_phone'],
  lead: ['lead_by_email', 'lead_by_phone'],
  contact_then_lead: ['contact_by_email', 'contact_by_phone', 'lead_by_email', 'lead_by_phone'],
};

/**
 * The stated rule, recorded with every match: the first tier (in the link target's order)
 * with any candidate wins; within it, the record created first, then the lowest Id.
 */
export const MATCH_RULE_TEXT =
  'first tier with a candidate (Contact by email, Contact by phone, Lead by email, Lead by phone, as the link target allows); within it the earliest CreatedDate, then the lowest Id';

const MAX_RECORDED_CANDIDATES = 20;
const PHONES_PER_SEARCH = 20;

interface Prepared {
  request: MatchRequest;
  emails: string[];
  phones: string[];
  tiers: Tier[];
}

/**
 * Matches customers to Contacts and Leads for a whole batch at once: emails through SOQL
 * `IN` lists, phones through SOSL `IN PHONE FIELDS` confirmed client-side, with a bounded
 * cache of what each identifier found (including nothing).
 */
export class CustomerMatcher {
  /**
   * What this batch has found, by cache key; read before the shared cache so that a batch
   * never depends on the cache keeping an entry (it may be disabled or evict). The owning
   * pipeline runs one batch at a time.
   */
  private known = new Map<string, MatchCandidate[]>();

  constructor(
    private readonly cache: LruCache<MatchCandidate[]>,
    private readonly orgId: string,
  ) {}

  /**
   * Runs the batch in up to three query rounds: Contacts by email (together with the
   * caller's extra lookups, e.g. owners), then phones, then Leads by email — each round
   * only for requests the earlier rounds left undecided, and only for identifiers missing
   * from the cache.
   */
  async matchAll(
    api: SalesforceApi,
    requests: MatchRequest[],
    extraLookups: Lookup[] = [],
  ): Promise<Map<string, MatchOutcome>> {
    this.known = new Map();
    const prepared = requests.map((request) => this.prepare(request));
    const query = (q: string[]) => api.queryManySettled(q);

    await runLookups(query, [
      this.emailLookup('Contact', this.needing(prepared, 'contact_by_email')),
      this.emailLookup(
        'Lead',
        this.needing(prepared, 'lead_by_email').filter((p) => p.tiers[0] === 'lead_by_email'),
      ),
      ...extraLookups,
    ]);

    const phoneRequests = prepared.filter((p) => {
      const phoneTier = p.tiers.find((tier) => tier.endsWith('_by_phone'));
      return phoneTier !== undefined && p.phones.length > 0 && !this.decidedBefore(p, phoneTier);
    });
    await runLookups((q) => api.searchMany(q), [this.phoneLookup(phoneRequests)]);

    await runLookups(query, [this.emailLookup('Lead', this.needing(prepared, 'lead_by_email'))]);

    return new Map(prepared.map((p) => [p.request.actionId, this.decide(p)]));
  }

  /** Forgets every cached identifier that found this record (it turned out to be gone). */
  forgetRecord(recordId: string): void {
    this.cache.deleteWhere((key, found) => key.startsWith(`${this.orgId}|`) && found.some((c) => c.id === recordId));
  }

  private prepare(request: MatchRequest): Prepared {
    const emails = [...new Set(request.emails.map(normalizeEmail).filter((e): e is string => e !== null))];
    const phones = [...new Set(request.phones.map(normalizePhone).filter((p): p is string => p !== null))];
    return { request, emails, phones, tiers: TIERS_BY_TARGET[request.target] };
  }

  /** Requests that use an email tier and that no earlier tier has decided. */
  private needing(prepared: Prepared[], tier: Tier): Prepared[] {
    return prepared.filter((p) => p.tiers.includes(tier) && p.emails.length > 0 && !this.decidedBefore(p, tier));
  }

  private decidedBefore(p: Prepared, tier: Tier): boolean {
    const index = p.tiers.indexOf(tier);
    return p.tiers.slice(0, index).some((earlier) => (this.candidatesFor(p, earlier)?.length ?? 0) > 0);
  }

  private lookup(key: string): MatchCandidate[] | undefined {
    const known = this.known.get(key);
    if (known !== undefined) return known;
    const cached = this.cache.get(key);
    if (cached !== undefined) this.known.set(key, cached);
    return cached;
  }

  private remember(key: string, found: MatchCandidate[]): void {
    this.known.set(key, found);
    this.cache.set(key, found);
  }

  private key(kind: 'email' | 'phone', object: MatchedObject | 'any', value: string): string {
    return `${this.orgId}|${kind}|${object}|${value}`;
  }

  /** Candidates of a tier from the cache; undefined when some identifier was never looked up. */
  private candidatesFor(p: Prepared, tier: Tier): MatchCandidate[] | undefined {
    const object: MatchedObject = tier.startsWith('contact') ? 'Contact' : 'Lead';
    const viaEmail = tier.endsWith('_by_email');
    const found: MatchCandidate[] = [];
    for (const value of viaEmail ? p.emails : p.phones) {
      const cached = this.lookup(viaEmail ? this.key('email', object, value) : this.key('phone', 'any', value));
      if (cached === undefined) return undefined;
      found.push(...cached.filter((c) => c.object === object));
    }
    return found;
  }

  private emailLookup(object: MatchedObject, requests: Prepared[]): Lookup {
    const missing = [
      ...new Set(
        requests.flatMap((p) => p.emails).filter((e) => this.lookup(this.key('email', object, e)) === undefined),
      ),
    ];
    const chunks = chunkValues(missing);
    const converted = object === 'Lead' ? 'IsConverted = false AND ' : '';
    return {
      queries: chunks.map(
        (chunk) =>
          `SELECT Id, Email, CreatedDate FROM ${object} WHERE ${converted}Email IN (${chunk.map(soqlString).join(', ')})`,
      ),
      apply: (results) => {
        const byEmail = new Map<string, MatchCandidate[]>(missing.map((e) => [e, []]));
        for (const record of results.flat()) {
          const email = typeof record.Email === 'string' ? normalizeEmail(record.Email) : null;
          if (email === null) continue;
          byEmail.get(email)?.push(candidate(record, object, 'email', email));
        }
        for (const [email, found] of byEmail) this.remember(this.key('email', object, email), found);
      },
    };
  }

  private phoneLookup(requests: Prepared[]): Lookup {
    const missing = [
      ...new Set(
        requests.flatMap((p) => p.phones).filter((ph) => this.lookup(this.key('phone', 'any', ph)) === undefined),
      ),
    ];
    const chunks = chunkValues(missing, PHONES_PER_SEARCH);
    return {
      queries: chunks.map((chunk) => {
        const terms = chunk.flatMap(phoneSearchTerms).map(soslTerm).join(' OR ');
        return (
          `FIND {${terms}} IN PHONE FIELDS RETURNING ` +
          'Contact(Id, Phone, MobilePhone, CreatedDate), Lead(Id, Phone, MobilePhone, CreatedDate WHERE IsConverted = false)'
        );
      }),
      apply: (results) => {
        const byPhone = new Map<string, MatchCandidate[]>(missing.map((ph) => [ph, []]));
        for (const record of results.flat()) {
          const object = record.attributes?.type;
          if (object !== 'Contact' && object !== 'Lead') continue;
          // The phone index is fuzzy: keep only records whose own number is the same number.
          const numbers = new Set(
            [record.Phone, record.MobilePhone]
              .filter((v): v is string => typeof v === 'string')
              .map(normalizePhone)
              .filter((v): v is string => v !== null),
          );
          for (const phone of numbers) byPhone.get(phone)?.push(candidate(record, object, 'phone', phone));
        }
        for (const [phone, found] of byPhone) this.remember(this.key('phone', 'any', phone), found);
      },
    };
  }

  private decide(p: Prepared): MatchOutcome {
    if (p.emails.length === 0 && p.phones.length === 0) {
      return {
        matched: false,
        reason: 'no_customer_identifier',
        record: { rule: MATCH_RULE_TEXT, chosen: null, candidates: [] },
      };
    }
    const all: MatchCandidate[] = [];
    let chosen: MatchCandidate | null = null;
    let chosenTier: Tier | null = null;
    for (const tier of p.tiers) {
      const found = dedupe(this.candidatesFor(p, tier) ?? []).sort(byCreatedThenId);
      all.push(...found);
      if (chosen === null && found[0] !== undefined) {
        chosen = found[0];
        chosenTier = tier;
      }
    }
    const candidates = dedupe(all).slice(0, MAX_RECORDED_CANDIDATES);
    if (chosen === null) {
      return {
        matched: false,
        reason: 'no_matching_record',
        record: { rule: MATCH_RULE_TEXT, chosen: null, candidates },
      };
    }
    return { matched: true, record: { rule: `${chosenTier}: ${MATCH_RULE_TEXT}`, chosen, candidates } };
  }
}

function candidate(
  record: SObjectRecord,
  object: MatchedObject,
  via: 'email' | 'phone',
  value: string,
): MatchCandidate {
  return {
    id: record.Id,
    object,
    via,
    value,
    createdDate: typeof record.CreatedDate === 'string' ? record.CreatedDate : '',
  };
}

function dedupe(candidates: MatchCandidate[]): MatchCandidate[] {
  const seen = new Set<string>();
  return candidates.filter((c) => (seen.has(c.id) ? false : (seen.add(c.id), true)));
}

function byCreatedThenId(a: MatchCandidate, b: MatchCandidate): number {
  const created = Date.parse(a.createdDate) - Date.parse(b.createdDate);
  if (Number.isFinite(created) && created !== 0) return created;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
