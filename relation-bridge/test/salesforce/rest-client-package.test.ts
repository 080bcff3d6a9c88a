import type { LocalOrg, LocalSalesforce, LocalUser } from '../../local-org';
import { BridgeError, isBridgeError } from '../../src/core/errors';
import { SalesforceRestClient } from '../../src/salesforce/rest-client';
import type { NewRecord } from '../../src/salesforce/types';
import { API_VERSION, login, startOrg } from '../local-org/support';

const HEALTH = 'inbx__Inbox_Sync_Health__c';

function health(inboxId: string, fields: Record<string, unknown> = {}): NewRecord {
  return { attributes: { type: HEALTH }, Name: `受信箱 ${inboxId}`, inbx__Inbox_Id__c: inboxId, ...fields };
}

/** The REST client's calls for the package's objects: collection upserts, and queries that may fail alone. */
describe('SalesforceRestClient with the package objects', () => {
  let sf: LocalSalesforce;
  let org: LocalOrg;
  let user: LocalUser;

  async function clientFor(target: LocalOrg, who: LocalUser): Promise<SalesforceRestClient> {
    const token = (await login(sf, who)).access_token;
    return new SalesforceRestClient({
      instanceUrl: target.instanceUrl,
      apiVersion: API_VERSION,
      timeoutMs: 5000,
      hooks: {
        getAccessToken: async () => token,
        refreshAccessToken: async () => token,
        beforeApiCall: async () => undefined,
        afterApiCall: async () => undefined,
      },
    });
  }

  beforeEach(async () => {
    ({ sf, org, user } = await startOrg());
  });

  afterEach(async () => {
    await sf.close();
  });

  it('upserts by external id, 200 records to a call, with results in order', async () => {
    const client = await clientFor(org, user);
    org.resetApiCalls();
    const first = await client.upsertRecords(
      HEALTH,
      'inbx__Inbox_Id__c',
      Array.from({ length: 250 }, (_, i) => health(String(i))),
    );
    expect(first).toHaveLength(250);
    expect(first.every((result) => result.success && result.created === true)).toBe(true);
    expect(org.apiCalls()).toEqual({
      total: 2,
      byEndpoint: { [`PATCH /composite/sobjects/${HEALTH}/inbx__Inbox_Id__c`]: 2 },
    });

    const second = await client.upsertRecords(HEALTH, 'inbx__Inbox_Id__c', [
      health('7', { inbx__Synced_24h__c: 5 }),
      health('7'),
      health('new'),
    ]);
    expect(second).toEqual([
      { id: first[7]?.id, success: true, errors: [], created: false },
      {
        id: null,
        success: false,
        errors: [
          {
            statusCode: 'DUPLICATE_EXTERNAL_ID',
            message: 'Duplicate external id specified: 7',
            fields: ['inbx__Inbox_Id__c'],
          },
        ],
        created: null,
      },
      { id: expect.stringMatching(/^a01/), success: true, errors: [], created: true },
    ]);
  });

  it('throws a whole-request failure, such as an org without the object', async () => {
    const older = sf.createOrg({ name: 'Older Package', linkPolicyAndHealth: false });
    const admin = older.addUser({ username: 'kato@older.example.com', email: 'kato@example.jp', lastName: '加藤' });
    const client = await clientFor(older, admin);
    const error = await client.upsertRecords(HEALTH, 'inbx__Inbox_Id__c', [health('12')]).catch((e: unknown) => e);
    expect(isBridgeError(error) && [error.kind, error.code]).toEqual(['permanent', 'INVALID_TYPE']);
  });

  it('answers each query of a bundle on its own: records, or that query’s error', async () => {
    const client = await clientFor(org, user);
    org.addContact({ LastName: '山田', Email: 'taro@example.jp' });
    org.resetApiCalls();
    const results = await client.queryManySettled([
      'SELECT Id FROM Contact',
      'SELECT DeveloperName FROM Missing_Type__mdt',
      'SELECT Id, Email FROM User WHERE IsActive = true',
    ]);
    expect(results[0]).toHaveLength(1);
    expect(results[1]).toBeInstanceOf(BridgeError);
    expect((results[1] as BridgeError).code).toBe('INVALID_TYPE');
    expect(Array.isArray(results[2])).toBe(true);
    expect(org.apiCalls()).toEqual({ total: 1, byEndpoint: { 'POST /composite': 1 } });

    const [alone] = await client.queryManySettled(['SELECT Id FROM Missing_Type__mdt']);
    expect(isBridgeError(alone) && alone.code).toBe('INVALID_TYPE');
    await expect(client.queryMany(['SELECT Id FROM Contact', 'SELECT Id FROM Missing_Type__mdt'])).rejects.toThrow(
      BridgeError,
    );
  });

  it('still throws failures of the whole request', async () => {
    const client = await clientFor(org, user);
    sf.faults.serverError({ path: '/composite', status: 503 });
    const error = await client
      .queryManySettled(['SELECT Id FROM Contact', 'SELECT Id FROM Lead'])
      .catch((e: unknown) => e);
    expect(isBridgeError(error) && error.kind).toBe('retryable');
  });
});
