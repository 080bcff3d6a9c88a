import { z } from 'zod';
import { SETTINGS, type SettingGroup, type SettingInfo, settingInfo } from '../../src/config';

/**
 * The README's configuration tables and config/bridge.example.env, written from the config
 * schema (src/config.ts), where each setting is described once.
 */

const GROUPS: Record<SettingGroup, string> = {
  service: 'Service',
  webhooks: 'Webhooks',
  salesforce: 'Salesforce',
  sync: 'Sync',
  console: 'Console',
  notices: 'Notices',
};

interface Setting {
  key: string;
  info: SettingInfo;
  /** The schema's own default, when it has one. */
  defaultValue: string | undefined;
  aliases: string[];
}

function schemaDefault(schema: z.ZodType): string | undefined {
  if (schema instanceof z.ZodDefault) {
    const value: unknown = schema.def.defaultValue;
    return Array.isArray(value) ? value.join(' ') : String(value);
  }
  if (schema instanceof z.ZodPipe) return schemaDefault(schema.def.in as z.ZodType);
  return undefined;
}

/** Every documented setting in schema order; spellings (`https_proxy`) go with the setting they spell. */
export function settings(): Setting[] {
  const all = Object.entries(SETTINGS).map(([key, schema]) => {
    const info = settingInfo.get(schema);
    if (info === undefined) throw new Error(`${key} has no description in src/config.ts`);
    return { key, info, defaultValue: schemaDefault(schema as z.ZodType), aliases: [] as string[] };
  });
  const byKey = new Map(all.map((setting) => [setting.key, setting]));
  for (const setting of all) {
    if (setting.info.aliasOf !== undefined) byKey.get(setting.info.aliasOf)?.aliases.push(setting.key);
  }
  return all.filter((setting) => setting.info.aliasOf === undefined);
}

function shownDefault(setting: Setting): string {
  if (setting.info.defaultText !== undefined) return setting.info.defaultText;
  if (setting.defaultValue === undefined) return 'unset';
  return setting.defaultValue === '' ? 'empty' : `\`${setting.defaultValue}\``;
}

/** The markdown of the README's configuration section: one table per group. */
export function configurationTables(): string {
  const all = settings();
  const sections = (Object.keys(GROUPS) as SettingGroup[]).map((group) => {
    const rows = all
      .filter((setting) => setting.info.group === group)
      .map((setting) => {
        const names = [setting.key, ...setting.aliases].map((name) => `\`${name}\``);
        const name = names.length === 1 ? names[0] : `${names[0]} (or ${names.slice(1).join(', ')})`;
        return `| ${name} | ${shownDefault(setting)} | ${setting.info.description} |`;
      });
    return [`### ${GROUPS[group]}`, '', '| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
  });
  return sections.join('\n\n');
}

/** Comment lines of at most `width` characters. */
function comment(text: string, width = 96): string[] {
  const plain = text.replace(/\*\*/g, '');
  const lines: string[] = [];
  let line = '#';
  for (const word of plain.split(/\s+/)) {
    if (line.length + word.length + 1 > width && line !== '#') {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

/** config/bridge.example.env: every setting with what it does; those an operator sets, set. */
export function exampleEnv(): string {
  const all = settings().filter((setting) => setting.key !== 'BRIDGE_ENV_FILE');
  const out = [
    '# Example settings of relation-bridge. Copy to .env where you run `npm start` (or name the file in',
    '# BRIDGE_ENV_FILE); never commit the real one. Variables of the real environment win over the file.',
    '# Written from relation-bridge/src/config.ts by `npm run docs:generate -w relation-bridge`: do not edit.',
  ];
  for (const group of Object.keys(GROUPS) as SettingGroup[]) {
    out.push('', `# ── ${GROUPS[group]} ${'─'.repeat(90 - GROUPS[group].length)}`);
    for (const setting of all.filter((candidate) => candidate.info.group === group)) {
      out.push('', ...comment(`${setting.info.description} Default: ${shownDefault(setting).replace(/`/g, '')}.`));
      if (setting.info.example !== undefined) out.push(`${setting.key}=${setting.info.example}`);
      else out.push(`# ${setting.key}=${setting.defaultValue ?? ''}`);
    }
  }
  return `${out.join('\n')}\n`;
}
