import type { LocalOrg, LocalSalesforce, LocalUser } from '../../local-org';
import { eventFor, login, rest, startOrg } from './support';

describe('local org sObject Collections and composite', () => {
  let sf: LocalSalesforce;
  let org: LocalOrg;
  let user: LocalUser;
  let token: string;
  let contactId: string;

  beforeEach(async () => {
    ({ sf, org, user } = await startOrg());
    token = (await login(sf, user)).access_token;
    contactId = org.addContact({ LastName: '山田', Email: 'taro@example.jp' });
  });

  afterEach(async () => {
    await sf.close();
  });

  it('creates mixed types in input order, with record errors under statusCode, in one call', async () => {
    const response = await rest(org, token, 'POST', '/composite/sobjects', {
      allOrNone: false,
      records: [
        eventFor(org, contactId),
        { attributes: { type: 'Task' }, Subject: '電話', WhoId: contactId },
        eventFor(org, contactId, { DurationInMinutes: undefined }),
      ],
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual([
      { id: expect.stringMatching(/^00U/), success: true, errors: [] },
      { id: expect.stringMatching(/^00T/), success: true, errors: [] },
      {
        success: false,
        errors: [
          {
            statusCode: 'REQUIRED_FIELD_MISSING',
            message: 'Required fields are missing: [DurationInMinutes]',
            fields: ['DurationInMinutes'],
          },
        ],
      },
    ]);
    expect(org.records('Event')).toHaveLength(1);
    expect(org.records('Task')[0]?.Status).toBe('Not Started');
    expect(org.apiCalls()).toEqual({ total: 1, byEndpoint: { 'POST /composite/sobjects': 1 } });
  });

  it('with allOrNone, one bad record rolls back the others with ALL_OR_NONE_OPERATION_ROLLED_BACK', async () => {
    const response = await rest(org, token, 'POST', '/composite/sobjects', {
      allOrNone: true,
      records: [eventFor(org, contactId), eventFor(org, contactId, { Subject: 'x'.repeat(256) })],
    });
    expect(response.body[0]).toEqual({
      success: false,
      errors: [
        {
          statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
          message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
          fields: [],
        },
      ],
    });
    expect(response.body[1].errors[0].statusCode).toBe('STRING_TOO_LONG');
    expect(org.records('Event')).toHaveLength(0);
  });

  it('refuses more than 200 records', async () => {
    const records = Array.from({ length: 201 }, () => eventFor(org, contactId));
    const response = await rest(org, token, 'POST', '/composite/sobjects', { allOrNone: false, records });
    expect(response.status).toBe(400);
    expect(response.body[0].errorCode).toBe('EXCEEDED_ID_LIMIT');
    expect(org.records('Event')).toHaveLength(0);
  });

  it('fails the whole request with INVALID_FIELD when the package’s fields do not exist', async () => {
    await sf.close();
    ({ sf, org, user } = await startOrg({}, { name: 'No Package', packageInstalled: false }));
    token = (await login(sf, user)).access_token;
    contactId = org.addContact({ LastName: '山田' });
    const response = await rest(org, token, 'POST', '/composite/sobjects', {
      allOrNone: false,
      records: [{ ...eventFor(org, contactId), Subject: 'ok' }, eventFor(org, contactId)],
    });
    expect(response.status).toBe(400);
    expect(response.body).toEqual([
      { message: "No such column 'inbx__Action_Id__c' on sobject of type Event", errorCode: 'INVALID_FIELD' },
    ]);
    expect(org.records('Event')).toHaveLength(0);
  });

  it('counts a composite of 5 collections with 1,000 records as one call', async () => {
    const compositeRequest = Array.from({ length: 5 }, (_unused, chunk) => ({
      method: 'POST',
      url: '/services/data/v66.0/composite/sobjects',
      referenceId: `chunk${chunk}`,
      body: { allOrNone: false, records: Array.from({ length: 200 }, () => eventFor(org, contactId)) },
    }));
    const response = await rest(org, token, 'POST', '/composite', { allOrNone: false, compositeRequest });
    expect(response.status).toBe(200);
    expect(response.body.compositeResponse.map((entry: { httpStatusCode: number }) => entry.httpStatusCode)).toEqual([
      200, 200, 200, 200, 200,
    ]);
    expect(org.records('Event')).toHaveLength(1000);
    expect(org.apiCalls()).toEqual({ total: 1, byEndpoint: { 'POST /composite': 1 } });
  });

  it('resolves @{ref.id} references and reports Location for created records', async () => {
    const response = await rest(org, token, 'POST', '/composite', {
      allOrNone: true,
      compositeRequest: [
        {
          method: 'POST',
          url: '/services/data/v66.0/sobjects/Lead',
          referenceId: 'lead',
          body: { LastName: '前田', Company: '前田工業' },
        },
        {
          method: 'POST',
          url: '/services/data/v66.0/sobjects/Event',
          referenceId: 'event',
          body: { ...eventFor(org, '@{lead.id}'), attributes: undefined },
        },
        { method: 'GET', url: '/services/data/v66.0/sobjects/Event/@{event.id}?fields=WhoId', referenceId: 'check' },
      ],
    });
    const [lead, event, check] = response.body.compositeResponse;
    expect(lead.httpStatusCode).toBe(201);
    expect(lead.httpHeaders.Location).toBe(`/services/data/v66.0/sobjects/Lead/${lead.body.id}`);
    expect(event.httpStatusCode).toBe(201);
    expect(check.body.WhoId).toBe(lead.body.id);
  });

  it('with allOrNone, a failed subrequest halts and rolls back the rest with PROCESSING_HALTED', async () => {
    const response = await rest(org, token, 'POST', '/composite', {
      allOrNone: true,
      compositeRequest: [
        { method: 'POST', url: '/services/data/v66.0/sobjects/Contact', referenceId: 'ok', body: { LastName: '成功' } },
        {
          method: 'POST',
          url: '/services/data/v66.0/sobjects/Contact',
          referenceId: 'bad',
          body: { FirstName: '失敗' },
        },
        {
          method: 'POST',
          url: '/services/data/v66.0/sobjects/Contact',
          referenceId: 'after',
          body: { LastName: '後' },
        },
      ],
    });
    const [ok, bad, after] = response.body.compositeResponse;
    expect(response.status).toBe(200);
    expect(ok).toMatchObject({ httpStatusCode: 400, body: [{ errorCode: 'PROCESSING_HALTED' }] });
    expect(bad).toMatchObject({ httpStatusCode: 400, body: [{ errorCode: 'REQUIRED_FIELD_MISSING' }] });
    expect(after).toMatchObject({ httpStatusCode: 400, body: [{ errorCode: 'PROCESSING_HALTED' }] });
    expect(org.records('Contact')).toHaveLength(1);
  });

  it('without allOrNone, only subrequests that depend on a failed one are halted', async () => {
    const response = await rest(org, token, 'POST', '/composite', {
      allOrNone: false,
      compositeRequest: [
        { method: 'POST', url: '/services/data/v66.0/sobjects/Contact', referenceId: 'bad', body: { FirstName: 'x' } },
        { method: 'GET', url: '/services/data/v66.0/sobjects/Contact/@{bad.id}', referenceId: 'dependent' },
        {
          method: 'POST',
          url: '/services/data/v66.0/sobjects/Contact',
          referenceId: 'independent',
          body: { LastName: '独立' },
        },
      ],
    });
    const [, dependent, independent] = response.body.compositeResponse;
    expect(dependent.body[0].errorCode).toBe('PROCESSING_HALTED');
    expect(dependent.body[0].message).toContain('Invalid reference specified');
    expect(independent.httpStatusCode).toBe(201);
  });

  it('refuses more than 25 subrequests, or more than 5 query and collection subrequests', async () => {
    const tooMany = Array.from({ length: 26 }, (_unused, index) => ({
      method: 'GET',
      url: '/services/data/v66.0/limits',
      referenceId: `r${index}`,
    }));
    expect((await rest(org, token, 'POST', '/composite', { compositeRequest: tooMany })).status).toBe(400);
    const queries = Array.from({ length: 6 }, (_unused, index) => ({
      method: 'GET',
      url: `/services/data/v66.0/query?q=${encodeURIComponent('SELECT Id FROM Contact')}`,
      referenceId: `q${index}`,
    }));
    const refused = await rest(org, token, 'POST', '/composite', { compositeRequest: queries });
    expect(refused.status).toBe(400);
    expect(refused.body[0].errorCode).toBe('INVALID_BATCH_REQUEST');
  });

  it('runs queries inside composite with their own paging headers', async () => {
    for (let i = 0; i < 250; i++) org.addContact({ LastName: `姓${i}` });
    const response = await rest(org, token, 'POST', '/composite', {
      compositeRequest: [
        {
          method: 'GET',
          url: `/services/data/v66.0/query?q=${encodeURIComponent('SELECT Id FROM Contact')}`,
          referenceId: 'page',
          httpHeaders: { 'Sforce-Query-Options': 'batchSize=200' },
        },
      ],
    });
    const [page] = response.body.compositeResponse;
    expect(page.body.totalSize).toBe(251);
    expect(page.body.records).toHaveLength(200);
    expect(page.body.nextRecordsUrl).toMatch(/^\/services\/data\/v66\.0\/query\/01g[A-Za-z0-9]+-200$/);
    const next = await rest(org, token, 'GET', page.body.nextRecordsUrl);
    expect(next.body).toMatchObject({ done: true, totalSize: 251 });
    expect(next.body.records).toHaveLength(51);
  });

  it('runs Composite Graph as one call, each graph all-or-nothing', async () => {
    const graph = (graphId: string, lastName: string | null) => ({
      graphId,
      compositeRequest: [
        {
          method: 'POST',
          url: '/services/data/v66.0/sobjects/Account',
          referenceId: 'account',
          body: { Name: graphId },
        },
        {
          method: 'POST',
          url: '/services/data/v66.0/sobjects/Contact',
          referenceId: 'contact',
          body: { LastName: lastName, AccountId: '@{account.id}' },
        },
      ],
    });
    const response = await rest(org, token, 'POST', '/composite/graph', {
      graphs: [graph('good', '山田'), graph('bad', null)],
    });
    expect(response.status).toBe(200);
    expect(
      response.body.graphs.map((entry: { graphId: string; isSuccessful: boolean }) => [
        entry.graphId,
        entry.isSuccessful,
      ]),
    ).toEqual([
      ['good', true],
      ['bad', false],
    ]);
    expect(org.records('Account').map((account) => account.Name)).toEqual(['good']);
    expect(org.apiCalls()).toEqual({ total: 1, byEndpoint: { 'POST /composite/graph': 1 } });
    const tooBig = Array.from({ length: 3 }, (_unused, index) => ({
      graphId: `g${index}`,
      compositeRequest: Array.from({ length: 200 }, (_none, node) => ({
        method: 'GET',
        url: '/services/data/v66.0/limits',
        referenceId: `n${node}`,
      })),
    }));
    expect((await rest(org, token, 'POST', '/composite/graph', { graphs: tooBig })).status).toBe(400);
  });

  it('upserts an Event by a unique external-id Action Id when the org has that switch on', async () => {
    await sf.close();
    ({ sf, org, user } = await startOrg({}, { name: 'Ext', actionIdUnique: true }));
    token = (await login(sf, user)).access_token;
    contactId = org.addContact({ LastName: '山田' });
    const body = { ...eventFor(org, contactId), attributes: undefined, inbx__Action_Id__c: undefined };
    const created = await rest(org, token, 'PATCH', '/sobjects/Event/inbx__Action_Id__c/act_42', body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ success: true, created: true });
    const updated = await rest(org, token, 'PATCH', '/sobjects/Event/inbx__Action_Id__c/act_42', { Subject: '更新' });
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({ id: created.body.id, success: true, errors: [], created: false });
    expect(org.records('Event')).toHaveLength(1);
    expect((await rest(org, token, 'PATCH', '/sobjects/Event/Subject/x', body)).status).toBe(404);
    expect(org.apiCalls().byEndpoint['PATCH /sobjects/Event/inbx__Action_Id__c/{value}']).toBe(2);
  });
});
