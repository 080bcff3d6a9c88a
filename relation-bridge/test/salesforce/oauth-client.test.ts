import { createServer } from 'node:net';
import { completeAuthorization, type LocalOrg, type LocalSalesforce, type LocalUser } from '../../local-org';
import { isBridgeError, type BridgeError } from '../../src/core/errors';
import { OAuthClient } from '../../src/salesforce/oauth-client';
import type { TokenResponse } from '../../src/salesforce/types';
import { CALLBACK_URL, startOrg } from '../local-org/support';

async function caught(promise: Promise<unknown>): Promise<BridgeError> {
  try {
    await promise;
  } catch (error) {
    if (isBridgeError(error)) return error;
    throw error;
  }
  throw new Error('expected a BridgeError');
}

/** A port that refuses connections: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('OAuthClient against the local org', () => {
  let sf: LocalSalesforce;
  let org: LocalOrg;
  let user: LocalUser;
  let client: OAuthClient;

  beforeEach(async () => {
    ({ sf, org, user } = await startOrg());
    client = new OAuthClient({
      clientId: sf.app.clientId,
      clientSecret: sf.app.clientSecret,
      redirectUri: CALLBACK_URL,
      scopes: 'api refresh_token',
      timeoutMs: 5000,
    });
  });

  afterEach(async () => {
    await sf.close();
  });

  async function authorize(loginUrl = sf.productionLoginUrl): Promise<TokenResponse> {
    const pkce = client.createPkce();
    const redirect = await completeAuthorization(
      client.authorizeUrl(loginUrl, { state: 'st', codeChallenge: pkce.challenge }),
      user,
    );
    expect(redirect.searchParams.get('state')).toBe('st');
    return client.exchangeCode(loginUrl, redirect.searchParams.get('code') as string, pkce.verifier);
  }

  it('builds an authorize URL with PKCE, state, scope and prompt', () => {
    const url = new URL(
      client.authorizeUrl(`${sf.productionLoginUrl}/`, {
        state: 's',
        codeChallenge: 'c'.repeat(43),
        prompt: 'login consent',
      }),
    );
    expect(url.pathname).toBe('/services/oauth2/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: sf.app.clientId,
      redirect_uri: CALLBACK_URL,
      scope: 'api refresh_token',
      state: 's',
      code_challenge: 'c'.repeat(43),
      code_challenge_method: 'S256',
      prompt: 'login consent',
    });
  });

  it('creates a 43-character verifier with its S256 challenge', () => {
    const { verifier, challenge } = client.createPkce();
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(client.createPkce().verifier).not.toBe(verifier);
  });

  it('exchanges a code for tokens through the whole web-server flow', async () => {
    const token = await authorize();
    expect(token).toEqual({
      accessToken: expect.stringMatching(/^00D/),
      refreshToken: expect.any(String),
      instanceUrl: org.instanceUrl,
      identityUrl: `${sf.productionLoginUrl}/id/${org.orgId}/${user.id}`,
      scope: 'api refresh_token',
      issuedAt: expect.any(Number),
    });
    expect(token.issuedAt).toBeGreaterThan(1e12);
  });

  it('refreshes: no refresh token in the answer unless the org rotates them', async () => {
    const first = await authorize();
    const refreshed = await client.refresh(sf.productionLoginUrl, first.refreshToken as string);
    expect(refreshed.refreshToken).toBeNull();
    expect(refreshed.accessToken).not.toBe(first.accessToken);
    org.settings.refreshTokenRotation = true;
    const rotated = await client.refresh(sf.productionLoginUrl, first.refreshToken as string);
    expect(rotated.refreshToken).toEqual(expect.any(String));
    const old = await caught(client.refresh(sf.productionLoginUrl, first.refreshToken as string));
    expect(old).toMatchObject({ kind: 'needs_reauth', code: 'invalid_grant' });
  });

  it('revokes a refresh token, after which refresh needs re-authentication; revoking twice is fine', async () => {
    const token = await authorize();
    await client.revoke(sf.productionLoginUrl, token.refreshToken as string);
    await expect(client.revoke(sf.productionLoginUrl, token.refreshToken as string)).resolves.toBeUndefined();
    const error = await caught(client.refresh(sf.productionLoginUrl, token.refreshToken as string));
    expect(error.kind).toBe('needs_reauth');
    expect(error.message).not.toContain(token.refreshToken as string);
  });

  it('reads the identity URL', async () => {
    const token = await authorize();
    expect(await client.identity(token.identityUrl, token.accessToken)).toEqual({
      userId: user.id,
      organizationId: org.orgId,
      username: user.username,
      displayName: '山田 花子',
      email: 'yamada@example.jp',
      language: 'ja',
    });
    const refused = await caught(client.identity(token.identityUrl, 'bogus'));
    expect(refused.kind).toBe('needs_reauth');
  });

  it('works against a sandbox login host', async () => {
    const sandbox = sf.createOrg({ name: 'Acme', sandbox: true });
    user = sandbox.addUser({
      username: 'sb@acme.example.com',
      email: 'sb@acme.example.com',
      lastName: 'SB',
      password: 'pw',
    });
    const token = await authorize(sf.sandboxLoginUrl);
    expect(token.instanceUrl).toBe(sandbox.instanceUrl);
  });

  it('maps a wrong client secret to a permanent error that does not reveal the secret', async () => {
    const pkce = client.createPkce();
    const redirect = await completeAuthorization(
      client.authorizeUrl(sf.productionLoginUrl, { state: 's', codeChallenge: pkce.challenge }),
      user,
    );
    const wrong = new OAuthClient({
      clientId: sf.app.clientId,
      clientSecret: 'wrong-secret',
      redirectUri: CALLBACK_URL,
      scopes: ['api'],
      timeoutMs: 5000,
    });
    const error = await caught(
      wrong.exchangeCode(sf.productionLoginUrl, redirect.searchParams.get('code') as string, pkce.verifier),
    );
    expect(error).toMatchObject({ kind: 'permanent', code: 'invalid_client' });
    expect(JSON.stringify({ message: error.message, remote: error.remoteMessage })).not.toContain('wrong-secret');
  });

  it('maps rate_limit_exceeded to retryable with a later retryAt, and 503 to retryable', async () => {
    const token = await authorize();
    sf.faults.failNext({
      path: '/services/oauth2/token',
      status: 400,
      body: { error: 'rate_limit_exceeded', error_description: 'rate limit exceeded' },
    });
    const before = Date.now();
    const limited = await caught(client.refresh(sf.productionLoginUrl, token.refreshToken as string));
    expect(limited.kind).toBe('retryable');
    expect(limited.retryAt).toBeGreaterThan(before);
    sf.faults.serverError({ path: '/services/oauth2/token' });
    expect((await caught(client.refresh(sf.productionLoginUrl, token.refreshToken as string))).kind).toBe('retryable');
  });

  it('maps an unreachable login host and a hung one to retryable', async () => {
    const unreachable = await caught(client.refresh(`http://127.0.0.1:${await closedPort()}`, 'x'));
    expect(unreachable).toMatchObject({ kind: 'retryable', code: 'NETWORK_ERROR' });
    const impatient = new OAuthClient({
      clientId: sf.app.clientId,
      clientSecret: sf.app.clientSecret,
      redirectUri: CALLBACK_URL,
      scopes: 'api',
      timeoutMs: 200,
    });
    const hang = sf.faults.hangNext({ path: '/services/oauth2/token' });
    const timedOut = await caught(impatient.refresh(sf.productionLoginUrl, 'x'));
    expect(timedOut).toMatchObject({ kind: 'retryable', code: 'TIMEOUT' });
    hang.release();
  });
});
