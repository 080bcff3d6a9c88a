// The audit step of npm test judges `npm audit --omit=dev --json` as it comes: one line
// always, a failure only for a high or critical advisory, and "not checked" (exit 3, which
// npm test does not count as a failure) when the registry's audit endpoint cannot be reached.
const { spawnSync } = require('node:child_process');
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

const script = path.resolve(__dirname, '../audit-check.mjs');
let folder;

beforeAll(() => {
  folder = mkdtempSync(path.join(tmpdir(), 'audit-check-'));
});

afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

function judge(name, report) {
  const file = path.join(folder, `${name}.json`);
  writeFileSync(file, typeof report === 'string' ? report : JSON.stringify(report));
  const run = spawnSync(process.execPath, [script, '--from-json', file], { encoding: 'utf8' });
  return { code: run.status, lines: run.stdout.trim().split('\n') };
}

const metadata = (counts) => ({
  vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, total: 0, ...counts },
  dependencies: { prod: 120, dev: 500, total: 620 },
});

test('no advisory: one line with the counts, and it passes', () => {
  expect(judge('clean', { auditReportVersion: 2, vulnerabilities: {}, metadata: metadata({}) })).toEqual({
    code: 0,
    lines: ['npm audit --omit=dev: 0 critical, 0 high, 0 moderate, 0 low in 120 production dependencies'],
  });
});

test('moderate and low advisories are reported but pass', () => {
  const result = judge('moderate', {
    auditReportVersion: 2,
    vulnerabilities: { 'some-lib': { name: 'some-lib', severity: 'moderate' } },
    metadata: metadata({ moderate: 1, low: 2, total: 3 }),
  });
  expect(result.code).toBe(0);
  expect(result.lines).toEqual([expect.stringContaining('0 critical, 0 high, 1 moderate, 2 low')]);
});

test('a high or a critical advisory fails, naming the packages', () => {
  const result = judge('high', {
    auditReportVersion: 2,
    vulnerabilities: {
      'bad-lib': { name: 'bad-lib', severity: 'high' },
      'worse-lib': { name: 'worse-lib', severity: 'critical' },
      'meh-lib': { name: 'meh-lib', severity: 'low' },
    },
    metadata: metadata({ high: 1, critical: 1, low: 1, total: 3 }),
  });
  expect(result.code).toBe(1);
  expect(result.lines).toHaveLength(1);
  expect(result.lines[0]).toMatch(
    /^npm audit --omit=dev: 1 critical, 1 high, .*: bad-lib \(high\), worse-lib \(critical\)$/,
  );
});

test('an audit endpoint that answers 405 (or anything but a report) is one "not checked" line, exit 3', () => {
  const refused = judge('405', {
    message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
    method: 'POST',
    statusCode: 405,
    error: { summary: '', detail: '' },
  });
  expect(refused).toEqual({
    code: 3,
    lines: [
      "npm audit --omit=dev: not checked, the registry's audit endpoint could not be reached (405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk)",
    ],
  });
  expect(judge('garbage', 'npm ERR! something else').code).toBe(3);
});
