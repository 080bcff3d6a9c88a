// What the packaged directory turns into: `sf project convert source` run as a packaging run
// would (after the LWC build), and the list of components the package is meant to hold. Both the
// convert check and the release check compare the two in both directions: a missing component
// breaks the package, and an unexpected one (an empty LWC bundle, a test class, the External
// Client App's global OAuth settings) breaks a deploy or ships what must not ship.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';

export const PACKAGE_DIRECTORY = 'force-app';
const SOURCE = `${PACKAGE_DIRECTORY}/main/default`;
const projectRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

/** The Activity fields the bridge writes: the contract between the two halves. */
export const ACTIVITY_FIELDS = [
  'Action_Id__c',
  'Ticket_Id__c',
  'Ticket_URL__c',
  'Inbox_Id__c',
  'Inbox_Name__c',
  'Channel__c',
  'Action_Kind__c',
  'Direction__c',
];

const listNames = (folder, suffix) =>
  existsSync(folder)
    ? readdirSync(folder)
        .filter((name) => name.endsWith(suffix))
        .map((name) => name.slice(0, -suffix.length))
        .sort()
    : [];

const labelNames = (source) => {
  const file = path.join(source, 'labels/CustomLabels.labels-meta.xml');
  if (!existsSync(file)) return [];
  const parsed = new XMLParser({ isArray: (name) => name === 'labels' }).parse(readFileSync(file, 'utf8'));
  return (parsed.CustomLabels?.labels ?? []).map((label) => String(label.fullName));
};

/**
 * Every component the package is meant to hold, by metadata type. Types and their members are
 * listed by name; only the long lists that have one obvious source (Apex classes, labels, the
 * fields of the package's own objects) are read from the source folders.
 */
export function expectedComponents(root) {
  const source = path.join(root, SOURCE);
  const fieldsOf = (object) =>
    listNames(path.join(source, 'objects', object, 'fields'), '.field-meta.xml').map((field) => `${object}.${field}`);
  const customObjects = ['Inbox_Link__mdt', 'Inbox_Sync_Health__c', 'Inbox_Policy_Deployment__e'];
  return new Map(
    Object.entries({
      ExternalClientApplication: ['Inbox_Bridge'],
      ExtlClntAppOauthSettings: ['Inbox_Bridge_oauth'],
      CustomObject: customObjects,
      CustomField: [...ACTIVITY_FIELDS.map((field) => `Activity.${field}`), ...customObjects.flatMap(fieldsOf)],
      ListView: ['Inbox_Sync_Health__c.All'],
      ApexClass: listNames(path.join(source, 'classes'), '.cls'),
      LightningComponentBundle: ['inboxAdminConsole', 'inboxActivityTimeline', 'inboxUtils'],
      PermissionSet: ['Inbox_Bridge_Admin', 'Inbox_Bridge_Sales_Rep', 'Inbox_Bridge_Integration'],
      CustomPermission: ['Inbox_Bridge_Manage_Policies'],
      CustomLabels: ['CustomLabels'],
      CustomLabel: labelNames(source),
      Translations: ['ja'],
      CustomObjectTranslation: ['Activity', ...customObjects].map((object) => `${object}-ja`),
      FlexiPage: ['Inbox_Bridge_Admin'],
      CustomTab: ['Inbox_Bridge_Admin'],
      CustomApplication: ['Inbox_Bridge'],
    }).map(([type, members]) => [type, new Set(members)]),
  );
}

/**
 * Converts the package directory of the project at `root` to Metadata API format with the
 * Salesforce CLI. Returns the output folder (removed by `dispose`) and its components by type,
 * or the CLI's failure.
 */
export function convertPackage(root) {
  const outputDir = path.join(mkdtempSync(path.join(tmpdir(), 'sf-convert-')), 'mdapi');
  const dispose = () => rmSync(path.dirname(outputDir), { recursive: true, force: true });
  const sf = path.join(projectRoot, 'node_modules/@salesforce/cli/bin/run.js');
  const result = spawnSync(
    process.execPath,
    [sf, 'project', 'convert', 'source', '--source-dir', PACKAGE_DIRECTORY, '--output-dir', outputDir, '--json'],
    {
      cwd: root,
      encoding: 'utf8',
      env: {
        ...process.env,
        SF_DISABLE_TELEMETRY: 'true',
        SF_AUTOUPDATE_DISABLE: 'true',
        SF_SKIP_NEW_VERSION_CHECK: 'true',
        SF_USE_PROGRESS_BAR: 'false',
      },
    },
  );
  if (result.status !== 0) {
    dispose();
    return { error: `sf project convert source failed:\n${result.stdout}\n${result.stderr}` };
  }
  const manifest = new XMLParser({ isArray: (name) => name === 'types' || name === 'members' }).parse(
    readFileSync(path.join(outputDir, 'package.xml'), 'utf8'),
  );
  const components = new Map(
    (manifest.Package.types ?? []).map((type) => [type.name, new Set(type.members.map(String))]),
  );
  return { outputDir, components, dispose };
}

/** Components missing from the conversion, and converted components that are not expected. */
export function compareComponents(converted, expected) {
  const problems = [];
  for (const [type, members] of expected) {
    for (const member of members) {
      if (!converted.get(type)?.has(member)) problems.push(`${type} ${member} is missing from the converted package`);
    }
  }
  for (const [type, members] of converted) {
    for (const member of members) {
      if (!expected.get(type)?.has(member)) {
        problems.push(`${type} ${member} is in the converted package but not expected (ignore it or list it)`);
      }
    }
  }
  return problems;
}

/** Each component bundle is deployed as its compiled JavaScript, without its TypeScript or tests. */
export function checkComponentBundles(outputDir, expected) {
  const problems = [];
  for (const bundle of expected.get('LightningComponentBundle') ?? []) {
    const folder = path.join(outputDir, 'lwc', bundle);
    const files = existsSync(folder) ? readdirSync(folder) : [];
    if (!files.includes(`${bundle}.js`))
      problems.push(`lwc/${bundle}: no ${bundle}.js (run scripts/lwc-build.mjs first)`);
    for (const file of files.filter((name) => name.endsWith('.ts') || name === '__tests__')) {
      problems.push(`lwc/${bundle}/${file} must not be deployed`);
    }
  }
  return problems;
}
