#!/usr/bin/env node
// The offline gate before `sf package version create` (npm run package:release-check): every rule
// of scripts/lib/release-rules.mjs that can be checked without an org. A rule that only the Dev
// Hub can satisfy (the External Client App's oauthLink) is reported as pending on one line and
// passes; with --release, the mode of the documented release commands, it is enforced.
// Run scripts/lwc-build.mjs first (the contents rule converts the built components).
// Usage: node scripts/release-check.mjs [--release] [--rule <name>] [project root]
import path from 'node:path';
import { RULES } from './lib/release-rules.mjs';

const args = process.argv.slice(2);
const release = args.includes('--release');
const ruleIndex = args.indexOf('--rule');
const only = ruleIndex >= 0 ? args[ruleIndex + 1] : undefined;
const positional = args.filter((arg, index) => !arg.startsWith('--') && index !== ruleIndex + 1);
const root = path.resolve(positional[0] ?? path.join(path.dirname(new URL(import.meta.url).pathname), '..'));

const rules = only === undefined ? RULES : RULES.filter((rule) => rule.name === only);
if (rules.length === 0) {
  process.stderr.write(
    `usage: release-check.mjs [--release] [--rule <${RULES.map((rule) => rule.name).join('|')}>] [root]\n`,
  );
  process.exit(2);
}

let failed = 0;
let pending = 0;
for (const rule of rules) {
  const result = rule.run(root, { release });
  if (result.problems.length > 0) {
    failed += 1;
    process.stdout.write(`FAIL ${rule.name}: ${rule.title}\n`);
    for (const problem of result.problems) process.stdout.write(`  ${problem}\n`);
  } else if (result.pending) {
    pending += 1;
    process.stdout.write(`PENDING ${rule.name}: ${result.pending}\n`);
  } else {
    process.stdout.write(`ok ${rule.name}: ${rule.title}\n`);
  }
}
const mode = release ? 'release mode' : 'offline mode; the release runs it with --release';
process.stdout.write(
  `release check (${mode}): ${rules.length - failed - pending} ok, ${pending} pending, ${failed} failed\n`,
);
process.exit(failed === 0 ? 0 : 1);
