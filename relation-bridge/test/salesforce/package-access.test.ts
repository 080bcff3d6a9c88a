import type { LocalOrg, LocalSalesforce, LocalUser } from '../../local-org';
import { BridgeError } from '../../src/core/errors';
import { assessPackageAccess, packageAccessReads, type PackageAccess } from '../../src/salesforce/package-access';
import { PACKAGE_PERMISSION_SETS } from '../../src/salesforce/package-names';
import { SalesforceRestClient } from '../../src/salesforce/rest-client';
import { API_VERSION, login, startOrg } from '../local-org/support';

const INTEGRATION = PACKAGE_PERMISSION_SETS.integration.name;

/** The package check against the local org: what one describe of Event and the license tell, in one call. */
describe('the package access check', () => {
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

  async function check(target: LocalOrg, who: LocalUser): Promise<PackageAccess | BridgeError> {
    const reads = packageAccessReads(target.namespace);
    const read = await (await clientFor(target, who)).readSettled(reads);
    return assessPackageAccess(target.namespace, read.describes[0] as BridgeError, read.queries[0]);
  }

  beforeEach(async () => {
    ({ sf, org, user } = await startOrg());
  });

  afterEach(async () => {
    await sf.close();
  });

  it('finds the fields writable for a user with the integration permission set', async () => {
    expect(await check(org, user)).toEqual({ state: 'ok' });
  });

  it('tells fields the user cannot see (the package is licensed) from a package that is not installed', async () => {
    org.removePermissionSet(user.id, INTEGRATION);
    expect(await check(org, user)).toEqual({
      state: 'field_access_missing',
      missingFields: expect.arrayContaining(['inbx__Action_Id__c', 'inbx__Channel__c']),
      readOnlyFields: [],
    });
    org.uninstallPackage();
    expect(await check(org, user)).toEqual({ state: 'package_missing' });
  });

  it('names the fields a read-only permission set leaves out of reach', async () => {
    org.removePermissionSet(user.id, INTEGRATION);
    org.assignPermissionSet(user.id, PACKAGE_PERMISSION_SETS.salesRep.name);
    const access = await check(org, user);
    expect(access).toMatchObject({ state: 'field_access_missing', missingFields: [] });
    expect((access as { readOnlyFields: string[] }).readOnlyFields).toHaveLength(8);
  });

  it('without a namespace, takes fields missing altogether for a missing package (no license to ask)', async () => {
    const plain = sf.createOrg({ name: 'Unmanaged', namespace: '', packageInstalled: false });
    const plainUser = plain.addUser({ username: 'ito@plain.example.com', email: 'ito@example.jp', lastName: '伊藤' });
    expect(packageAccessReads('').queries).toEqual([]);
    expect(await check(plain, plainUser)).toEqual({ state: 'package_missing' });
  });

  it('reads a describe beside five queries in one composite call, and a sixth query in a second', async () => {
    const client = await clientFor(org, user);
    org.resetApiCalls();
    const five = Array.from({ length: 5 }, () => 'SELECT Id FROM Contact');
    const read = await client.readSettled({ queries: five, describes: ['Event'] });
    expect(read.describes[0]).toMatchObject({ name: 'Event' });
    expect(read.queries).toHaveLength(5);
    expect(org.apiCalls()).toEqual({ total: 1, byEndpoint: { 'POST /composite': 1 } });

    org.resetApiCalls();
    await client.readSettled({ queries: [...five, 'SELECT Id FROM Lead'], describes: ['Event'] });
    expect(org.apiCalls().total).toBe(2);
  });

  it('settles a describe Salesforce refuses on its own as its error, the queries still answering', async () => {
    const client = await clientFor(org, user);
    const read = await client.readSettled({ queries: ['SELECT Id FROM Contact'], describes: ['No_Such__c'] });
    expect(read.describes[0]).toBeInstanceOf(BridgeError);
    expect(read.queries[0]).toEqual([]);
    expect(assessPackageAccess('inbx', read.describes[0] as BridgeError, read.queries[0])).toBeInstanceOf(BridgeError);
  });
});
