import fs from 'node:fs';
import path from 'node:path';
import type { LocalOrg, LocalSalesforce, LocalUser } from '../../local-org';
import { PACKAGE_GRANTS, type PackageAccess } from '../../local-org/package';
import { PACKAGE_OBJECTS, PACKAGE_PERMISSION_SETS } from '../../src/salesforce/package-names';
import { eventFor, login, query, rest, startOrg } from './support';

/**
 * The package's field-level security per user, and the package installed later: a user
 * without the integration permission set does not see the packaged fields and objects at
 * all, as on Salesforce.
 */

const INTEGRATION = PACKAGE_PERMISSION_SETS.integration.name;
const ADMIN = PACKAGE_PERMISSION_SETS.admin.name;
const ACTION_ID = 'inbx__Action_Id__c';
const POLICY = 'inbx__Inbox_Link__mdt';
const HEALTH = 'inbx__Inbox_Sync_Health__c';
const LICENSE_QUERY = "SELECT NamespacePrefix, Status FROM PackageLicense WHERE NamespacePrefix = 'inbx'";

async function describedFields(org: LocalOrg, token: string, type = 'Event'): Promise<Map<string, any>> {
  const response = await rest(org, token, 'GET', `/sobjects/${type}/describe`);
  expect(response.status).toBe(200);
  return new Map(response.body.fields.map((field: { name: string }) => [field.name, field]));
}

function health(inboxId: string): Record<string, unknown> {
  return { attributes: { type: HEALTH }, Name: inboxId, inbx__Inbox_Id__c: inboxId };
}

const PERMISSION_SETS = path.resolve(__dirname, '../../../force-app/main/default/permissionsets');

/** What a permission set of force-app grants, read from its XML: the local org's grants must say the same. */
function grantIn(xml: string) {
  const blocks = (tag: string) =>
    [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1] ?? '');
  const flag = (block: string, tag: string) => new RegExp(`<${tag}>true</${tag}>`).test(block);
  const access = (readable: boolean, editable: boolean): PackageAccess =>
    editable ? 'edit' : readable ? 'read' : 'none';
  const activity = new Set(
    blocks('fieldPermissions')
      .filter((block) => /<field>(Event|Task)\./.test(block))
      .map((block) => access(flag(block, 'readable'), flag(block, 'editable'))),
  );
  const health = blocks('objectPermissions').find((block) =>
    block.includes(`<object>${PACKAGE_OBJECTS.syncHealth.object}</object>`),
  );
  return {
    activityFieldsGranted: [...activity],
    activityFieldNames: blocks('fieldPermissions')
      .map((block) => /<field>Event\.(\w+)<\/field>/.exec(block)?.[1])
      .filter((name): name is string => name !== undefined)
      .sort(),
    linkPolicy: blocks('customMetadataTypeAccesses').some(
      (block) => block.includes(`<name>${PACKAGE_OBJECTS.linkPolicy.object}</name>`) && flag(block, 'enabled'),
    ),
    syncHealth:
      health === undefined
        ? 'none'
        : access(flag(health, 'allowRead'), flag(health, 'allowCreate') && flag(health, 'allowEdit')),
  };
}

describe('the package’s permission sets in the local org', () => {
  it.each(Object.values(PACKAGE_PERMISSION_SETS))('$name grants what force-app says it grants', ({ name, label }) => {
    const xml = fs.readFileSync(path.join(PERMISSION_SETS, `${name}.permissionset-meta.xml`), 'utf8');
    expect(xml).toContain(`<label>${label}</label>`);
    const granted = grantIn(xml);
    const local = PACKAGE_GRANTS[name];
    expect(granted.activityFieldsGranted).toEqual([local.activityFields]);
    expect(granted.activityFieldNames).toEqual(Object.values(PACKAGE_OBJECTS.activity.fields).sort());
    expect(granted.linkPolicy).toBe(local.linkPolicy);
    expect(granted.syncHealth).toBe(local.syncHealth);
  });
});

describe('the package’s field-level security in the local org', () => {
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

  it('gives a new user the integration permission set while the package is installed', () => {
    expect([...user.permissionSets]).toEqual([INTEGRATION]);
  });

  describe('a user without the integration permission set', () => {
    beforeEach(() => {
      org.removePermissionSet(user.id, INTEGRATION);
    });

    it('does not see the packaged fields in describe, on Event and on Task', async () => {
      for (const type of ['Event', 'Task']) {
        const fields = await describedFields(org, token, type);
        expect(fields.has('Subject')).toBe(true);
        expect([...fields.keys()].filter((name) => name.startsWith('inbx__'))).toEqual([]);
      }
    });

    it('is answered INVALID_FIELD "No such column" by SOQL naming them', async () => {
      const response = await query(org, token, `SELECT Id, ${ACTION_ID} FROM Event`);
      expect(response.status).toBe(400);
      expect(response.body).toEqual([
        {
          errorCode: 'INVALID_FIELD',
          message: expect.stringContaining(`No such column '${ACTION_ID}' on entity 'Event'.`),
        },
      ]);
    });

    it('cannot create an Event naming them: the whole request fails with INVALID_FIELD, nothing is written', async () => {
      const one = await rest(org, token, 'POST', '/sobjects/Event', eventFor(org, contactId));
      expect(one).toMatchObject({
        status: 400,
        body: [{ errorCode: 'INVALID_FIELD', message: `No such column '${ACTION_ID}' on sobject of type Event` }],
      });
      const collection = await rest(org, token, 'POST', '/composite/sobjects', {
        allOrNone: false,
        records: [eventFor(org, contactId), eventFor(org, contactId)],
      });
      expect(collection).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_FIELD' }] });
      expect(org.records('Event')).toHaveLength(0);
    });

    it('still creates Events without them', async () => {
      const { [ACTION_ID]: _actionId, ...plain } = eventFor(org, contactId);
      const response = await rest(org, token, 'POST', '/sobjects/Event', plain);
      expect(response.status).toBe(201);
    });

    it('does not see the link policy type nor the sync health object (INVALID_TYPE), but does see the package’s license', async () => {
      const policies = await query(org, token, `SELECT DeveloperName FROM ${POLICY}`);
      expect(policies).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_TYPE' }] });
      const upsert = await rest(org, token, 'PATCH', `/composite/sobjects/${HEALTH}/inbx__Inbox_Id__c`, {
        records: [health('12')],
      });
      expect(upsert).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_TYPE' }] });
      const global = await rest(org, token, 'GET', '/sobjects');
      const names = global.body.sobjects.map((object: { name: string }) => object.name);
      expect(names).toEqual(expect.arrayContaining(['Event', 'PackageLicense']));
      expect(names).not.toContain(HEALTH);
      const license = await query(org, token, LICENSE_QUERY);
      expect(license.body.records).toEqual([expect.objectContaining({ NamespacePrefix: 'inbx', Status: 'Free' })]);
    });

    it('sees them at once when the permission set is assigned, with the same session', async () => {
      org.assignPermissionSet(user.id, INTEGRATION);
      const fields = await describedFields(org, token);
      expect(fields.get(ACTION_ID)).toMatchObject({ createable: true, updateable: true });
      const created = await rest(org, token, 'POST', '/sobjects/Event', eventFor(org, contactId));
      expect(created.status).toBe(201);
      expect((await query(org, token, `SELECT Id, ${ACTION_ID} FROM Event`)).status).toBe(200);
    });
  });

  describe('a user with the admin permission set only', () => {
    beforeEach(() => {
      org.removePermissionSet(user.id, INTEGRATION);
      org.assignPermissionSet(user.id, ADMIN);
    });

    it('reads the packaged fields, described as neither createable nor updateable', async () => {
      const fields = await describedFields(org, token);
      expect(fields.get(ACTION_ID)).toMatchObject({ createable: false, updateable: false });
      expect((await query(org, token, `SELECT Id, ${ACTION_ID} FROM Event`)).status).toBe(200);
      expect((await describedFields(org, token, HEALTH)).get('inbx__Link_State__c')).toMatchObject({
        createable: false,
      });
    });

    it('cannot write them: the record fails with INVALID_FIELD_FOR_INSERT_UPDATE naming the field', async () => {
      const response = await rest(org, token, 'POST', '/composite/sobjects', {
        allOrNone: false,
        records: [eventFor(org, contactId)],
      });
      expect(response.status).toBe(200);
      expect(response.body).toEqual([
        {
          success: false,
          errors: [expect.objectContaining({ statusCode: 'INVALID_FIELD_FOR_INSERT_UPDATE', fields: [ACTION_ID] })],
        },
      ]);
    });
  });

  describe('an org where the package is installed later', () => {
    let bare: LocalOrg;
    let bareUser: LocalUser;
    let bareToken: string;

    beforeEach(async () => {
      bare = sf.createOrg({ name: 'Bare Org', packageInstalled: false });
      bareUser = bare.addUser({ username: 'suzuki@bare.example.com', email: 's@example.jp', lastName: '鈴木' });
      bareToken = (await login(sf, bareUser)).access_token;
    });

    it('has no license, no fields and no permission sets before the install', async () => {
      expect(bare.packageInstalled).toBe(false);
      expect([...bareUser.permissionSets]).toEqual([]);
      expect(() => bare.assignPermissionSet(bareUser.id, INTEGRATION)).toThrow(/not installed/);
      expect((await query(bare, bareToken, LICENSE_QUERY)).body.records).toEqual([]);
      expect([...(await describedFields(bare, bareToken)).keys()].filter((name) => name.startsWith('inbx__'))).toEqual(
        [],
      );
    });

    it('after the install shows the license at once, and the fields to users given the permission set', async () => {
      bare.installPackage();
      expect((await query(bare, bareToken, LICENSE_QUERY)).body.records).toHaveLength(1);
      expect((await describedFields(bare, bareToken)).has(ACTION_ID)).toBe(false);
      bare.assignPermissionSet(bareUser.id, INTEGRATION);
      expect((await describedFields(bare, bareToken)).get(ACTION_ID)).toMatchObject({ createable: true });
      const contact = bare.addContact({ LastName: '佐藤' });
      expect((await rest(bare, bareToken, 'POST', '/sobjects/Event', eventFor(bare, contact))).status).toBe(201);
    });

    it('an uninstall takes the fields’ values, the package’s records, its license and its assignments with it', async () => {
      bare.installPackage();
      bare.assignPermissionSet(bareUser.id, INTEGRATION);
      const contact = bare.addContact({ LastName: '佐藤' });
      const event = await rest(bare, bareToken, 'POST', '/sobjects/Event', eventFor(bare, contact));
      bare.setCustomMetadata('Inbox_Link', 'Inbox_12', { Inbox_Id__c: '12' });

      bare.uninstallPackage();
      expect([...bareUser.permissionSets]).toEqual([]);
      expect((await query(bare, bareToken, LICENSE_QUERY)).body.records).toEqual([]);
      expect((await query(bare, bareToken, `SELECT Id FROM ${POLICY}`)).body).toMatchObject([
        { errorCode: 'INVALID_TYPE' },
      ]);
      bare.installPackage();
      bare.assignPermissionSet(bareUser.id, INTEGRATION);
      expect(bare.customMetadata('Inbox_Link')).toEqual([]);
      expect(bare.record(event.body.id as string)?.[ACTION_ID]).toBeNull();
    });
  });

  it('the control API installs and uninstalls the package and assigns permission sets', async () => {
    const control = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${sf.baseUrl}/__local/orgs/${org.slug}${path}`, {
        method,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: await response.json() };
    };
    expect(await control('DELETE', '/package')).toEqual({ status: 200, body: { packageInstalled: false } });
    expect((await control('PUT', `/users/${user.id}/permission-sets/${INTEGRATION}`)).status).toBe(400);
    expect(await control('PUT', '/package')).toEqual({ status: 200, body: { packageInstalled: true } });
    expect(await control('PUT', `/users/${user.id}/permission-sets/${INTEGRATION}`)).toMatchObject({
      status: 200,
      body: { permissionSets: [INTEGRATION] },
    });
    expect((await control('GET', '')).body).toMatchObject({
      packageInstalled: true,
      users: expect.arrayContaining([expect.objectContaining({ id: user.id, permissionSets: [INTEGRATION] })]),
    });
    expect(await control('DELETE', `/users/${user.id}/permission-sets/${INTEGRATION}`)).toMatchObject({
      status: 200,
      body: { permissionSets: [] },
    });
    expect((await describedFields(org, token)).has(ACTION_ID)).toBe(false);
  });
});
