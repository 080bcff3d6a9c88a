#!/usr/bin/env node
// The project's whole offline test run: the type check, then every jest project.
// Prints a plain "N passed, N failed" line (CI reads that line, not jest's summary).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const jestArgs = process.argv.slice(2);
let passed = 0;
let failed = 0;

function check(name, command, args) {
  process.stdout.write(`\n== ${name}: ${command} ${args.join(' ')}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status === 0) passed += 1;
  else {
    failed += 1;
    process.stdout.write(`!! ${name} failed\n`);
  }
}

if (jestArgs.length === 0) {
  check('typecheck (bridge)', 'npx', ['tsc', '-p', 'relation-bridge', '--noEmit']);
  check('format (prettier)', 'npx', ['prettier', '--check', '--log-level', 'warn', '.']);
  check('LWC build (generated Apex and label types, strict tsc, compile)', 'node', ['scripts/lwc-build.mjs']);
  check('lint (ESLint: bridge and components)', 'npx', ['eslint', '.']);
  check('metadata XML well-formed', 'node', ['scripts/check-package.mjs', 'xml']);
  check('-meta.xml beside every Apex class', 'node', ['scripts/check-package.mjs', 'meta']);
  check('Japanese translations', 'node', ['scripts/check-package.mjs', 'translations']);
  check('Apex sharing declarations', 'node', ['scripts/check-package.mjs', 'sharing']);
  check('Apex custom field references', 'node', ['scripts/check-package.mjs', 'fields']);
  check('ApexDoc with @group on every Apex class', 'node', ['scripts/check-package.mjs', 'apexdoc']);
  check('apex-ls semantic check', 'node', ['scripts/apex-ls-check.mjs']);
  check('PMD Apex security rules', 'node', ['scripts/pmd-check.mjs']);
  check('sf project convert source', 'node', ['scripts/convert-check.mjs']);
  check('package release check (offline gate of sf package version create)', 'node', ['scripts/release-check.mjs']);
  // Fails for a high or critical advisory; an audit endpoint that cannot be reached (exit 3)
  // is said in one line and counted neither way.
  process.stdout.write('\n== npm audit of the production dependencies: node scripts/audit-check.mjs\n');
  const audit = spawnSync('node', ['scripts/audit-check.mjs'], { cwd: root, stdio: 'inherit' });
  if (audit.status === 0) passed += 1;
  else if (audit.status !== 3) {
    failed += 1;
    process.stdout.write('!! npm audit failed\n');
  }
}

check('console build (browser type check and compile)', 'npx', ['tsc', '-p', 'relation-bridge/src/console/web']);
const outDir = mkdtempSync(path.join(tmpdir(), 'jest-results-'));
const outFile = path.join(outDir, 'results.json');
process.stdout.write('\n== jest\n');
spawnSync('npx', ['jest', '--json', `--outputFile=${outFile}`, ...jestArgs], { cwd: root, stdio: 'inherit' });
try {
  const results = JSON.parse(readFileSync(outFile, 'utf8'));
  passed += results.numPassedTests;
  failed += results.numFailedTests;
  // A suite that fails to load has no failed tests of its own; count it.
  failed += results.testResults.filter(
    (suite) => suite.status === 'failed' && suite.assertionResults.length === 0,
  ).length;
  if (results.numTotalTests === 0) failed += 1;
} catch (error) {
  process.stdout.write(`!! jest produced no results: ${error.message}\n`);
  failed += 1;
} finally {
  rmSync(outDir, { recursive: true, force: true });
}

process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
