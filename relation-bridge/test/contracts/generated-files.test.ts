import fs from 'node:fs';
import path from 'node:path';
import { generatedFiles, ROOT } from '../../scripts/docs/generated-files';
import { configurationTables, exampleEnv, settings } from '../../scripts/docs/settings';
import { loadConfig, SETTINGS } from '../../src/config';

/**
 * What is written from the code (the README's configuration tables, config/bridge.example.env,
 * docs/webhook.schema.json, docs/openapi.json, the console's API types) is what the code says
 * now. A failure here means: run `npm run docs:generate -w relation-bridge` and commit.
 */
describe('the files written from the code', () => {
  let files: Awaited<ReturnType<typeof generatedFiles>>;

  beforeAll(async () => {
    files = await generatedFiles();
  });

  it('are each up to date', () => {
    expect(files.map((generated) => generated.file)).toEqual([
      'README.md',
      'config/bridge.example.env',
      'docs/webhook.schema.json',
      'docs/openapi.json',
      'relation-bridge/src/console/web/api-types.ts',
    ]);
    for (const { file, content } of files) {
      const current = fs.readFileSync(path.join(ROOT, file), 'utf8');
      expect({ file, upToDate: current === content }).toEqual({ file, upToDate: true });
    }
  });

  it('name every setting of the schema, each with its description', () => {
    const documented = settings();
    const aliases = documented.flatMap((setting) => setting.aliases);
    expect([...documented.map((setting) => setting.key), ...aliases].sort()).toEqual(Object.keys(SETTINGS).sort());
    const tables = configurationTables();
    const example = exampleEnv();
    for (const { key, info } of documented) {
      expect(tables).toContain(`\`${key}\``);
      expect(tables).toContain(info.description);
      if (key !== 'BRIDGE_ENV_FILE') expect(example).toMatch(new RegExp(`^(# )?${key}=`, 'm'));
    }
  });

  it('show the defaults the schema applies, not older ones', () => {
    const tables = configurationTables();
    expect(tables).toMatch(/\| `SYNC_LEASE_MS` +\| `45000` +\|/);
    expect(exampleEnv()).toContain('# SYNC_LEASE_MS=45000');
  });

  it('give the example settings file values that the configuration accepts', () => {
    const values = Object.fromEntries(
      exampleEnv()
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(Object.keys(values).length).toBeGreaterThan(5);
    expect(() => loadConfig(values)).not.toThrow();
  });
});
