// The package checks fail on deliberately broken copies of the package: each test copies the
// Salesforce project to a temporary folder, breaks one thing, and runs the check's script there.
const { spawnSync } = require('node:child_process');
const { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

const projectRoot = path.resolve(__dirname, '../..');
const classes = 'force-app/main/default/classes';
const copies = [];

function copyOfPackage() {
  const copy = mkdtempSync(path.join(tmpdir(), 'package-check-'));
  copies.push(copy);
  cpSync(path.join(projectRoot, 'sfdx-project.json'), path.join(copy, 'sfdx-project.json'));
  cpSync(path.join(projectRoot, 'force-app'), path.join(copy, 'force-app'), {
    recursive: true,
    filter: (source) => !source.includes(`${path.sep}__tests__`),
  });
  return copy;
}

function edit(copy, file, from, to) {
  const full = path.join(copy, file);
  const text = readFileSync(full, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} does not contain ${from}`);
  writeFileSync(full, text.replace(from, to));
}

function run(script, args) {
  const result = spawnSync(process.execPath, [path.join(projectRoot, 'scripts', script), ...args], {
    encoding: 'utf8',
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const check = (name, copy) => run('check-package.mjs', [name, copy]);

afterAll(() => {
  for (const copy of copies) rmSync(copy, { recursive: true, force: true });
});

describe('the package checks', () => {
  it('pass on an unchanged copy of the package', () => {
    const copy = copyOfPackage();
    for (const name of ['xml', 'meta', 'translations', 'sharing', 'fields']) {
      expect(check(name, copy)).toMatchObject({ status: 0 });
    }
  });

  describe('a broken field reference in Apex', () => {
    it('fails apex-ls when Apex reads a field the health object does not have', () => {
      const copy = copyOfPackage();
      edit(
        copy,
        `${classes}/InboxPolicyService.cls`,
        'linkState = record.Link_State__c;',
        'linkState = record.Link_Status__c;',
      );

      const result = run('apex-ls-check.mjs', [copy]);

      expect(result.status).toBe(1);
      expect(result.output).toMatch(/Unknown field 'Link_Status__c'/);
    });

    it('fails the field check when SOQL selects an Activity field that does not exist', () => {
      const copy = copyOfPackage();
      edit(copy, `${classes}/SyncedEventSelector.cls`, 'Channel__c,', 'Chanel__c,');

      const result = check('fields', copy);

      expect(result.status).toBe(1);
      expect(result.output).toMatch(/SyncedEventSelector\.cls:\d+: Event\.Chanel__c does not exist \(SOQL\)/);
    });

    it('fails the field check when Apex reads an Event field that does not exist', () => {
      const copy = copyOfPackage();
      edit(
        copy,
        `${classes}/ActivityTimelineService.cls`,
        'ticketUrl = record.Ticket_URL__c;',
        'ticketUrl = record.Ticket_Link__c;',
      );

      const result = check('fields', copy);

      expect(result.status).toBe(1);
      expect(result.output).toMatch(
        /ActivityTimelineService\.cls:\d+: no object of the package has a field Ticket_Link__c/,
      );
    });
  });

  describe('a missing Japanese translation', () => {
    it('fails when a custom label has no Japanese translation', () => {
      const copy = copyOfPackage();
      const translations = 'force-app/main/default/translations/ja.translation-meta.xml';
      const text = readFileSync(path.join(copy, translations), 'utf8');
      const entry =
        /\s*<customLabels>\s*<label>[^<]*<\/label>\s*<name>Inbox_Timeline_Load_More<\/name>\s*<\/customLabels>/;
      expect(text).toMatch(entry);
      writeFileSync(path.join(copy, translations), text.replace(entry, ''));

      const result = check('translations', copy);

      expect(result.status).toBe(1);
      expect(result.output).toContain('custom label Inbox_Timeline_Load_More: no Japanese translation');
    });

    it('fails when a picklist value has no Japanese label', () => {
      const copy = copyOfPackage();
      edit(
        copy,
        'force-app/main/default/objectTranslations/Activity-ja/Direction__c.fieldTranslation-meta.xml',
        '<translation>社内</translation>',
        '<translation></translation>',
      );

      const result = check('translations', copy);

      expect(result.status).toBe(1);
      expect(result.output).toContain('field Activity.Direction__c: picklist value internal has no Japanese label');
    });
  });

  describe('an Apex class without sharing', () => {
    it('fails when a class declares no sharing', () => {
      const copy = copyOfPackage();
      edit(copy, `${classes}/SyncHealthSelector.cls`, 'public with sharing class', 'public class');

      const result = check('sharing', copy);

      expect(result.status).toBe(1);
      expect(result.output).toMatch(/SyncHealthSelector\.cls:\d+: the class declares no sharing/);
    });

    it('fails when "without sharing" does not say why, and passes when it does', () => {
      const copy = copyOfPackage();
      edit(copy, `${classes}/AuraErrors.cls`, 'public with sharing class', 'public without sharing class');
      expect(check('sharing', copy).output).toContain('"without sharing" needs a comment above the class');

      edit(
        copy,
        `${classes}/AuraErrors.cls`,
        'public without sharing class',
        '// without sharing: it reads no records, so sharing changes nothing here.\npublic without sharing class',
      );
      expect(check('sharing', copy)).toMatchObject({ status: 0 });
    });
  });

  it('fails the LWC build when an Apex method that a component calls changes its parameters', () => {
    const copy = copyOfPackage();
    // The build type-checks against the project's installed packages.
    symlinkSync(path.join(projectRoot, 'node_modules'), path.join(copy, 'node_modules'));
    edit(copy, `${classes}/ActivityTimelineController.cls`, 'String channel,', 'String channelName,');
    edit(
      copy,
      `${classes}/ActivityTimelineController.cls`,
      'getPage(recordId, channel, cursor, pageSize)',
      'getPage(recordId, channelName, cursor, pageSize)',
    );

    const result = run('lwc-build.mjs', [path.join(copy, 'force-app/main/default')]);

    expect(result.status).toBe(1);
    expect(result.output).toMatch(/inboxActivityTimeline\.ts\(\d+,\d+\): error TS\d+/);
    expect(result.output).toContain('channelName');
  });

  it('fails the XML check on a malformed metadata file', () => {
    const copy = copyOfPackage();
    edit(copy, 'force-app/main/default/objects/Activity/fields/Channel__c.field-meta.xml', '</label>', '</lable>');

    const result = check('xml', copy);

    expect(result.status).toBe(1);
    expect(result.output).toMatch(/Channel__c\.field-meta\.xml:\d+: /);
  });

  it('fails the meta check on a class without its -meta.xml', () => {
    const copy = copyOfPackage();
    rmSync(path.join(copy, classes, 'UserSelector.cls-meta.xml'));

    const result = check('meta', copy);

    expect(result.status).toBe(1);
    expect(result.output).toContain('UserSelector.cls: no UserSelector.cls-meta.xml');
  });

  it('fails PMD on a class without sharing that queries data, and on SOQL built from a parameter', () => {
    const copy = copyOfPackage();
    edit(copy, `${classes}/SyncHealthSelector.cls`, 'public with sharing class', 'public class');
    writeFileSync(
      path.join(copy, classes, 'ContactSearch.cls'),
      [
        'public with sharing class ContactSearch {',
        '  public static List<Contact> byName(String name) {',
        "    return Database.query('SELECT Id FROM Contact WHERE LastName = \\'' + name + '\\'' + ' WITH USER_MODE');",
        '  }',
        '}',
        '',
      ].join('\n'),
    );

    const result = run('pmd-check.mjs', [copy]);

    expect(result.status).toBe(1);
    expect(result.output).toMatch(/SyncHealthSelector\.cls:\d+ ApexSharingViolations/);
    expect(result.output).toMatch(/ContactSearch\.cls:3 ApexSOQLInjection/);
  });
});
