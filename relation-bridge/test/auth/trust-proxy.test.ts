import { DEFAULT_THROTTLE } from '../../src/auth/accounts';
import { startBridgeHarness, type BridgeHarness } from '../helpers/bridge-harness';

/** Sign-in throttling per client address, with and without a trusted reverse proxy in front. */

const OWNER = { email: 'owner@relation-demo.example.jp', name: '大和 太郎', password: 'owner-password-1' };

async function signIn(harness: BridgeHarness, forwardedFor: string, email: string, password: string): Promise<number> {
  const response = await fetch(`${harness.baseUrl}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
    body: JSON.stringify({ email, password }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Failed sign-ins to the owner's account from one client, until that client is locked out of it. */
async function failFromAddress(harness: BridgeHarness, forwardedFor: string): Promise<void> {
  for (let attempt = 0; attempt < DEFAULT_THROTTLE.pair.maxFailures; attempt += 1) {
    expect(await signIn(harness, forwardedFor, OWNER.email, 'wrong-password')).toBe(401);
  }
  expect(await signIn(harness, forwardedFor, OWNER.email, 'wrong-password')).toBe(429);
}

describe('sign-in throttling per client address', () => {
  let harness: BridgeHarness;

  afterEach(async () => {
    await harness.close();
  });

  it('behind a trusted proxy, locks the client that failed and lets other clients sign in', async () => {
    harness = await startBridgeHarness({ env: { BRIDGE_TRUST_PROXY: '1' } });
    await harness.admin('POST', '/users', { ...OWNER, isOwner: true });
    await failFromAddress(harness, '203.0.113.7');
    expect(await signIn(harness, '203.0.113.7', OWNER.email, OWNER.password)).toBe(429);
    expect(await signIn(harness, '203.0.113.8', OWNER.email, OWNER.password)).toBe(200);
  });

  it('without a trusted proxy, ignores X-Forwarded-For, so a client cannot dodge the lock by forging it', async () => {
    harness = await startBridgeHarness();
    await harness.admin('POST', '/users', { ...OWNER, isOwner: true });
    await failFromAddress(harness, '203.0.113.7');
    expect(await signIn(harness, '203.0.113.8', OWNER.email, OWNER.password)).toBe(429);
  });
});
