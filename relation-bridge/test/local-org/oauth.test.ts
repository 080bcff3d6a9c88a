import { createHmac } from 'node:crypto';
import {
  completeAuthorization,
  MAX_APPROVALS_PER_USER,
  type LocalOrg,
  type LocalSalesforce,
  type LocalUser,
} from '../../local-org';
import {
  authorizeCode,
  authorizeUrl,
  CALLBACK_URL,
  exchangeCode,
  login,
  newPkce,
  postForm,
  refreshWith,
  rest,
  startOrg,
} from './support';

describe('local org OAuth web-server flow', () => {
  let sf: LocalSalesforce;
  let org: LocalOrg;
  let user: LocalUser;

  beforeEach(async () => {
    ({ sf, org, user } = await startOrg());
  });

  afterEach(async () => {
    await sf.close();
  });

  it('shows a bilingual login page whose inputs are labelled', async () => {
    const response = await fetch(authorizeUrl(sf, { challenge: newPkce().challenge }));
    const page = await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(page).toContain('<label for="username">ユーザー名 / Username</label>');
    expect(page).toContain('<label for="password">パスワード / Password</label>');
    expect(page).toMatch(/<input type="password" id="password" name="password"/);
  });

  it('after login it asks "アクセスを許可しますか? / Allow access?" with 許可 and 拒否 buttons', async () => {
    const start = await (await fetch(authorizeUrl(sf, { challenge: newPkce().challenge }))).text();
    const tx = /name="tx" value="([^"]+)"/.exec(start)?.[1] as string;
    const response = await fetch(`${sf.productionLoginUrl}/services/oauth2/authorize/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ tx, username: user.username, password: user.password }).toString(),
    });
    const page = await response.text();
    expect(page).toContain('アクセスを許可しますか? / Allow access?');
    expect(page).toContain('>許可 / Allow</button>');
    expect(page).toContain('>拒否 / Deny</button>');
  });

  it('redirects with code and state, and the token response has Salesforce’s shape without expires_in', async () => {
    const pkce = newPkce();
    const redirect = await completeAuthorization(authorizeUrl(sf, { challenge: pkce.challenge, state: 'xyz' }), user);
    expect(`${redirect.origin}${redirect.pathname}`).toBe(CALLBACK_URL);
    expect(redirect.searchParams.get('state')).toBe('xyz');
    const { status, body } = await exchangeCode(sf, redirect.searchParams.get('code') as string, pkce.verifier);

    expect(status).toBe(200);
    expect(body).not.toHaveProperty('expires_in');
    expect(body.issued_at).toMatch(/^\d{13}$/);
    expect(body.access_token.startsWith(`${org.orgId.slice(0, 15)}!`)).toBe(true);
    expect(body.refresh_token).toEqual(expect.any(String));
    expect(body.instance_url).toBe(org.instanceUrl);
    expect(body.id).toBe(`${sf.productionLoginUrl}/id/${org.orgId}/${user.id}`);
    expect(body.token_type).toBe('Bearer');
    expect(body.scope).toBe('api refresh_token');
    const expected = createHmac('sha256', sf.app.clientSecret)
      .update(body.id + body.issued_at)
      .digest('base64');
    expect(body.signature).toBe(expected);
  });

  it('gives no refresh token unless refresh_token or offline_access is requested', async () => {
    const withoutRefresh = await login(sf, user, { scope: 'api' });
    expect(withoutRefresh).not.toHaveProperty('refresh_token');
    const offline = await login(sf, user, { scope: 'api offline_access' });
    expect(offline.refresh_token).toEqual(expect.any(String));
  });

  it('refuses a redirect_uri that is not a configured callback, without redirecting', async () => {
    const response = await fetch(
      authorizeUrl(sf, { redirectUri: 'http://evil.example/cb', challenge: newPkce().challenge }),
      {
        redirect: 'manual',
      },
    );
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('redirect_uri_mismatch');
  });

  it('answers invalid_request for a wrong PKCE verifier and invalid_grant for a missing one', async () => {
    const first = await authorizeCode(sf, user);
    const wrong = await exchangeCode(sf, first.code, newPkce().verifier);
    expect(wrong).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'invalid code verifier' },
    });

    const second = await authorizeCode(sf, user);
    const missing = await postForm(`${sf.productionLoginUrl}/services/oauth2/token`, {
      grant_type: 'authorization_code',
      code: second.code,
      client_id: sf.app.clientId,
      client_secret: sf.app.clientSecret,
      redirect_uri: CALLBACK_URL,
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_grant');
  });

  it('accepts a code only once', async () => {
    const { code, verifier } = await authorizeCode(sf, user);
    expect((await exchangeCode(sf, code, verifier)).status).toBe(200);
    const again = await exchangeCode(sf, code, verifier);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
  });

  it('requires a code challenge when the app requires PKCE', async () => {
    const redirect = await completeAuthorization(authorizeUrl(sf, { challenge: null }), user);
    expect(redirect.searchParams.get('error')).toBe('invalid_request');
  });

  it('redirects with error=access_denied and the state when the user presses 拒否', async () => {
    const redirect = await completeAuthorization(
      authorizeUrl(sf, { challenge: newPkce().challenge, state: 's1' }),
      user,
      'deny',
    );
    expect(redirect.searchParams.get('error')).toBe('access_denied');
    expect(redirect.searchParams.get('state')).toBe('s1');
  });

  it('shows the login page again with an alert when the password is wrong', async () => {
    await expect(
      completeAuthorization(authorizeUrl(sf, { challenge: newPkce().challenge }), {
        username: user.username,
        password: 'nope',
      }),
    ).rejects.toThrow('login refused');
  });

  it('refuses a sandbox user on the production host and accepts them on the sandbox host', async () => {
    const sandbox = sf.createOrg({ name: 'Acme', sandbox: true });
    const sandboxUser = sandbox.addUser({
      username: 'sb@acme.example.com',
      email: 'sb@acme.example.com',
      lastName: 'SB',
      password: 'pw',
    });
    await expect(
      completeAuthorization(authorizeUrl(sf, { challenge: newPkce().challenge }), sandboxUser),
    ).rejects.toThrow('login refused');
    await expect(
      completeAuthorization(
        authorizeUrl(sf, { challenge: newPkce().challenge, loginUrl: sf.productionLoginUrl }),
        user,
      ),
    ).resolves.toBeInstanceOf(URL);

    const token = await login(sf, sandboxUser, { loginUrl: sf.sandboxLoginUrl });
    expect(token.instance_url).toBe(sandbox.instanceUrl);
    expect(token.id.startsWith(`${sf.sandboxLoginUrl}/id/`)).toBe(true);
    await expect(
      completeAuthorization(authorizeUrl(sf, { challenge: newPkce().challenge, loginUrl: sf.sandboxLoginUrl }), user),
    ).rejects.toThrow('login refused');
  });

  it('lets an org’s users log in at its My Domain', async () => {
    const token = await login(sf, user, { loginUrl: org.instanceUrl });
    expect(token.instance_url).toBe(org.instanceUrl);
  });

  it('redirects with invalid_client "app must be installed into org" when the app is not installed', async () => {
    org.settings.appInstalled = false;
    const redirect = await completeAuthorization(
      authorizeUrl(sf, { challenge: newPkce().challenge, state: 'q' }),
      user,
    );
    expect(redirect.searchParams.get('error')).toBe('invalid_client');
    expect(redirect.searchParams.get('error_description')).toBe('app must be installed into org');
    expect(redirect.searchParams.get('state')).toBe('q');
  });

  it('refreshes without returning a refresh token, and the new access token works', async () => {
    const first = await login(sf, user);
    const { status, body } = await refreshWith(sf, first.refresh_token as string);
    expect(status).toBe(200);
    expect(body).not.toHaveProperty('refresh_token');
    expect(body).not.toHaveProperty('expires_in');
    expect(body.instance_url).toBe(org.instanceUrl);
    expect((await rest(org, body.access_token, 'GET', '/limits')).status).toBe(200);
  });

  it('with rotation on, each refresh returns a new refresh token and kills the old one', async () => {
    org.settings.refreshTokenRotation = true;
    const first = await login(sf, user);
    const rotated = await refreshWith(sf, first.refresh_token as string);
    expect(rotated.body.refresh_token).toEqual(expect.any(String));
    expect(rotated.body.refresh_token).not.toBe(first.refresh_token);
    const reuse = await refreshWith(sf, first.refresh_token as string);
    expect(reuse).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'expired access/refresh token' },
    });
    expect((await refreshWith(sf, rotated.body.refresh_token)).status).toBe(200);
  });

  it(`keeps ${MAX_APPROVALS_PER_USER} approvals per user: the sixth revokes the oldest`, async () => {
    const tokens = [];
    for (let i = 0; i < MAX_APPROVALS_PER_USER + 1; i++) tokens.push(await login(sf, user));
    const oldest = await refreshWith(sf, tokens[0]?.refresh_token as string);
    expect(oldest.body.error).toBe('invalid_grant');
    for (const token of tokens.slice(1))
      expect((await refreshWith(sf, token.refresh_token as string)).status).toBe(200);
    expect(org.approvals(user.id)).toHaveLength(MAX_APPROVALS_PER_USER);
  });

  it('revoking a refresh token takes its access tokens with it', async () => {
    const token = await login(sf, user);
    const revoke = await postForm(`${sf.productionLoginUrl}/services/oauth2/revoke`, {
      token: token.refresh_token as string,
    });
    expect(revoke.status).toBe(200);
    const call = await rest(org, token.access_token, 'GET', '/limits');
    expect(call.status).toBe(401);
    expect(call.body).toEqual([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    expect((await refreshWith(sf, token.refresh_token as string)).body.error).toBe('invalid_grant');
  });

  it('answers 400 invalid_token when revoking an unknown token', async () => {
    const revoke = await postForm(`${sf.productionLoginUrl}/services/oauth2/revoke`, { token: 'nonsense' });
    expect(revoke).toEqual({ status: 400, body: { error: 'invalid_token', error_description: 'invalid token' } });
  });

  it('serves the identity URL to a Bearer token of that user', async () => {
    const token = await login(sf, user);
    const response = await fetch(token.id, { headers: { Authorization: `Bearer ${token.access_token}` } });
    const body = (await response.json()) as { urls: { rest: string } };
    expect(response.status).toBe(200);
    expect(body).toMatchObject({
      user_id: user.id,
      organization_id: org.orgId,
      username: user.username,
      display_name: '山田 花子',
      email: 'yamada@example.jp',
      language: 'ja',
    });
    expect(body.urls.rest).toBe(`${org.instanceUrl}/services/data/v{version}/`);
    const bad = await fetch(token.id, { headers: { Authorization: 'Bearer nope' } });
    expect(bad.status).toBe(403);
  });

  it('expiring access tokens makes REST answer 401 while the refresh token still works', async () => {
    const token = await login(sf, user);
    org.expireAccessTokens();
    expect((await rest(org, token.access_token, 'GET', '/limits')).status).toBe(401);
    const refreshed = await refreshWith(sf, token.refresh_token as string);
    expect((await rest(org, refreshed.body.access_token, 'GET', '/limits')).status).toBe(200);
  });

  it('honours the access-token lifetime through the clock', async () => {
    let now = Date.parse('2026-05-01T00:00:00Z');
    await sf.close();
    ({ sf, org, user } = await startOrg({ now: () => now }));
    org.settings.accessTokenLifetimeMs = 60_000;
    const token = await login(sf, user);
    expect((await rest(org, token.access_token, 'GET', '/limits')).status).toBe(200);
    now += 60_000;
    expect((await rest(org, token.access_token, 'GET', '/limits')).status).toBe(401);
  });

  it('revoking a user’s refresh tokens ends their grants', async () => {
    const token = await login(sf, user);
    expect(org.revokeRefreshTokens(user.id)).toBe(1);
    expect((await refreshWith(sf, token.refresh_token as string)).body.error).toBe('invalid_grant');
  });

  it('refuses refresh without the client secret when the org requires it', async () => {
    const token = await login(sf, user);
    const withoutSecret = await postForm(`${sf.productionLoginUrl}/services/oauth2/token`, {
      grant_type: 'refresh_token',
      refresh_token: token.refresh_token as string,
      client_id: sf.app.clientId,
    });
    expect(withoutSecret.body.error).toBe('invalid_client');
    org.settings.requireSecretForRefresh = false;
    const allowed = await postForm(`${sf.productionLoginUrl}/services/oauth2/token`, {
      grant_type: 'refresh_token',
      refresh_token: token.refresh_token as string,
      client_id: sf.app.clientId,
    });
    expect(allowed.status).toBe(200);
  });

  it('answers unsupported_grant_type and invalid_client_id like Salesforce', async () => {
    const grant = await postForm(`${sf.productionLoginUrl}/services/oauth2/token`, { grant_type: 'magic' });
    expect(grant.body).toEqual({ error: 'unsupported_grant_type', error_description: 'grant type not supported' });
    const client = await postForm(`${sf.productionLoginUrl}/services/oauth2/token`, {
      grant_type: 'refresh_token',
      refresh_token: 'x',
      client_id: 'unknown',
    });
    expect(client.body.error).toBe('invalid_client_id');
  });

  it('refuses a refresh for a user who was deactivated', async () => {
    const token = await login(sf, user);
    org.setUserActive(user.id, false);
    expect((await refreshWith(sf, token.refresh_token as string)).body.error).toBe('invalid_grant');
  });
});
