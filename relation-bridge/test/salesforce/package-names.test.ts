import fs from 'node:fs';
import path from 'node:path';
import { buildSchema } from '../../local-org/schema';
import { loadConfig } from '../../src/config';
import {
  PACKAGE_APP_LABEL,
  PACKAGE_NAMESPACE,
  PACKAGE_OBJECTS,
  packageApiNames,
} from '../../src/salesforce/package-names';

/** The package's API names as the bridge knows them, against the package itself (force-app). */

const ROOT = path.resolve(__dirname, '../../..');
const OBJECTS = path.join(ROOT, 'force-app/main/default/objects');

function fieldsIn(object: string): string[] {
  return fs
    .readdirSync(path.join(OBJECTS, object, 'fields'))
    .filter((file) => file.endsWith('.field-meta.xml'))
    .map((file) => file.slice(0, -'.field-meta.xml'.length))
    .sort();
}

describe("the package's API names", () => {
  it.each(Object.entries(PACKAGE_OBJECTS))(
    '%s: the object and exactly its fields are those in force-app',
    (_name, { object, fields }) => {
      expect(fs.existsSync(path.join(OBJECTS, object))).toBe(true);
      if (object !== 'Activity') {
        expect(fs.existsSync(path.join(OBJECTS, object, `${object}.object-meta.xml`))).toBe(true);
      }
      expect(Object.values(fields).sort()).toEqual(fieldsIn(object));
    },
  );

  it("use the package's namespace, which is SF_NAMESPACE's default", () => {
    const project = JSON.parse(fs.readFileSync(path.join(ROOT, 'sfdx-project.json'), 'utf8')) as { namespace: string };
    expect(PACKAGE_NAMESPACE).toBe(project.namespace);
    expect(loadConfig({}).SF_NAMESPACE).toBe(PACKAGE_NAMESPACE);
  });

  it("name the External Client App by its label, which OauthToken gives as a user's approvals' AppName", () => {
    const eca = fs.readFileSync(
      path.join(ROOT, 'force-app/main/default/externalClientApps/Inbox_Bridge.eca-meta.xml'),
      'utf8',
    );
    expect(/<label>([^<]*)<\/label>/.exec(eca)?.[1]).toBe(PACKAGE_APP_LABEL);
  });

  it('are prefixed with the namespace, or not at all without one', () => {
    expect(packageApiNames('inbx').syncHealth).toMatchObject({
      type: 'inbx__Inbox_Sync_Health__c',
      inboxId: 'inbx__Inbox_Id__c',
    });
    expect(packageApiNames('').linkPolicy).toMatchObject({ type: 'Inbox_Link__mdt', target: 'Target__c' });
  });

  it('are what the local org describes: every name of the module exists there, on Event and Task too', () => {
    const schema = buildSchema({
      namespace: PACKAGE_NAMESPACE,
      actionIdUnique: true,
      packageInstalled: true,
      linkPolicyAndHealth: true,
    });
    const names = packageApiNames(PACKAGE_NAMESPACE);
    const fieldsOf = (object: string) =>
      [...(schema.get(object.toLowerCase())?.fields.values() ?? [])].map((field) => field.name);
    for (const object of ['Event', 'Task']) {
      expect(fieldsOf(object)).toEqual(expect.arrayContaining(Object.values(names.activity)));
    }
    const { type: policyType, ...policyFields } = names.linkPolicy;
    expect(fieldsOf(policyType)).toEqual(expect.arrayContaining(Object.values(policyFields)));
    const { type: healthType, ...healthFields } = names.syncHealth;
    expect(fieldsOf(healthType)).toEqual(expect.arrayContaining(Object.values(healthFields)));
  });
});
