// Offline checks of the Salesforce package source that `sf project convert source` does not make:
// each returns a list of problems (empty when the check passes) for the project at `root`.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

const SOURCE = 'force-app/main/default';
const xml = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (name) =>
    ['labels', 'customLabels', 'customTabs', 'customApplications', 'picklistValues', 'value'].includes(name),
});

function filesUnder(folder, predicate) {
  if (!existsSync(folder)) return [];
  const found = [];
  for (const entry of readdirSync(folder)) {
    const full = path.join(folder, entry);
    if (statSync(full).isDirectory()) found.push(...filesUnder(full, predicate));
    else if (predicate(full)) found.push(full);
  }
  return found.sort();
}

const read = (file) => readFileSync(file, 'utf8');
const relative = (root, file) => path.relative(root, file);

/**
 * The project's source folders: every package directory of sfdx-project.json, the packaged one
 * and the unpackaged one that holds the Apex tests.
 */
export function sourceFolders(root) {
  const projectFile = path.join(root, 'sfdx-project.json');
  const directories = existsSync(projectFile) ? (JSON.parse(read(projectFile)).packageDirectories ?? []) : [];
  const folders = directories.map((directory) => path.join(root, directory.path));
  return folders.length > 0 ? folders : [path.join(root, 'force-app')];
}

const filesInSources = (root, predicate) => sourceFolders(root).flatMap((folder) => filesUnder(folder, predicate));

/** Every metadata XML file parses (sf project convert source accepts malformed XML). */
export function checkXmlWellFormed(root) {
  const problems = [];
  for (const file of filesInSources(root, (name) => name.endsWith('.xml'))) {
    const result = XMLValidator.validate(read(file));
    if (result !== true) {
      problems.push(`${relative(root, file)}:${result.err.line}: ${result.err.msg}`);
    }
  }
  return problems;
}

/** Every Apex class and trigger has its -meta.xml (without it, convert silently drops the class). */
export function checkApexMetaFiles(root) {
  const problems = [];
  const sources = filesInSources(root, (name) => /\.(cls|trigger)$/.test(name));
  for (const file of sources) {
    if (!existsSync(`${file}-meta.xml`)) problems.push(`${relative(root, file)}: no ${path.basename(file)}-meta.xml`);
  }
  const metas = filesInSources(root, (name) => /\.(cls|trigger)-meta\.xml$/.test(name));
  for (const meta of metas) {
    if (!existsSync(meta.replace(/-meta\.xml$/, ''))) problems.push(`${relative(root, meta)}: no source beside it`);
  }
  return problems;
}

/**
 * Every user-visible string of the package exists in Japanese: custom labels, the custom objects'
 * labels, every custom field's label and picklist values, tabs and apps.
 */
export function checkJapaneseTranslations(root) {
  const problems = [];
  const source = path.join(root, SOURCE);
  const translationFile = path.join(source, 'translations/ja.translation-meta.xml');
  if (!existsSync(translationFile)) return [`${relative(root, translationFile)}: missing`];
  const translations = xml.parse(read(translationFile)).Translations ?? {};
  const translated = (entries) =>
    new Map((entries ?? []).map((entry) => [String(entry.name), String(entry.label ?? '').trim()]));

  const labelTranslations = translated(translations.customLabels);
  const labelNames = new Set();
  for (const file of filesUnder(path.join(source, 'labels'), (name) => name.endsWith('.labels-meta.xml'))) {
    for (const label of xml.parse(read(file)).CustomLabels?.labels ?? []) {
      const name = String(label.fullName);
      labelNames.add(name);
      if (!labelTranslations.get(name)) problems.push(`custom label ${name}: no Japanese translation`);
    }
  }
  for (const name of labelTranslations.keys()) {
    if (!labelNames.has(name)) problems.push(`translations/ja: custom label ${name} does not exist`);
  }

  const tabTranslations = translated(translations.customTabs);
  for (const file of filesUnder(path.join(source, 'tabs'), (name) => name.endsWith('.tab-meta.xml'))) {
    const name = path.basename(file, '.tab-meta.xml');
    if (!tabTranslations.get(name)) problems.push(`tab ${name}: no Japanese translation`);
  }
  const appTranslations = translated(translations.customApplications);
  for (const file of filesUnder(path.join(source, 'applications'), (name) => name.endsWith('.app-meta.xml'))) {
    const name = path.basename(file, '.app-meta.xml');
    if (!appTranslations.get(name)) problems.push(`app ${name}: no Japanese translation`);
  }

  const objectsFolder = path.join(source, 'objects');
  for (const object of existsSync(objectsFolder) ? readdirSync(objectsFolder).sort() : []) {
    const translationFolder = path.join(source, 'objectTranslations', `${object}-ja`);
    if (/__(c|mdt|e)$/.test(object)) {
      const objectTranslation = path.join(translationFolder, `${object}-ja.objectTranslation-meta.xml`);
      const caseValues = existsSync(objectTranslation)
        ? xml.parse(read(objectTranslation)).CustomObjectTranslation?.caseValues
        : undefined;
      if (!caseValues) problems.push(`object ${object}: no Japanese label`);
    }
    for (const fieldFile of filesUnder(path.join(objectsFolder, object, 'fields'), (name) =>
      name.endsWith('.field-meta.xml'),
    )) {
      const fieldName = path.basename(fieldFile, '.field-meta.xml');
      const where = `field ${object}.${fieldName}`;
      const fieldTranslation = path.join(translationFolder, `${fieldName}.fieldTranslation-meta.xml`);
      if (!existsSync(fieldTranslation)) {
        problems.push(`${where}: no Japanese translation`);
        continue;
      }
      const translation = xml.parse(read(fieldTranslation)).CustomFieldTranslation ?? {};
      if (!String(translation.label ?? '').trim()) problems.push(`${where}: no Japanese label`);
      const field = xml.parse(read(fieldFile)).CustomField ?? {};
      if (field.inlineHelpText && !String(translation.help ?? '').trim()) problems.push(`${where}: no Japanese help`);
      const translatedValues = new Set(
        (translation.picklistValues ?? [])
          .filter((value) => String(value.translation ?? '').trim())
          .map((value) => String(value.masterLabel)),
      );
      for (const value of field.valueSet?.valueSetDefinition?.value ?? []) {
        if (!translatedValues.has(String(value.label))) {
          problems.push(`${where}: picklist value ${value.fullName} has no Japanese label`);
        }
      }
    }
  }
  return problems;
}

/** The fields of each object defined in the project; Activity fields belong to Event and Task. */
function projectFields(root) {
  const objectsFolder = path.join(root, SOURCE, 'objects');
  const fields = new Map();
  for (const object of existsSync(objectsFolder) ? readdirSync(objectsFolder) : []) {
    const names = new Set(
      filesUnder(path.join(objectsFolder, object, 'fields'), (name) => name.endsWith('.field-meta.xml')).map((file) =>
        path.basename(file, '.field-meta.xml').toLowerCase(),
      ),
    );
    const targets = object === 'Activity' ? ['Activity', 'Event', 'Task'] : [object];
    for (const target of targets) fields.set(target.toLowerCase(), names);
  }
  return fields;
}

/** Apex source with comments and string literals blanked out (lengths kept, so offsets stay). */
function codeOnly(source) {
  return source.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|'(?:\\.|[^'\\\n])*'/g, (match) => match.replace(/[^\n]/g, ' '));
}

const lineOf = (text, offset) => text.slice(0, offset).split('\n').length;

const SHARING = /\b(with|without|inherited)\s+sharing\b/i;

/**
 * Every top-level Apex class declares `with sharing` or `inherited sharing`. `without sharing` is
 * allowed only with a comment right above the class that starts with "without sharing:" and says
 * why. Test classes are exempt: their code runs only in tests.
 */
export function checkApexSharing(root) {
  const problems = [];
  for (const file of filesInSources(root, (name) => name.endsWith('.cls'))) {
    const source = read(file);
    const code = codeOnly(source);
    // The top-level declaration: annotations and modifiers up to the first `class` keyword.
    const declaration = /^\s*((?:@\w+(?:\s*\([^)]*\))?\s*)*)([\w\s]*?)\bclass\s+(\w+)/.exec(code);
    if (!declaration) continue;
    const [, annotations, modifiers] = declaration;
    if (/@istest\b/i.test(annotations)) continue;
    const line = lineOf(code, declaration.index + declaration[0].search(/\S/));
    const where = `${relative(root, file)}:${line}`;
    const sharing = SHARING.exec(modifiers)?.[1]?.toLowerCase();
    if (sharing === 'with' || sharing === 'inherited') continue;
    if (sharing === 'without') {
      const classLine = lineOf(code, declaration.index + declaration[0].length);
      const linesAbove = source
        .split('\n')
        .slice(Math.max(0, classLine - 7), classLine - 1)
        .join('\n');
      if (!/without sharing:\s*\S/i.test(linesAbove)) {
        problems.push(`${where}: "without sharing" needs a comment above the class saying why ("without sharing: …")`);
      }
      continue;
    }
    problems.push(`${where}: the class declares no sharing; write "with sharing" (or "inherited sharing")`);
  }
  return problems;
}

/**
 * Custom field references in Apex resolve against the project's metadata: in static SOQL, every
 * custom field must exist on the queried object; elsewhere `Object.Field__c` must exist on that
 * object and any other `Field__c` on some object of the package. (apex-ls checks field references
 * on the package's own objects, but not in SOQL and not the Activity fields of Event and Task.)
 */
export function checkApexFieldReferences(root) {
  const problems = [];
  const fields = projectFields(root);
  const allFields = new Set([...fields.values()].flatMap((names) => [...names]));
  const isObjectName = (name) => fields.has(name.toLowerCase());
  // `Event.Channel__c` names the object; `event.Channel__c` is, by convention, a variable.
  const objectNames = new Set(
    [...fields.keys()].map((name) => (name.includes('__') ? name : name[0].toUpperCase() + name.slice(1))),
  );
  for (const file of filesInSources(root, (name) => /\.(cls|trigger)$/.test(name))) {
    const code = codeOnly(read(file));
    const where = (offset) => `${relative(root, file)}:${lineOf(code, offset)}`;
    const soqlRanges = [];
    for (const match of code.matchAll(/\[\s*SELECT\b[\s\S]*?\]/gi)) {
      soqlRanges.push([match.index, match.index + match[0].length]);
      const from = /\bFROM\s+(\w+)/i.exec(match[0]);
      if (!from) continue;
      const objectFields = fields.get(from[1].toLowerCase());
      for (const field of match[0].matchAll(/(?<![:.\w])(\w+__c)\b/gi)) {
        if (isObjectName(field[1])) continue;
        const known = objectFields ? objectFields.has(field[1].toLowerCase()) : false;
        if (!known) problems.push(`${where(match.index + field.index)}: ${from[1]}.${field[1]} does not exist (SOQL)`);
      }
    }
    const inSoql = (offset) => soqlRanges.some(([start, end]) => offset >= start && offset < end);
    for (const match of code.matchAll(/\b(\w+)\.(\w+__c)\b/g)) {
      if (inSoql(match.index) || !isObjectName(match[1])) continue;
      if (!match[1].includes('__') && !objectNames.has(match[1])) continue;
      if (!fields.get(match[1].toLowerCase()).has(match[2].toLowerCase())) {
        problems.push(`${where(match.index)}: ${match[1]}.${match[2]} does not exist`);
      }
    }
    for (const match of code.matchAll(/(?<![.\w])(\w+__c)\b|(?<=\.)(\w+__c)\b/g)) {
      const name = match[1] ?? match[2];
      if (inSoql(match.index) || isObjectName(name) || allFields.has(name.toLowerCase())) continue;
      problems.push(`${where(match.index)}: no object of the package has a field ${name}`);
    }
  }
  return [...new Set(problems)];
}

/**
 * Every Apex class, packaged or test, opens with an ApexDoc comment that has a `@description` and
 * a `@group` (the functional area the generated documentation files it under).
 */
export function checkApexDoc(root) {
  const problems = [];
  for (const file of filesInSources(root, (name) => name.endsWith('.cls'))) {
    const source = read(file);
    // The class declaration with its annotations; comments are blanked out, so it starts at the
    // first character that is code.
    const declaration = /^\s*((?:@\w+(?:\s*\([^)]*\))?\s*)*)([\w\s]*?)\bclass\s+\w+/.exec(codeOnly(source));
    if (!declaration) continue;
    const start = declaration.index + declaration[0].search(/\S/);
    const header = /^\s*\/\*\*([\s\S]*?)\*\/\s*$/.exec(source.slice(0, start));
    const where = relative(root, file);
    if (!header) {
      problems.push(`${where}: no ApexDoc comment above the class`);
      continue;
    }
    for (const tag of ['@description', '@group']) {
      if (!new RegExp(`${tag}\\s+\\S`).test(header[1])) problems.push(`${where}: the class's ApexDoc has no ${tag}`);
    }
  }
  return problems;
}

export const CHECKS = {
  xml: { title: 'metadata XML is well-formed', run: checkXmlWellFormed },
  meta: { title: 'a -meta.xml beside every Apex class and trigger', run: checkApexMetaFiles },
  translations: { title: 'every user-visible string has a Japanese translation', run: checkJapaneseTranslations },
  sharing: { title: 'every Apex class declares its sharing', run: checkApexSharing },
  fields: { title: 'every custom field referenced in Apex exists', run: checkApexFieldReferences },
  apexdoc: { title: 'every Apex class has ApexDoc with @description and @group', run: checkApexDoc },
};
