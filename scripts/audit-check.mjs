#!/usr/bin/env node
// `npm audit --omit=dev`, said in one line: the advisories of the production dependencies
// by severity. It fails only for a high or critical advisory. When the registry's audit
// endpoint cannot be reached (some mirrors answer 405), it says so in one line and exits 3,
// which npm test reports without failing: nothing was checked, and nothing is claimed.
//
//   node scripts/audit-check.mjs                    runs npm audit
//   node scripts/audit-check.mjs --from-json FILE   judges a saved `npm audit --json` (tests)
//
// Exit codes: 0 no high or critical advisory, 1 some, 3 not checked.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const NOT_CHECKED = 3;
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** What an `npm audit --json` output says: a verdict, its one line, and its exit code. */
export function judgeAudit(text) {
  let report;
  try {
    report = JSON.parse(text);
  } catch {
    return unreachable('npm audit gave no report');
  }
  const counts = report?.metadata?.vulnerabilities;
  if (counts === undefined || report.error !== undefined) {
    const why = report?.message ?? report?.error?.summary ?? report?.error?.code ?? 'no report';
    return unreachable(String(why).split('\n')[0]);
  }
  const severe = (counts.critical ?? 0) + (counts.high ?? 0);
  const packages = Object.values(report.vulnerabilities ?? {})
    .filter((entry) => entry.severity === 'high' || entry.severity === 'critical')
    .map((entry) => `${entry.name} (${entry.severity})`);
  const dependencies = report.metadata.dependencies?.prod ?? report.metadata.dependencies?.total;
  const line =
    `npm audit --omit=dev: ${counts.critical ?? 0} critical, ${counts.high ?? 0} high, ` +
    `${counts.moderate ?? 0} moderate, ${counts.low ?? 0} low` +
    (dependencies === undefined ? '' : ` in ${dependencies} production dependencies`) +
    (packages.length === 0 ? '' : `: ${packages.join(', ')}`);
  return { verdict: severe === 0 ? 'clean' : 'advisories', line, exitCode: severe === 0 ? 0 : 1 };
}

function unreachable(why) {
  return {
    verdict: 'not_checked',
    line: `npm audit --omit=dev: not checked, the registry's audit endpoint could not be reached (${why})`,
    exitCode: NOT_CHECKED,
  };
}

function main() {
  const fromJson = process.argv[2] === '--from-json' ? process.argv[3] : undefined;
  let text;
  if (fromJson !== undefined) {
    text = readFileSync(fromJson, 'utf8');
  } else {
    const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
    });
    text = run.error === undefined ? run.stdout : JSON.stringify({ message: run.error.message });
  }
  const result = judgeAudit(text);
  process.stdout.write(`${result.line}\n`);
  process.exit(result.exitCode);
}

if (process.argv[1] === new URL(import.meta.url).pathname) main();
