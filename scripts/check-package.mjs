#!/usr/bin/env node
// Runs one offline check of the Salesforce package source (see scripts/lib/package-checks.mjs).
// Usage: node scripts/check-package.mjs <xml|meta|translations|sharing|fields|apexdoc> [project root]
import path from 'node:path';
import { CHECKS } from './lib/package-checks.mjs';

const [name, rootArgument] = process.argv.slice(2);
const check = CHECKS[name];
if (!check) {
  process.stderr.write(`usage: check-package.mjs <${Object.keys(CHECKS).join('|')}> [project root]\n`);
  process.exit(2);
}
const root = path.resolve(rootArgument ?? path.join(path.dirname(new URL(import.meta.url).pathname), '..'));
const problems = check.run(root);
for (const problem of problems) process.stdout.write(`${problem}\n`);
process.stdout.write(`${check.title}: ${problems.length === 0 ? 'ok' : `${problems.length} problem(s)`}\n`);
process.exit(problems.length === 0 ? 0 : 1);
