import type { LocalOrg, LocalSalesforce, LocalUser } from '../../local-org';
import { eventFor, login, rest, startOrg } from './support';

/**
 * The local org refuses what Salesforce's Composite and Composite Graph refuse: subrequest
 * types the documentation leaves out, and the limits per request.
 */
describe('local org composite rules', () => {
  let sf: LocalSalesforce;
  let org: LocalOrg;
  let user: LocalUser;
  let token: string;
  let contactId: string;

  const V = '/services/data/v66.0';
  const queryUrl = (soql: string) => `${V}/query?q=${encodeURIComponent(soql)}`;

  beforeEach(async () => {
    ({ sf, org, user } = await startOrg());
    token = (await login(sf, user)).access_token;
    contactId = org.addContact({ LastName: '山田', Email: 'taro@example.jp', Phone: '03-1234-5678' });
    org.resetApiCalls();
  });

  afterEach(async () => {
    await sf.close();
  });

  const composite = (compositeRequest: unknown[], allOrNone = false) =>
    rest(org, token, 'POST', '/composite', { allOrNone, compositeRequest });

  it('refuses a Search subrequest: the whole request, with nothing run, as one call', async () => {
    const response = await composite([
      { method: 'POST', url: `${V}/sobjects/Contact`, referenceId: 'first', body: { LastName: '佐藤' } },
      {
        method: 'GET',
        url: `${V}/search?q=${encodeURIComponent('FIND {0312345678} IN PHONE FIELDS RETURNING Contact(Id)')}`,
        referenceId: 'phones',
      },
    ]);
    expect(response.status).toBe(400);
    expect(response.body).toEqual([
      {
        errorCode: 'INVALID_INPUT',
        message: expect.stringContaining("'phones' (GET /services/data/v66.0/search)"),
      },
    ]);
    expect(org.records('Contact')).toHaveLength(1);
    expect(org.apiCalls()).toEqual({ total: 1, byEndpoint: { 'POST /composite': 1 } });
  });

  it.each([
    ['Limits', 'GET', `/limits`],
    ['a nested Composite', 'POST', `/composite`],
    ['Composite Batch', 'POST', `/composite/batch`],
    ['Composite Graph', 'POST', `/composite/graph`],
    ['sObject Tree', 'POST', `/composite/tree/Contact`],
    ['the version root', 'GET', ``],
    ['a path outside the REST API', 'GET', `/../../oauth2/userinfo`],
  ])('refuses %s as a subrequest', async (_name, method, path) => {
    const response = await composite([
      { method: 'GET', url: queryUrl('SELECT Id FROM Contact'), referenceId: 'ok' },
      { method, url: `${V}${path}`, referenceId: 'bad', body: {} },
    ]);
    expect(response.status).toBe(400);
    expect(response.body[0].errorCode).toBe('INVALID_INPUT');
  });

  it('accepts sObject resources, sObject Collections, Query, QueryAll and a next page together', async () => {
    for (let i = 0; i < 250; i++) org.addContact({ LastName: `姓${i}` });
    const first = await rest(org, token, 'GET', `/query?q=${encodeURIComponent('SELECT Id FROM Contact')}`, undefined, {
      'Sforce-Query-Options': 'batchSize=200',
    });
    const response = await composite([
      { method: 'GET', url: `${V}/sobjects/Contact/${contactId}`, referenceId: 'row' },
      { method: 'GET', url: `${V}/sobjects/Contact/describe`, referenceId: 'describe' },
      { method: 'GET', url: queryUrl('SELECT Id FROM Contact LIMIT 1'), referenceId: 'query' },
      { method: 'GET', url: `${V}/queryAll?q=${encodeURIComponent('SELECT Id FROM Lead')}`, referenceId: 'all' },
      { method: 'GET', url: first.body.nextRecordsUrl, referenceId: 'more' },
      {
        method: 'POST',
        url: `${V}/composite/sobjects`,
        referenceId: 'collection',
        body: { allOrNone: false, records: [eventFor(org, contactId)] },
      },
    ]);
    expect(response.status).toBe(200);
    expect(response.body.compositeResponse.map((entry: { httpStatusCode: number }) => entry.httpStatusCode)).toEqual([
      200, 200, 200, 200, 200, 200,
    ]);
  });

  it('counts Query, QueryAll, next pages and sObject Collections together against the five allowed', async () => {
    const five = [
      { method: 'GET', url: queryUrl('SELECT Id FROM Contact'), referenceId: 'q1' },
      { method: 'GET', url: queryUrl('SELECT Id FROM Lead'), referenceId: 'q2' },
      { method: 'GET', url: `${V}/queryAll?q=${encodeURIComponent('SELECT Id FROM Event')}`, referenceId: 'q3' },
      { method: 'GET', url: `${V}/query/01gAAAAAAAAAAAAAAA-200`, referenceId: 'q4' },
      {
        method: 'POST',
        url: `${V}/composite/sobjects`,
        referenceId: 'c1',
        body: { allOrNone: false, records: [eventFor(org, contactId)] },
      },
    ];
    const rows = Array.from({ length: 20 }, (_unused, index) => ({
      method: 'GET',
      url: `${V}/sobjects/Contact/${contactId}`,
      referenceId: `row${index}`,
    }));
    expect((await composite([...five, ...rows])).status).toBe(200);
    const sixth = { method: 'GET', url: queryUrl('SELECT Id FROM User'), referenceId: 'q6' };
    const refused = await composite([...five, sixth]);
    expect(refused.status).toBe(400);
    expect(refused.body[0]).toMatchObject({ errorCode: 'INVALID_BATCH_REQUEST' });
    expect((await composite([...five, ...rows, sixth])).status).toBe(400);
  });

  it('runs each subrequest on its own: a rejected query answers alone, the others still run', async () => {
    const response = await composite([
      { method: 'GET', url: queryUrl('SELECT Id FROM Contact'), referenceId: 'good' },
      { method: 'GET', url: queryUrl('SELECT Nope__c FROM Contact'), referenceId: 'bad' },
      { method: 'GET', url: queryUrl('SELECT Id FROM Contact'), referenceId: 'after' },
    ]);
    expect(response.status).toBe(200);
    const [good, bad, after] = response.body.compositeResponse;
    expect(good.httpStatusCode).toBe(200);
    expect(bad).toMatchObject({ httpStatusCode: 400, body: [{ errorCode: 'INVALID_FIELD' }] });
    expect(after.httpStatusCode).toBe(200);
  });

  describe('Composite Graph', () => {
    const graph = (graphId: string, nodes: unknown[]) => ({ graphId, compositeRequest: nodes });
    const newContact = (referenceId: string, lastName: string | null) => ({
      method: 'POST',
      url: `${V}/sobjects/Contact`,
      referenceId,
      body: { LastName: lastName },
    });

    it('refuses a node that is not an sObject resource', async () => {
      for (const url of [
        queryUrl('SELECT Id FROM Contact'),
        `${V}/composite/sobjects`,
        `${V}/limits`,
        `${V}/sobjects`,
      ]) {
        const response = await rest(org, token, 'POST', '/composite/graph', {
          graphs: [graph('g', [newContact('ok', '佐藤'), { method: 'GET', url, referenceId: 'bad' }])],
        });
        expect(response.status).toBe(400);
        expect(response.body[0].errorCode).toBe('INVALID_INPUT');
      }
      expect(org.records('Contact')).toHaveLength(1);
    });

    it('refuses more than 15 different nodes (version, method and object)', async () => {
      const objects = ['Contact', 'Lead', 'Account', 'Event', 'Task'];
      const nodes = objects.flatMap((object, index) =>
        ['GET', 'PATCH', 'DELETE', 'POST'].map((method) => ({
          method,
          url: method === 'POST' ? `${V}/sobjects/${object}` : `${V}/sobjects/${object}/${contactId}`,
          referenceId: `${method}${index}`,
          ...(method === 'GET' || method === 'DELETE' ? {} : { body: {} }),
        })),
      );
      const response = await rest(org, token, 'POST', '/composite/graph', { graphs: [graph('g', nodes)] });
      expect(response.status).toBe(400);
      expect(response.body[0].message).toContain('15 different nodes');
    });

    it('halts the remaining graphs once more than 14 have failed', async () => {
      const graphs = Array.from({ length: 17 }, (_unused, index) =>
        graph(`g${index}`, [newContact('c', index < 15 ? null : `姓${index}`)]),
      );
      const response = await rest(org, token, 'POST', '/composite/graph', { graphs });
      expect(response.status).toBe(200);
      const outcomes = response.body.graphs.map(
        (entry: { isSuccessful: boolean; graphResponse: { compositeResponse: Array<{ body: unknown }> } }) => ({
          ok: entry.isSuccessful,
          code: (entry.graphResponse.compositeResponse[0]?.body as Array<{ errorCode: string }>)[0]?.errorCode,
        }),
      );
      expect(outcomes.slice(0, 15).every((outcome: { ok: boolean }) => !outcome.ok)).toBe(true);
      expect(outcomes.slice(15)).toEqual([
        { ok: false, code: 'PROCESSING_HALTED' },
        { ok: false, code: 'PROCESSING_HALTED' },
      ]);
      expect(org.records('Contact')).toHaveLength(1);
    });
  });
});
