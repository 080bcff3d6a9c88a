import type { LocalOrg, LocalSalesforce, LocalUser } from '../../local-org';
import { login, query, rest, startOrg } from './support';

const POLICY = 'inbx__Inbox_Link__mdt';
const HEALTH = 'inbx__Inbox_Sync_Health__c';
const UPSERT_PATH = `/composite/sobjects/${HEALTH}/inbx__Inbox_Id__c`;
const UPSERT_ENDPOINT = `PATCH ${UPSERT_PATH}`;

function health(inboxId: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    attributes: { type: HEALTH },
    Name: `受信箱 ${inboxId}`,
    inbx__Inbox_Id__c: inboxId,
    inbx__Link_State__c: 'Active',
    inbx__Synced_24h__c: 3,
    ...fields,
  };
}

describe('the managed package objects in the local org', () => {
  let sf: LocalSalesforce;
  let org: LocalOrg;
  let user: LocalUser;
  let token: string;

  beforeEach(async () => {
    ({ sf, org, user } = await startOrg());
    token = (await login(sf, user)).access_token;
    org.resetApiCalls();
  });

  afterEach(async () => {
    await sf.close();
  });

  describe('link policy custom metadata', () => {
    it('is set like a deployment and read by SOQL under the namespace, as a counted call', async () => {
      const id = org.setCustomMetadata('Inbox_Link', 'Inbox_12', {
        Inbox_Id__c: '12',
        Active__c: false,
        inbx__Target__c: 'Lead',
        Body_Capture__c: 'First_N',
        Body_Max_Chars__c: 100,
      });
      expect(id).toMatch(/^m01/);
      org.setCustomMetadata('Inbox_Link', 'Inbox_12', { Active__c: true });

      const response = await query(
        org,
        token,
        `SELECT DeveloperName, inbx__Inbox_Id__c, inbx__Active__c, inbx__Target__c, inbx__Body_Capture__c, ` +
          `inbx__Body_Max_Chars__c, inbx__Default_Owner_Id__c FROM ${POLICY} WHERE inbx__Active__c = true`,
      );
      expect(response.status).toBe(200);
      expect(response.body.records).toEqual([
        {
          attributes: { type: POLICY, url: expect.stringContaining(`/sobjects/${POLICY}/${id}`) },
          DeveloperName: 'Inbox_12',
          inbx__Inbox_Id__c: '12',
          inbx__Active__c: true,
          inbx__Target__c: 'Lead',
          inbx__Body_Capture__c: 'First_N',
          inbx__Body_Max_Chars__c: 100,
          inbx__Default_Owner_Id__c: null,
        },
      ]);
      expect(org.apiCalls().byEndpoint).toEqual({ 'GET /query': 1 });
    });

    it('refuses values a deployment would refuse', () => {
      expect(() => org.setCustomMetadata('Inbox_Link', 'Inbox_12', { Target__c: 'Account' })).toThrow(
        /restricted picklist/,
      );
      expect(() => org.setCustomMetadata('Inbox_Link', 'Inbox__12', {})).toThrow(/DeveloperName/);
      expect(() => org.setCustomMetadata('Inbox_Link', 'Inbox_12', { Colour__c: 'red' })).toThrow(/no settable field/);
      expect(() => org.setCustomMetadata('Unknown', 'X', {})).toThrow(/no custom metadata type/);
    });

    it('cannot be written through the data APIs', async () => {
      const id = org.setCustomMetadata('Inbox_Link', 'Inbox_12', { Inbox_Id__c: '12', Active__c: true });
      const create = await rest(org, token, 'POST', `/sobjects/${POLICY}`, { DeveloperName: 'X', MasterLabel: 'X' });
      expect(create).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_TYPE_FOR_OPERATION' }] });
      const update = await rest(org, token, 'PATCH', `/sobjects/${POLICY}/${id}`, { inbx__Active__c: false });
      expect(update).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_TYPE_FOR_OPERATION' }] });
      const remove = await rest(org, token, 'DELETE', `/sobjects/${POLICY}/${id}`);
      expect(remove).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_TYPE_FOR_OPERATION' }] });
      expect(org.customMetadata('Inbox_Link')).toEqual([expect.objectContaining({ inbx__Active__c: true })]);
    });

    it('is managed through the control API', async () => {
      const control = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(`${sf.baseUrl}/__local/orgs/${org.slug}${path}`, {
          method,
          headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: response.status, body: await response.json() };
      };
      const put = await control('PUT', '/custom-metadata/Inbox_Link/Inbox_7', { Inbox_Id__c: '7', Active__c: true });
      expect(put.status).toBe(200);
      const listed = await control('GET', '/custom-metadata/Inbox_Link');
      expect(listed.body).toEqual([expect.objectContaining({ DeveloperName: 'Inbox_7', inbx__Inbox_Id__c: '7' })]);
      const bad = await control('PUT', '/custom-metadata/Inbox_Link/Inbox_7', { Body_Capture__c: 'Half' });
      expect(bad.status).toBe(400);
      expect((await control('DELETE', '/custom-metadata/Inbox_Link/Inbox_7')).status).toBe(200);
      expect((await control('GET', '/custom-metadata/Inbox_Link')).body).toEqual([]);
    });
  });

  describe('sync health upsert by external id (sObject Collections)', () => {
    it('creates, then updates by the external id, in input order, in one call each', async () => {
      const first = await rest(org, token, 'PATCH', UPSERT_PATH, {
        allOrNone: false,
        records: [health('12'), health('13', { inbx__Link_State__c: 'Needs_Reauth' })],
      });
      expect(first.status).toBe(200);
      expect(first.body).toEqual([
        { id: expect.stringMatching(/^a01/), success: true, errors: [], created: true },
        { id: expect.stringMatching(/^a01/), success: true, errors: [], created: true },
      ]);
      const second = await rest(org, token, 'PATCH', UPSERT_PATH, {
        allOrNone: false,
        records: [
          health('12', { inbx__Synced_24h__c: 9, inbx__Last_Error_At__c: '2026-05-01T09:30:00Z' }),
          health('14'),
        ],
      });
      expect(second.body).toEqual([
        { id: first.body[0].id, success: true, errors: [], created: false },
        { id: expect.stringMatching(/^a01/), success: true, errors: [], created: true },
      ]);
      const records = org.records(HEALTH);
      expect(records).toHaveLength(3);
      expect(records[0]).toMatchObject({
        inbx__Inbox_Id__c: '12',
        inbx__Synced_24h__c: 9,
        inbx__Last_Error_At__c: '2026-05-01T09:30:00.000+0000',
      });
      expect(org.apiCalls().byEndpoint).toEqual({ [UPSERT_ENDPOINT]: 2 });
    });

    it('fails records on their own: missing or repeated external id, bad picklist, validation rules', async () => {
      org.addValidationRule({
        object: HEALTH,
        name: 'No_Negative_Counts',
        message: '件数は 0 以上にしてください',
        field: 'inbx__Synced_24h__c',
        when: (record) => typeof record.inbx__Synced_24h__c === 'number' && record.inbx__Synced_24h__c < 0,
      });
      const response = await rest(org, token, 'PATCH', UPSERT_PATH, {
        allOrNone: false,
        records: [
          health('12'),
          health('', {}),
          health('12'),
          health('15', { inbx__Link_State__c: 'Broken' }),
          health('16', { inbx__Synced_24h__c: -1 }),
        ],
      });
      expect(response.status).toBe(200);
      expect(response.body.map((result: { success: boolean }) => result.success)).toEqual([
        true,
        false,
        false,
        false,
        false,
      ]);
      expect(
        response.body.slice(1).map((result: { errors: Array<{ statusCode: string }> }) => result.errors[0]?.statusCode),
      ).toEqual([
        'MISSING_ARGUMENT',
        'DUPLICATE_EXTERNAL_ID',
        'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
        'FIELD_CUSTOM_VALIDATION_EXCEPTION',
      ]);
      expect(response.body[4].errors[0].message).toBe('件数は 0 以上にしてください');
      expect(org.records(HEALTH)).toHaveLength(1);
    });

    it('with allOrNone, one bad record rolls back the others', async () => {
      const response = await rest(org, token, 'PATCH', UPSERT_PATH, {
        allOrNone: true,
        records: [health('12'), health('13', { inbx__Link_State__c: 'Broken' })],
      });
      expect(response.body[0].errors[0].statusCode).toBe('ALL_OR_NONE_OPERATION_ROLLED_BACK');
      expect(org.records(HEALTH)).toHaveLength(0);
    });

    it('refuses a field that is no external id, other types in the list, and more than 200 records', async () => {
      const wrongField = await rest(org, token, 'PATCH', `/composite/sobjects/${HEALTH}/Name`, { records: [] });
      expect(wrongField).toMatchObject({ status: 404, body: [{ errorCode: 'NOT_FOUND' }] });
      const wrongType = await rest(org, token, 'PATCH', UPSERT_PATH, {
        records: [{ ...health('12'), attributes: { type: 'Contact' } }],
      });
      expect(wrongType).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_TYPE' }] });
      const tooMany = await rest(org, token, 'PATCH', UPSERT_PATH, {
        records: Array.from({ length: 201 }, (_, i) => health(String(i))),
      });
      expect(tooMany).toMatchObject({ status: 400, body: [{ errorCode: 'EXCEEDED_ID_LIMIT' }] });
      expect(org.records(HEALTH)).toHaveLength(0);
    });
  });

  describe('when the package is not installed', () => {
    it('answers INVALID_TYPE for the policy type and the health object', async () => {
      const bare = sf.createOrg({ name: 'Bare Org', packageInstalled: false });
      const bareUser = bare.addUser({
        username: 'suzuki@bare.example.com',
        email: 'suzuki@example.jp',
        lastName: '鈴木',
        password: 'pw',
      });
      const bareToken = (await login(sf, bareUser)).access_token;
      const policies = await query(bare, bareToken, `SELECT DeveloperName FROM ${POLICY}`);
      expect(policies).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_TYPE' }] });
      const upsert = await rest(bare, bareToken, 'PATCH', UPSERT_PATH, { records: [health('12')] });
      expect(upsert).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_TYPE' }] });
      expect(() => bare.setCustomMetadata('Inbox_Link', 'Inbox_12', {})).toThrow(/package installed/);
    });
  });
});
