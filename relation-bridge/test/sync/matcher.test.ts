import type { LocalOrg, LocalSalesforce } from '../../local-org';
import type { MatchCandidate } from '../../src/core/types';
import { SalesforceRestClient } from '../../src/salesforce/rest-client';
import { LruCache } from '../../src/sync/lru-cache';
import { CustomerMatcher, MAX_PHONE_SEARCH_CHARS, SOSL_MAX_ROWS } from '../../src/sync/matcher';
import { API_VERSION, login, startOrg } from '../local-org/support';

/** The matcher against the local org over HTTP, with the bridge's own REST client. */
describe('CustomerMatcher', () => {
  let sf: LocalSalesforce;
  let org: LocalOrg;
  let api: SalesforceRestClient;
  let matcher: CustomerMatcher;

  beforeEach(async () => {
    const started = await startOrg();
    ({ sf, org } = started);
    const token = (await login(sf, started.user)).access_token;
    api = new SalesforceRestClient({
      instanceUrl: org.instanceUrl,
      apiVersion: API_VERSION,
      timeoutMs: 5000,
      hooks: {
        getAccessToken: async () => token,
        refreshAccessToken: async () => token,
        beforeApiCall: async () => undefined,
        afterApiCall: async () => undefined,
      },
    });
    matcher = new CustomerMatcher(new LruCache<MatchCandidate[]>(10_000, 60_000), org.orgId);
  });

  afterEach(async () => {
    await sf.close();
  });

  const request = (actionId: string, phones: string[]) => ({
    actionId,
    target: 'contact_then_lead' as const,
    emails: [],
    phones,
  });

  it('searches again, in halves, the numbers of a search that filled SOSL’s 2,000 rows', async () => {
    // A switchboard number shared by more records than one search returns, searched with another.
    for (let i = 0; i <= SOSL_MAX_ROWS; i += 1) org.addContact({ LastName: `代表${i}`, Phone: '03-0000-0000' });
    const alone = org.addContact({ LastName: '個人', Phone: '090-1111-2222' });
    org.resetApiCalls();

    const outcomes = await matcher.matchAll(api, [
      request('switchboard', ['03-0000-0000']),
      request('person', ['090-1111-2222']),
    ]);

    expect(outcomes.get('person')).toMatchObject({ matched: true, record: { chosen: { id: alone } } });
    expect(outcomes.get('switchboard')?.matched).toBe(true);
    expect(org.apiCalls()).toEqual({ total: 3, byEndpoint: { 'GET /search': 3 } });
  });

  it('puts as many numbers in one search as fit in 4,000 characters of FIND {…}', async () => {
    const phones = Array.from({ length: 300 }, (_unused, i) => `090-${String(1000 + i)}-${String(5000 + i)}`);
    phones.forEach((phone, i) => org.addContact({ LastName: `顧客${i}`, MobilePhone: phone }));
    org.resetApiCalls();

    const outcomes = await matcher.matchAll(
      api,
      phones.map((phone, i) => request(`a${i}`, [phone])),
    );

    expect([...outcomes.values()].every((outcome) => outcome.matched)).toBe(true);
    // 11 + 12 characters and two " OR " per number: 31.
    expect(org.apiCalls().byEndpoint['GET /search']).toBe(Math.ceil(300 / Math.floor(MAX_PHONE_SEARCH_CHARS / 31)));
  });

  it('fails only the requests whose email look-up Salesforce refused, and says why', async () => {
    const known = org.addContact({ LastName: '山田', Email: 'taro@example.jp' });
    sf.faults.failNext({
      path: /\/query$/,
      status: 400,
      body: [{ errorCode: 'QUERY_TOO_COMPLICATED', message: 'too complicated' }],
    });
    const outcomes = await matcher.matchAll(api, [
      { actionId: 'refused', target: 'contact', emails: ['someone@example.jp'], phones: [] },
    ]);
    expect(outcomes.get('refused')).toMatchObject({
      matched: false,
      lookupFailure: { kind: 'permanent', code: 'QUERY_TOO_COMPLICATED' },
    });
    const again = await matcher.matchAll(api, [
      { actionId: 'ok', target: 'contact', emails: ['taro@example.jp'], phones: [] },
    ]);
    expect(again.get('ok')).toMatchObject({ matched: true, record: { chosen: { id: known } } });
  });
});
