import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { completeAuthorization, type LocalOrg, type LocalSalesforce, type LocalUser } from '../../local-org';
import { isBridgeError, type BridgeError } from '../../src/core/errors';
import { isTrustedSalesforceUrl, localOrgOrigins } from '../../src/salesforce/domains';
import { OAuthClient } from '../../src/salesforce/oauth-client';
import { SalesforceRestClient } from '../../src/salesforce/rest-client';
import type { SessionHooks } from '../../src/salesforce/types';
import { API_VERSION, CALLBACK_URL, startOrg } from '../local-org/support';

/** Somewhere else on this machine: records every request that reaches it. */
async function startElsewhere(): Promise<{
  url: string;
  seen: IncomingMessage[];
  bodies: string[];
  close(): Promise<void>;
}> {
  const seen: IncomingMessage[] = [];
  const bodies: string[] = [];
  const server: Server = createServer((request, response) => {
    seen.push(request);
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      bodies.push(body);
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ access_token: 'stolen', instance_url: 'https://acme.my.salesforce.com' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function caught(promise: Promise<unknown>): Promise<BridgeError> {
  try {
    await promise;
  } catch (error) {
    if (isBridgeError(error)) return error;
    throw error;
  }
  throw new Error('expected a BridgeError');
}

describe('what the bridge trusts from Salesforce', () => {
  let sf: LocalSalesforce;
  let org: LocalOrg;
  let user: LocalUser;
  let elsewhere: Awaited<ReturnType<typeof startElsewhere>>;
  let client: OAuthClient;

  const oauthClient = (loginUrls: string[]) =>
    new OAuthClient({
      clientId: sf.app.clientId,
      clientSecret: sf.app.clientSecret,
      redirectUri: CALLBACK_URL,
      scopes: 'api refresh_token',
      timeoutMs: 5000,
      loginUrls,
    });

  async function code(): Promise<{ code: string; verifier: string }> {
    const pkce = client.createPkce();
    const redirect = await completeAuthorization(
      client.authorizeUrl(sf.productionLoginUrl, { state: 's', codeChallenge: pkce.challenge }),
      user,
    );
    return { code: redirect.searchParams.get('code') as string, verifier: pkce.verifier };
  }

  const tokenBody = (overrides: Record<string, unknown>) => ({
    access_token: '00Dxx!fake',
    instance_url: org.instanceUrl,
    id: `${sf.productionLoginUrl}/id/${org.orgId}/${user.id}`,
    token_type: 'Bearer',
    issued_at: String(Date.now()),
    ...overrides,
  });

  beforeEach(async () => {
    ({ sf, org, user } = await startOrg());
    elsewhere = await startElsewhere();
    client = oauthClient([sf.productionLoginUrl, sf.sandboxLoginUrl]);
  });

  afterEach(async () => {
    await elsewhere.close();
    await sf.close();
  });

  describe('redirects', () => {
    const redirectTo = (path: string, status = 307) =>
      sf.faults.failNext({ path, status, headers: { Location: `${elsewhere.url}/captured` } });

    it('never re-sends the client secret: a 307 from the token endpoint is refused', async () => {
      const { code: authorizationCode, verifier } = await code();
      redirectTo('/services/oauth2/token');
      const error = await caught(client.exchangeCode(sf.productionLoginUrl, authorizationCode, verifier));
      expect(error).toMatchObject({ kind: 'needs_reauth', code: 'REDIRECT_REFUSED', remoteStatus: 307 });
      expect(elsewhere.seen).toHaveLength(0);
      redirectTo('/services/oauth2/token');
      expect(await caught(client.refresh(sf.productionLoginUrl, 'refresh'))).toMatchObject({
        code: 'REDIRECT_REFUSED',
      });
      expect(elsewhere.seen).toHaveLength(0);
    });

    it('refuses a redirect from the revoke endpoint and the identity URL', async () => {
      const { code: authorizationCode, verifier } = await code();
      const token = await client.exchangeCode(sf.productionLoginUrl, authorizationCode, verifier);
      redirectTo('/id/');
      expect(await caught(client.identity(token.identityUrl, token.accessToken))).toMatchObject({
        code: 'REDIRECT_REFUSED',
      });
      sf.faults.failNext({ path: '/services/oauth2/revoke', status: 302, headers: { Location: elsewhere.url } });
      expect(await caught(client.revoke(sf.productionLoginUrl, token.refreshToken as string))).toMatchObject({
        code: 'REDIRECT_REFUSED',
      });
      expect(elsewhere.seen).toHaveLength(0);
    });

    it('never sends the bearer token after a redirect from the REST API', async () => {
      const { code: authorizationCode, verifier } = await code();
      const token = await client.exchangeCode(sf.productionLoginUrl, authorizationCode, verifier);
      const hooks: SessionHooks = {
        getAccessToken: async () => token.accessToken,
        refreshAccessToken: async () => token.accessToken,
        beforeApiCall: async () => undefined,
        afterApiCall: async () => undefined,
      };
      const rest = new SalesforceRestClient({
        instanceUrl: token.instanceUrl,
        apiVersion: API_VERSION,
        hooks,
        timeoutMs: 5000,
        http: client.http,
      });
      for (const status of [301, 302, 303, 307, 308]) {
        redirectTo('/query', status);
        expect(await caught(rest.query('SELECT Id FROM Contact'))).toMatchObject({
          kind: 'needs_reauth',
          code: 'REDIRECT_REFUSED',
          remoteStatus: status,
        });
      }
      expect(elsewhere.seen).toHaveLength(0);
    });
  });

  describe('the token response', () => {
    it.each([
      ['an http instance_url on a Salesforce domain', { instance_url: 'http://acme.my.salesforce.com' }],
      ['an instance_url outside Salesforce', { instance_url: 'https://acme.example.com' }],
      ['a look-alike host', { instance_url: 'https://acme.my.salesforce.com.example.com' }],
      ['a look-alike domain', { instance_url: 'https://acme.evil-salesforce.com' }],
      ['another port', { instance_url: 'https://acme.my.salesforce.com:8443' }],
      ['credentials in the URL', { instance_url: 'https://user:pw@acme.my.salesforce.com' }],
      ["a customer's public site", { instance_url: 'https://acme.my.site.com' }],
      ['an identity URL outside Salesforce', { id: 'https://id.example.com/id/00D/005' }],
    ])('refuses %s', async (_name, overrides) => {
      sf.faults.failNext({ path: '/services/oauth2/token', status: 200, body: tokenBody(overrides) });
      const error = await caught(client.refresh(sf.productionLoginUrl, 'refresh'));
      expect(error).toMatchObject({ kind: 'needs_reauth', code: 'UNTRUSTED_TOKEN_RESPONSE' });
    });

    it('trusts exactly the configured local org origin, not every loopback address', async () => {
      sf.faults.failNext({
        path: '/services/oauth2/token',
        status: 200,
        body: tokenBody({ instance_url: `${elsewhere.url}/orgs/${org.slug}` }),
      });
      expect(await caught(client.refresh(sf.productionLoginUrl, 'refresh'))).toMatchObject({
        code: 'UNTRUSTED_TOKEN_RESPONSE',
        details: { field: 'instance_url' },
      });
      sf.faults.failNext({
        path: '/services/oauth2/token',
        status: 200,
        body: tokenBody({ id: `http://localhost:${new URL(sf.baseUrl).port}/id/${org.orgId}/${user.id}` }),
      });
      expect(await caught(client.refresh(sf.productionLoginUrl, 'refresh'))).toMatchObject({
        details: { field: 'id' },
      });
      expect(await caught(client.identity(`${elsewhere.url}/id/${org.orgId}/${user.id}`, 'token'))).toMatchObject({
        code: 'UNTRUSTED_TOKEN_RESPONSE',
      });
      expect(elsewhere.seen).toHaveLength(0);
    });

    it('accepts a token response on Salesforce domains', async () => {
      sf.faults.failNext({
        path: '/services/oauth2/token',
        status: 200,
        body: tokenBody({
          instance_url: 'https://acme--uat.sandbox.my.salesforce.com/',
          id: 'https://test.salesforce.com/id/00D000000000001AAA/005000000000001AAA',
        }),
      });
      const token = await client.refresh(sf.productionLoginUrl, 'refresh');
      expect(token.instanceUrl).toBe('https://acme--uat.sandbox.my.salesforce.com');
    });

    it('refuses the local org when it is not the configured login host, and revokes the grant it made', async () => {
      client = oauthClient(['https://login.salesforce.com', 'https://test.salesforce.com']);
      const { code: authorizationCode, verifier } = await code();
      const error = await caught(client.exchangeCode(sf.productionLoginUrl, authorizationCode, verifier));
      expect(error).toMatchObject({ kind: 'needs_reauth', code: 'UNTRUSTED_TOKEN_RESPONSE' });
      expect(org.approvals(user.id)).toEqual([]);
    });
  });

  it('knows the Salesforce domains', () => {
    const trusted = [
      'https://login.salesforce.com',
      'https://test.salesforce.com/id/00D/005',
      'https://acme.my.salesforce.com',
      'https://acme--uat.sandbox.my.salesforce.com',
      'https://acme-dev-ed.develop.my.salesforce.com',
      'https://acme.scratch.my.salesforce.com',
      'https://na123.salesforce.com',
      'https://acme.lightning.force.com',
      'https://acme.my.salesforce-setup.com',
      'https://acme.my.salesforce.mil',
      'https://acme.my.sfcrmproducts.cn',
    ];
    const refused = [
      'https://salesforce.com',
      'https://acme.my.site.com',
      'https://acme.my.salesforce-sites.com',
      'https://acme.example.com',
      'http://acme.my.salesforce.com',
      'https://acme.my.salesforce.com:444',
      'https://acme_x.my.salesforce.com',
      'not a url',
      'http://127.0.0.1:8080',
    ];
    expect(trusted.filter((url) => !isTrustedSalesforceUrl(url))).toEqual([]);
    expect(refused.filter((url) => isTrustedSalesforceUrl(url))).toEqual([]);
    const local = localOrgOrigins(['http://127.0.0.1:8080/sandbox', 'https://login.salesforce.com', 'http://[::1]:9']);
    expect(local).toEqual(['http://127.0.0.1:8080', 'http://[::1]:9']);
    expect(isTrustedSalesforceUrl('http://127.0.0.1:8080/orgs/acme', local)).toBe(true);
    expect(isTrustedSalesforceUrl('http://127.0.0.1:8081/orgs/acme', local)).toBe(false);
    expect(isTrustedSalesforceUrl('http://localhost:8080/orgs/acme', local)).toBe(false);
  });
});
