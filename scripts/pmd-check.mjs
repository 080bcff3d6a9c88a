#!/usr/bin/env node
// PMD's Apex security rules over the package's Apex, through Salesforce Code Analyzer's core and
// its PMD engine: CRUD/FLS (ApexCRUDViolation), sharing (ApexSharingViolations), SOQL injection
// (ApexSOQLInjection) and the rest of PMD's Security category. Any violation fails the check.
// Usage: node scripts/pmd-check.mjs [project root]
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CodeAnalyzer, CodeAnalyzerConfig } from '@salesforce/code-analyzer-core';
import { createEnginePlugin } from '@salesforce/code-analyzer-pmd-engine';
import { sourceFolders } from './lib/package-checks.mjs';

const root = path.resolve(process.argv[2] ?? path.join(path.dirname(new URL(import.meta.url).pathname), '..'));
// The packaged classes and the unpackaged tests.
const classes = sourceFolders(root)
  .map((folder) => path.join(folder, 'main/default/classes'))
  .filter((folder) => existsSync(folder));
// The Security category holds ApexCRUDViolation, ApexSharingViolations and ApexSOQLInjection.
const RULE_SELECTORS = ['pmd:Security'];

const logFolder = mkdtempSync(path.join(tmpdir(), 'pmd-check-'));
process.on('exit', () => rmSync(logFolder, { recursive: true, force: true }));
const analyzer = new CodeAnalyzer(
  CodeAnalyzerConfig.fromObject({ log_folder: logFolder, engines: { cpd: { disable_engine: true } } }),
);
await analyzer.addEnginePlugin(createEnginePlugin());
const workspace = await analyzer.createWorkspace(classes);
const rules = await analyzer.selectRules(RULE_SELECTORS, { workspace });
const ruleNames = rules.getRulesFor('pmd').map((rule) => rule.getName());
for (const required of ['ApexCRUDViolation', 'ApexSharingViolations', 'ApexSOQLInjection']) {
  if (!ruleNames.includes(required)) {
    process.stderr.write(`PMD: rule ${required} was not selected (selected: ${ruleNames.join(', ')})\n`);
    process.exit(1);
  }
}
const results = await analyzer.run(rules, { workspace });
const violations = results.getViolations();
for (const violation of violations) {
  const location = violation.getPrimaryLocation();
  const file = path.relative(root, location.getFile() ?? '');
  process.stdout.write(
    `${file}:${location.getStartLine() ?? '?'} ${violation.getRule().getName()}: ${violation.getMessage()}\n`,
  );
}
process.stdout.write(`PMD security rules (${ruleNames.length}): ${violations.length} violation(s)\n`);
process.exit(violations.length === 0 ? 0 : 1);
