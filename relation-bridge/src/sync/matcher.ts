import type { BridgeError } from '../core/errors';
import type { LinkTarget, MatchCandidate, MatchRecord, MatchedObject } from '../core/types';
import { mapInSlices } from '../core/yield';
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
  /** Look its identifiers up afresh, past the cache (a retry, the sweep of unmatched actions). */
  fresh?: boolean;
}

/**
 * What matching found for one action. `lookupFailure`: a query or search this action
 * depended on was refused by Salesforce (or failed in a way that may pass later), so no
 * decision could be made; only this action's sync is affected, never the batch's.
 */
export type MatchOutcome =
  | { matched: true; record: MatchRecord & { chosen: MatchCandidate }; lookupFailure?: undefined }
  | {
      matched: false;
      reason: 'no_customer_identifier' | 'no_matching_record';
      record: MatchRecord;
      lookupFailure?: BridgeError;
    };

type Tier =
  | 'contact_by_email'
  | 'contact_by_phone'
  | 'converted_lead_by_email'
  | 'converted_lead_by_phone'
  | 'lead_by_email'
  | 'lead_by_phone';

/**
 * A converted Lead leads to its Contact (ConvertedContactId): a Contact, so it is tried
 * where the target allows Contacts, after the Contacts found directly and before open Leads.
 * A target of Leads alone never follows a conversion: the Event cannot go on the Lead
 * (Salesforce refuses a converted Lead as WhoId) nor on a Contact.
 */
const TIERS_BY_TARGET: Record<LinkTarget, Tier[]> = {
  contact: ['contact_by_email', 'contact_by_phone', 'converted_lead_by_email', 'converted_lead_by_phone'],
  lead: ['lead_by_email', 'lead_by_phone'],
  contact_then_lead: [
    'contact_by_email',
    'contact_by_phone',
    'converted_lead_by_email',
    'converted_lead_by_phone',
    'lead_by_email',
    'lead_by_phone',
  ],
};

/**
 * The stated rule, recorded with every match: the first tier (in the link target's order)
 * with any candidate wins; within it, the record created first, then the lowest Id.
 */
export const MATCH_RULE_TEXT =
  'first tier with a candidate (Contact by email, Contact by phone, the Contact of a converted Lead by email, ' +
  'then by phone, Lead by email, Lead by phone, as the link target allows); within it the earliest CreatedDate ' +
  '(a converted Lead’s own), then the lowest Id';

const MAX_RECORDED_CANDIDATES = 20;
/**
 * "Nothing found" is remembered for 15 seconds only: the usual fix for an unmatched customer is
 * a sales rep creating the Lead, and the customer's next message should find it.
 */
const NOTHING_FOUND_TTL_MS = 15_000;
/**
 * SOSL drops the logical operators of a search query longer than 4,000 characters (and
 * answers nothing beyond 10,000): the phones of one search stay within it.
 */
export const MAX_PHONE_SEARCH_CHARS = 4000;
/** SOSL returns at most 2,000 rows: a search that fills them may have left some out. */
export const SOSL_MAX_ROWS = 2000;

const PHONE_SEARCH_RETURNING =
  'Contact(Id, Phone, MobilePhone, CreatedDate), ' +
  'Lead(Id, Phone, MobilePhone, CreatedDate, IsConverted, ConvertedContactId)';

interface Prepared {
  request: MatchRequest;
  emails: string[];
  phones: string[];
  tiers: Tier[];
}

/** Candidates found for a tier, or the failure of a look-up it needed; undefined: not looked up. */
type TierFinding = MatchCandidate[] | BridgeError | undefined;

/**
 * Matches customers to Contacts and Leads for a whole batch at once: emails through SOQL
 * `IN` lists bundled in /composite, phones through SOSL `IN PHONE FIELDS` (one /search call
 * for up to a hundred or so numbers) confirmed client-side, with a bounded cache of what each
 * identifier found (including nothing). A query or search Salesforce refuses costs only the
 * actions that needed it.
 */
export class CustomerMatcher {
  /**
   * What this batch has found, by cache key; read before the shared cache so that a batch
   * never depends on the cache keeping an entry (it may be disabled or evict). The owning
   * pipeline runs one batch at a time.
   */
  private known = new Map<string, MatchCandidate[]>();
  /** Identifiers whose look-up failed in this batch (never cached). */
  private failed = new Map<string, BridgeError>();

  constructor(
    private readonly cache: LruCache<MatchCandidate[]>,
    private readonly orgId: string,
  ) {}

  /**
   * Runs the batch in up to three rounds: Contacts by email (together with the caller's
   * extra lookups, e.g. owners), then phones, then Leads by email (open and converted) —
   * each round only for requests the earlier tiers left undecided, and only for identifiers
   * missing from the cache.
   */
  async matchAll(
    api: SalesforceApi,
    requests: MatchRequest[],
    extraLookups: Lookup[] = [],
  ): Promise<Map<string, MatchOutcome>> {
    this.known = new Map();
    this.failed = new Map();
    const prepared = await mapInSlices(requests, (request) => this.prepare(request));
    for (const p of prepared) if (p.request.fresh === true) this.forgetIdentifiers(p.emails, p.phones);
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
      return phoneTier !== undefined && p.phones.length > 0 && !this.settledBefore(p, phoneTier);
    });
    await this.searchPhones(api, phoneRequests);

    await runLookups(query, [
      this.emailLookup('Lead', [
        ...this.needing(prepared, 'converted_lead_by_email'),
        ...this.needing(prepared, 'lead_by_email'),
      ]),
    ]);

    return new Map(await mapInSlices(prepared, (p) => [p.request.actionId, this.decide(p)] as const));
  }

  /** Forgets what the cache knows of these identifiers, found or not. */
  private forgetIdentifiers(emails: readonly string[], phones: readonly string[]): void {
    for (const email of emails) {
      for (const object of ['Contact', 'Lead'] as const) this.cache.delete(this.key('email', object, email));
    }
    for (const phone of phones) this.cache.delete(this.key('phone', 'any', phone));
  }

  /** Forgets every cached identifier that found this record (it turned out to be gone). */
  forgetRecord(recordId: string): void {
    this.cache.deleteWhere(
      (key, found) =>
        key.startsWith(`${this.orgId}|`) && found.some((c) => c.id === recordId || c.convertedFromLeadId === recordId),
    );
  }

  private prepare(request: MatchRequest): Prepared {
    const emails = [...new Set(request.emails.map(normalizeEmail).filter((e): e is string => e !== null))];
    const phones = [...new Set(request.phones.map(normalizePhone).filter((p): p is string => p !== null))];
    return { request, emails, phones, tiers: TIERS_BY_TARGET[request.target] };
  }

  /** Requests that use an email tier and that no earlier tier has settled. */
  private needing(prepared: Prepared[], tier: Tier): Prepared[] {
    return prepared.filter((p) => p.tiers.includes(tier) && p.emails.length > 0 && !this.settledBefore(p, tier));
  }

  /** Whether a tier before this one found a candidate, or failed (no later tier can then decide). */
  private settledBefore(p: Prepared, tier: Tier): boolean {
    const index = p.tiers.indexOf(tier);
    return p.tiers.slice(0, index).some((earlier) => {
      const finding = this.findingFor(p, earlier);
      return Array.isArray(finding) ? finding.length > 0 : finding !== undefined;
    });
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
    this.cache.set(key, found, found.length === 0 ? NOTHING_FOUND_TTL_MS : undefined);
  }

  private key(kind: 'email' | 'phone', object: MatchedObject | 'any', value: string): string {
    return `${this.orgId}|${kind}|${object}|${value}`;
  }

  /** What a tier found for a request, from what this batch and the cache know. */
  private findingFor(p: Prepared, tier: Tier): TierFinding {
    const viaEmail = tier.endsWith('_by_email');
    const found: MatchCandidate[] = [];
    for (const value of viaEmail ? p.emails : p.phones) {
      const key = viaEmail
        ? this.key('email', tier === 'contact_by_email' ? 'Contact' : 'Lead', value)
        : this.key('phone', 'any', value);
      const failure = this.failed.get(key);
      if (failure !== undefined) return failure;
      const cached = this.lookup(key);
      if (cached === undefined) return undefined;
      found.push(...cached.filter((c) => inTier(c, tier)));
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
    // Converted Leads are read too: their ConvertedContactId is where their customer went.
    const fields =
      object === 'Lead' ? 'Id, Email, CreatedDate, IsConverted, ConvertedContactId' : 'Id, Email, CreatedDate';
    return {
      queries: chunks.map(
        (chunk) => `SELECT ${fields} FROM ${object} WHERE Email IN (${chunk.map(soqlString).join(', ')})`,
      ),
      settle: (results) => {
        results.forEach((result, index) => {
          const chunk = chunks[index] ?? [];
          if (!Array.isArray(result)) {
            for (const email of chunk) this.failed.set(this.key('email', object, email), result);
            return;
          }
          const byEmail = new Map<string, MatchCandidate[]>(chunk.map((e) => [e, []]));
          for (const record of result) {
            const email = typeof record.Email === 'string' ? normalizeEmail(record.Email) : null;
            if (email === null) continue;
            const found = candidate(record, object, 'email', email);
            if (found !== null) byEmail.get(email)?.push(found);
          }
          for (const [email, found] of byEmail) this.remember(this.key('email', object, email), found);
        });
      },
    };
  }

  /**
   * Phone searches, one /search call each (Composite takes no Search). A search that fills
   * SOSL's 2,000 rows may have left candidates out: its numbers are searched again in halves.
   */
  private async searchPhones(api: SalesforceApi, requests: Prepared[]): Promise<void> {
    const missing = [
      ...new Set(
        requests.flatMap((p) => p.phones).filter((ph) => this.lookup(this.key('phone', 'any', ph)) === undefined),
      ),
    ];
    let pending = phoneSearchChunks(missing);
    while (pending.length > 0) {
      const results = await api.searchManySettled(pending.map(phoneSearch));
      const again: string[][] = [];
      results.forEach((result, index) => {
        const chunk = pending[index] ?? [];
        if (!Array.isArray(result)) {
          for (const phone of chunk) this.failed.set(this.key('phone', 'any', phone), result);
        } else if (result.length >= SOSL_MAX_ROWS && chunk.length > 1) {
          const half = Math.ceil(chunk.length / 2);
          again.push(chunk.slice(0, half), chunk.slice(half));
        } else {
          this.applyPhoneResults(chunk, result);
        }
      });
      pending = again;
    }
  }

  private applyPhoneResults(phones: string[], records: SObjectRecord[]): void {
    const byPhone = new Map<string, MatchCandidate[]>(phones.map((ph) => [ph, []]));
    for (const record of records) {
      const object = record.attributes?.type;
      if (object !== 'Contact' && object !== 'Lead') continue;
      // The phone index is fuzzy: keep only records whose own number is the same number.
      const numbers = new Set(
        [record.Phone, record.MobilePhone]
          .filter((v): v is string => typeof v === 'string')
          .map(normalizePhone)
          .filter((v): v is string => v !== null),
      );
      for (const phone of numbers) {
        const found = candidate(record, object, 'phone', phone);
        if (found !== null) byPhone.get(phone)?.push(found);
      }
    }
    for (const [phone, found] of byPhone) this.remember(this.key('phone', 'any', phone), found);
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
    let failure: BridgeError | null = null;
    for (const tier of p.tiers) {
      const finding = this.findingFor(p, tier);
      if (finding !== undefined && !Array.isArray(finding)) {
        // Without this tier's answer, no later tier may decide.
        if (chosen === null && failure === null) failure = finding;
        continue;
      }
      const found = dedupe(finding ?? []).sort(byCreatedThenId);
      all.push(...found);
      if (chosen === null && failure === null && found[0] !== undefined) {
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
        ...(failure === null ? {} : { lookupFailure: failure }),
      };
    }
    return { matched: true, record: { rule: `${chosenTier}: ${MATCH_RULE_TEXT}`, chosen, candidates } };
  }
}

function inTier(c: MatchCandidate, tier: Tier): boolean {
  const converted = c.convertedFromLeadId !== undefined;
  switch (tier) {
    case 'contact_by_email':
    case 'contact_by_phone':
      return c.object === 'Contact' && !converted;
    case 'converted_lead_by_email':
    case 'converted_lead_by_phone':
      return converted;
    case 'lead_by_email':
    case 'lead_by_phone':
      return c.object === 'Lead';
  }
}

/** Phones grouped so that each search's FIND {…} stays within MAX_PHONE_SEARCH_CHARS. */
function phoneSearchChunks(phones: string[]): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let chars = 0;
  for (const phone of phones) {
    const terms = phoneSearchTerms(phone).map(soslTerm);
    const cost = terms.reduce((sum, term) => sum + term.length + ' OR '.length, 0);
    if (current.length > 0 && chars + cost > MAX_PHONE_SEARCH_CHARS) {
      chunks.push(current);
      current = [];
      chars = 0;
    }
    current.push(phone);
    chars += cost;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function phoneSearch(phones: string[]): string {
  const terms = phones.flatMap(phoneSearchTerms).map(soslTerm).join(' OR ');
  return `FIND {${terms}} IN PHONE FIELDS RETURNING ${PHONE_SEARCH_RETURNING}`;
}

/**
 * A record as a candidate. A converted Lead stands for the Contact it became (null when it
 * names none); an open Lead and a Contact for themselves.
 */
function candidate(
  record: SObjectRecord,
  object: MatchedObject,
  via: 'email' | 'phone',
  value: string,
): MatchCandidate | null {
  const createdDate = typeof record.CreatedDate === 'string' ? record.CreatedDate : '';
  if (object === 'Lead' && record.IsConverted === true) {
    const contactId = record.ConvertedContactId;
    if (typeof contactId !== 'string' || contactId === '') return null;
    return { id: contactId, object: 'Contact', via, value, createdDate, convertedFromLeadId: record.Id };
  }
  return { id: record.Id, object, via, value, createdDate };
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
