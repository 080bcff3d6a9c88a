// The package checks fail on deliberately broken copies of the package: each test copies the
// Salesforce project to a temporary folder, breaks one thing, and runs the check's script there.
const { spawnSync } = require('node:child_process');
const {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

const projectRoot = path.resolve(__dirname, '../..');
const classes = 'force-app/main/default/classes';
const testClasses = 'force-app-tests/main/default/classes';
const copies = [];

/** What the checks read: the project file, the ignore file, both source folders, the release docs. */
function copyOfPackage() {
  const copy = mkdtempSync(path.join(tmpdir(), 'package-check-'));
  copies.push(copy);
  for (const file of ['sfdx-project.json', '.forceignore', 'README.md', 'docs/salesforce-admin.md']) {
    cpSync(path.join(projectRoot, file), path.join(copy, file));
  }
  for (const folder of ['force-app', 'force-app-tests']) {
    cpSync(path.join(projectRoot, folder), path.join(copy, folder), {
      recursive: true,
      filter: (source) => !source.includes(`${path.sep}__tests__`),
    });
  }
  return copy;
}

let builtTemplate;
/** A copy whose components are built (the conversion packages their JavaScript). */
function builtCopyOfPackage() {
  if (!builtTemplate) {
    builtTemplate = copyOfPackage();
    symlinkSync(path.join(projectRoot, 'node_modules'), path.join(builtTemplate, 'node_modules'));
    const build = run('lwc-build.mjs', [path.join(builtTemplate, 'force-app/main/default')]);
    if (build.status !== 0) throw new Error(`the LWC build of the copy failed:\n${build.output}`);
    rmSync(path.join(builtTemplate, 'node_modules'));
  }
  const copy = mkdtempSync(path.join(tmpdir(), 'package-check-'));
  copies.push(copy);
  cpSync(builtTemplate, copy, { recursive: true });
  return copy;
}

function edit(copy, file, from, to) {
  const full = path.join(copy, file);
  const text = readFileSync(full, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} does not contain ${from}`);
  writeFileSync(full, text.replace(from, to));
}

function run(script, args, env = {}) {
  const result = spawnSync(process.execPath, [path.join(projectRoot, 'scripts', script), ...args], {
    encoding: 'utf8',
    env: { ...process.env, INBOX_BRIDGE_PUBLISHER_EMAIL: '', ...env },
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const check = (name, copy) => run('check-package.mjs', [name, copy]);
const releaseRule = (rule, copy, { release = false, env } = {}) =>
  run('release-check.mjs', [...(release ? ['--release'] : []), '--rule', rule, copy], env);
const RELEASE_EMAIL = { INBOX_BRIDGE_PUBLISHER_EMAIL: 'salesforce-apps@relation.co.jp' };

afterAll(() => {
  for (const copy of copies) rmSync(copy, { recursive: true, force: true });
});

describe('the package checks', () => {
  it('pass on an unchanged copy of the package', () => {
    const copy = copyOfPackage();
    for (const name of ['xml', 'meta', 'translations', 'sharing', 'fields', 'apexdoc']) {
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

  it('fails the field check on a test class in the unpackaged folder too', () => {
    const copy = copyOfPackage();
    edit(copy, `${testClasses}/SyncedEventSelector_Tests.cls`, 'record.Action_Id__c', 'record.Action_Idx__c');

    const result = check('fields', copy);

    expect(result.status).toBe(1);
    expect(result.output).toMatch(
      /force-app-tests\/.*SyncedEventSelector_Tests\.cls:\d+: no object of the package has a field Action_Idx__c/,
    );
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
      edit(copy, `${classes}/UserSelector.cls`, 'public with sharing class', 'public without sharing class');
      expect(check('sharing', copy).output).toContain('"without sharing" needs a comment above the class');

      edit(
        copy,
        `${classes}/UserSelector.cls`,
        'public without sharing class',
        '// without sharing: every user may see every user here.\npublic without sharing class',
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

  it('fails the ApexDoc check on a class without @group, and on a test class without ApexDoc', () => {
    const copy = copyOfPackage();
    edit(copy, `${classes}/UserSelector.cls`, ' * @group Link Policies\n', '');
    const tests = path.join(copy, testClasses, 'AuraErrors_Tests.cls');
    writeFileSync(tests, readFileSync(tests, 'utf8').replace(/^\/\*\*[\s\S]*?\*\/\n/, ''));

    const result = check('apexdoc', copy);

    expect(result.status).toBe(1);
    expect(result.output).toContain("UserSelector.cls: the class's ApexDoc has no @group");
    expect(result.output).toContain('AuraErrors_Tests.cls: no ApexDoc comment above the class');
  });
});

describe('the conversion of the package', () => {
  it('holds exactly the expected components', () => {
    const result = run('convert-check.mjs', [builtCopyOfPackage()]);

    expect(result.output).toContain('exactly the expected components');
    expect(result.status).toBe(0);
  });

  it('fails on the empty "types" bundle that ignoring only the files of lwc/types leaves', () => {
    const copy = builtCopyOfPackage();
    edit(copy, '.forceignore', '**/lwc/types\n', '**/lwc/types/**\n');

    const result = run('convert-check.mjs', [copy]);

    expect(result.status).toBe(1);
    expect(result.output).toContain('LightningComponentBundle types is in the converted package but not expected');
  });

  it('fails on any other unexpected component, such as a profile', () => {
    const copy = builtCopyOfPackage();
    mkdirSync(path.join(copy, 'force-app/main/default/profiles'));
    writeFileSync(
      path.join(copy, 'force-app/main/default/profiles/Admin.profile-meta.xml'),
      '<?xml version="1.0" encoding="UTF-8"?>\n<Profile xmlns="http://soap.sforce.com/2006/04/metadata"><custom>false</custom></Profile>\n',
    );

    const result = run('convert-check.mjs', [copy]);

    expect(result.status).toBe(1);
    expect(result.output).toContain('Profile Admin is in the converted package but not expected');
  });
});

describe('the release check', () => {
  it('passes an unchanged copy, reporting the oauthLink as pending on one line', () => {
    const result = run('release-check.mjs', [builtCopyOfPackage()]);

    expect(result.status).toBe(0);
    const pending = result.output.split('\n').filter((line) => line.startsWith('PENDING'));
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatch(/^PENDING oauth-link: .*Inbox_Bridge_oauth\.ecaOauth-meta\.xml has no oauthLink/);
    expect(result.output).not.toContain('FAIL');
  });

  it('with --release, fails while the oauthLink is missing and passes once it is committed', () => {
    const copy = copyOfPackage();
    expect(releaseRule('oauth-link', copy, { release: true })).toMatchObject({ status: 1 });

    edit(
      copy,
      'force-app/main/default/extlClntAppOauthSettings/Inbox_Bridge_oauth.ecaOauth-meta.xml',
      '    <label>',
      '    <oauthLink>00D000000000001EAA:888000000000001</oauthLink>\n    <label>',
    );

    expect(releaseRule('oauth-link', copy, { release: true })).toMatchObject({ status: 0 });
  });

  it('fails without the metadata-access notice in the version description or the documented package create', () => {
    const copy = copyOfPackage();
    edit(copy, 'sfdx-project.json', ' This package can access and change metadata', ' The package can change metadata');
    edit(copy, 'docs/salesforce-admin.md', '. This package can access and change metadata', '. It can change metadata');

    const result = releaseRule('notice', copy);

    expect(result.status).toBe(1);
    expect(result.output).toContain("the packaged directory's versionDescription lacks the notice");
    expect(result.output).toContain('docs/salesforce-admin.md: "sf package create" must pass the notice');
  });

  it('fails on a custom label that is not protected', () => {
    const copy = copyOfPackage();
    edit(
      copy,
      'force-app/main/default/labels/CustomLabels.labels-meta.xml',
      '<fullName>Inbox_Loading</fullName>\n        <categories>InboxBridge</categories>\n        <language>en_US</language>\n        <protected>true</protected>',
      '<fullName>Inbox_Loading</fullName>\n        <categories>InboxBridge</categories>\n        <language>en_US</language>\n        <protected>false</protected>',
    );

    const result = releaseRule('labels', copy);

    expect(result.status).toBe(1);
    expect(result.output).toContain('custom label Inbox_Loading is not protected');
  });

  it('fails on an unexpected component in the package', () => {
    const copy = builtCopyOfPackage();
    edit(copy, '.forceignore', '**/lwc/types\n', '**/lwc/types/**\n');

    const result = releaseRule('contents', copy);

    expect(result.status).toBe(1);
    expect(result.output).toContain('LightningComponentBundle types is in the converted package but not expected');
  });

  it('fails on a test class inside the package, and without the unpackaged test folder', () => {
    const copy = copyOfPackage();
    for (const file of ['UserSelector_Tests.cls', 'UserSelector_Tests.cls-meta.xml']) {
      renameSync(path.join(copy, testClasses, file), path.join(copy, classes, file));
    }
    const project = JSON.parse(readFileSync(path.join(copy, 'sfdx-project.json'), 'utf8'));
    delete project.packageDirectories[0].unpackagedMetadata;
    writeFileSync(path.join(copy, 'sfdx-project.json'), JSON.stringify(project, null, 2));

    const result = releaseRule('tests', copy);

    expect(result.status).toBe(1);
    expect(result.output).toContain('UserSelector_Tests.cls: a test class inside the package');
    expect(result.output).toContain('declares no unpackagedMetadata for its tests');
  });

  it('fails when the documented version create lacks --language en_US or does not follow the check with --release', () => {
    const copy = copyOfPackage();
    edit(copy, 'docs/salesforce-admin.md', '--code-coverage --language en_US --wait 30', '--code-coverage --wait 30');
    edit(
      copy,
      'docs/salesforce-admin.md',
      'npm run package:release-check -- --release #',
      'npm run package:release-check #',
    );

    const result = releaseRule('release-command', copy);

    expect(result.status).toBe(1);
    expect(result.output).toMatch(/docs\/salesforce-admin\.md: "sf package version create" must pass --language en_US/);
    expect(result.output).toContain(
      'must run "npm run package:release-check -- --release" (every rule) before "sf package version create"',
    );
  });

  it("fails on a literal contact email, and with --release on a placeholder publisher's address", () => {
    const copy = copyOfPackage();
    expect(releaseRule('contact', copy, { release: true, env: RELEASE_EMAIL })).toMatchObject({ status: 0 });
    expect(
      releaseRule('contact', copy, { release: true, env: { INBOX_BRIDGE_PUBLISHER_EMAIL: 'admin@bridge.invalid' } }),
    ).toMatchObject({ status: 1 });

    edit(
      copy,
      'force-app/main/default/externalClientApps/Inbox_Bridge.eca-meta.xml',
      '<contactEmail>INBOX_BRIDGE_PUBLISHER_EMAIL</contactEmail>',
      '<contactEmail>salesforce-admin@relation-bridge.invalid</contactEmail>',
    );
    const result = releaseRule('contact', copy);

    expect(result.status).toBe(1);
    expect(result.output).toContain('contactEmail "salesforce-admin@relation-bridge.invalid" must be a placeholder');
  });

  it("fails on a tab motif that is not one of Salesforce's", () => {
    const copy = copyOfPackage();
    edit(
      copy,
      'force-app/main/default/tabs/Inbox_Bridge_Admin.tab-meta.xml',
      'Custom71: Headset',
      'Custom62: Chat Bubble',
    );

    const result = releaseRule('motif', copy);

    expect(result.status).toBe(1);
    expect(result.output).toContain(
      '"Custom62: Chat Bubble" is not one of Salesforce\'s tab motifs (Custom62 is "Chalkboard")',
    );
  });

  it('fails on a Lightning page that names a component with a namespace', () => {
    const copy = copyOfPackage();
    edit(
      copy,
      'force-app/main/default/flexipages/Inbox_Bridge_Admin.flexipage-meta.xml',
      '<componentName>inboxAdminConsole</componentName>',
      '<componentName>inbx:inboxAdminConsole</componentName>',
    );

    const result = releaseRule('component-names', copy);

    expect(result.status).toBe(1);
    expect(result.output).toContain('"inbx:inboxAdminConsole" must be the bare name "inboxAdminConsole"');
  });

  it('fails on a version after the first without an ancestor, and passes with ancestorVersion HIGHEST', () => {
    const copy = copyOfPackage();
    edit(copy, 'sfdx-project.json', '"versionNumber": "1.0.0.NEXT"', '"versionNumber": "1.1.0.NEXT"');
    const result = releaseRule('ancestor', copy);
    expect(result.status).toBe(1);
    expect(result.output).toContain('set "ancestorVersion": "HIGHEST"');

    edit(
      copy,
      'sfdx-project.json',
      '"versionNumber": "1.1.0.NEXT"',
      '"versionNumber": "1.1.0.NEXT",\n      "ancestorVersion": "HIGHEST"',
    );
    expect(releaseRule('ancestor', copy)).toMatchObject({ status: 0 });
  });
});
