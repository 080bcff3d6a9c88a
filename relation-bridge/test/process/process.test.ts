import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { completeAuthorization, seedDemoOrg, startLocalSalesforce, type LocalSalesforce } from '../../local-org';
import { BRIDGE_ROOT, exited, freePort } from '../helpers/bridge-process';
import { actionPayload, sendWebhook, TEST_SECRET } from '../helpers/payloads';

/**
 * The bridge as its own process (src/server.ts): what it does on SIGTERM when a Salesforce
 * call will not end, on an error nothing catches, and with metrics on a port of their own.
 */

const ADMIN_TOKEN = 'process-test-admin-token-0123456789';

interface Running {
  child: ChildProcess;
  /** The JSON log lines written so far (stdout). */
  log(): Array<Record<string, any>>;
  ready: { port: number; metricsPort: number | null };
}

async function startProcess(env: Record<string, string>, entry = 'src/server.ts'): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: BRIDGE_ROOT,
    env: { PATH: process.env.PATH ?? '', BRIDGE_ENV_FILE: 'none', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = await new Promise<Running['ready']>((resolve, reject) => {
    child.once('message', (message) => resolve(message as Running['ready']));
    child.once('exit', (code) => reject(new Error(`the bridge exited with ${code}: ${stderr}${stdout}`)));
  });
  const log = () =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, any>);
  return { child, log, ready };
}

describe('the bridge process', () => {
  let dataDir: string;
  let running: Running | null = null;
  let local: LocalSalesforce | null = null;

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'relation-bridge-process-'));
  });

  afterEach(async () => {
    if (running !== null && running.child.exitCode === null && running.child.signalCode === null) {
      running.child.kill('SIGKILL');
      await exited(running.child);
    }
    running = null;
    await local?.close();
    local = null;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('on SIGTERM while a Salesforce call hangs, exits once BRIDGE_STOP_TIMEOUT_MS has passed', async () => {
    local = await startLocalSalesforce();
    const org = local.createOrg({ name: 'Hanging Co' });
    const seeded = seedDemoOrg(org);
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    local.app.callbackUrls.push(`${baseUrl}/oauth/callback`);
    running = await startProcess({
      BRIDGE_PORT: String(port),
      BRIDGE_PUBLIC_URL: baseUrl,
      BRIDGE_DATA_DIR: dataDir,
      BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
      WEBHOOK_SECRETS: TEST_SECRET,
      SF_CLIENT_ID: local.app.clientId,
      SF_CLIENT_SECRET: local.app.clientSecret,
      SF_LOGIN_URL_PRODUCTION: local.productionLoginUrl,
      SF_LOGIN_URL_SANDBOX: local.sandboxLoginUrl,
      // The call below would wait a minute; the stop must not.
      SF_REQUEST_TIMEOUT_MS: '60000',
      BRIDGE_STOP_TIMEOUT_MS: '500',
      SYNC_LINGER_MS: '50',
      SYNC_POLL_MS: '100',
    });
    const started = await fetch(`${baseUrl}/api/v1/links/authorize`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ inboxId: '12', environment: 'production', target: 'contact_then_lead' }),
    });
    const { authorizeUrl } = (await started.json()) as { authorizeUrl: string };
    const callback = await completeAuthorization(authorizeUrl, {
      username: seeded.authorizingUser.username,
      password: seeded.authorizingUser.password,
    });
    expect((await fetch(callback)).status).toBe(200);

    const hang = local.faults.hangNext({ count: Infinity });
    const hanging = hang.waitForHang();
    expect((await sendWebhook(baseUrl, actionPayload())).status).toBe(202);
    await hanging;

    running.child.kill('SIGTERM');
    expect(await exited(running.child)).toBe(1);
    const messages = running.log().map((line) => line.msg);
    expect(messages).toContain('stopping: no new requests, finishing the batch in flight');
    expect(running.log().find((line) => line.msg === 'stop deadline passed: exiting now')).toMatchObject({
      level: 40,
      timeoutMs: 500,
    });
    hang.release();
  });

  it.each([
    ['throw', 'uncaught exception: exiting', 'test: an error nothing catches'],
    ['reject', 'unhandled promise rejection: exiting', 'test: a rejection nobody handles'],
  ])(
    'on an error nothing catches (%s), logs it as fatal and exits 70 for the supervisor to restart',
    async (how, msg, error) => {
      running = await startProcess(
        { BRIDGE_PORT: String(await freePort()), BRIDGE_DATA_DIR: dataDir },
        'test/process/throwing-bridge.ts',
      );
      running.child.send(how);
      expect(await exited(running.child)).toBe(70);
      expect(running.log().find((line) => line.msg === msg)).toMatchObject({ level: 60, err: { message: error } });
    },
  );

  it('serves /metrics without a token on BRIDGE_METRICS_PORT only, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    running = await startProcess({
      BRIDGE_PORT: String(port),
      BRIDGE_DATA_DIR: dataDir,
      BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
      BRIDGE_METRICS_PORT: '0',
    });
    const { metricsPort } = running.ready;
    expect(metricsPort).toEqual(expect.any(Number));
    const open = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(open.status).toBe(200);
    expect(await open.text()).toContain('relation_bridge_webhooks_total');
    expect((await fetch(`http://127.0.0.1:${metricsPort}/api/v1/links`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);

    running.child.kill('SIGTERM');
    expect(await exited(running.child)).toBe(0);
  });
});
