import { toId18, type LocalOrg, type LocalSalesforce, type LocalUser } from '../../local-org';
import { eventFor, login, rest, startOrg } from './support';

describe('local org Event and Task validation', () => {
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

  async function create(record: Record<string, unknown>) {
    const response = await rest(org, token, 'POST', '/composite/sobjects', { allOrNone: false, records: [record] });
    expect(response.status).toBe(200);
    return response.body[0] as {
      id?: string;
      success: boolean;
      errors: Array<{ statusCode: string; message: string; fields: string[] }>;
    };
  }

  it('derives the end, the date and the owner of a timed Event', async () => {
    const result = await create(eventFor(org, contactId, { DurationInMinutes: 30 }));
    expect(result.success).toBe(true);
    expect(org.record(result.id as string)).toMatchObject({
      ActivityDateTime: '2026-05-01T09:30:00.000+0000',
      EndDateTime: '2026-05-01T10:00:00.000+0000',
      ActivityDate: '2026-05-01',
      DurationInMinutes: 30,
      OwnerId: user.id,
      IsAllDayEvent: false,
    });
  });

  it('accepts EndDateTime instead of DurationInMinutes, and an all-day event with ActivityDate', async () => {
    const timed = await create(
      eventFor(org, contactId, { DurationInMinutes: undefined, EndDateTime: '2026-05-01T11:30:00Z' }),
    );
    expect(org.record(timed.id as string)?.DurationInMinutes).toBe(120);
    const allDay = await create(
      eventFor(org, contactId, {
        ActivityDateTime: undefined,
        DurationInMinutes: undefined,
        IsAllDayEvent: true,
        ActivityDate: '2026-05-02',
      }),
    );
    expect(allDay.success).toBe(true);
  });

  it('requires ActivityDateTime, and a duration or an end, with REQUIRED_FIELD_MISSING naming the field', async () => {
    const noStart = await create(eventFor(org, contactId, { ActivityDateTime: undefined }));
    expect(noStart.errors).toEqual([
      {
        statusCode: 'REQUIRED_FIELD_MISSING',
        message: 'Required fields are missing: [ActivityDateTime]',
        fields: ['ActivityDateTime'],
      },
    ]);
    const noLength = await create(eventFor(org, contactId, { DurationInMinutes: undefined }));
    expect(noLength.errors[0]?.fields).toEqual(['DurationInMinutes']);
  });

  it('refuses an Event longer than 14 days unless the switch is off', async () => {
    const tooLong = eventFor(org, contactId, { DurationInMinutes: 14 * 1440 + 1 });
    expect((await create(tooLong)).errors[0]?.statusCode).toBe('FIELD_INTEGRITY_EXCEPTION');
    expect((await create(eventFor(org, contactId, { DurationInMinutes: 14 * 1440 }))).success).toBe(true);
    org.settings.eventMaxSpanDays = null;
    expect((await create(tooLong)).success).toBe(true);
  });

  it('answers STRING_TOO_LONG past 255 characters of Subject and 32,000 of Description', async () => {
    expect((await create(eventFor(org, contactId, { Subject: 'あ'.repeat(255) }))).success).toBe(true);
    const subject = await create(eventFor(org, contactId, { Subject: 'あ'.repeat(256) }));
    expect(subject.errors[0]).toMatchObject({ statusCode: 'STRING_TOO_LONG', fields: ['Subject'] });
    expect(subject.errors[0]?.message).toContain('(max length=255)');
    expect((await create(eventFor(org, contactId, { Description: 'x'.repeat(32_000) }))).success).toBe(true);
    const description = await create(eventFor(org, contactId, { Description: 'x'.repeat(32_001) }));
    expect(description.errors[0]?.statusCode).toBe('STRING_TOO_LONG');
  });

  it('needs a live Contact or Lead as WhoId', async () => {
    const unknown = await create(eventFor(org, toId18('003000000000001')));
    expect(unknown.errors[0]).toEqual({
      statusCode: 'INVALID_CROSS_REFERENCE_KEY',
      message: 'invalid cross reference id',
      fields: ['WhoId'],
    });
    expect((await create(eventFor(org, 'not-an-id'))).errors[0]?.statusCode).toBe('MALFORMED_ID');
    const account = org.addAccount({ Name: '大和商事' });
    expect((await create(eventFor(org, account))).errors[0]?.statusCode).toBe('FIELD_INTEGRITY_EXCEPTION');
    org.deleteRecord(contactId);
    expect((await create(eventFor(org, contactId))).errors[0]).toEqual({
      statusCode: 'ENTITY_IS_DELETED',
      message: 'entity is deleted',
      fields: ['WhoId'],
    });
  });

  it('refuses a Lead WhoId together with a WhatId', async () => {
    const lead = org.addLead({ LastName: '前田', Company: '前田工業' });
    const account = org.addAccount({ Name: '前田工業' });
    const result = await create(eventFor(org, lead, { WhatId: account }));
    expect(result.errors[0]).toMatchObject({ statusCode: 'FIELD_INTEGRITY_EXCEPTION', fields: ['WhatId'] });
    org.settings.leadWithWhatIdAllowed = true;
    expect((await create(eventFor(org, lead, { WhatId: account }))).success).toBe(true);
  });

  it('refuses a converted Lead as WhoId', async () => {
    const lead = org.addLead({ LastName: '近藤', Company: '近藤建設' });
    org.convertLead(lead);
    expect((await create(eventFor(org, lead))).errors[0]?.statusCode).toBe('CANNOT_UPDATE_CONVERTED_LEAD');
  });

  it('needs an active User as OwnerId', async () => {
    const inactive = org.addUser({
      username: 'gone@acme.example.com',
      email: 'gone@acme.example.com',
      lastName: '退職',
      isActive: false,
    });
    const result = await create(eventFor(org, contactId, { OwnerId: inactive.id }));
    expect(result.errors[0]).toMatchObject({ statusCode: 'INACTIVE_OWNER_OR_USER', fields: ['OwnerId'] });
    const missing = await create(eventFor(org, contactId, { OwnerId: toId18('005000000000001') }));
    expect(missing.errors[0]?.statusCode).toBe('INVALID_CROSS_REFERENCE_KEY');
  });

  it('applies registered validation rules with FIELD_CUSTOM_VALIDATION_EXCEPTION', async () => {
    const remove = org.addValidationRule({
      object: 'Event',
      name: 'No_Weekend',
      message: '件名に「至急」は使えません',
      field: 'Subject',
      when: (record) => String(record.Subject ?? '').includes('至急'),
    });
    const result = await create(eventFor(org, contactId, { Subject: '至急: 返信' }));
    expect(result.errors).toEqual([
      { statusCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: '件名に「至急」は使えません', fields: ['Subject'] },
    ]);
    remove();
    expect((await create(eventFor(org, contactId, { Subject: '至急: 返信' }))).success).toBe(true);
  });

  it('derives the Event’s AccountId from the Contact', async () => {
    const account = org.addAccount({ Name: '大和商事' });
    const contact = org.addContact({ LastName: '阿部', AccountId: account });
    const result = await create(eventFor(org, contact));
    expect(org.record(result.id as string)?.AccountId).toBe(account);
  });

  it('defaults Task Status and Priority and refuses a bad TaskSubtype', async () => {
    const task = await create({
      attributes: { type: 'Task' },
      Subject: '通話メモ',
      WhoId: contactId,
      TaskSubtype: 'Call',
    });
    expect(org.record(task.id as string)).toMatchObject({ Status: 'Not Started', Priority: 'Normal', IsClosed: false });
    const bad = await create({ attributes: { type: 'Task' }, Subject: 'x', TaskSubtype: 'Fax' });
    expect(bad.errors[0]?.statusCode).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
  });

  it('defaults an Event’s ShowAs to Busy, takes Free and OutOfOffice, and refuses any other value as a restricted picklist', async () => {
    const defaulted = await create(eventFor(org, contactId));
    expect(org.record(defaulted.id as string)?.ShowAs).toBe('Busy');
    for (const value of ['Free', 'OutOfOffice']) {
      const result = await create(eventFor(org, contactId, { ShowAs: value }));
      expect(org.record(result.id as string)?.ShowAs).toBe(value);
    }
    const eventsBefore = org.records('Event').length;
    const bad = await create(eventFor(org, contactId, { ShowAs: 'Tentative' }));
    expect(bad).toMatchObject({
      success: false,
      errors: [
        {
          statusCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
          message: 'ShowAs: bad value for restricted picklist field: Tentative',
          fields: ['ShowAs'],
        },
      ],
    });
    expect(org.records('Event')).toHaveLength(eventsBefore);
    const described = await rest(org, token, 'GET', '/sobjects/Event/describe');
    const showAs = (described.body.fields as Array<{ name: string; picklistValues: Array<{ value: string }> }>).find(
      (field) => field.name === 'ShowAs',
    );
    expect(showAs?.picklistValues.map((entry) => entry.value)).toEqual(['Busy', 'OutOfOffice', 'Free']);
  });

  it('with a unique Action Id field, a second Event with the same action id gets DUPLICATE_VALUE', async () => {
    await sf.close();
    ({ sf, org, user } = await startOrg({}, { name: 'Unique', actionIdUnique: true }));
    token = (await login(sf, user)).access_token;
    contactId = org.addContact({ LastName: '山田' });
    expect((await create(eventFor(org, contactId, { inbx__Action_Id__c: 'act_1' }))).success).toBe(true);
    const duplicate = await create(eventFor(org, contactId, { inbx__Action_Id__c: 'act_1' }));
    expect(duplicate.errors[0]).toMatchObject({ statusCode: 'DUPLICATE_VALUE', fields: ['inbx__Action_Id__c'] });
  });

  it('uses no prefix for the Activity fields when the namespace is empty', async () => {
    await sf.close();
    ({ sf, org, user } = await startOrg({}, { name: 'Unpackaged', namespace: '' }));
    token = (await login(sf, user)).access_token;
    contactId = org.addContact({ LastName: '山田' });
    const result = await create(eventFor(org, contactId));
    expect(result.success).toBe(true);
    expect(Object.keys(org.record(result.id as string) ?? {})).toContain('Action_Id__c');
  });

  it('refuses setting read-only fields with INVALID_FIELD_FOR_INSERT_UPDATE', async () => {
    const result = await create(eventFor(org, contactId, { CreatedDate: '2020-01-01T00:00:00Z' }));
    expect(result.errors[0]).toMatchObject({ statusCode: 'INVALID_FIELD_FOR_INSERT_UPDATE', fields: ['CreatedDate'] });
  });

  it('fails the request with JSON_PARSER_ERROR for a value of the wrong type', async () => {
    const response = await rest(org, token, 'POST', '/composite/sobjects', {
      records: [eventFor(org, contactId, { ActivityDateTime: 'next tuesday' })],
    });
    expect(response.status).toBe(400);
    expect(response.body[0].errorCode).toBe('JSON_PARSER_ERROR');
  });
});
