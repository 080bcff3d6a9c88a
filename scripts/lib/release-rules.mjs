// The rules of the release check (scripts/release-check.mjs): what `sf package version create`
// and the AppExchange security review need of the package and can be checked offline. Each rule
// returns its problems for the project at `root`; a rule that only the Dev Hub can satisfy says
// so as `pending` unless the check runs with --release, where it is enforced.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import {
  checkComponentBundles,
  compareComponents,
  convertPackage,
  expectedComponents,
  PACKAGE_DIRECTORY,
} from './package-contents.mjs';

/** Salesforce's sample notice for packages whose Apex deploys metadata (checked at security review). */
export const METADATA_ACCESS_NOTICE =
  'This package can access and change metadata outside its namespace in the Salesforce org where it’s installed.';
/** The master language of the labels: without the flag, the Dev Hub user's language is stamped on them. */
export const PACKAGE_LANGUAGE = 'en_US';
/** The documents that hold the release commands. */
export const RELEASE_DOCUMENTS = ['docs/salesforce-admin.md', 'README.md'];

/** The tab styles (motifs) Salesforce offers for custom tabs, by number. */
const TAB_MOTIFS = new Map(
  Object.entries({
    1: 'Heart',
    2: 'Fan',
    3: 'Sun',
    4: 'Hexagon',
    5: 'Leaf',
    6: 'Triangle',
    7: 'Square',
    8: 'Diamond',
    9: 'Lightning',
    10: 'Moon',
    11: 'Star',
    12: 'Circle',
    13: 'Box',
    14: 'Hands',
    15: 'People',
    16: 'Bank',
    17: 'Sack',
    18: 'Form',
    19: 'Wrench',
    20: 'Airplane',
    21: 'Computer',
    22: 'Telephone',
    23: 'Envelope',
    24: 'Building',
    25: 'Alarm clock',
    26: 'Flag',
    27: 'Laptop',
    28: 'Cell phone',
    29: 'PDA',
    30: 'Radar dish',
    31: 'Car',
    32: 'Factory',
    33: 'Desk',
    34: 'Insect',
    35: 'Microphone',
    36: 'Train',
    37: 'Bridge',
    38: 'Camera',
    39: 'Telescope',
    40: 'Credit card',
    41: 'Cash',
    42: 'Treasure chest',
    43: 'Jewel',
    44: 'Hammer',
    45: 'Ticket',
    46: 'Stamp',
    47: 'Knight',
    48: 'Trophy',
    49: 'CD/DVD',
    50: 'Big top',
    51: 'Apple',
    52: 'Balls',
    53: 'Bell',
    54: 'Boat',
    55: 'Books',
    56: 'Bottle',
    57: 'Building Block',
    58: 'Caduceus',
    59: 'Can',
    60: 'Umbrella',
    61: 'Castle',
    62: 'Chalkboard',
    63: 'Chip',
    64: 'Compass',
    65: 'Cup',
    66: 'Dice',
    67: 'Gears',
    68: 'Globe',
    69: 'Guitar',
    70: 'Handsaw',
    71: 'Headset',
    72: 'Helicopter',
    73: 'Highway Sign',
    74: 'Hot Air Balloon',
    75: 'IP Phone',
    76: 'Keys',
    77: 'Locked',
    78: 'Map',
    79: 'Measuring Tape',
    80: 'Motorcycle',
    81: 'Musical Note',
    82: 'Whistle',
    83: 'Pencil',
    84: 'Presenter',
    85: 'Real Estate Sign',
    86: 'Red Cross',
    87: 'Safe',
    88: 'Sailboat',
    89: 'Saxophone',
    90: 'Scales',
    91: 'Shield',
    92: 'Ship',
    93: 'Shopping Cart',
    94: 'Stethoscope',
    95: 'Stopwatch',
    96: 'Street Sign',
    97: 'Thermometer',
    98: 'Truck',
    99: 'TV CRT',
    100: 'TV Widescreen',
  }).map(([number, name]) => [Number(number), name]),
);

const SOURCE = `${PACKAGE_DIRECTORY}/main/default`;
const xml = new XMLParser({ parseTagValue: false, isArray: (name) => name === 'labels' });
const read = (file) => readFileSync(file, 'utf8');
const normalise = (text) =>
  String(text ?? '')
    .replace(/[‘’]/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
const filesIn = (folder, suffix) =>
  existsSync(folder)
    ? readdirSync(folder)
        .filter((name) => name.endsWith(suffix))
        .sort()
        .map((name) => path.join(folder, name))
    : [];

function projectJson(root) {
  const file = path.join(root, 'sfdx-project.json');
  return existsSync(file) ? JSON.parse(read(file)) : {};
}

/** The package directory that `sf package version create` builds. */
function packagedDirectory(root) {
  return (projectJson(root).packageDirectories ?? []).find((directory) => directory.package) ?? {};
}

/**
 * The shell commands of each fenced code block of a Markdown text, one list per block, with
 * backslash continuations joined and trailing comments removed.
 */
function documentedBlocks(markdown) {
  return [...markdown.matchAll(/```[^\n]*\n([\s\S]*?)```/g)].map((block) =>
    block[1]
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((line) => line.replace(/\s+#.*$/, '').trim())
      .filter(Boolean),
  );
}

/** The documented shell commands that start with `prefix`. */
export function documentedCommands(markdown, prefix) {
  return documentedBlocks(markdown)
    .flat()
    .filter((command) => command.startsWith(prefix));
}

function releaseDocuments(root) {
  return RELEASE_DOCUMENTS.filter((file) => existsSync(path.join(root, file))).map((file) => ({
    file,
    text: read(path.join(root, file)),
  }));
}

/** The notice is in the version description, and in the package description the docs create. */
function noticeRule(root) {
  const problems = [];
  const notice = normalise(METADATA_ACCESS_NOTICE);
  if (!normalise(packagedDirectory(root).versionDescription).includes(notice)) {
    problems.push(
      `sfdx-project.json: the packaged directory's versionDescription lacks the notice "${METADATA_ACCESS_NOTICE}"`,
    );
  }
  const creates = releaseDocuments(root).flatMap(({ file, text }) =>
    documentedCommands(text, 'sf package create').map((command) => ({ file, command })),
  );
  if (creates.length === 0) problems.push(`${RELEASE_DOCUMENTS[0]}: no documented "sf package create" command`);
  for (const { file, command } of creates) {
    if (!normalise(command).includes(notice)) {
      problems.push(`${file}: "sf package create" must pass the notice in --description: ${command}`);
    }
  }
  return { problems };
}

/** Released labels can never be deleted unless they are protected. */
function labelsRule(root) {
  const file = path.join(root, SOURCE, 'labels/CustomLabels.labels-meta.xml');
  if (!existsSync(file)) return { problems: [] };
  const labels = xml.parse(read(file)).CustomLabels?.labels ?? [];
  return {
    problems: labels
      .filter((label) => String(label.protected).trim() !== 'true')
      .map((label) => `custom label ${label.fullName} is not protected (<protected>true</protected>)`),
  };
}

/** The package converts to exactly the expected components. */
function contentsRule(root) {
  const conversion = convertPackage(root);
  if (conversion.error) return { problems: [conversion.error] };
  const expected = expectedComponents(root);
  const problems = [
    ...compareComponents(conversion.components, expected),
    ...checkComponentBundles(conversion.outputDir, expected),
  ];
  conversion.dispose();
  return { problems };
}

function apexFilesUnder(folder) {
  if (!existsSync(folder)) return [];
  return readdirSync(folder).flatMap((entry) => {
    const full = path.join(folder, entry);
    if (statSync(full).isDirectory()) return apexFilesUnder(full);
    return full.endsWith('.cls') ? [full] : [];
  });
}

/** Apex tests and their data factory live in the unpackaged directory, not in the package. */
function testsRule(root) {
  const problems = [];
  const packaged = packagedDirectory(root);
  const unpackagedPath = packaged.unpackagedMetadata?.path;
  const directories = (projectJson(root).packageDirectories ?? []).map((directory) => directory.path);
  if (!unpackagedPath) {
    problems.push('sfdx-project.json: the packaged directory declares no unpackagedMetadata for its tests');
  } else if (!directories.includes(unpackagedPath)) {
    problems.push(`sfdx-project.json: ${unpackagedPath} must also be a package directory (deploys and checks read it)`);
  }
  for (const file of apexFilesUnder(path.join(root, packaged.path ?? PACKAGE_DIRECTORY))) {
    const code = read(file).replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '');
    if (/@IsTest\b/i.test(code) || /_Tests?\.cls$/.test(file)) {
      problems.push(
        `${path.relative(root, file)}: a test class inside the package; move it to ${unpackagedPath ?? 'the unpackaged directory'}`,
      );
    }
  }
  return { problems };
}

/** The documented release runs this check with --release, then builds with --language en_US. */
function releaseCommandRule(root) {
  const problems = [];
  const documents = releaseDocuments(root);
  const creates = documents.flatMap(({ file, text }) =>
    documentedCommands(text, 'sf package version create').map((command) => ({ file, command })),
  );
  if (creates.length === 0) problems.push(`${RELEASE_DOCUMENTS[0]}: no documented "sf package version create" command`);
  for (const { file, command } of creates) {
    if (!new RegExp(`--language[ =]${PACKAGE_LANGUAGE}(\\s|$)`).test(command)) {
      problems.push(`${file}: "sf package version create" must pass --language ${PACKAGE_LANGUAGE}: ${command}`);
    }
  }
  const gate = 'npm run package:release-check -- --release';
  for (const { file, text } of documents) {
    for (const block of documentedBlocks(text)) {
      const create = block.findIndex((command) => command.startsWith('sf package version create'));
      const gated = block
        .slice(0, Math.max(create, 0))
        .some((command) => command.startsWith(gate) && !command.includes('--rule'));
      if (create >= 0 && !gated) {
        problems.push(
          `${file}: the release commands must run "${gate}" (every rule) before "sf package version create"`,
        );
      }
    }
  }
  return { problems };
}

/** Installations tie to the Dev Hub's global OAuth settings through the generated oauthLink. */
function oauthLinkRule(root, { release }) {
  const files = filesIn(path.join(root, SOURCE, 'extlClntAppOauthSettings'), '.ecaOauth-meta.xml');
  const missing = files.filter(
    (file) => !String(xml.parse(read(file)).ExtlClntAppOauthSettings?.oauthLink ?? '').trim(),
  );
  if (missing.length === 0) return { problems: [] };
  const names = missing.map((file) => path.relative(root, file)).join(', ');
  const why = `${names} has no oauthLink: create the app in the Dev Hub and retrieve its settings (docs/salesforce-admin.md, "The External Client App's global OAuth settings")`;
  return release ? { problems: [why] } : { problems: [], pending: `${why}; enforced with --release` };
}

const PLACEHOLDER_DOMAINS = /(\.invalid|\.example|\.test|\.localhost|@example\.(com|net|org))$/i;

/** The External Client App's contact is the publisher's address, filled in at packaging time. */
function contactRule(root, { release }) {
  const problems = [];
  const replacements = projectJson(root).replacements ?? [];
  for (const file of filesIn(path.join(root, SOURCE, 'externalClientApps'), '.eca-meta.xml')) {
    const relative = path.relative(root, file).split(path.sep).join('/');
    const contact = String(xml.parse(read(file)).ExternalClientApplication?.contactEmail ?? '').trim();
    const replacement = replacements.find(
      (entry) => entry.filename === relative && entry.stringToReplace === contact && entry.replaceWithEnv,
    );
    if (!replacement) {
      problems.push(
        `${relative}: contactEmail "${contact}" must be a placeholder that sfdx-project.json "replacements" fills from an environment variable`,
      );
      continue;
    }
    if (replacement.allowUnsetEnvVariable) {
      problems.push(
        `sfdx-project.json: the contact email replacement must not allow an unset ${replacement.replaceWithEnv}`,
      );
    }
    if (release) {
      const email = (process.env[replacement.replaceWithEnv] ?? '').trim();
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email) || PLACEHOLDER_DOMAINS.test(email)) {
        problems.push(`${replacement.replaceWithEnv} must hold the publisher's contact email (it is "${email}")`);
      }
    }
  }
  return { problems };
}

/** Custom tabs use a motif from Salesforce's list ("CustomNN: Name"). */
function motifRule(root) {
  const problems = [];
  const squash = (name) => name.toLowerCase().replace(/\s+/g, '');
  for (const file of filesIn(path.join(root, SOURCE, 'tabs'), '.tab-meta.xml')) {
    const motif = String(xml.parse(read(file)).CustomTab?.motif ?? '').trim();
    const match = /^Custom(\d+):\s*(.+)$/.exec(motif);
    const name = match ? TAB_MOTIFS.get(Number(match[1])) : undefined;
    if (!name || squash(name) !== squash(match[2])) {
      const hint = name ? ` (Custom${match[1]} is "${name}")` : '';
      problems.push(`${path.relative(root, file)}: "${motif}" is not one of Salesforce's tab motifs${hint}`);
    }
  }
  return { problems };
}

/** Lightning pages name the package's components by their bare name, which works with any namespace. */
function componentNamesRule(root) {
  const problems = [];
  const bundles = new Set(
    existsSync(path.join(root, SOURCE, 'lwc'))
      ? readdirSync(path.join(root, SOURCE, 'lwc')).filter((name) =>
          existsSync(path.join(root, SOURCE, 'lwc', name, `${name}.js-meta.xml`)),
        )
      : [],
  );
  for (const file of filesIn(path.join(root, SOURCE, 'flexipages'), '.flexipage-meta.xml')) {
    for (const match of read(file).matchAll(/<componentName>\s*(\w+):(\w+)\s*<\/componentName>/g)) {
      if (bundles.has(match[2])) {
        problems.push(`${path.relative(root, file)}: "${match[1]}:${match[2]}" must be the bare name "${match[2]}"`);
      }
    }
  }
  return { problems };
}

/** After the first released version, each version names its ancestor. */
function ancestorRule(root) {
  const packaged = packagedDirectory(root);
  const [major, minor, patch] = String(packaged.versionNumber ?? '1.0.0.NEXT')
    .split('.')
    .map((part) => Number(part));
  const afterFirst = major > 1 || (major === 1 && (minor > 0 || patch > 0));
  if (afterFirst && !packaged.ancestorVersion && !packaged.ancestorId) {
    return {
      problems: [
        `sfdx-project.json: version ${packaged.versionNumber} comes after the first release; set "ancestorVersion": "HIGHEST"`,
      ],
    };
  }
  return { problems: [] };
}

export const RULES = [
  { name: 'notice', title: 'the package description carries the metadata-access notice', run: noticeRule },
  { name: 'labels', title: 'every custom label is protected', run: labelsRule },
  { name: 'contents', title: 'the package converts to exactly the expected components', run: contentsRule },
  { name: 'tests', title: 'the Apex tests are outside the package (unpackagedMetadata)', run: testsRule },
  {
    name: 'release-command',
    title: `the documented version create runs after --release and passes --language ${PACKAGE_LANGUAGE}`,
    run: releaseCommandRule,
  },
  { name: 'contact', title: "the External Client App's contact email is the publisher's setting", run: contactRule },
  { name: 'motif', title: "every tab's motif is one of Salesforce's", run: motifRule },
  {
    name: 'component-names',
    title: 'Lightning pages name the components without a namespace',
    run: componentNamesRule,
  },
  { name: 'ancestor', title: 'a version after the first names its ancestor', run: ancestorRule },
  {
    name: 'oauth-link',
    title: "the External Client App's OAuth settings carry the Dev Hub's oauthLink",
    run: oauthLinkRule,
  },
];
