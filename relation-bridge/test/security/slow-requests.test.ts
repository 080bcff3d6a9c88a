import { connect } from 'node:net';
import { signWebhook } from '../../src/intake/signature';
import { type BridgeHarness, HARNESS_ADMIN_TOKEN, startBridgeHarness } from '../helpers/bridge-harness';
import { actionPayload, sendWebhook, TEST_SECRET } from '../helpers/payloads';

/**
 * The outside review: a body sent slowly to /api/v1/session held its connection for Node's
 * 300 s default. Each route that reads a body now has a deadline (shortened here so that
 * the test is quick): past it the client gets a JSON 408 and the connection is closed,
 * however slowly it keeps sending.
 */

let harness: BridgeHarness;
let port: number;

beforeAll(async () => {
  harness = await startBridgeHarness({ bodyDeadlinesMs: { api: 300, webhook: 300 } });
  port = Number(new URL(harness.baseUrl).port);
});

afterAll(async () => {
  await harness.close();
});

interface SlowOutcome {
  /** Everything the bridge sent back. */
  response: string;
  /** Body bytes the client managed to send before the bridge closed the connection. */
  bodyBytesSent: number;
  bodyBytes: number;
}

/**
 * Sends the head and the first bytes of the body at once, then one byte every 20 ms, until
 * the bridge closes the connection. The body is long enough never to be finished first.
 */
function sendSlowly(head: Record<string, string>, path: string, body: Buffer): Promise<SlowOutcome> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const headers = Object.entries({ host: `127.0.0.1:${port}`, 'content-length': String(body.length), ...head })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    const finish = () => {
      clearInterval(timer);
      resolve({ response: Buffer.concat(chunks).toString('utf8'), bodyBytesSent: sent, bodyBytes: body.length });
    };
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', finish);
    socket.on('connect', () => {
      socket.write(`POST ${path} HTTP/1.1\r\n${headers}\r\n`);
      sent = 10;
      socket.write(body.subarray(0, sent));
      timer = setInterval(() => {
        if (socket.destroyed || sent >= body.length - 1) return;
        socket.write(body.subarray(sent, sent + 1));
        sent += 1;
      }, 20);
    });
  });
}

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
}

function jsonOf(response: string): any {
  return JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));
}

it('a sign-in whose body trickles in gets a JSON 408 and its connection closed, and signs nobody in', async () => {
  const body = Buffer.from(JSON.stringify({ email: 'owner@relation-demo.example.jp', password: 'x'.repeat(5_000) }));
  const slow = await sendSlowly({ 'content-type': 'application/json' }, '/api/v1/session', body);
  expect(statusOf(slow.response)).toBe(408);
  expect(slow.response.toLowerCase()).toContain('connection: close');
  expect(slow.response.toLowerCase()).toContain('cache-control: no-store');
  expect(jsonOf(slow.response)).toMatchObject({ error: 'request_timeout' });
  expect(slow.response.toLowerCase()).not.toContain('set-cookie');
  expect(slow.bodyBytesSent).toBeLessThan(slow.bodyBytes);
});

it('so does any other admin API request whose body trickles in, and nothing is changed', async () => {
  const body = Buffer.from(JSON.stringify({ inboxId: '12', name: '営業窓口'.repeat(2_000) }));
  const slow = await sendSlowly(
    { 'content-type': 'application/json', authorization: `Bearer ${HARNESS_ADMIN_TOKEN}` },
    '/api/v1/inboxes',
    body,
  );
  expect(statusOf(slow.response)).toBe(408);
  expect(jsonOf(slow.response)).toMatchObject({ error: 'request_timeout' });
  expect(await harness.bridge.store.inboxes.get('12')).toBeNull();
});

it('a signed webhook whose body trickles in gets a JSON 408, its connection closed, and nothing stored', async () => {
  const payload = actionPayload({ body: 'ゆっくり'.repeat(3_000) });
  const body = Buffer.from(JSON.stringify(payload));
  const signed = signWebhook({ secret: TEST_SECRET, id: 'msg_slow', timestamp: Math.floor(Date.now() / 1000), body });
  const slow = await sendSlowly({ 'content-type': 'application/json', ...signed }, '/webhooks/relation', body);
  expect(statusOf(slow.response)).toBe(408);
  expect(slow.response.toLowerCase()).toContain('connection: close');
  expect(jsonOf(slow.response)).toMatchObject({ error: 'request_timeout' });
  expect(await harness.bridge.store.actions.get(payload.action.id)).toBeNull();
});

it('requests whose bodies arrive at once are answered as usual, and the bridge still answers after the slow ones', async () => {
  expect((await sendWebhook(harness.baseUrl, actionPayload())).status).toBe(202);
  const signIn = await fetch(`${harness.baseUrl}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'nobody@relation-demo.example.jp', password: 'not-the-password' }),
  });
  expect(signIn.status).toBe(401);
  expect((await harness.admin('POST', '/inboxes', { inboxId: '12', name: '営業窓口' })).status).toBe(201);
  expect((await fetch(`${harness.baseUrl}/healthz`)).status).toBe(200);
});
