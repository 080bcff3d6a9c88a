import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { z } from 'zod';
import { adminApiDocument } from '../../src/admin/openapi';
import { webhookBodySchema } from '../../src/intake/schema';
import { configurationTables, exampleEnv } from './settings';
import { typescriptTypes } from './typescript-types';

/**
 * Every file (or part of one) written from the code: the README's configuration tables and
 * config/bridge.example.env from the config schema, docs/webhook.schema.json from intake's
 * schema, docs/openapi.json from the admin API's schemas, and the console's types from that.
 * `npm run docs:generate -w relation-bridge` writes them; a test fails when one drifts.
 */

export const ROOT = path.resolve(__dirname, '../../..');

export interface GeneratedFile {
  /** Relative to the repository root. */
  file: string;
  content: string;
}

const README_START = '<!-- generated: configuration (npm run docs:generate -w relation-bridge) -->';
const README_END = '<!-- end of generated configuration -->';

/** The text as the repository's prettier (and its configuration) formats that file; run apart, since prettier is ESM inside. */
async function formatted(file: string, text: string): Promise<string> {
  const prettier = require.resolve('prettier/bin/prettier.cjs', { paths: [ROOT] });
  const result = spawnSync(process.execPath, [prettier, '--stdin-filepath', path.join(ROOT, file)], {
    cwd: ROOT,
    input: text,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`prettier could not format ${file}: ${result.stderr}`);
  return result.stdout;
}

function read(file: string): string {
  return fs.readFileSync(path.join(ROOT, file), 'utf8');
}

/** The README with its configuration section between the markers written anew. */
async function readme(): Promise<string> {
  const current = read('README.md');
  const start = current.indexOf(README_START);
  const end = current.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`README.md has no "${README_START}" … "${README_END}" section`);
  const section = `${README_START}\n\n${configurationTables()}\n\n`;
  return formatted('README.md', current.slice(0, start) + section + current.slice(end));
}

/** The example body of docs/webhook-contract.md, which the schema carries as its example. */
function contractExample(): unknown {
  const contract = read('docs/webhook-contract.md');
  const match = /```json\n([\s\S]*?)```/.exec(contract.slice(contract.indexOf('## Body')));
  if (match === null) throw new Error('docs/webhook-contract.md has no json block under "## Body"');
  return JSON.parse(match[1] as string);
}

function webhookJsonSchema(): object {
  const { $schema, ...schema } = z.toJSONSchema(webhookBodySchema, { io: 'input', target: 'draft-2020-12' });
  return {
    $schema,
    $id: 'https://github.com/relation-salesforce-sync/relation-bridge/docs/webhook.schema.json',
    ...schema,
    examples: [contractExample()],
  };
}

export async function generatedFiles(): Promise<GeneratedFile[]> {
  const openapi = adminApiDocument();
  const schemas = (openapi.components?.schemas ?? {}) as Parameters<typeof typescriptTypes>[0];
  const consoleTypes = typescriptTypes(
    schemas,
    [
      '// The admin API’s answers, as the console reads them: written from docs/openapi.json',
      '// (relation-bridge/src/admin/contract.ts) by `npm run docs:generate -w relation-bridge`. Do not edit.',
    ].join('\n'),
  );
  return [
    { file: 'README.md', content: await readme() },
    { file: 'config/bridge.example.env', content: exampleEnv() },
    {
      file: 'docs/webhook.schema.json',
      content: await formatted('docs/webhook.schema.json', JSON.stringify(webhookJsonSchema())),
    },
    { file: 'docs/openapi.json', content: await formatted('docs/openapi.json', JSON.stringify(openapi)) },
    {
      file: 'relation-bridge/src/console/web/api-types.ts',
      content: await formatted('relation-bridge/src/console/web/api-types.ts', consoleTypes),
    },
  ];
}
