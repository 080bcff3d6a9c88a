import { completeAuthorization, type LocalOrg, type LocalSalesforce, type LocalUser } from '../../local-org';
import { BridgeError, isBridgeError } from '../../src/core/errors';
import { OAuthClient } from '../../src/salesforce/oauth-client';
import { SalesforceRestClient } from '../../src/salesforce/rest-client';
import { soqlString } from '../../src/salesforce/soql';
import type { LimitInfo, NewRecord, SessionHooks } from '../../src/salesforce/types';
import { API_VERSION, CALLBACK_URL, eventFor, startOrg } from '../local-org/support';

/** The session owner as the sync engine plays it: tokens in memory, refresh through OAuth, a call budget. */
class TestSession implements SessionHooks {
  refreshes = 0;
  callsStarted = 0;
  readonly limits: Array<LimitInfo | null> = [];
  budget = Infinity;

  constructor(
    private readonly oauth: OAuthClient,
    private readonly loginUrl: string,
    public accessToken: string | null,
    public refreshToken: string,
  ) {}

  async getAccessToken(): Promise<string | null> {
    return this.accessToken;
  }

  async refreshAccessToken(): Promise<string> {
    this.refreshes += 1;
    const token = await this.oauth.refresh(this.loginUrl, this.refreshToken);
    this.accessToken = token.accessToken;
    if (token.refreshToken !== null) this.refreshToken = token.refreshToken;
    return token.accessToken;
  }

  async beforeApiCall(): Promise<void> {
    if (this.callsStarted >= this.budget) {
      throw new BridgeError('api_budget', 'our share of the budget is used up', { code: 'BRIDGE_BUDGET' });
    }
    this.callsStarted += 1;
  }

  async afterApiCall(limit: LimitInfo | null): Promise<void> {
    this.limits.push(limit);
  }
}

async function caught(promise: Promise<unknown>): Promise<BridgeError> {
  try {
    await promise;
  } catch (error) {
    if (isBridgeError(error)) return error;
    throw error;
  }
  throw new Error('expected a BridgeError');
}

describe('SalesforceRestClient against the local org', () => {
  let sf: LocalSalesforce;
  let org: LocalOrg;
  let user: LocalUser;
  let session: TestSession;
  let client: SalesforceRestClient;

  async function connect(timeoutMs = 5000): Promise<void> {
    const oauth = new OAuthClient({
      clientId: sf.app.clientId,
      clientSecret: sf.app.clientSecret,
      redirectUri: CALLBACK_URL,
      scopes: 'api refresh_token',
      timeoutMs: 5000,
    });
    const pkce = oauth.createPkce();
    const redirect = await completeAuthorization(
      oauth.authorizeUrl(sf.productionLoginUrl, { state: 's', codeChallenge: pkce.challenge }),
      user,
    );
    const token = await oauth.exchangeCode(
      sf.productionLoginUrl,
      redirect.searchParams.get('code') as string,
      pkce.verifier,
    );
    session = new TestSession(oauth, sf.productionLoginUrl, token.accessToken, token.refreshToken as string);
    client = new SalesforceRestClient({
      instanceUrl: token.instanceUrl,
      apiVersion: API_VERSION,
      hooks: session,
      timeoutMs,
    });
    org.resetApiCalls();
  }

  beforeEach(async () => {
    ({ sf, org, user } = await startOrg());
    await connect();
  });

  afterEach(async () => {
    await sf.close();
  });

  const events = (count: number, whoId: string): NewRecord[] =>
    Array.from(
      { length: count },
      (_unused, index) => eventFor(org, whoId, { inbx__Action_Id__c: `act_${index}` }) as NewRecord,
    );

  it('follows nextRecordsUrl, one call per page', async () => {
    for (let i = 0; i < 2100; i++) org.addContact({ LastName: `姓${i}` });
    const records = await client.query('SELECT Id, LastName FROM Contact');
    expect(records).toHaveLength(2100);
    expect(records[2099]?.LastName).toBe('姓2099');
    expect(org.apiCalls()).toEqual({ total: 2, byEndpoint: { 'GET /query': 1, 'GET /query/{locator}': 1 } });
  });

  it('bundles 12 queries into 3 calls, results in input order', async () => {
    const emails = Array.from({ length: 12 }, (_unused, index) => `person${index}@example.jp`);
    const ids = emails.map((email) => org.addContact({ LastName: email, Email: email.toUpperCase() }));
    const results = await client.queryMany(
      emails.map((email) => `SELECT Id FROM Contact WHERE Email = ${soqlString(email)}`),
    );
    expect(results.map((rows) => rows.map((row) => row.Id))).toEqual(ids.map((id) => [id]));
    expect(org.apiCalls()).toEqual({ total: 3, byEndpoint: { 'POST /composite': 3 } });
  });

  it('follows further pages of a bundled query', async () => {
    for (let i = 0; i < 2001; i++) org.addContact({ LastName: `姓${i}` });
    const [all, none] = await client.queryMany(['SELECT Id FROM Contact', "SELECT Id FROM Lead WHERE Company = 'x'"]);
    expect(all).toHaveLength(2001);
    expect(none).toEqual([]);
    expect(org.apiCalls().total).toBe(2);
  });

  it('sends each search as its own call, since Composite takes no Search subrequests', async () => {
    const id = org.addContact({ LastName: 'a', Phone: '03-1234-5678' });
    const searches = Array.from({ length: 6 }, () => 'FIND {0312345678} IN PHONE FIELDS RETURNING Contact(Id, Phone)');
    const results = await client.searchMany(searches);
    expect(results).toHaveLength(6);
    expect(results.every((rows) => rows.length === 1 && rows[0]?.Id === id)).toBe(true);
    expect(org.apiCalls()).toEqual({ total: 6, byEndpoint: { 'GET /search': 6 } });
    expect(session.callsStarted).toBe(6);
    expect(await client.search(searches[0] as string)).toEqual([
      expect.objectContaining({ Id: id, Phone: '03-1234-5678' }),
    ]);
  });

  it('settles a failed search in its place, refused or failed for now; a dead session is thrown', async () => {
    const id = org.addContact({ LastName: 'a', Phone: '03-1234-5678' });
    const good = 'FIND {0312345678} IN PHONE FIELDS RETURNING Contact(Id)';
    const results = await client.searchManySettled([good, 'FIND {0312345678} RETURNING Nope__c(Id)', good]);
    expect(results[0]).toEqual([expect.objectContaining({ Id: id })]);
    expect(results[1]).toMatchObject({ kind: 'permanent', code: 'INVALID_TYPE' });
    expect(results[2]).toEqual([expect.objectContaining({ Id: id })]);
    sf.faults.serverError({ path: '/search' });
    const [failed] = await client.searchManySettled([good]);
    expect(failed).toMatchObject({ kind: 'retryable', code: 'SERVER_UNAVAILABLE' });
    org.exhaustApiBudget();
    expect(await caught(client.searchManySettled([good]))).toMatchObject({ kind: 'api_budget' });
  });

  it('settles every query of a composite call Salesforce refuses as a whole; the next call still answers', async () => {
    const emails = Array.from({ length: 7 }, (_unused, index) => `person${index}@example.jp`);
    const ids = emails.map((email) => org.addContact({ LastName: email, Email: email }));
    sf.faults.failNext({
      path: '/composite',
      status: 400,
      body: [{ errorCode: 'INVALID_INPUT', message: 'The subrequest is not supported in a composite request.' }],
    });
    const results = await client.queryManySettled(
      emails.map((email) => `SELECT Id FROM Contact WHERE Email = ${soqlString(email)}`),
    );
    expect(results.slice(0, 5).every((result) => isBridgeError(result) && result.code === 'INVALID_INPUT')).toBe(true);
    expect(results.slice(5)).toEqual(ids.slice(5).map((id) => [expect.objectContaining({ Id: id })]));
  });

  it('throws when a whole composite call of queries fails in a way that may pass later', async () => {
    sf.faults.serverError({ path: '/composite' });
    const error = await caught(client.queryManySettled(['SELECT Id FROM Contact', 'SELECT Id FROM Lead']));
    expect(error.kind).toBe('retryable');
  });

  it('writes 450 records in one composite call of three collections, results in input order', async () => {
    const contact = org.addContact({ LastName: '山田' });
    const records = events(450, contact);
    records[7] = eventFor(org, contact, { Subject: 'x'.repeat(256), inbx__Action_Id__c: 'act_7' }) as NewRecord;
    const results = await client.createRecords(records);
    expect(results).toHaveLength(450);
    expect(results[7]).toEqual({
      id: null,
      success: false,
      errors: [expect.objectContaining({ statusCode: 'STRING_TOO_LONG', fields: ['Subject'] })],
    });
    expect(results.filter((result) => result.success)).toHaveLength(449);
    const actionIds = new Map(org.records('Event').map((event) => [event.Id, event.inbx__Action_Id__c]));
    results.forEach((result, index) => {
      if (result.success) expect(actionIds.get(result.id as string)).toBe(`act_${index}`);
    });
    expect(org.apiCalls()).toEqual({ total: 1, byEndpoint: { 'POST /composite': 1 } });
  });

  it('sends a single chunk straight to sObject Collections, and 1,001 records in two calls', async () => {
    const contact = org.addContact({ LastName: '山田' });
    await client.createRecords(events(3, contact));
    expect(org.apiCalls()).toEqual({ total: 1, byEndpoint: { 'POST /composite/sobjects': 1 } });
    org.resetApiCalls();
    const results = await client.createRecords(events(1001, contact));
    expect(results.every((result) => result.success)).toBe(true);
    expect(org.apiCalls().total).toBe(2);
    expect(await client.createRecords([])).toEqual([]);
  });

  it('gives every record of a chunk the error when its collection fails permanently', async () => {
    const contact = org.addContact({ LastName: '山田' });
    const records = events(201, contact);
    records[3] = { ...records[3], Nope__c: 1 } as NewRecord;
    const results = await client.createRecords(records);
    expect(
      results.slice(0, 200).every((result) => !result.success && result.errors[0]?.statusCode === 'INVALID_FIELD'),
    ).toBe(true);
    expect(results[0]?.errors[0]?.message).toContain('Nope__c');
    expect(results[200]?.success).toBe(true);
  });

  it('throws when a collection fails wholesale with a retryable error, leaving the batch uncertain', async () => {
    const contact = org.addContact({ LastName: '山田' });
    sf.faults.lockRequests({ path: '/composite/sobjects' });
    const error = await caught(client.createRecords(events(201, contact)));
    expect(error).toMatchObject({ kind: 'retryable', code: 'UNABLE_TO_LOCK_ROW' });
  });

  it('keeps a record-level UNABLE_TO_LOCK_ROW in the results', async () => {
    const contact = org.addContact({ LastName: '山田' });
    sf.faults.lockRecords({ count: 1 });
    const results = await client.createRecords(events(2, contact));
    expect(results[0]?.errors[0]?.statusCode).toBe('UNABLE_TO_LOCK_ROW');
    expect(results[1]?.success).toBe(true);
  });

  it('refreshes an expired access token once, transparently', async () => {
    org.expireAccessTokens();
    expect(await client.query('SELECT Id FROM Contact')).toEqual([]);
    expect(session.refreshes).toBe(1);
    expect(await client.query('SELECT Id FROM Contact')).toEqual([]);
    expect(session.refreshes).toBe(1);
  });

  it('refreshes first when it has no access token', async () => {
    session.accessToken = null;
    await client.limits();
    expect(session.refreshes).toBe(1);
  });

  it('renews a refused session twice at most, then retries later: the refresh token still works, so the link is not dead', async () => {
    org.settings.accessTokenLifetimeMs = 0;
    org.expireAccessTokens();
    const error = await caught(client.query('SELECT Id FROM Contact'));
    // The first renewal may be a token another instance renewed just before (and Salesforce
    // may have ended it meanwhile); only a refresh token Salesforce refuses needs a new authorisation.
    expect(error).toMatchObject({ kind: 'retryable', code: 'SESSION_REFUSED_AFTER_REFRESH' });
    expect(session.refreshes).toBe(2);
  });

  it('turns a revoked refresh token into needs_reauth', async () => {
    org.revokeRefreshTokens();
    const error = await caught(client.query('SELECT Id FROM Contact'));
    expect(error).toMatchObject({ kind: 'needs_reauth', code: 'invalid_grant' });
  });

  it('turns an exhausted daily budget into api_budget', async () => {
    org.exhaustApiBudget();
    const error = await caught(client.limits());
    expect(error).toMatchObject({ kind: 'api_budget', code: 'REQUEST_LIMIT_EXCEEDED' });
  });

  it('makes no request when the session refuses the call', async () => {
    session.budget = 0;
    expect((await caught(client.limits())).code).toBe('BRIDGE_BUDGET');
    expect(org.apiCalls().total).toBe(0);
  });

  it('turns 5xx into retryable', async () => {
    sf.faults.serverError({ path: '/query' });
    expect(await caught(client.query('SELECT Id FROM Contact'))).toMatchObject({
      kind: 'retryable',
      code: 'SERVER_UNAVAILABLE',
    });
  });

  it('turns a hung request into a retryable timeout', async () => {
    await connect(300);
    const hang = sf.faults.hangNext({ path: '/limits' });
    const error = await caught(client.limits());
    expect(error).toMatchObject({ kind: 'retryable', code: 'TIMEOUT' });
    expect(hang.hanging()).toBe(1);
  });

  it('passes Sforce-Limit-Info to the hook after every call, errors included', async () => {
    org.setApiUsage(41);
    await client.limits();
    sf.faults.serverError({ path: '/limits' });
    await caught(client.limits());
    expect(session.limits).toEqual([
      { used: 42, max: 15000 },
      { used: 42, max: 15000 },
    ]);
  });

  it('turns API_DISABLED_FOR_ORG into needs_reauth with Salesforce’s message', async () => {
    org.settings.apiEnabled = false;
    const error = await caught(client.query('SELECT Id FROM Contact'));
    expect(error).toMatchObject({
      kind: 'needs_reauth',
      code: 'API_DISABLED_FOR_ORG',
      remoteMessage: 'The REST API is not enabled for this Organization.',
    });
  });

  it('turns an unknown packaged field into a permanent error that names the likely cause', async () => {
    const error = await caught(
      client.queryMany(["SELECT Id FROM Event WHERE zzz__Action_Id__c IN ('a')", 'SELECT Id FROM Contact']),
    );
    expect(error).toMatchObject({ kind: 'permanent', code: 'INVALID_FIELD' });
    expect(error.message).toContain('managed package');
  });

  it('reads /limits', async () => {
    const limits = await client.limits();
    expect(limits.DailyApiRequests).toEqual({ Max: 15000, Remaining: 14999 });
  });

  it('never puts the access token into an error', async () => {
    org.settings.apiEnabled = false;
    const error = await caught(client.limits());
    expect(
      JSON.stringify({ message: error.message, remote: error.remoteMessage, details: error.details }),
    ).not.toContain(session.accessToken as string);
  });
});
