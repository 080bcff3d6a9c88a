import type { LocalOrg, LocalSalesforce, LocalUser } from '../../local-org';
import { login, rest, startOrg } from './support';

describe('local org REST basics', () => {
  let sf: LocalSalesforce;
  let org: LocalOrg;
  let user: LocalUser;
  let token: string;

  beforeEach(async () => {
    ({ sf, org, user } = await startOrg({}, { name: 'Acme', dailyApiMax: 100 }));
    token = (await login(sf, user)).access_token;
  });

  afterEach(async () => {
    await sf.close();
  });

  it('lists versions at /services/data/ without counting a call', async () => {
    const response = await rest(org, null, 'GET', '/services/data/');
    expect(response.status).toBe(200);
    expect(response.body).toEqual(
      expect.arrayContaining([{ label: "Spring '26", url: '/services/data/v66.0', version: '66.0' }]),
    );
    expect(response.body.map((entry: { version: string }) => entry.version)).toEqual(
      expect.arrayContaining(['58.0', '68.0']),
    );
    expect(org.apiCalls().total).toBe(0);
  });

  it('answers 404 NOT_FOUND for a version it does not serve', async () => {
    const response = await rest(org, token, 'GET', '/services/data/v30.0/limits');
    expect(response.status).toBe(404);
    expect(response.body[0].errorCode).toBe('NOT_FOUND');
  });

  it('sends Sforce-Limit-Info on every REST response, errors included, counting each call once', async () => {
    const ok = await rest(org, token, 'GET', '/limits');
    expect(ok.headers.get('sforce-limit-info')).toBe('api-usage=1/100');
    const missing = await rest(org, token, 'POST', '/sobjects/Contact', { FirstName: 'x' });
    expect(missing.status).toBe(400);
    expect(missing.headers.get('sforce-limit-info')).toBe('api-usage=2/100');
    const unauthorised = await rest(org, 'bad-token', 'GET', '/limits');
    expect(unauthorised.status).toBe(401);
    expect(unauthorised.headers.get('sforce-limit-info')).toBe('api-usage=2/100');
    expect(org.apiCalls()).toEqual({ total: 2, byEndpoint: { 'GET /limits': 1, 'POST /sobjects/Contact': 1 } });
  });

  it('creates a record with 201 and reads it back with Salesforce-style datetimes', async () => {
    const created = await rest(org, token, 'POST', '/sobjects/Contact', {
      LastName: '山田',
      FirstName: '太郎',
      Email: 'T.Yamada@Example.jp',
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.stringMatching(/^003[A-Za-z0-9]{15}$/), success: true, errors: [] });
    const read = await rest(org, token, 'GET', `/sobjects/Contact/${created.body.id}?fields=Id,Name,Email,CreatedDate`);
    expect(read.body).toEqual({
      attributes: { type: 'Contact', url: `/services/data/v66.0/sobjects/Contact/${created.body.id}` },
      Id: created.body.id,
      Name: '山田 太郎',
      Email: 'T.Yamada@Example.jp',
      CreatedDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/),
    });
  });

  it('answers an error array with errorCode and fields for a missing required field', async () => {
    const response = await rest(org, token, 'POST', '/sobjects/Lead', { LastName: '佐藤' });
    expect(response.status).toBe(400);
    expect(response.body).toEqual([
      { message: 'Required fields are missing: [Company]', errorCode: 'REQUIRED_FIELD_MISSING', fields: ['Company'] },
    ]);
  });

  it('answers 404 for an unknown sObject type and 400 INVALID_FIELD for an unknown field', async () => {
    expect((await rest(org, token, 'POST', '/sobjects/Nope__c', { Name: 'x' })).status).toBe(404);
    const field = await rest(org, token, 'POST', '/sobjects/Contact', { LastName: 'x', Shoe_Size__c: 42 });
    expect(field.status).toBe(400);
    expect(field.body).toEqual([
      { message: "No such column 'Shoe_Size__c' on sobject of type Contact", errorCode: 'INVALID_FIELD' },
    ]);
  });

  it('answers 401 INVALID_SESSION_ID without a token and for another org’s token', async () => {
    const none = await rest(org, null, 'GET', '/limits');
    expect(none.status).toBe(401);
    expect(none.body).toEqual([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    const other = sf.createOrg({ name: 'Other' });
    expect((await rest(other, token, 'GET', '/limits')).status).toBe(401);
  });

  it('answers 403 API_DISABLED_FOR_ORG when the org or the user has no API access', async () => {
    org.settings.apiEnabled = false;
    const orgOff = await rest(org, token, 'GET', '/limits');
    expect(orgOff.status).toBe(403);
    expect(orgOff.body[0].errorCode).toBe('API_DISABLED_FOR_ORG');
    org.settings.apiEnabled = true;
    org.setUserApiEnabled(user.id, false);
    const userOff = await rest(org, token, 'GET', '/limits');
    expect(userOff.status).toBe(403);
    expect(userOff.body[0].errorCode).toBe('API_DISABLED_FOR_ORG');
    expect(org.apiCalls().total).toBe(0);
  });

  it('answers 403 REQUEST_LIMIT_EXCEEDED once the daily max is reached, without counting', async () => {
    org.setApiUsage(99);
    expect((await rest(org, token, 'GET', '/limits')).status).toBe(200);
    const refused = await rest(org, token, 'GET', '/limits');
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual([{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    expect(refused.headers.get('sforce-limit-info')).toBe('api-usage=100/100');
    org.resetApiBudget();
    expect((await rest(org, token, 'GET', '/limits')).status).toBe(200);
  });

  it('reports DailyApiRequests at /limits', async () => {
    org.setApiUsage(10);
    const response = await rest(org, token, 'GET', '/limits');
    expect(response.body.DailyApiRequests).toEqual({ Max: 100, Remaining: 89 });
  });

  it('answers 414 for a URI over 16,384 bytes and 431 when URI and headers together exceed it', async () => {
    const longUri = await rest(org, token, 'GET', `/query?q=${'x'.repeat(17_000)}`);
    expect(longUri.status).toBe(414);
    const bigHeaders = await rest(org, token, 'GET', `/query?q=${'x'.repeat(9_000)}`, undefined, {
      'X-Padding': 'y'.repeat(8_000),
    });
    expect(bigHeaders.status).toBe(431);
    expect(org.apiCalls().total).toBe(0);
  });

  it('updates with PATCH (204) and refuses updates of a converted lead', async () => {
    const contact = org.addContact({ LastName: '田中' });
    expect((await rest(org, token, 'PATCH', `/sobjects/Contact/${contact}`, { Phone: '03-0000-0000' })).status).toBe(
      204,
    );
    expect(org.record(contact)?.Phone).toBe('03-0000-0000');
    const lead = org.addLead({ LastName: '木村', Company: '木村商店' });
    org.convertLead(lead);
    const refused = await rest(org, token, 'PATCH', `/sobjects/Lead/${lead}`, { Phone: '1' });
    expect(refused.body[0].errorCode).toBe('CANNOT_UPDATE_CONVERTED_LEAD');
  });

  it('deletes to the recycle bin: the record answers ENTITY_IS_DELETED afterwards', async () => {
    const contact = org.addContact({ LastName: '削除' });
    expect((await rest(org, token, 'DELETE', `/sobjects/Contact/${contact}`)).status).toBe(204);
    const read = await rest(org, token, 'GET', `/sobjects/Contact/${contact}`);
    expect(read.status).toBe(404);
    expect(read.body[0].errorCode).toBe('ENTITY_IS_DELETED');
    expect(org.records('Contact', { includeDeleted: true }).map((record) => record.Id)).toContain(contact);
  });

  it('accepts 15-character ids and answers with 18-character ones', async () => {
    const contact = org.addContact({ LastName: '林' });
    const read = await rest(org, token, 'GET', `/sobjects/Contact/${contact.slice(0, 15)}?fields=Id`);
    expect(read.body.Id).toBe(contact);
  });

  it('describes objects, including the packaged Activity fields under the org’s namespace', async () => {
    const response = await rest(org, token, 'GET', '/sobjects/Event/describe');
    const names = response.body.fields.map((field: { name: string }) => field.name);
    expect(names).toEqual(
      expect.arrayContaining(['WhoId', 'inbx__Action_Id__c', 'inbx__Ticket_URL__c', 'inbx__Direction__c']),
    );
  });
});
