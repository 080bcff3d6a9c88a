import { BridgeError } from '../core/errors';
import { classifySalesforceError, parseErrorBody, transportError } from './errors';
import { parseLimitInfo } from './limit-info';
import type {
  NewRecord,
  RecordError,
  SalesforceApi,
  SaveResult,
  SessionHooks,
  SObjectRecord,
  UpsertResult,
} from './types';

/**
 * The bridge's Salesforce REST client over fetch. Every request asks the session hooks
 * first (budget), carries the current access token, reports Sforce-Limit-Info afterwards,
 * and on 401 refreshes the token once and retries once. Lookups and writes are bundled
 * through /composite so that the org's daily API budget goes as far as it can.
 */

export interface RestClientOptions {
  instanceUrl: string;
  /** e.g. `66.0`. */
  apiVersion: string;
  hooks: SessionHooks;
  timeoutMs: number;
}

/** Composite allows 25 subrequests, of which at most 5 may be queries or collections. */
export const MAX_QUERY_SUBREQUESTS = 5;
export const MAX_COLLECTION_RECORDS = 200;

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

const WHOLESALE_KINDS = new Set(['retryable', 'needs_reauth', 'api_budget']);

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

  constructor(options: RestClientOptions) {
    this.instanceUrl = options.instanceUrl.replace(/\/+$/, '');
    this.basePath = `/services/data/v${options.apiVersion}`;
    this.hooks = options.hooks;
    this.timeoutMs = options.timeoutMs;
  }

  async query(soql: string): Promise<SObjectRecord[]> {
    const first = asQueryPage(await this.request('GET', `${this.basePath}/query?q=${encodeURIComponent(soql)}`));
    return this.remainingPages(first);
  }

  async queryMany(soqls: string[]): Promise<SObjectRecord[][]> {
    const pages = await this.bundledGets(
      soqls.map((soql) => `${this.basePath}/query?q=${encodeURIComponent(soql)}`),
      'query',
    );
    const results: SObjectRecord[][] = [];
    for (const page of pages) results.push(await this.remainingPages(asQueryPage(page)));
    return results;
  }

  async queryManySettled(soqls: string[]): Promise<Array<SObjectRecord[] | BridgeError>> {
    const pages = await this.bundledGets(
      soqls.map((soql) => `${this.basePath}/query?q=${encodeURIComponent(soql)}`),
      'query',
      { settled: true },
    );
    const results: Array<SObjectRecord[] | BridgeError> = [];
    for (const page of pages) {
      results.push(page instanceof BridgeError ? page : await this.remainingPages(asQueryPage(page)));
    }
    return results;
  }

  async search(sosl: string): Promise<SObjectRecord[]> {
    return asSearchRecords(await this.request('GET', `${this.basePath}/search?q=${encodeURIComponent(sosl)}`));
  }

  async searchMany(sosls: string[]): Promise<SObjectRecord[][]> {
    const bodies = await this.bundledGets(
      sosls.map((sosl) => `${this.basePath}/search?q=${encodeURIComponent(sosl)}`),
      'search',
    );
    return bodies.map(asSearchRecords);
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
   * a GET that fails on its own yields its error in its place (failures of the whole
   * request are still thrown); otherwise the first failure is thrown.
   */
  private async bundledGets(paths: string[], what: string): Promise<unknown[]>;
  private async bundledGets(
    paths: string[],
    what: string,
    options: { settled: true },
  ): Promise<Array<unknown | BridgeError>>;
  private async bundledGets(paths: string[], what: string, options = { settled: false }): Promise<unknown[]> {
    const settle = (error: BridgeError): BridgeError => {
      if (!options.settled || WHOLESALE_KINDS.has(error.kind)) throw error;
      return error;
    };
    const bodies: unknown[] = [];
    for (const group of chunk(paths, MAX_QUERY_SUBREQUESTS)) {
      if (group.length === 1) {
        try {
          bodies.push(await this.request('GET', group[0] as string));
        } catch (error) {
          if (!(error instanceof BridgeError)) throw error;
          bodies.push(settle(error));
        }
        continue;
      }
      const responses = await this.composite(
        group.map((url, index) => ({ method: 'GET', url, referenceId: `${what}${index}` })),
      );
      for (const response of responses) {
        bodies.push(
          response.httpStatusCode === 200
            ? response.body
            : settle(classifySalesforceError(response.httpStatusCode, response.body)),
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
    let refreshed = false;
    for (;;) {
      await this.hooks.beforeApiCall();
      let token = await this.hooks.getAccessToken();
      if (token === null) {
        token = await this.hooks.refreshAccessToken();
        refreshed = true;
      }
      const what = `${method} ${path.split('?')[0] ?? path}`;
      let response: Response;
      let text: string;
      try {
        response = await fetch(this.instanceUrl + path, {
          method,
          headers: {
            Authorization: `Bearer ${token}`,
            Accept: 'application/json',
            ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }),
          },
          ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        text = await response.text();
      } catch (error) {
        throw transportError(error, what, this.timeoutMs);
      }
      await this.hooks.afterApiCall(parseLimitInfo(response.headers.get('sforce-limit-info')));
      const body = parseJson(text);
      if (response.ok) return body;
      if (response.status === 401 && !refreshed) {
        await this.hooks.refreshAccessToken();
        refreshed = true;
        continue;
      }
      throw classifySalesforceError(response.status, body);
    }
  }
}
