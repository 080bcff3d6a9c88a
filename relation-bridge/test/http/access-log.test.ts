import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBridge, type Bridge } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logging';
import { TEST_SECRET } from '../helpers/payloads';

interface Running {
  baseUrl: string;
  bridge: Bridge;
  lines: Array<Record<string, any>>;
  close(): Promise<void>;
}

/** The whole bridge on port 0 with its log captured; the rest of the configuration from `env`. */
async function start(
  env: Record<string, string>,
  dataDir = mkdtempSync(path.join(tmpdir(), 'relation-bridge-log-')),
): Promise<Running> {
  const lines: Array<Record<string, any>> = [];
  const logger = createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line)) });
  const bridge = await createBridge(loadConfig({ BRIDGE_DATA_DIR: dataDir, ...env }), { logger });
  const server: Server = createServer(bridge.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bridge,
    lines,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await bridge.close();
    },
  };
}

const ADMIN_TOKEN = 'access-log-admin-token-0123456789';

describe('the access log', () => {
  let running: Running;

  beforeAll(async () => {
    running = await start({ BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN, WEBHOOK_SECRETS: TEST_SECRET });
  });

  afterAll(async () => {
    await running.close();
  });

  const requestLines = () => running.lines.filter((line) => line.msg === 'request' || line.msg === 'request failed');

  it('writes one line per request with its id, method, URL, client address, status and duration', async () => {
    const response = await fetch(`${running.baseUrl}/api/v1/links?inboxId=12`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'user-agent': 'access-log-test' },
    });
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const line = requestLines().find((entry) => entry.req?.id === requestId);
    expect(line).toMatchObject({
      level: 30,
      msg: 'request',
      req: {
        id: requestId,
        method: 'GET',
        url: '/api/v1/links?inboxId=12',
        remoteAddress: '127.0.0.1',
        userAgent: 'access-log-test',
      },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
    });
    expect(JSON.stringify(running.lines)).not.toContain(ADMIN_TOKEN);
  });

  it('keeps a request id a proxy gave, and makes its own for one that does not look like an id', async () => {
    const given = await fetch(`${running.baseUrl}/healthz`, { headers: { 'x-request-id': 'nginx-0123456789abcdef' } });
    expect(given.headers.get('x-request-id')).toBe('nginx-0123456789abcdef');
    const odd = await fetch(`${running.baseUrl}/healthz`, { headers: { 'x-request-id': 'short' } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // Probes are logged at debug, so that `info` is not one line every few seconds.
    expect(requestLines().find((entry) => entry.req?.id === 'nginx-0123456789abcdef')).toMatchObject({ level: 20 });
  });

  it('logs webhooks (served ahead of the other routes) the same way, their own lines with the request id', async () => {
    const response = await fetch(`${running.baseUrl}/webhooks/relation`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-request-id': 'nginx-webhook-0123456789',
        'user-agent': 'relation-webhooks',
        'webhook-id': 'msg_access_log',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': 'v1,bm90LWEtc2lnbmF0dXJl',
      },
      body: '{}',
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('x-request-id')).toBe('nginx-webhook-0123456789');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(requestLines().find((entry) => entry.req?.id === 'nginx-webhook-0123456789')).toMatchObject({
      level: 30,
      req: { method: 'POST', url: '/webhooks/relation', remoteAddress: '127.0.0.1', userAgent: 'relation-webhooks' },
      res: { statusCode: 401 },
      responseTime: expect.any(Number),
    });
    expect(running.lines.find((line) => line.msg === 'intake: webhook signature rejected')).toMatchObject({
      reqId: 'nginx-webhook-0123456789',
      webhookId: 'msg_access_log',
    });
    expect(JSON.stringify(running.lines)).not.toContain('bm90LWEtc2lnbmF0dXJl');
  });

  it('never logs the OAuth callback’s code and state', async () => {
    const response = await fetch(`${running.baseUrl}/oauth/callback?code=aPrx.secret-code&state=st_secret`);
    expect(response.status).toBe(400);
    const line = requestLines().find((entry) => entry.req?.url?.startsWith('/oauth/callback'));
    expect(line).toMatchObject({ req: { url: '/oauth/callback?[redacted]' }, res: { statusCode: 400 } });
    const everything = JSON.stringify(running.lines);
    expect(everything).not.toContain('aPrx.secret-code');
    expect(everything).not.toContain('st_secret');
  });
});

describe('the warnings at start', () => {
  it('names every unset setting that turns something off, and what', async () => {
    const bare = await start({});
    try {
      const warnings = bare.lines.filter((line) => line.level === 40 && line.setting !== undefined);
      expect(warnings.map((line) => line.setting).sort()).toEqual([
        'BRIDGE_ADMIN_TOKEN',
        'BRIDGE_ENCRYPTION_KEY',
        'BRIDGE_PUBLIC_URL',
        'NOTICE_SMTP_HOST',
        'SF_CLIENT_ID',
        'SF_CLIENT_SECRET',
        'WEBHOOK_SECRETS',
      ]);
      expect(warnings.find((line) => line.setting === 'SF_CLIENT_ID')?.msg).toMatch(
        /^configuration: SF_CLIENT_ID is not set: no inbox can be linked/,
      );
    } finally {
      await bare.close();
    }
  });

  it('says nothing when they are set, and counts a webhook secret added in the console', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'relation-bridge-log-'));
    const settings = {
      BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
      BRIDGE_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
      BRIDGE_PUBLIC_URL: 'https://bridge.example.co.jp',
      SF_CLIENT_ID: 'client-id',
      SF_CLIENT_SECRET: 'client-secret',
      NOTICE_SMTP_HOST: 'smtp.example.co.jp',
      NOTICE_MAIL_FROM: 'bridge@example.co.jp',
    };
    try {
      const first = await start(settings, dataDir);
      try {
        expect(first.lines.filter((line) => line.setting !== undefined).map((line) => line.setting)).toEqual([
          'WEBHOOK_SECRETS',
        ]);
        await first.bridge.store.webhookSecrets.add({
          label: 'console',
          secret: TEST_SECRET,
          fingerprint: 'test',
          createdBy: 'test',
          now: Date.now(),
        });
      } finally {
        await first.close();
      }
      const again = await start(settings, dataDir);
      try {
        expect(again.lines.filter((line) => line.setting !== undefined)).toEqual([]);
      } finally {
        await again.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
