import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BRIDGE_ROOT, exited, freePort } from '../helpers/bridge-process';

/**
 * What an operator does on a server, on a copy of this workspace: build, drop the dev
 * dependencies (`npm prune --omit=dev`), start with `npm start`. The copy's node_modules are
 * hard links to the workspace's (the `npm ci` that came first), so nothing is downloaded and
 * the test stays short; npm only removes links from the copy.
 */

const WORKSPACE = path.resolve(BRIDGE_ROOT, '..');
const ADMIN_TOKEN = 'production-build-admin-token-0123';

/** Only what the package needs to build, as a release would hold it; tests and tools stay behind. */
const WORKSPACE_FILES = ['package.json', 'package-lock.json', 'tsconfig.base.json'];
const BRIDGE_FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'bin', 'src'];

function npmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // A clean environment: the outer `npm test` must not leak its npm_* settings into these runs.
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    npm_config_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    ...extra,
  };
}

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env: npmEnv(), encoding: 'utf8', timeout: 180_000 });
}

function expectSuccess(result: SpawnSyncReturns<string>, what: string): void {
  if (result.status !== 0) throw new Error(`${what} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
}

/** Hard links of the installed packages; npm's own record of them is copied, since npm rewrites it. */
function linkInstalledPackages(from: string, to: string): void {
  if (!fs.existsSync(from)) return;
  expectSuccess(spawnSync('cp', ['-al', from, to], { encoding: 'utf8' }), `cp -al ${from}`);
  const hidden = path.join(to, '.package-lock.json');
  if (fs.existsSync(hidden)) {
    fs.rmSync(hidden);
    fs.copyFileSync(path.join(from, '.package-lock.json'), hidden);
  }
}

async function healthz(url: string, child: ReturnType<typeof spawn>): Promise<number> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    if (child.exitCode !== null) return -1;
    try {
      return (await fetch(url)).status;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return -1;
}

describe('the production start', () => {
  let copy: string;

  beforeAll(() => {
    copy = fs.mkdtempSync(path.join(tmpdir(), 'relation-bridge-release-'));
    for (const file of WORKSPACE_FILES) fs.cpSync(path.join(WORKSPACE, file), path.join(copy, file));
    for (const file of BRIDGE_FILES) {
      fs.cpSync(path.join(BRIDGE_ROOT, file), path.join(copy, 'relation-bridge', file), { recursive: true });
    }
    linkInstalledPackages(path.join(WORKSPACE, 'node_modules'), path.join(copy, 'node_modules'));
    linkInstalledPackages(path.join(BRIDGE_ROOT, 'node_modules'), path.join(copy, 'relation-bridge', 'node_modules'));
  });

  afterAll(() => {
    fs.rmSync(copy, { recursive: true, force: true });
  });

  it('builds, runs without the dev dependencies from `npm start`, reads .env under the real environment, and answers /healthz', async () => {
    expectSuccess(run('npm', ['run', 'build', '-w', 'relation-bridge'], copy), 'npm run build');
    const manifest = JSON.parse(fs.readFileSync(path.join(copy, 'relation-bridge', 'package.json'), 'utf8')) as {
      main: string;
      bin: Record<string, string>;
    };
    expect(fs.existsSync(path.join(copy, 'relation-bridge', manifest.main))).toBe(true);
    for (const bin of Object.values(manifest.bin))
      expect(fs.existsSync(path.join(copy, 'relation-bridge', bin))).toBe(true);

    const prune = run('npm', ['prune', '--omit=dev'], copy);
    if (prune.status !== 0 && /ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|network/i.test(prune.stderr)) {
      process.stdout.write(`SKIPPED production start: npm prune --omit=dev needs the network here:\n${prune.stderr}\n`);
      return;
    }
    expectSuccess(prune, 'npm prune --omit=dev');
    for (const devOnly of ['typescript', 'tsx', 'jest', 'ts-jest']) {
      expect({ devOnly, installed: fs.existsSync(path.join(copy, 'node_modules', devOnly)) }).toEqual({
        devOnly,
        installed: false,
      });
    }

    const port = await freePort();
    const dataDir = path.join(copy, 'data');
    // `.env` where `npm start` runs; its BRIDGE_PORT loses to the real environment's.
    fs.writeFileSync(
      path.join(copy, '.env'),
      `BRIDGE_PORT=1\nBRIDGE_DATA_DIR=${dataDir}\nBRIDGE_ADMIN_TOKEN=${ADMIN_TOKEN}\nLOG_LEVEL=info\n`,
    );
    const child = spawn('npm', ['start'], {
      cwd: copy,
      env: npmEnv({ BRIDGE_PORT: String(port) }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const status = await healthz(`http://127.0.0.1:${port}/healthz`, child);
      expect({ status, output: status === 200 ? '' : output }).toEqual({ status: 200, output: '' });
      // The SQLite worker thread started from the compiled code, in the folder .env names.
      expect(fs.existsSync(path.join(dataDir, 'bridge.db'))).toBe(true);
      expect(output).toContain('"msg":"configuration: read the settings file"');

      const consolePage = await fetch(`http://127.0.0.1:${port}/console`);
      expect(consolePage.status).toBe(200);
      expect(await consolePage.text()).toContain('/console/assets/main.js');
      expect((await fetch(`http://127.0.0.1:${port}/console/assets/main.js`)).status).toBe(200);

      const cli = spawnSync(
        process.execPath,
        [path.join(copy, 'relation-bridge', manifest.bin['relation-bridge'] as string), 'health', '12', '--json'],
        {
          env: {
            PATH: process.env.PATH ?? '',
            BRIDGE_URL: `http://127.0.0.1:${port}`,
            BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
          },
          encoding: 'utf8',
        },
      );
      expect({ status: cli.status, stderr: cli.stderr }).toEqual({ status: 0, stderr: '' });
      expect(JSON.parse(cli.stdout)).toMatchObject({ inboxId: '12', status: 'not_linked' });
    } finally {
      if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
      await exited(child);
    }
  }, 240_000);
});
