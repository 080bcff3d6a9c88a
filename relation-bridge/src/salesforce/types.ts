import type { BridgeError } from '../core/errors';

/**
 * The bridge's view of the Salesforce REST API. Implemented by rest-client.ts and
 * oauth-client.ts over http.ts (no redirects followed, the outbound proxy honoured). Every
 * failure is thrown as a BridgeError (core/errors.ts) whose kind the sync engine acts on.
 */

/** Token endpoint response (authorization_code or refresh_token grant). No expires_in exists. */
export interface TokenResponse {
  accessToken: string;
  /** Absent on refresh unless the org rotates refresh tokens. */
  refreshToken: string | null;
  instanceUrl: string;
  /** Identity URL: https://login.../id/<orgId>/<userId> */
  identityUrl: string;
  scope: string;
  /** ms epoch (Salesforce sends a 13-digit ms string). */
  issuedAt: number;
}

export interface Identity {
  userId: string;
  organizationId: string;
  username: string;
  displayName: string | null;
  email: string | null;
  language: string | null;
}

/** Sforce-Limit-Info: api-usage=used/max (org-wide, rolling 24 h). */
export interface LimitInfo {
  used: number;
  max: number;
}

export interface SObjectRecord {
  attributes?: { type: string; url?: string };
  Id: string;
  [field: string]: unknown;
}

/** What the bridge reads of an sObject's describe: its fields as the calling user sees them. */
export interface SObjectDescribe {
  name: string;
  /** Only the fields this user can see (field-level security); what they may do with each. */
  fields: Array<{ name: string; createable: boolean; updateable: boolean }>;
}

export interface RecordError {
  statusCode: string;
  message: string;
  fields: string[];
}

/** One entry of an sObject Collections create result, in input order. */
export interface SaveResult {
  id: string | null;
  success: boolean;
  errors: RecordError[];
}

export interface NewRecord {
  attributes: { type: string };
  [field: string]: unknown;
}

/** One entry of an sObject Collections upsert result, in input order. */
export interface UpsertResult extends SaveResult {
  /** True when the record was created, false when an existing one was updated; null on failure. */
  created: boolean | null;
}

/**
 * Hooks the REST client calls around every API request, so that the owner of the
 * session (the sync engine) can count calls, enforce its budget share, and persist
 * refreshed tokens.
 */
export interface SessionHooks {
  /** Current access token (null → refresh first). */
  getAccessToken(): Promise<string | null>;
  /**
   * Obtain a new access token with the refresh token and persist it (or the token another
   * instance just obtained). `refused` is the token Salesforce refused.
   * Throws BridgeError kind needs_reauth on invalid_grant.
   */
  refreshAccessToken(refused?: string | null): Promise<string>;
  /** Called before each counted API request; throws BridgeError kind api_budget to refuse it. */
  beforeApiCall(): Promise<void>;
  /** Called after each API request that reached Salesforce (counted by Salesforce). */
  afterApiCall(limit: LimitInfo | null): Promise<void>;
}

export interface SalesforceApi {
  /** SOQL; follows nextRecordsUrl until done. One call per page. */
  query(soql: string): Promise<SObjectRecord[]>;
  /**
   * Several SOQL queries through /composite, at most 5 per call (the composite limit on
   * query subrequests); further pages follow nextRecordsUrl. Results in input order.
   */
  queryMany(soqls: string[]): Promise<SObjectRecord[][]>;
  /**
   * Like queryMany, but a query that Salesforce rejects on its own (e.g. INVALID_TYPE for an
   * object the org does not have) yields its BridgeError in place of records, and the others
   * still answer; so does each query of a composite call refused as a whole for what it
   * holds. Failures that may pass later (outage, timeout), of the session or of the budget
   * are thrown.
   */
  queryManySettled(soqls: string[]): Promise<Array<SObjectRecord[] | BridgeError>>;
  /**
   * Queries and sObject describes (`GET /sobjects/{type}/describe`) settled alike, bundled
   * in /composite: a describe is an sObject resource, which Composite takes beside its at
   * most 5 queries (25 subrequests in all), so describes ride along in the queries' calls.
   */
  readSettled(reads: { queries: string[]; describes: string[] }): Promise<{
    queries: Array<SObjectRecord[] | BridgeError>;
    describes: Array<SObjectDescribe | BridgeError>;
  }>;
  /** SOSL via /search; returns searchRecords. One call. */
  search(sosl: string): Promise<SObjectRecord[]>;
  /**
   * Several SOSL searches, one /search call each: Composite takes no Search subrequests,
   * and Composite Batch counts each of its subrequests as a call, so nothing is cheaper.
   */
  searchMany(sosls: string[]): Promise<SObjectRecord[][]>;
  /**
   * Like searchMany, but a search that fails yields its BridgeError in place of records
   * (refused, or failed for now); only failures of the session or the budget are thrown.
   */
  searchManySettled(sosls: string[]): Promise<Array<SObjectRecord[] | BridgeError>>;
  /**
   * sObject Collections create, allOrNone=false. Records are sent in chunks of at most
   * 200; several chunks are bundled in /composite (at most 5 per call). Results in input
   * order. A whole-request failure is thrown; per-record failures are in the results.
   */
  createRecords(records: NewRecord[]): Promise<SaveResult[]>;
  /**
   * sObject Collections upsert by an external id field (`PATCH
   * /composite/sobjects/{type}/{field}`), allOrNone=false: one call per 200 records. Results
   * in input order; a whole-request failure is thrown.
   */
  upsertRecords(type: string, externalIdField: string, records: NewRecord[]): Promise<UpsertResult[]>;
  /** GET /limits (needs View Setup). */
  limits(): Promise<Record<string, { Max: number; Remaining: number }>>;
}
