import { type BridgeHarness, HARNESS_ADMIN_TOKEN, startBridgeHarness } from '../helpers/bridge-harness';
import { callAs, signInOverHttp } from './session-client';

/** Sign-in, the session cookie, CSRF, sign-out and throttling through the real bridge over HTTP. */

const OWNER = { email: 'owner@relation-demo.example.jp', name: '大和 太郎', password: 'owner-password-1' };

describe('console sessions over HTTP', () => {
  let harness: BridgeHarness;

  beforeAll(async () => {
    harness = await startBridgeHarness();
    const created = await harness.admin('POST', '/users', { ...OWNER, isOwner: true });
    expect(created.status).toBe(201);
  });

  afterAll(async () => {
    await harness.close();
  });

  it('signing in sets an httpOnly, SameSite=Lax session cookie (not Secure over http) and returns the CSRF token', async () => {
    const session = await signInOverHttp(harness.baseUrl, OWNER.email, OWNER.password);
    expect(session.setCookie).toMatch(
      /^relation_bridge_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=43200$/,
    );
    expect(session.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const me = await callAs(harness.baseUrl, session, 'GET', '/session');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      user: { email: OWNER.email, isOwner: true },
      isOwner: true,
      csrfToken: session.csrfToken,
    });
    expect(JSON.stringify(me.body)).not.toContain('scrypt');
    expect(me.headers.get('cache-control')).toBe('no-store');
  });

  it('without a session or the admin token it answers 401; an unknown session cookie is cleared', async () => {
    const none = await callAs(harness.baseUrl, null, 'GET', '/session');
    expect(none).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    const stale = await callAs(
      harness.baseUrl,
      { cookie: 'relation_bridge_session=forged', csrfToken: '', setCookie: '' },
      'GET',
      '/links',
    );
    expect(stale).toMatchObject({ status: 401, body: { error: 'session_expired' } });
    expect(stale.headers.get('set-cookie')).toMatch(/^relation_bridge_session=; .*Max-Age=0/);
  });

  it('refuses a state-changing request whose CSRF token is missing or wrong, and accepts the right one', async () => {
    const session = await signInOverHttp(harness.baseUrl, OWNER.email, OWNER.password);
    const inbox = { inboxId: '12', name: '営業窓口' };
    const missing = await callAs(harness.baseUrl, session, 'POST', '/inboxes', inbox, { csrfToken: null });
    expect(missing).toMatchObject({ status: 403, body: { error: 'csrf_failed' } });
    const wrong = await callAs(harness.baseUrl, session, 'POST', '/inboxes', inbox, { csrfToken: 'x'.repeat(43) });
    expect(wrong).toMatchObject({ status: 403, body: { error: 'csrf_failed' } });
    expect(await harness.bridge.store.inboxes.get('12')).toBeNull();
    expect((await callAs(harness.baseUrl, session, 'POST', '/inboxes', inbox)).status).toBe(201);
    expect((await callAs(harness.baseUrl, session, 'GET', '/inboxes', undefined, { csrfToken: null })).status).toBe(
      200,
    );
  });

  it('signs in only with a JSON body, so that a cross-site form cannot sign anyone in', async () => {
    const form = await fetch(`${harness.baseUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: OWNER.email, password: OWNER.password }).toString(),
    });
    expect(form.status).toBe(400);
    expect(form.headers.get('set-cookie')).toBeNull();
  });

  it('signing out ends the session in the store and clears the cookie', async () => {
    const session = await signInOverHttp(harness.baseUrl, OWNER.email, OWNER.password);
    const out = await callAs(harness.baseUrl, session, 'DELETE', '/session');
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expect((await callAs(harness.baseUrl, session, 'GET', '/session')).status).toBe(401);
  });

  it('the admin token still works for everything and acts as an owner', async () => {
    expect((await harness.admin('GET', '/users')).status).toBe(200);
    expect((await harness.admin('GET', '/session')).body).toMatchObject({ user: null, isOwner: true });
    const wrong = await fetch(`${harness.baseUrl}/api/v1/users`, {
      headers: { authorization: `Bearer ${HARNESS_ADMIN_TOKEN}x` },
    });
    expect(wrong.status).toBe(401);
  });

  it('locks an account after five failed sign-ins with 429 and Retry-After, even for the right password', async () => {
    await harness.admin('POST', '/users', {
      email: 'target@relation-demo.example.jp',
      name: 'Target',
      password: 'target-password-1',
    });
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const failed = await fetch(`${harness.baseUrl}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'target@relation-demo.example.jp', password: `guess-${attempt}` }),
      });
      expect(failed.status).toBe(401);
      expect(((await failed.json()) as { error: string }).error).toBe('invalid_credentials');
    }
    const locked = await fetch(`${harness.baseUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'target@relation-demo.example.jp', password: 'target-password-1' }),
    });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);
    expect(((await locked.json()) as { error: string }).error).toBe('too_many_attempts');
    expect(locked.headers.get('set-cookie')).toBeNull();
  });
});

describe('console sessions behind an https public URL', () => {
  it('the cookie is Secure and bound to the host with the __Host- prefix', async () => {
    const harness = await startBridgeHarness({ env: { BRIDGE_PUBLIC_URL: 'https://bridge.example.jp' } });
    try {
      await harness.admin('POST', '/users', { ...OWNER, isOwner: true });
      const session = await signInOverHttp(harness.baseUrl, OWNER.email, OWNER.password);
      expect(session.setCookie).toMatch(
        /^__Host-relation_bridge_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/,
      );
    } finally {
      await harness.close();
    }
  });
});
