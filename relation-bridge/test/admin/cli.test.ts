import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { completeAuthorization, type LocalOrg, type LocalSalesforce, startLocalSalesforce } from '../../local-org';
import { type Bridge, createBridge } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logging';
import { addUser, type Credentials, newAction } from '../links/harness';

/**
 * The CLI as a separate program (node --import tsx src/cli.ts …) against the real bridge
 * (createBridge, the composition root) listening on port 0, next to the local org.
 */

const BRIDGE_ROOT = path.resolve(__dirname, '../..');
const ADMIN_TOKEN = 'cli-test-admin-token-0123456789';
const WEBHOOK_SECRET = `whsec_${Buffer.from('cli test webhook secret, 32 bytes!').toString('base64')}`;
/**
 * The bridge's public URL is fixed before it listens on port 0, so the redirect URI uses a
 * name that the test's "browser" maps to the real address.
 */
const PUBLIC_URL = 'http://bridge.invalid';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dataDir: string;
let local: LocalSalesforce;
let org: LocalOrg;
let user: Credentials & { id: string };
let bridge: Bridge;
let server: Server;
let baseUrl: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'relation-bridge-cli-'));
  local = await startLocalSalesforce({ callbackUrls: [`${PUBLIC_URL}/oauth/callback`] });
  org = local.createOrg({ name: 'Acme' });
  user = addUser(org, 'hanako');
  const config = loadConfig({
    BRIDGE_PUBLIC_URL: PUBLIC_URL,
    BRIDGE_DATA_DIR: path.join(dataDir, 'data'),
    BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
    WEBHOOK_SECRETS: WEBHOOK_SECRET,
    SF_CLIENT_ID: local.app.clientId,
    SF_CLIENT_SECRET: local.app.clientSecret,
    SF_LOGIN_URL_PRODUCTION: local.productionLoginUrl,
    SF_LOGIN_URL_SANDBOX: local.sandboxLoginUrl,
    LOG_LEVEL: 'silent',
  });
  bridge = await createBridge(config, { logger: createLogger('silent') });
  server = await new Promise<Server>((resolve) => {
    const listening = bridge.app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  await bridge.close();
  await local.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Runs the CLI; `onStdout` sees the output as it comes (to act on a printed URL). */
function cli(
  args: string[],
  env: Record<string, string> = {},
  onStdout?: (soFar: string) => void,
  entry: string[] = ['--import', 'tsx', 'src/cli.ts'],
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...entry, ...args], {
      cwd: BRIDGE_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      onStdout?.(stdout);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

const connection = () => ['--url', baseUrl, '--token', ADMIN_TOKEN];

/** The admin's browser: log in, allow, then follow the redirect to the bridge. */
async function allowInBrowser(authorizeUrl: string): Promise<number> {
  const callback = await completeAuthorization(authorizeUrl, user);
  const response = await fetch(`${baseUrl}${callback.pathname}${callback.search}`);
  await response.text();
  return response.status;
}

describe('relation-bridge CLI', () => {
  it('links create prints the authorisation URL, waits for the browser, then prints the new link', async () => {
    let browser: Promise<number> | null = null;
    const run = await cli(
      [
        'links',
        'create',
        '--inbox',
        '12',
        '--inbox-name',
        '営業窓口',
        '--env',
        'production',
        '--target',
        'contact_then_lead',
        ...connection(),
      ],
      {},
      (soFar) => {
        const url = /^(http:\/\/\S+\/services\/oauth2\/authorize\?\S+)$/m.exec(soFar)?.[1];
        if (url !== undefined && browser === null) browser = allowInBrowser(url);
      },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(await (browser as unknown as Promise<number>)).toBe(200);
    expect(run.stdout).toContain('The link is ready.');
    expect(run.stdout).toMatch(/Inbox\s+12 \(営業窓口\)/);
    expect(run.stdout).toContain(org.orgId);
    expect(run.stdout).toContain('contact_then_lead');
  });

  it('links list prints the links as a table, and as JSON with --json, reading the environment', async () => {
    const link = await bridge.store.links.getLinkForInbox('12');
    expect(link).not.toBeNull();
    const table = await cli(['links', 'list'], { BRIDGE_URL: baseUrl, BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN });
    expect(table.code).toBe(0);
    const [header, row] = table.stdout.trim().split('\n');
    expect(header).toMatch(/^ID\s+INBOX\s+STATUS\s+TARGET\s+ORG\s+USER\s+CREATED$/);
    expect(row).toContain(link?.id);
    expect(row).toContain('12 (営業窓口)');
    expect(row).toContain('active');
    expect(row).toContain(user.username);

    const json = await cli(['links', 'list', '--json', ...connection()]);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.links).toHaveLength(1);
    expect(parsed.links[0]).toMatchObject({ id: link?.id, orgId: org.orgId, target: 'contact_then_lead' });
  });

  it('the relation-bridge bin runs the same CLI', async () => {
    const run = await cli(['links', 'list', ...connection()], {}, undefined, ['bin/relation-bridge.js']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('12 (営業窓口)');
  });

  it('webhook send signs the file and posts it; a resend of the same action is a duplicate', async () => {
    const payloadFile = path.join(dataDir, 'payload.json');
    writeFileSync(payloadFile, JSON.stringify(newAction('12', { actionId: 'act_cli_1' }).payload, null, 2));
    const first = await cli(['webhook', 'send', '--secret', WEBHOOK_SECRET, '--file', payloadFile, '--url', baseUrl]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^202 .*"accepted"/);
    expect((await bridge.store.actions.get('act_cli_1'))?.inboxId).toBe('12');

    const again = await cli([
      'webhook',
      'send',
      '--json',
      '--secret',
      WEBHOOK_SECRET,
      '--file',
      payloadFile,
      '--url',
      baseUrl,
    ]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      status: 200,
      body: { status: 'duplicate', action_id: 'act_cli_1' },
    });
  });

  it('webhook send with the wrong secret exits 1 with the bridge’s answer', async () => {
    const payloadFile = path.join(dataDir, 'payload-2.json');
    writeFileSync(payloadFile, JSON.stringify(newAction('12', { actionId: 'act_cli_2' }).payload));
    const wrong = `whsec_${Buffer.from('another secret, entirely unknown').toString('base64')}`;
    const run = await cli(['webhook', 'send', '--secret', wrong, '--file', payloadFile, '--url', baseUrl]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('401');
    expect(run.stdout).toContain('invalid_signature');
    expect(await bridge.store.actions.get('act_cli_2')).toBeNull();
  });

  it('exits 1 with the server’s message when the bridge refuses, and 2 for a wrong command line', async () => {
    const conflict = await cli([
      'links',
      'create',
      '--inbox',
      '12',
      '--env',
      'production',
      '--target',
      'lead',
      ...connection(),
    ]);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('link_exists');
    expect(conflict.stderr).toContain('already linked');

    const unauthorized = await cli(['links', 'list', '--url', baseUrl, '--token', 'wrong-token-0123456789']);
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.stderr).toContain('HTTP 401');

    const usage = await cli(['links', 'create', '--inbox', '13', '--env', 'moon', '--target', 'lead', ...connection()]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--env must be one of production, sandbox, custom');
    const bogus = await cli(['links', 'list', '--bogus']);
    expect(bogus.code).toBe(2);
    // The error comes first, followed by the usage of that command only, not the whole text.
    const lines = bogus.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^Error: .*--bogus/);
    expect(bogus.stderr).toContain('  links list [--include-deleted]');
    expect(bogus.stderr).not.toContain('webhook send');
    expect(bogus.stderr).toContain('relation-bridge --help');
  });

  it('health and actions list show the inbox and its log', async () => {
    const health = await cli(['health', '12', ...connection()]);
    expect(health.code).toBe(0);
    expect(health.stdout).toMatch(/^Inbox 12 \(営業窓口\): active/);
    expect(health.stdout).toMatch(/Last 24 h: (received|pending|skipped|synced|unmatched) 1/);

    const actions = await cli(['actions', 'list', '--inbox', '12', ...connection()]);
    expect(actions.code).toBe(0);
    expect(actions.stdout).toContain('act_cli_1');
    expect(actions.stdout.split('\n')[0]).toMatch(/^OCCURRED\s+ACTION\s+INBOX/);
  });

  it('users create-owner, the first-run step, creates a console owner and prints a password that signs in', async () => {
    const run = await cli([
      'users',
      'create-owner',
      '--email',
      'First@Relation-Demo.example.jp',
      '--name',
      '大和 太郎',
      ...connection(),
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Owner first@relation-demo.example.jp (大和 太郎) created.');
    expect(run.stdout).toContain(`Sign in at ${baseUrl}/console`);
    const password = /Password \(shown once; change it in the console under Account\): (\S+)/.exec(run.stdout)?.[1];
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const signIn = await fetch(`${baseUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'first@relation-demo.example.jp', password }),
    });
    expect(signIn.status).toBe(200);

    const again = await cli([
      'users',
      'create-owner',
      '--email',
      'first@relation-demo.example.jp',
      '--name',
      'x',
      ...connection(),
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('email_taken');
  });

  it('users create-owner --password-stdin takes the password from standard input and prints none', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli.ts',
        'users',
        'create-owner',
        '--email',
        'second@relation-demo.example.jp',
        '--name',
        'Second',
        '--password-stdin',
        ...connection(),
      ],
      {
        cwd: BRIDGE_ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    children.add(child);
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stdin.end('typed-password-123\n');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    children.delete(child);
    expect(code).toBe(0);
    expect(stdout).not.toContain('typed-password-123');
    expect(stdout).not.toContain('Password');
    const signIn = await fetch(`${baseUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'second@relation-demo.example.jp', password: 'typed-password-123' }),
    });
    expect(signIn.status).toBe(200);
  });
});
