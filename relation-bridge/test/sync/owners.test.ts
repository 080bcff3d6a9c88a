import type { LocalOrg, LocalSalesforce } from '../../local-org';
import { SalesforceRestClient } from '../../src/salesforce/rest-client';
import { runLookups } from '../../src/sync/lookups';
import { LruCache } from '../../src/sync/lru-cache';
import { OwnerResolver } from '../../src/sync/owners';
import { API_VERSION, login, startOrg } from '../local-org/support';

describe('OwnerResolver', () => {
  let sf: LocalSalesforce;
  let org: LocalOrg;
  let api: SalesforceRestClient;

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
  });

  afterEach(async () => {
    await sf.close();
  });

  it('resolves operators to active Users, falling back to the default owner when none matches', async () => {
    const sato = org.addUser({ username: 'sato@acme.example.com', email: 'Sato@Example.jp', lastName: '佐藤' });
    const owners = new OwnerResolver(new LruCache(100, 60_000), org.orgId);
    await runLookups((queries) => api.queryManySettled(queries), [owners.lookupFor(['sato@example.jp', 'x@y.jp'])]);
    expect(owners.ownerFor('SATO@example.jp', '005DEFAULT')).toEqual({ ownerId: sato.id, fromOperator: true });
    expect(owners.ownerFor('x@y.jp', '005DEFAULT')).toEqual({ ownerId: '005DEFAULT', fromOperator: false });
    expect(owners.failureFor('sato@example.jp')).toBeNull();
  });

  it('reports a refused look-up for its operators instead of giving their Events the default owner', async () => {
    sf.faults.failNext({
      path: /\/query$/,
      status: 400,
      body: [{ errorCode: 'QUERY_TOO_COMPLICATED', message: 'too complicated' }],
    });
    const owners = new OwnerResolver(new LruCache(100, 60_000), org.orgId);
    await runLookups((queries) => api.queryManySettled(queries), [owners.lookupFor(['sato@example.jp'])]);
    expect(owners.failureFor('Sato@Example.jp')).toMatchObject({ kind: 'permanent', code: 'QUERY_TOO_COMPLICATED' });
    expect(owners.failureFor('someone-else@example.jp')).toBeNull();
    expect(owners.failureFor(null)).toBeNull();
  });
});
