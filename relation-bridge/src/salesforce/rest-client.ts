import { BridgeError } from '../core/errors';
import { classifySalesforceError, parseErrorBody, redirectRefused, transportError } from './errors';
import { SalesforceHttp, type HttpResponse } from './http';
import { parseLimitInfo } from './limit-info';
import type {
  NewRecord,
  RecordError,
  SalesforceApi,
  SaveResult,
  SessionHooks,
  SObjectDescribe,
  SObjectRecord,
  UpsertResult,
} from './types';

/**
 * The bridge's Salesforce REST client. Every request asks the session hooks first
 * (budget), carries the current access token, reports Sforce-Limit-Info afterwards, and on
 * 401 refreshes the token once and retries once; a redirect is refused, never followed.
 * Queries and writes are bundled through /composite so that the org's daily API budget goes
 * as far as it can; searches go one call each, since Composite does not take Search.
 */

export interface RestClientOptions {
  instanceUrl: string;
  /** e.g. `66.0`. */
  apiVersion: string;
  hooks: SessionHooks;
  timeoutMs: number;
  /** The HTTP transport (proxy settings); a direct one when absent. */
  http?: SalesforceHttp;
}

/**
 * Composite allows 25 subrequests, of which at most 5 may be queries (Query, QueryAll and
 * their next pages) or sObject Collections; it takes no Search subrequests at all.
 */
export const MAX_QUERY_SUBREQUESTS = 5;
export const MAX_COMPOSITE_SUBREQUESTS = 25;
export const MAX_COLLECTION_RECORDS = 200;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

interface CompositeSubresponse {
  body: unknown;
  httpStatusCode: number;
  referenceId: string;
}

interface QueryPage {
  records: SObjectRecord[];
  done: boolean;
  nextRecordsUrl?: string;
}

/** Failures that concern the session or the org, not one request: they stop the whole batch. */
const SESSION_KINDS = new Set(['needs_reauth', 'api_budget']);
/** A whole request that failed this way left its outcome unknown, or will pass later: the batch retries. */
const WHOLESALE_KINDS = new Set(['retryable', ...SESSION_KINDS]);

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function malformed(what: string): BridgeError {
  return new BridgeError('retryable', `Salesforce sent a ${what} response the bridge cannot read`, {
    code: 'MALFORMED_RESPONSE',
  });
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

function asQueryPage(body: unknown): QueryPage {
  if (body === null || typeof body !== 'object' || !Array.isArray((body as QueryPage).records))
    throw malformed('query');
  return body as QueryPage;
}

function asDescribe(body: unknown): SObjectDescribe {
  const described = body as { name?: unknown; fields?: unknown } | null;
  if (typeof described?.name !== 'string' || !Array.isArray(described.fields)) throw malformed('describe');
  return {
    name: described.name,
    fields: described.fields
      .filter((field): field is Record<string, unknown> => field !== null && typeof field === 'object')
      .filter((field) => typeof field.name === 'string')
      .map((field) => ({
        name: field.name as string,
        createable: field.createable === true,
        updateable: field.updateable === true,
      })),
  };
}

/** A GET to bundle; `query`: one of the at most 5 queries (Query, QueryAll, their next pages) a composite takes. */
interface BundledGet {
  path: string;
  query: boolean;
}

/** Consecutive GETs in composite-sized groups: at most 5 queries and 25 subrequests each. */
function compositeGroups(gets: readonly BundledGet[]): BundledGet[][] {
  const groups: BundledGet[][] = [];
  let current: BundledGet[] = [];
  let queries = 0;
  for (const get of gets) {
    if (current.length === MAX_COMPOSITE_SUBREQUESTS || (get.query && queries === MAX_QUERY_SUBREQUESTS)) {
      groups.push(current);
      current = [];
      queries = 0;
    }
    current.push(get);
    if (get.query) queries += 1;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

function asSearchRecords(body: unknown): SObjectRecord[] {
  // Before v36 the search resource answered a bare array.
  if (Array.isArray(body)) return body as SObjectRecord[];
  const records = (body as { searchRecords?: unknown } | null)?.searchRecords;
  if (!Array.isArray(records)) throw malformed('search');
  return records as SObjectRecord[];
}

function asSaveResults(body: unknown, expected: number): SaveResult[] {
  return asUpsertResults(body, expected).map(({ id, success, errors }) => ({ id, success, errors }));
}

function asUpsertResults(body: unknown, expected: number): UpsertResult[] {
  if (!Array.isArray(body) || body.length !== expected) throw malformed('sObject Collections');
  return body.map((raw: unknown) => {
    const result = (raw ?? {}) as { id?: unknown; success?: unknown; errors?: unknown; created?: unknown };
    const errors: RecordError[] = parseErrorBody(Array.isArray(result.errors) ? result.errors : []).map((entry) => ({
      statusCode: entry.errorCode,
      message: entry.message,
      fields: entry.fields,
    }));
    return {
      id: typeof result.id === 'string' ? result.id : null,
      success: result.success === true,
      errors,
      created: typeof result.created === 'boolean' ? result.created : null,
    };
  });
}

export class SalesforceRestClient implements SalesforceApi {
  private readonly instanceUrl: string;
  private readonly basePath: string;
  private readonly hooks: SessionHooks;
  private readonly timeoutMs: number;
  private readonly http: SalesforceHttp;

  constructor(options: RestClientOptions) {
    this.instanceUrl = options.instanceUrl.replace(/\/+$/, '');
    this.basePath = `/services/data/v${options.apiVersion}`;
    this.hooks = options.hooks;
    this.timeoutMs = options.timeoutMs;
    this.http = options.http ?? new SalesforceHttp();
  }

  async query(soql: string): Promise<SObjectRecord[]> {
    const first = asQueryPage(await this.request('GET', `${this.basePath}/query?q=${encodeURIComponent(soql)}`));
    return this.remainingPages(first);
  }

  async queryMany(soqls: string[]): Promise<SObjectRecord[][]> {
    const pages = await this.bundledGets(
      soqls.map((soql) => this.queryGet(soql)),
      'query',
    );
    const results: SObjectRecord[][] = [];
    for (const page of pages) results.push(await this.remainingPages(asQueryPage(page)));
    return results;
  }

  async queryManySettled(soqls: string[]): Promise<Array<SObjectRecord[] | BridgeError>> {
    const pages = await this.bundledGets(
      soqls.map((soql) => this.queryGet(soql)),
      'query',
      { settled: true },
    );
    const results: Array<SObjectRecord[] | BridgeError> = [];
    for (const page of pages) {
      results.push(page instanceof BridgeError ? page : await this.remainingPages(asQueryPage(page)));
    }
    return results;
  }

  async readSettled(reads: { queries: string[]; describes: string[] }): Promise<{
    queries: Array<SObjectRecord[] | BridgeError>;
    describes: Array<SObjectDescribe | BridgeError>;
  }> {
    const describeGets = reads.describes.map((type) => ({
      path: `${this.basePath}/sobjects/${encodeURIComponent(type)}/describe`,
      query: false,
    }));
    // Describes first: they fill the first composite, which holds 5 queries besides.
    const bodies = await this.bundledGets(
      [...describeGets, ...reads.queries.map((soql) => this.queryGet(soql))],
      'read',
      {
        settled: true,
      },
    );
    const describes = bodies.slice(0, describeGets.length).map((body) => {
      if (body instanceof BridgeError) return body;
      try {
        return asDescribe(body);
      } catch (error) {
        if (error instanceof BridgeError) return error;
        throw error;
      }
    });
    const queries: Array<SObjectRecord[] | BridgeError> = [];
    for (const page of bodies.slice(describeGets.length)) {
      queries.push(page instanceof BridgeError ? page : await this.remainingPages(asQueryPage(page)));
    }
    return { queries, describes };
  }

  async search(sosl: string): Promise<SObjectRecord[]> {
    return asSearchRecords(await this.request('GET', `${this.basePath}/search?q=${encodeURIComponent(sosl)}`));
  }

  async searchMany(sosls: string[]): Promise<SObjectRecord[][]> {
    const results: SObjectRecord[][] = [];
    for (const sosl of sosls) results.push(await this.search(sosl));
    return results;
  }

  async searchManySettled(sosls: string[]): Promise<Array<SObjectRecord[] | BridgeError>> {
    const results: Array<SObjectRecord[] | BridgeError> = [];
    for (const sosl of sosls) {
      try {
        results.push(await this.search(sosl));
      } catch (error) {
        // A search stands for its own numbers only, like a subrequest: even a failure that may
        // pass later (a search timeout, say) holds back just the actions that needed it.
        if (!(error instanceof BridgeError) || SESSION_KINDS.has(error.kind)) throw error;
        results.push(error);
      }
    }
    return results;
  }

  async createRecords(records: NewRecord[]): Promise<SaveResult[]> {
    const chunks = chunk(records, MAX_COLLECTION_RECORDS);
    if (chunks.length === 0) return [];
    const collectionBody = (items: NewRecord[]) => ({ allOrNone: false, records: items });
    if (chunks.length === 1) {
      const only = chunks[0] as NewRecord[];
      return asSaveResults(
        await this.request('POST', `${this.basePath}/composite/sobjects`, collectionBody(only)),
        only.length,
      );
    }
    const results: SaveResult[] = [];
    for (const group of chunk(chunks, MAX_QUERY_SUBREQUESTS)) {
      const responses = await this.composite(
        group.map((items, index) => ({
          method: 'POST',
          url: `${this.basePath}/composite/sobjects`,
          referenceId: `records${index}`,
          body: collectionBody(items),
        })),
      );
      group.forEach((items, index) => {
        const response = responses[index] as CompositeSubresponse;
        if (response.httpStatusCode === 200) {
          results.push(...asSaveResults(response.body, items.length));
          return;
        }
        const error = classifySalesforceError(response.httpStatusCode, response.body);
        // An outage, a dead session or an empty budget leaves the whole batch uncertain.
        if (WHOLESALE_KINDS.has(error.kind)) throw error;
        const recordError: RecordError = {
          statusCode: error.code,
          message: error.remoteMessage ?? error.message,
          fields: [],
        };
        for (let i = 0; i < items.length; i++) results.push({ id: null, success: false, errors: [recordError] });
      });
    }
    return results;
  }

  async upsertRecords(type: string, externalIdField: string, records: NewRecord[]): Promise<UpsertResult[]> {
    const path = `${this.basePath}/composite/sobjects/${encodeURIComponent(type)}/${encodeURIComponent(externalIdField)}`;
    const results: UpsertResult[] = [];
    for (const items of chunk(records, MAX_COLLECTION_RECORDS)) {
      results.push(
        ...asUpsertResults(await this.request('PATCH', path, { allOrNone: false, records: items }), items.length),
      );
    }
    return results;
  }

  async limits(): Promise<Record<string, { Max: number; Remaining: number }>> {
    const body = await this.request('GET', `${this.basePath}/limits`);
    if (body === null || typeof body !== 'object') throw malformed('limits');
    return body as Record<string, { Max: number; Remaining: number }>;
  }

  /**
   * GETs bundled five to a composite call; a lone one goes direct (also one call). Settled:
   * a GET that fails on its own yields its error in its place, and so does every GET of a
   * composite call that Salesforce refused as a whole for what it contains (a permanent
   * error); failures of the session or the org, and whole requests that may pass later, are
   * still thrown. Otherwise the first failure is thrown.
   */
  private queryGet(soql: string): BundledGet {
    return { path: `${this.basePath}/query?q=${encodeURIComponent(soql)}`, query: true };
  }

  private async bundledGets(gets: BundledGet[], what: string): Promise<unknown[]>;
  private async bundledGets(
    gets: BundledGet[],
    what: string,
    options: { settled: true },
  ): Promise<Array<unknown | BridgeError>>;
  private async bundledGets(gets: BundledGet[], what: string, options = { settled: false }): Promise<unknown[]> {
    const settle = (error: BridgeError, wholeRequest: boolean): BridgeError => {
      if (!options.settled || (wholeRequest ? WHOLESALE_KINDS : SESSION_KINDS).has(error.kind)) throw error;
      return error;
    };
    const bodies: unknown[] = [];
    for (const group of compositeGroups(gets)) {
      if (group.length === 1) {
        try {
          bodies.push(await this.request('GET', (group[0] as BundledGet).path));
        } catch (error) {
          if (!(error instanceof BridgeError)) throw error;
          bodies.push(settle(error, true));
        }
        continue;
      }
      let responses: CompositeSubresponse[];
      try {
        responses = await this.composite(
          group.map((get, index) => ({ method: 'GET', url: get.path, referenceId: `${what}${index}` })),
        );
      } catch (error) {
        if (!(error instanceof BridgeError)) throw error;
        const refused = settle(error, true);
        bodies.push(...group.map(() => refused));
        continue;
      }
      for (const response of responses) {
        bodies.push(
          response.httpStatusCode === 200
            ? response.body
            : settle(classifySalesforceError(response.httpStatusCode, response.body), false),
        );
      }
    }
    return bodies;
  }

  private async remainingPages(first: QueryPage): Promise<SObjectRecord[]> {
    const records = [...first.records];
    let page = first;
    while (!page.done && typeof page.nextRecordsUrl === 'string') {
      page = asQueryPage(await this.request('GET', page.nextRecordsUrl));
      records.push(...page.records);
    }
    return records;
  }

  private async composite(
    subrequests: Array<{ method: string; url: string; referenceId: string; body?: unknown }>,
  ): Promise<CompositeSubresponse[]> {
    const body = await this.request('POST', `${this.basePath}/composite`, {
      allOrNone: false,
      collateSubrequests: false,
      compositeRequest: subrequests,
    });
    const responses = (body as { compositeResponse?: unknown } | null)?.compositeResponse;
    if (!Array.isArray(responses) || responses.length !== subrequests.length) throw malformed('composite');
    const byReference = new Map<string, CompositeSubresponse>();
    for (const response of responses as CompositeSubresponse[]) byReference.set(response.referenceId, response);
    return subrequests.map((subrequest) => {
      const response = byReference.get(subrequest.referenceId);
      if (response === undefined || typeof response.httpStatusCode !== 'number') throw malformed('composite');
      return response;
    });
  }

  /**
   * One API request. `path` starts with `/services/data/…` (nextRecordsUrl has that
   * form too). Resolves with the parsed body of a 2xx answer; throws a BridgeError.
   */
  private async request(method: string, path: string, payload?: unknown): Promise<unknown> {
    // A refused session gets at most two renewals: the first may hand back a token another
    // instance renewed meanwhile, and only a token renewed by this very request that
    // Salesforce still refuses means the authorisation itself is gone.
    let renewals = 0;
    for (;;) {
      await this.hooks.beforeApiCall();
      let token = await this.hooks.getAccessToken();
      if (token === null) {
        token = await this.hooks.refreshAccessToken(null);
        renewals += 1;
      }
      const what = `${method} ${path.split('?')[0] ?? path}`;
      let response: HttpResponse;
      try {
        response = await this.http.send({
          method,
          url: this.instanceUrl + path,
          headers: {
            Authorization: `Bearer ${token}`,
            Accept: 'application/json',
            ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }),
          },
          ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
          timeoutMs: this.timeoutMs,
        });
      } catch (error) {
        throw transportError(error, what, this.timeoutMs);
      }
      await this.hooks.afterApiCall(parseLimitInfo(response.headers['sforce-limit-info']));
      if (REDIRECT_STATUSES.has(response.status)) throw redirectRefused(response.status, what);
      const body = parseJson(response.text);
      if (response.status >= 200 && response.status < 300) return body;
      if (response.status === 401 && renewals < 2) {
        await this.hooks.refreshAccessToken(token);
        renewals += 1;
        continue;
      }
      if (response.status === 401) {
        // The refresh token still works (a dead one fails its refresh with invalid_grant, which
        // is what needs re-authentication), yet the sessions it just gave were refused: a race
        // with sessions ending (a password change, an admin's session reset), not a dead link.
        throw new BridgeError('retryable', 'Salesforce refused the sessions it had just issued; trying again later', {
          code: 'SESSION_REFUSED_AFTER_REFRESH',
          remoteStatus: 401,
        });
      }
      throw classifySalesforceError(response.status, body);
    }
  }
}
