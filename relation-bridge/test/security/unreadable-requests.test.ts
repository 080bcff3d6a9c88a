import { gzipSync } from 'node:zlib';
import { type BridgeHarness, HARNESS_ADMIN_TOKEN, startBridgeHarness } from '../helpers/bridge-harness';

/**
 * What the fuzz suite found beyond the outside review: a path whose %-escapes do not decode,
 * and a compressed admin API body that does not inflate, were answered 500; and the admin
 * API stored text that cannot round-trip (a lone surrogate in an inbox id could never be
 * found again). Each is now the caller's 4xx.
 */

let harness: BridgeHarness;

beforeAll(async () => {
  harness = await startBridgeHarness();
});

afterAll(async () => {
  await harness.close();
});

const token = { authorization: `Bearer ${HARNESS_ADMIN_TOKEN}` };

it.each([
  '/api/v1/links/%E0%A4%A',
  '/api/v1/inboxes/%ZZ/health',
  '/api/v1/actions/%FF',
  '/api/v1/inboxes/%ED%A0%80',
  '/console/inboxes/%E0%A4%A/settings',
])('a path whose %%-escapes do not decode (%s) is a 400 invalid_path, not a 500', async (path) => {
  const response = await fetch(`${harness.baseUrl}${path}`, { headers: { ...token, accept: 'application/json' } });
  expect(response.status).toBe(400);
  expect(((await response.json()) as { error: string }).error).toBe('invalid_path');
});

it('an admin API body that claims gzip but does not inflate is a 400, and a real gzip body is read', async () => {
  const broken = await fetch(`${harness.baseUrl}/api/v1/inboxes`, {
    method: 'POST',
    headers: { ...token, 'content-type': 'application/json', 'content-encoding': 'gzip' },
    body: 'not gzip at all',
  });
  expect(broken.status).toBe(400);
  const real = await fetch(`${harness.baseUrl}/api/v1/inboxes`, {
    method: 'POST',
    headers: { ...token, 'content-type': 'application/json', 'content-encoding': 'gzip' },
    body: gzipSync(JSON.stringify({ inboxId: '31', name: '圧縮' })),
  });
  expect(real.status).toBe(201);
});

it.each([
  ['body.inboxId', { inboxId: '3\ud8002', name: '受信箱' }],
  ['body.name', { inboxId: '32', name: '受信\u0000箱' }],
  ['body', { inboxId: '33', name: '受信箱', '\udc00': 1 }],
])(
  'an admin API body with text that cannot be stored as sent is a 400 naming %s, and nothing is made',
  async (path, body) => {
    const response = await fetch(`${harness.baseUrl}/api/v1/inboxes`, {
      method: 'POST',
      headers: { ...token, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { error: string; details: Array<{ path: string }> };
    expect(answer.error).toBe('invalid_request');
    expect(answer.details.map((detail) => detail.path)).toContain(path);
    expect((await harness.bridge.store.inboxes.list()).map((inbox) => inbox.inboxId)).not.toContain(body.inboxId);
  },
);

it('a sign-in with such text is refused before anything is counted or checked', async () => {
  const response = await fetch(`${harness.baseUrl}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'x\ud800@relation-demo.example.jp', password: 'some-password-1' }),
  });
  expect(response.status).toBe(400);
  expect(await harness.bridge.store.accounts.getThrottle('ip:127.0.0.1')).toBeNull();
});
