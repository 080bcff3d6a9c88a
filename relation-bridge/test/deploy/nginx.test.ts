import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createBridge, type Bridge } from '../../src/app';
import { loadConfig } from '../../src/config';
import { signWebhook } from '../../src/intake/signature';
import { createLogger } from '../../src/logging';
import { exited, freePort } from '../helpers/bridge-process';
import { actionPayload, TEST_SECRET } from '../helpers/payloads';

/**
 * deploy/nginx/relation-bridge.conf, run by Debian's nginx in front of a whole bridge: nginx as
 * this user, with its own prefix, config, pid and logs in a temporary folder, on free ports,
 * with a self-signed certificate. The example is used as written, except for what a test
 * must change: its ports, its certificate, the bridge's port, and the internal network, which
 * becomes 127.0.0.3 (an "office" client) while 127.0.0.2 plays a client on the internet.
 */

const NGINX = '/usr/sbin/nginx';
const EXAMPLE = path.resolve(__dirname, '../../../deploy/nginx/relation-bridge.conf');
const HOST = 'bridge.example.co.jp';
const OUTSIDE = '127.0.0.2';
const OFFICE = '127.0.0.3';

const missing = [NGINX, '/usr/bin/openssl'].filter((tool) => !fs.existsSync(tool));
const describeWithNginx = missing.length === 0 ? describe : describe.skip;
if (missing.length > 0) {
  process.stdout.write(`SKIPPED nginx example test: ${missing.join(' and ')} not installed (.ci/run installs nginx)\n`);
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

async function listening(port: number): Promise<boolean> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describeWithNginx('the nginx example in front of the bridge', () => {
  let dir: string;
  let bridge: Bridge;
  let bridgeServer: Server;
  let nginx: ChildProcess;
  let httpsPort: number;
  let httpPort: number;
  let certificate: Buffer;
  const log: Array<Record<string, any>> = [];

  /** A request to nginx over https from `from` (127.0.0.2: outside, 127.0.0.3: the office). */
  function send(
    from: string,
    method: string,
    urlPath: string,
    headers: Record<string, string> = {},
    body?: string,
  ): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: httpsPort,
          servername: HOST,
          ca: certificate,
          localAddress: from,
          method,
          path: urlPath,
          headers: { host: HOST, ...headers },
          agent: false,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relation-bridge-nginx-'));
    const keyFile = path.join(dir, 'bridge.key');
    const certFile = path.join(dir, 'bridge.pem');
    const made = spawnSync(
      '/usr/bin/openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        `/CN=${HOST}`,
        '-addext',
        `subjectAltName=DNS:${HOST}`,
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { encoding: 'utf8' },
    );
    if (made.status !== 0) throw new Error(`openssl could not make a certificate: ${made.stderr}`);
    certificate = fs.readFileSync(certFile);

    // The bridge, as it runs behind the proxy.
    httpsPort = await freePort();
    httpPort = await freePort();
    const bridgePort = await freePort();
    const logger = createLogger('info', { write: (line: string) => void log.push(JSON.parse(line)) });
    bridge = await createBridge(
      loadConfig({
        BRIDGE_DATA_DIR: path.join(dir, 'data'),
        BRIDGE_PUBLIC_URL: `https://${HOST}:${httpsPort}`,
        BRIDGE_TRUST_PROXY: 'loopback',
        BRIDGE_ADMIN_TOKEN: 'nginx-test-admin-token-0123456789',
        WEBHOOK_SECRETS: TEST_SECRET,
      }),
      { logger },
    );
    bridgeServer = createServer(bridge.app);
    await new Promise<void>((resolve) => bridgeServer.listen(bridgePort, '127.0.0.1', resolve));
    expect((bridgeServer.address() as AddressInfo).port).toBe(bridgePort);

    // The example, with what a test must change.
    const site = fs
      .readFileSync(EXAMPLE, 'utf8')
      .replace('server 127.0.0.1:8080;', `server 127.0.0.1:${bridgePort};`)
      .replace('listen 80;', `listen 127.0.0.1:${httpPort};`)
      .replace('listen 443 ssl http2;', `listen 127.0.0.1:${httpsPort} ssl http2;`)
      .replace(/ssl_certificate .*;/, `ssl_certificate ${certFile};`)
      .replace(/ssl_certificate_key .*;/, `ssl_certificate_key ${keyFile};`)
      .replace(/(\n\s*allow [^;]+;)+/, `\n        allow ${OFFICE};`);
    expect(site).toContain(`allow ${OFFICE};\n        deny all;`);
    fs.writeFileSync(path.join(dir, 'relation-bridge.conf'), site);
    const asRoot = process.getuid?.() === 0;
    const user = os.userInfo();
    fs.writeFileSync(
      path.join(dir, 'nginx.conf'),
      [
        // nginx as this user: its workers too, when this user is root.
        asRoot ? `user ${user.username};` : '',
        'daemon off;',
        'worker_processes 1;',
        `pid ${dir}/nginx.pid;`,
        `error_log ${dir}/error.log warn;`,
        'events { worker_connections 64; }',
        'http {',
        `  access_log ${dir}/access.log;`,
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
          (kind) => `  ${kind}_temp_path ${dir}/${kind}-temp;`,
        ),
        `  include ${dir}/relation-bridge.conf;`,
        '}',
      ].join('\n'),
    );
    nginx = spawn(NGINX, ['-p', `${dir}/`, '-c', `${dir}/nginx.conf`, '-e', `${dir}/error.log`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    nginx.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    if (!(await listening(httpsPort))) {
      const errors = fs.existsSync(`${dir}/error.log`) ? fs.readFileSync(`${dir}/error.log`, 'utf8') : '';
      throw new Error(`nginx did not start: ${stderr}${errors}`);
    }
  });

  afterAll(async () => {
    if (nginx !== undefined && nginx.exitCode === null) {
      nginx.kill('SIGQUIT');
      await exited(nginx);
    }
    await new Promise<void>((resolve) =>
      bridgeServer === undefined ? resolve() : bridgeServer.close(() => resolve()),
    );
    await bridge?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('passes signed webhooks from anywhere, and the bridge sees the sender’s own address', async () => {
    const payload = JSON.stringify(actionPayload());
    const headers = signWebhook({
      secret: TEST_SECRET,
      id: `msg_${randomUUID()}`,
      timestamp: Math.floor(Date.now() / 1000),
      body: payload,
    });
    const answer = await send(
      OUTSIDE,
      'POST',
      '/webhooks/relation',
      { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.7', ...headers },
      payload,
    );
    expect(answer.status).toBe(202);
    expect(JSON.parse(answer.body)).toMatchObject({ status: 'accepted' });
    const requestId = answer.headers['x-request-id'];
    expect(requestId).toMatch(/^[0-9a-f]{32}$/);
    // nginx's $request_id is the bridge's request id, and the address is the client's, not
    // nginx's (127.0.0.1), nor what the client claimed.
    expect(log.find((line) => line.msg === 'request' && line.req?.id === requestId)).toMatchObject({
      req: { method: 'POST', url: '/webhooks/relation', remoteAddress: OUTSIDE },
      res: { statusCode: 202 },
    });
  });

  it('passes the OAuth callback from anywhere, to the bridge’s own page', async () => {
    const answer = await send(OUTSIDE, 'GET', '/oauth/callback?state=st_unknown&code=c_unknown');
    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toMatch(/^text\/html/);
    expect(answer.body).toContain('Salesforce との連携を完了できませんでした');
    expect(answer.body).toContain('(invalid_state)');
  });

  it('keeps the console, /api/v1 and /metrics internal', async () => {
    for (const urlPath of ['/console', '/console/assets/main.js', '/api/v1/session', '/metrics', '/healthz']) {
      const answer = await send(OUTSIDE, 'GET', urlPath);
      expect({ urlPath, status: answer.status }).toEqual({ urlPath, status: 403 });
    }
    const consolePage = await send(OFFICE, 'GET', '/console');
    expect(consolePage.status).toBe(200);
    expect(consolePage.body).toContain('/console/assets/main.js');
    const session = await send(OFFICE, 'GET', '/api/v1/session');
    expect(session.status).toBe(401);
    expect(JSON.parse(session.body)).toMatchObject({ error: 'unauthorized' });
    expect((await send(OFFICE, 'GET', '/healthz')).status).toBe(200);
  });

  it('lets sign-in throttling see the real client address with BRIDGE_TRUST_PROXY, whatever X-Forwarded-For claims', async () => {
    const answer = await send(
      OFFICE,
      'POST',
      '/api/v1/session',
      { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.9' },
      JSON.stringify({ email: 'nobody@example.co.jp', password: 'not-the-password-1' }),
    );
    expect(answer.status).toBe(401);
    expect(log.filter((line) => line.msg === 'console sign-in failed').map((line) => line.address)).toEqual([OFFICE]);
  });

  it('sends plain http to https', async () => {
    const answer = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      const req = connect(httpPort, '127.0.0.1', () => {
        req.end(`GET /console HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
      });
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () =>
        resolve({ status: Number(text.split(' ')[1]), location: /\r\nLocation: (\S+)/i.exec(text)?.[1] }),
      );
      req.on('error', reject);
    });
    expect(answer).toEqual({ status: 301, location: `https://${HOST}/console` });
  });
});
