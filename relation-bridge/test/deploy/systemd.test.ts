import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';

/** deploy/systemd/relation-bridge.service: hardened as docs/operations.md says, and valid to systemd. */

const UNIT = path.resolve(__dirname, '../../../deploy/systemd/relation-bridge.service');
const MANIFEST = path.resolve(__dirname, '../../package.json');
const SYSTEMD_ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((tool) => fs.existsSync(tool));

/** `Key=value` lines of the unit, by key (a key may repeat). */
function settings(text: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match !== null) found.set(match[1] as string, [...(found.get(match[1] as string) ?? []), match[2] as string]);
  }
  return found;
}

/** What `systemd-analyze verify` says of the unit text (nothing when it is fine). */
function verify(text: string): { status: number | null; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relation-bridge-unit-'));
  try {
    // The unit's node where this machine has it, so that only the unit itself is judged.
    const file = path.join(dir, 'relation-bridge.service');
    fs.writeFileSync(file, fs.existsSync('/usr/bin/node') ? text : text.replace('/usr/bin/node', process.execPath));
    const result = spawnSync(SYSTEMD_ANALYZE as string, ['verify', '--man=no', file], { encoding: 'utf8' });
    return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('the systemd unit example', () => {
  const text = fs.readFileSync(UNIT, 'utf8');
  const unit = settings(text);

  it('runs the compiled bridge as its own user, private files, a read-only system, restarted on failure', () => {
    const main = (JSON.parse(fs.readFileSync(MANIFEST, 'utf8')) as { main: string }).main;
    expect(unit.get('ExecStart')).toEqual([`/usr/bin/node /opt/relation-bridge/relation-bridge/${main}`]);
    expect(unit.get('User')).toEqual(['relation-bridge']);
    expect(unit.get('UMask')).toEqual(['0077']);
    expect(unit.get('ProtectSystem')).toEqual(['strict']);
    expect(unit.get('Restart')).toEqual(['on-failure']);
    // A bad configuration (exit 2) is not restarted over and over.
    expect(unit.get('RestartPreventExitStatus')).toEqual(['2']);
    expect(unit.get('NoNewPrivileges')).toEqual(['yes']);
    expect(unit.get('CapabilityBoundingSet')).toEqual(['']);
    expect(unit.get('StateDirectoryMode')).toEqual(['0700']);
    expect(unit.get('Environment')?.[0]).toContain('BRIDGE_DATA_DIR=/var/lib/relation-bridge');
    // Node's JIT needs writable executable memory.
    expect(unit.has('MemoryDenyWriteExecute')).toBe(false);
  });

  it('waits longer for a stop than the bridge gives its batch in flight', () => {
    const stopSeconds = Number(/^(\d+)s$/.exec(unit.get('TimeoutStopSec')?.[0] ?? '')?.[1]);
    expect(stopSeconds * 1000).toBeGreaterThan(loadConfig({}).BRIDGE_STOP_TIMEOUT_MS);
  });

  const withSystemd = SYSTEMD_ANALYZE === undefined ? it.skip : it;
  if (SYSTEMD_ANALYZE === undefined) process.stdout.write('SKIPPED systemd-analyze verify: systemd is not installed\n');

  withSystemd('passes systemd-analyze verify, which does flag a broken copy', () => {
    expect(verify(text)).toEqual({ status: 0, output: '' });
    const broken = verify(text.replace('ProtectSystem=strict', 'ProtectSystem=stricter'));
    expect(broken.output).toMatch(/relation-bridge.service:\d+: .*stricter/);
  });
});
