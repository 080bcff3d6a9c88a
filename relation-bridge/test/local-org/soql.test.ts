import type { LocalOrg, LocalSalesforce, LocalUser } from '../../local-org';
import { login, query, rest, startOrg } from './support';

describe('local org SOQL', () => {
  let sf: LocalSalesforce;
  let org: LocalOrg;
  let user: LocalUser;
  let token: string;

  beforeEach(async () => {
    ({ sf, org, user } = await startOrg());
    token = (await login(sf, user)).access_token;
  });

  afterEach(async () => {
    await sf.close();
  });

  it('matches emails case-insensitively in the bridge’s Contact query', async () => {
    const taro = org.addContact({
      LastName: '山田',
      Email: 'Taro.Yamada@Example.co.jp',
      CreatedDate: '2025-01-02T03:04:05Z',
    });
    org.addContact({ LastName: '佐藤', Email: 'other@example.jp' });
    const response = await query(
      org,
      token,
      "SELECT Id, Email, CreatedDate FROM Contact WHERE Email IN ('taro.yamada@example.co.jp','b@y.jp')",
    );
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      totalSize: 1,
      done: true,
      records: [
        {
          attributes: { type: 'Contact', url: `/services/data/v66.0/sobjects/Contact/${taro}` },
          Id: taro,
          Email: 'Taro.Yamada@Example.co.jp',
          CreatedDate: '2025-01-02T03:04:05.000+0000',
        },
      ],
    });
  });

  it('answers the bridge’s Lead query with converted leads and the Contact each became', async () => {
    const open = org.addLead({ LastName: '前田', Company: 'A', Email: 'lead@example.jp' });
    const converted = org.addLead({ LastName: '近藤', Company: 'B', Email: 'LEAD@example.jp' });
    const { contactId } = org.convertLead(converted);
    const rows = org.query(
      "SELECT Id, Email, CreatedDate, IsConverted, ConvertedContactId FROM Lead WHERE Email IN ('lead@example.jp')",
    );
    expect(rows.map((row) => [row.Id, row.IsConverted, row.ConvertedContactId])).toEqual([
      [open, false, null],
      [converted, true, contactId],
    ]);
    const openOnly = org.query("SELECT Id FROM Lead WHERE IsConverted = false AND Email IN ('lead@example.jp')");
    expect(openOnly.map((row) => row.Id)).toEqual([open]);
  });

  it('finds active users by email', async () => {
    org.addUser({ username: 'old@acme.example.com', email: 'ops@example.jp', lastName: '旧', isActive: false });
    const active = org.addUser({ username: 'new@acme.example.com', email: 'Ops@Example.jp', lastName: '新' });
    const rows = org.query("SELECT Id, Email FROM User WHERE IsActive = true AND Email IN ('ops@example.jp')");
    expect(rows).toEqual([{ Id: active.id, Email: 'Ops@Example.jp' }]);
  });

  it('finds Events by the namespaced action id field', async () => {
    const contact = org.addContact({ LastName: '山田' });
    const event = org.insert('Event', {
      Subject: 's',
      ActivityDateTime: '2026-05-01T00:00:00Z',
      DurationInMinutes: 0,
      WhoId: contact,
      inbx__Action_Id__c: 'act_1',
    });
    const rows = org.query("SELECT Id, inbx__Action_Id__c FROM Event WHERE inbx__Action_Id__c IN ('act_1', 'act_2')");
    expect(rows).toEqual([{ Id: event, inbx__Action_Id__c: 'act_1' }]);
  });

  it('answers INVALID_FIELD with Salesforce’s message when the namespace differs', async () => {
    const response = await query(
      org,
      token,
      "SELECT Id, other__Action_Id__c FROM Event WHERE other__Action_Id__c IN ('a')",
    );
    expect(response.status).toBe(400);
    expect(response.body[0].errorCode).toBe('INVALID_FIELD');
    expect(response.body[0].message).toBe(
      "\nSELECT Id, other__Action_Id__c FROM Event WHERE other__Action_Id__c IN ('a')\n           ^\nERROR at Row:1:Column:12\n" +
        "No such column 'other__Action_Id__c' on entity 'Event'. If you are attempting to use a custom field, be sure to " +
        "append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
    );
  });

  it('answers INVALID_TYPE for an unknown object and MALFORMED_QUERY for bad syntax', async () => {
    const type = await query(org, token, 'SELECT Id FROM Widget__c');
    expect(type.body[0].errorCode).toBe('INVALID_TYPE');
    const syntax = await query(org, token, 'SELECT Id FRM Contact');
    expect(syntax.body[0]).toEqual({
      errorCode: 'MALFORMED_QUERY',
      message: '\nSELECT Id FRM Contact\n          ^\nERROR at Row:1:Column:11\nunexpected token: FRM',
    });
  });

  it('requires parentheses where AND and OR meet', () => {
    expect(() => org.query("SELECT Id FROM Contact WHERE LastName = 'a' AND FirstName = 'b' OR Email = null")).toThrow(
      'unexpected token: OR',
    );
    expect(org.query("SELECT Id FROM Contact WHERE LastName = 'a' AND (FirstName = 'b' OR Email = null)")).toEqual([]);
  });

  it('supports NOT, NOT IN, LIKE, comparisons, null, ORDER BY, LIMIT and OFFSET', () => {
    const names = ['青木', '石井', '上田', '遠藤'];
    const ids = names.map((last, index) =>
      org.addContact({
        LastName: last,
        Email: index % 2 === 0 ? `p${index}@example.jp` : null,
        CreatedDate: `2025-0${index + 1}-01T00:00:00Z`,
      }),
    );
    const lastNames = (soql: string) => org.query(soql).map((row) => row.LastName);
    expect(lastNames('SELECT LastName FROM Contact WHERE Email != null ORDER BY CreatedDate DESC')).toEqual([
      '上田',
      '青木',
    ]);
    expect(
      lastNames("SELECT LastName FROM Contact WHERE NOT (LastName IN ('青木', '石井')) ORDER BY CreatedDate"),
    ).toEqual(['上田', '遠藤']);
    expect(
      lastNames("SELECT LastName FROM Contact WHERE LastName NOT IN ('青木') ORDER BY CreatedDate LIMIT 2 OFFSET 1"),
    ).toEqual(['上田', '遠藤']);
    expect(lastNames("SELECT LastName FROM Contact WHERE Email LIKE 'P%@EXAMPLE.JP' ORDER BY CreatedDate")).toEqual([
      '青木',
      '上田',
    ]);
    expect(
      lastNames('SELECT LastName FROM Contact WHERE CreatedDate >= 2025-03-01T00:00:00Z ORDER BY CreatedDate'),
    ).toEqual(['上田', '遠藤']);
    expect(lastNames(`SELECT LastName FROM Contact WHERE Id = '${(ids[1] as string).slice(0, 15)}'`)).toEqual(['石井']);
    expect(lastNames('SELECT LastName FROM Contact ORDER BY Email NULLS LAST, CreatedDate LIMIT 3')).toEqual([
      '青木',
      '上田',
      '石井',
    ]);
  });

  it("understands \\' and \\\\ escapes in string literals", () => {
    org.addContact({ LastName: "O'Brien", Email: 'back\\slash@example.jp' });
    expect(org.query("SELECT LastName FROM Contact WHERE LastName = 'o\\'brien'")).toEqual([{ LastName: "O'Brien" }]);
    expect(org.query("SELECT Email FROM Contact WHERE Email = 'back\\\\slash@example.jp'")).toHaveLength(1);
  });

  it('refuses a quoted value for a boolean field', async () => {
    const response = await query(org, token, "SELECT Id FROM Lead WHERE IsConverted = 'false'");
    expect(response.status).toBe(400);
    expect(response.body[0].message).toContain(
      "value of filter criterion for field 'IsConverted' must be of type boolean",
    );
  });

  it('counts with COUNT()', async () => {
    org.addContact({ LastName: 'a' });
    org.addContact({ LastName: 'b' });
    const response = await query(org, token, 'SELECT COUNT() FROM Contact');
    expect(response.body).toEqual({ totalSize: 2, done: true, records: [] });
  });

  it('pages by 2,000 by default and by the Sforce-Query-Options batch size, each page one call', async () => {
    for (let i = 0; i < 2450; i++) org.addContact({ LastName: `姓${i}` });
    const first = await query(org, token, 'SELECT Id FROM Contact');
    expect(first.body.records).toHaveLength(2000);
    expect(first.body.done).toBe(false);
    const second = await rest(org, token, 'GET', first.body.nextRecordsUrl);
    expect(second.body).toMatchObject({ totalSize: 2450, done: true });
    expect(second.body.records).toHaveLength(450);

    org.resetApiCalls();
    const small = await query(org, token, 'SELECT Id FROM Contact', { 'Sforce-Query-Options': 'batchSize=1000' });
    expect(small.body.records).toHaveLength(1000);
    let page = small.body;
    let pages = 1;
    while (!page.done) {
      page = (await rest(org, token, 'GET', page.nextRecordsUrl)).body;
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(org.apiCalls()).toEqual({ total: 3, byEndpoint: { 'GET /query': 1, 'GET /query/{locator}': 2 } });

    const tiny = await query(org, token, 'SELECT Id FROM Contact', { 'Sforce-Query-Options': 'batchSize=10' });
    expect(tiny.body.records).toHaveLength(200);
  });

  it('queryAll includes records in the recycle bin', async () => {
    const gone = org.addContact({ LastName: '削除' });
    org.deleteRecord(gone);
    expect((await query(org, token, 'SELECT Id FROM Contact')).body.totalSize).toBe(0);
    const all = await rest(org, token, 'GET', `/queryAll?q=${encodeURIComponent('SELECT Id, IsDeleted FROM Contact')}`);
    expect(all.body.records[0]).toMatchObject({ Id: gone, IsDeleted: true });
  });

  it('answers INVALID_QUERY_LOCATOR for an unknown locator', async () => {
    const response = await rest(org, token, 'GET', '/query/01gXXXXXXXXXXXXXXX-2000');
    expect(response.status).toBe(400);
    expect(response.body[0].errorCode).toBe('INVALID_QUERY_LOCATOR');
  });

  it('refuses a statement over 100,000 characters and a string literal over 4,000, as Salesforce does', async () => {
    const inComposite = (soql: string) =>
      rest(org, token, 'POST', '/composite', {
        compositeRequest: [
          { method: 'GET', url: `/services/data/v66.0/query?q=${encodeURIComponent(soql)}`, referenceId: 'q' },
        ],
      });
    const emails = (count: number) =>
      Array.from({ length: count }, (_unused, index) => `'person${index}@example.jp'`).join(', ');
    const fits = await inComposite(`SELECT Id FROM Contact WHERE Email IN (${emails(3000)})`);
    expect(fits.body.compositeResponse[0].httpStatusCode).toBe(200);
    const statement = await inComposite(`SELECT Id FROM Contact WHERE Email IN (${emails(5000)})`);
    expect(statement.body.compositeResponse[0]).toMatchObject({
      httpStatusCode: 400,
      body: [{ errorCode: 'MALFORMED_QUERY', message: expect.stringContaining('100000 characters') }],
    });
    const literal = await query(org, token, `SELECT Id FROM Contact WHERE LastName = '${'x'.repeat(4001)}'`);
    expect(literal.status).toBe(400);
    expect(literal.body[0]).toMatchObject({ errorCode: 'MALFORMED_QUERY' });
    expect(literal.body[0].message).toContain('4000 characters');
    expect((await query(org, token, `SELECT Id FROM Contact WHERE LastName = '${'x'.repeat(4000)}'`)).status).toBe(200);
  });
});
