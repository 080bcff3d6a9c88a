import type { LocalOrg, LocalSalesforce, LocalUser } from '../../local-org';
import { login, rest, startOrg } from './support';

describe('local org SOSL', () => {
  let sf: LocalSalesforce;
  let org: LocalOrg;
  let user: LocalUser;
  let token: string;
  let now: number;

  beforeEach(async () => {
    now = Date.parse('2026-05-01T00:00:00Z');
    ({ sf, org, user } = await startOrg({ now: () => now }));
    token = (await login(sf, user)).access_token;
  });

  afterEach(async () => {
    await sf.close();
  });

  async function search(sosl: string) {
    const response = await rest(org, token, 'GET', `/search?q=${encodeURIComponent(sosl)}`);
    return response;
  }

  const ids = (response: { body: { searchRecords: Array<{ Id: string }> } }) =>
    response.body.searchRecords.map((record) => record.Id).sort();

  it('finds one number however it was written: hyphens, brackets, full-width digits, +81', async () => {
    const hyphen = org.addContact({ LastName: 'a', Phone: '03-1234-5678' });
    const brackets = org.addContact({ LastName: 'b', Phone: '(03) 1234 5678' });
    const fullWidth = org.addContact({ LastName: 'c', MobilePhone: '０３－１２３４－５６７８' });
    const international = org.addLead({ LastName: 'd', Company: 'D', Phone: '+81 3 1234 5678' });
    org.addContact({ LastName: 'other', Phone: '03-1234-5679' });
    const response = await search(
      'FIND {0312345678} IN PHONE FIELDS RETURNING Contact(Id, Phone, MobilePhone, CreatedDate), Lead(Id, Phone, MobilePhone, CreatedDate WHERE IsConverted = false)',
    );
    expect(response.status).toBe(200);
    expect(ids(response)).toEqual([hyphen, brackets, fullWidth, international].sort());
    const lead = response.body.searchRecords.find((record: { Id: string }) => record.Id === international);
    expect(lead).toEqual({
      attributes: { type: 'Lead', url: `/services/data/v66.0/sobjects/Lead/${international}` },
      Id: international,
      Phone: '+81 3 1234 5678',
      MobilePhone: null,
      CreatedDate: '2026-05-01T00:00:00.000+0000',
    });
  });

  it('matches the international digits of a Japanese number as well', async () => {
    const mobile = org.addContact({ LastName: 'a', MobilePhone: '090-1234-5678' });
    expect(ids(await search('FIND {819012345678} IN PHONE FIELDS RETURNING Contact(Id)'))).toEqual([mobile]);
    expect(ids(await search('FIND {\\+81 90 1234 5678} IN PHONE FIELDS RETURNING Contact(Id)'))).toEqual([mobile]);
    expect(ids(await search('FIND {"+81 90-1234-5678"} IN PHONE FIELDS RETURNING Contact(Id)'))).toEqual([mobile]);
  });

  it('combines terms with OR and applies the WHERE of each RETURNING object', async () => {
    const first = org.addContact({ LastName: 'a', Phone: '03-1111-1111' });
    const second = org.addContact({ LastName: 'b', Phone: '06-2222-2222' });
    const converted = org.addLead({ LastName: 'c', Company: 'C', Phone: '03-1111-1111' });
    org.convertLead(converted, { contactId: first });
    const response = await search(
      'FIND {0311111111 OR 0622222222} IN PHONE FIELDS RETURNING Contact(Id), Lead(Id WHERE IsConverted = false)',
    );
    expect(ids(response)).toEqual([first, second].sort());
  });

  it('searches email fields case-insensitively', async () => {
    const contact = org.addContact({ LastName: 'a', Email: 'Taro.Yamada@Example.co.jp' });
    expect(ids(await search('FIND {taro.yamada@example.co.jp} IN EMAIL FIELDS RETURNING Contact(Id)'))).toEqual([
      contact,
    ]);
  });

  it('searches names, Japanese included, in ALL FIELDS', async () => {
    const contact = org.addContact({ LastName: '山田', FirstName: '太郎' });
    org.addContact({ LastName: '佐藤', FirstName: '花子' });
    expect(ids(await search('FIND {山田} RETURNING Contact(Id, Name)'))).toEqual([contact]);
    expect(ids(await search('FIND {yam*} IN NAME FIELDS RETURNING Contact(Id)'))).toEqual([]);
  });

  it('does not find records created within the index lag', async () => {
    org.settings.searchIndexLagMs = 30_000;
    const contact = org.addContact({ LastName: 'a', Phone: '03-5555-5555' });
    expect(ids(await search('FIND {0355555555} IN PHONE FIELDS RETURNING Contact(Id)'))).toEqual([]);
    now += 30_000;
    expect(ids(await search('FIND {0355555555} IN PHONE FIELDS RETURNING Contact(Id)'))).toEqual([contact]);
  });

  it('returns at most 2,000 rows', async () => {
    for (let i = 0; i < 2010; i++) org.addContact({ LastName: `姓${i}`, Phone: '03-7777-7777' });
    const response = await search('FIND {0377777777} IN PHONE FIELDS RETURNING Contact(Id)');
    expect(response.body.searchRecords).toHaveLength(2000);
  });

  it('answers MALFORMED_SEARCH without braces and INVALID_FIELD for an unknown RETURNING field', async () => {
    const malformed = await search('FIND 0312345678 IN PHONE FIELDS');
    expect(malformed.status).toBe(400);
    expect(malformed.body[0].errorCode).toBe('MALFORMED_SEARCH');
    const field = await search('FIND {0312345678} IN PHONE FIELDS RETURNING Contact(Id, Nope__c)');
    expect(field.body[0].errorCode).toBe('INVALID_FIELD');
  });

  it('counts a search as one call', async () => {
    org.resetApiCalls();
    await search('FIND {0312345678} IN PHONE FIELDS RETURNING Contact(Id)');
    expect(org.apiCalls()).toEqual({ total: 1, byEndpoint: { 'GET /search': 1 } });
  });

  it('drops the logical operators of a search query over 4,000 characters, and answers nothing over 10,000', async () => {
    const id = org.addContact({ LastName: 'a', Phone: '03-1234-5678' });
    const padding = (length: number) => `z${'9'.repeat(length)}`;
    const both = (length: number) =>
      search(`FIND {0312345678 AND ${padding(length)}} IN PHONE FIELDS RETURNING Contact(Id)`);
    expect((await both(3900)).body.searchRecords).toEqual([]);
    expect(ids(await both(4000))).toEqual([id]);
    const either = await search(`FIND {0312345678 OR ${padding(10_000)}} IN PHONE FIELDS RETURNING Contact(Id)`);
    expect(either.status).toBe(200);
    expect(either.body.searchRecords).toEqual([]);
  });
});
