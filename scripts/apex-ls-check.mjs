#!/usr/bin/env node
// The apex-ls semantic check of the package's Apex (types, methods, fields of the package's
// objects, custom labels), with the analyser shipped inside @salesforce/code-analyzer-pmd-engine.
// Needs Java 17. Usage: node scripts/apex-ls-check.mjs [project root]
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(process.argv[2] ?? path.join(path.dirname(new URL(import.meta.url).pathname), '..'));
const require = createRequire(import.meta.url);
const engineFolder = path.dirname(require.resolve('@salesforce/code-analyzer-pmd-engine/package.json'));
const classpath = path.join(engineFolder, 'dist/java-lib/*');

const result = spawnSync(
  'java',
  ['-cp', classpath, 'io.github.apexdevtools.apexls.CheckForIssues', '--nocache', '--workspace', root],
  { cwd: root, encoding: 'utf8' },
);
if (result.error) {
  process.stderr.write(`apex-ls: cannot run java (${result.error.message}); install a Java 17 runtime\n`);
  process.exit(1);
}
process.stdout.write(result.stdout);
process.stderr.write(result.stderr);
// CheckForIssues exits 4 when it found issues, other non-zero codes when it could not run.
if (result.status !== 0) {
  process.stdout.write(`apex-ls: ${result.status === 4 ? 'issues found' : `failed (exit ${result.status})`}\n`);
  process.exit(1);
}
process.stdout.write('apex-ls: no issues\n');
