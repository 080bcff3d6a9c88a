#!/usr/bin/env node
// Converts the package source to Metadata API format with the Salesforce CLI, as a packaging
// run would (after the LWC build), and checks that every expected component is in the output:
// the External Client App, the custom metadata type, the Activity fields, the health object,
// every Apex class, both components (as JavaScript, without their TypeScript), the permission
// sets, the labels and the Japanese translation.
// Usage: node scripts/convert-check.mjs [project root]   (run scripts/lwc-build.mjs first)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';

const projectRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const root = path.resolve(process.argv[2] ?? projectRoot);
const source = path.join(root, 'force-app/main/default');
const outputDir = path.join(mkdtempSync(path.join(tmpdir(), 'sf-convert-')), 'mdapi');
process.on('exit', () => rmSync(path.dirname(outputDir), { recursive: true, force: true }));

const sf = path.join(projectRoot, 'node_modules/@salesforce/cli/bin/run.js');
const result = spawnSync(
  process.execPath,
  [sf, 'project', 'convert', 'source', '--source-dir', 'force-app', '--output-dir', outputDir, '--json'],
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
  process.stderr.write(`sf project convert source failed:\n${result.stdout}\n${result.stderr}\n`);
  process.exit(1);
}

const manifest = new XMLParser({ isArray: (name) => name === 'types' || name === 'members' }).parse(
  readFileSync(path.join(outputDir, 'package.xml'), 'utf8'),
);
const converted = new Map(manifest.Package.types.map((type) => [type.name, new Set(type.members.map(String))]));

const listNames = (folder, suffix) =>
  existsSync(folder)
    ? readdirSync(folder)
        .filter((name) => name.endsWith(suffix))
        .map((name) => name.slice(0, -suffix.length))
    : [];
const expected = {
  ExternalClientApplication: ['Inbox_Bridge'],
  ExtlClntAppOauthSettings: ['Inbox_Bridge_oauth'],
  CustomObject: ['Inbox_Link__mdt', 'Inbox_Sync_Health__c', 'Inbox_Policy_Deployment__e'],
  CustomField: [
    ...[
      'Action_Id__c',
      'Ticket_Id__c',
      'Ticket_URL__c',
      'Inbox_Id__c',
      'Inbox_Name__c',
      'Channel__c',
      'Action_Kind__c',
      'Direction__c',
    ].map((field) => `Activity.${field}`),
    ...listNames(path.join(source, 'objects/Inbox_Link__mdt/fields'), '.field-meta.xml').map(
      (f) => `Inbox_Link__mdt.${f}`,
    ),
    ...listNames(path.join(source, 'objects/Inbox_Sync_Health__c/fields'), '.field-meta.xml').map(
      (f) => `Inbox_Sync_Health__c.${f}`,
    ),
  ],
  ApexClass: listNames(path.join(source, 'classes'), '.cls'),
  LightningComponentBundle: ['inboxAdminConsole', 'inboxActivityTimeline', 'inboxUtils'],
  PermissionSet: ['Inbox_Bridge_Admin', 'Inbox_Bridge_Sales_Rep', 'Inbox_Bridge_Integration'],
  CustomLabels: ['CustomLabels'],
  Translations: ['ja'],
  CustomObjectTranslation: ['Activity-ja', 'Inbox_Link__mdt-ja', 'Inbox_Sync_Health__c-ja'],
  FlexiPage: ['Inbox_Bridge_Admin'],
  CustomTab: ['Inbox_Bridge_Admin'],
  CustomApplication: ['Inbox_Bridge'],
};

const problems = [];
for (const [type, members] of Object.entries(expected)) {
  for (const member of members) {
    if (!converted.get(type)?.has(member)) problems.push(`${type} ${member} is missing from the converted package`);
  }
}
for (const bundle of expected.LightningComponentBundle) {
  const files = existsSync(path.join(outputDir, 'lwc', bundle)) ? readdirSync(path.join(outputDir, 'lwc', bundle)) : [];
  if (!files.includes(`${bundle}.js`))
    problems.push(`lwc/${bundle}: no ${bundle}.js (run scripts/lwc-build.mjs first)`);
  for (const file of files.filter((name) => name.endsWith('.ts') || name === '__tests__')) {
    problems.push(`lwc/${bundle}/${file} must not be deployed`);
  }
}

for (const problem of problems) process.stdout.write(`${problem}\n`);
const count = [...converted.values()].reduce((sum, members) => sum + members.size, 0);
process.stdout.write(
  `sf project convert source: ${count} components; ${problems.length === 0 ? 'every expected component is there' : `${problems.length} problem(s)`}\n`,
);
process.exit(problems.length === 0 ? 0 : 1);
