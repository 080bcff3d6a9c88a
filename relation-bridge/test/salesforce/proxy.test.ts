import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { completeAuthorization, type LocalOrg, type LocalSalesforce, type LocalUser } from '../../local-org';
import { ConfigError, loadConfig, salesforceProxy } from '../../src/config';
import { isBridgeError, type BridgeError } from '../../src/core/errors';
import { bypassesProxy, SalesforceHttp, type ProxySettings } from '../../src/salesforce/http';
import { OAuthClient } from '../../src/salesforce/oauth-client';
import { SalesforceRestClient } from '../../src/salesforce/rest-client';
import type { SessionHooks } from '../../src/salesforce/types';
import { API_VERSION, CALLBACK_URL, startOrg } from '../local-org/support';

/**
 * A corporate proxy in miniature: answers CONNECT (optionally asking for Basic credentials),
 * then relays bytes both ways. It records each tunnel it opened and never sees inside one.
 */
async function startProxy(options: { credentials?: string } = {}): Promise<{
  url: string;
  tunnels: string[];
  /** Bytes the client sent into each tunnel, in the order of `tunnels`. */
  relayed: number[];
  refused: number;
  close(): Promise<void>;
}> {
  const state = { tunnels: [] as string[], relayed: [] as number[], refused: 0 };
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData);
      const [requestLine = '', ...headerLines] = head.slice(0, end).split('\r\n');
      const [method, authority] = requestLine.split(' ');
      const authorization = headerLines
        .find((line) => line.toLowerCase().startsWith('proxy-authorization:'))
        ?.slice('proxy-authorization:'.length)
        .trim();
      if (method !== 'CONNECT' || authority === undefined) {
        client.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n');
        return;
      }
      if (
        options.credentials !== undefined &&
        authorization !== `Basic ${Buffer.from(options.credentials).toString('base64')}`
      ) {
        state.refused += 1;
        client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n');
        return;
      }
      const [host, port] = [
        authority.slice(0, authority.lastIndexOf(':')),
        authority.slice(authority.lastIndexOf(':') + 1),
      ];
      const upstream = connect(Number(port), host.replace(/^\[|\]$/g, ''), () => {
        const index = state.tunnels.push(authority) - 1;
        state.relayed.push(0);
        client.on('data', (chunk: Buffer) => (state.relayed[index] = (state.relayed[index] ?? 0) + chunk.length));
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        const rest = Buffer.from(head.slice(end + 4), 'latin1');
        if (rest.length > 0) upstream.write(rest);
        client.pipe(upstream).pipe(client);
      });
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://${options.credentials === undefined ? '' : `${options.credentials}@`}127.0.0.1:${(server.address() as AddressInfo).port}`,
    get tunnels() {
      return state.tunnels;
    },
    get relayed() {
      return state.relayed;
    },
    get refused() {
      return state.refused;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
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

describe('outbound calls to Salesforce through a corporate proxy', () => {
  let sf: LocalSalesforce;
  let org: LocalOrg;
  let user: LocalUser;
  let proxy: Awaited<ReturnType<typeof startProxy>>;

  beforeEach(async () => {
    ({ sf, org, user } = await startOrg());
  });

  afterEach(async () => {
    await proxy.close();
    await sf.close();
  });

  /** The OAuth web-server flow, the identity URL, a query and a search, all through `http`. */
  async function linkAndSync(http: SalesforceHttp): Promise<void> {
    const oauth = new OAuthClient({
      clientId: sf.app.clientId,
      clientSecret: sf.app.clientSecret,
      redirectUri: CALLBACK_URL,
      scopes: 'api refresh_token',
      timeoutMs: 5000,
      loginUrls: [sf.productionLoginUrl],
      http,
    });
    const pkce = oauth.createPkce();
    // The browser's part of the flow does not go through the bridge, nor its proxy.
    const redirect = await completeAuthorization(
      oauth.authorizeUrl(sf.productionLoginUrl, { state: 's', codeChallenge: pkce.challenge }),
      user,
    );
    const token = await oauth.exchangeCode(
      sf.productionLoginUrl,
      redirect.searchParams.get('code') as string,
      pkce.verifier,
    );
    expect((await oauth.identity(token.identityUrl, token.accessToken)).organizationId).toBe(org.orgId);
    let accessToken = token.accessToken;
    const hooks: SessionHooks = {
      getAccessToken: async () => accessToken,
      refreshAccessToken: async () => {
        accessToken = (await oauth.refresh(sf.productionLoginUrl, token.refreshToken as string)).accessToken;
        return accessToken;
      },
      beforeApiCall: async () => undefined,
      afterApiCall: async () => undefined,
    };
    const rest = new SalesforceRestClient({
      instanceUrl: token.instanceUrl,
      apiVersion: API_VERSION,
      hooks,
      timeoutMs: 5000,
      http: oauth.http,
    });
    const contact = org.addContact({ LastName: '山田', Email: 'taro@example.jp', Phone: '03-1234-5678' });
    org.expireAccessTokens();
    expect(await rest.query("SELECT Id FROM Contact WHERE Email = 'taro@example.jp'")).toEqual([
      expect.objectContaining({ Id: contact }),
    ]);
    expect(await rest.search('FIND {0312345678} IN PHONE FIELDS RETURNING Contact(Id)')).toEqual([
      expect.objectContaining({ Id: contact }),
    ]);
    await oauth.revoke(sf.productionLoginUrl, token.refreshToken as string);
  }

  it('sends the token exchange, identity, refresh, REST and revoke calls through HTTPS_PROXY', async () => {
    proxy = await startProxy();
    const local = new URL(sf.baseUrl).host;
    const settings = salesforceProxy(loadConfig({ HTTPS_PROXY: proxy.url, NO_PROXY: 'intranet.example.jp' }));
    await linkAndSync(new SalesforceHttp({ proxy: settings }));
    // Token exchange, identity, refresh, query (twice: the first meets the expired token), search, revoke.
    expect(proxy.tunnels).toHaveLength(7);
    expect(new Set(proxy.tunnels)).toEqual(new Set([local]));
    expect(proxy.relayed.every((bytes) => bytes > 0)).toBe(true);
    expect(org.apiCalls()).toEqual({ total: 2, byEndpoint: { 'GET /query': 1, 'GET /search': 1 } });
  });

  it('goes direct to hosts NO_PROXY names', async () => {
    proxy = await startProxy();
    const settings = salesforceProxy(loadConfig({ https_proxy: proxy.url, no_proxy: 'localhost, 127.0.0.1' }));
    await linkAndSync(new SalesforceHttp({ proxy: settings }));
    expect(proxy.tunnels).toEqual([]);
  });

  it('sends the proxy credentials from the URL, and turns a refused tunnel into a retryable error', async () => {
    proxy = await startProxy({ credentials: 'bridge:s3cret' });
    await linkAndSync(new SalesforceHttp({ proxy: { httpsProxy: proxy.url, noProxy: [] } }));
    expect(proxy.tunnels.length).toBeGreaterThan(0);
    const wrong = proxy.url.replace('s3cret', 'wrong');
    const oauth = new OAuthClient({
      clientId: sf.app.clientId,
      clientSecret: sf.app.clientSecret,
      redirectUri: CALLBACK_URL,
      scopes: 'api',
      timeoutMs: 5000,
      http: new SalesforceHttp({ proxy: { httpsProxy: wrong, noProxy: [] } }),
    });
    const error = await caught(oauth.refresh(sf.productionLoginUrl, 'refresh'));
    expect(error).toMatchObject({ kind: 'retryable', code: 'PROXY_ERROR', details: { proxyStatus: 407 } });
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain('s3cret');
    expect(proxy.refused).toBe(1);
  });

  describe('TLS through the tunnel', () => {
    let dir: string;
    let server: HttpsServer;

    afterEach(async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      rmSync(dir, { recursive: true, force: true });
    });

    it('speaks TLS end to end with the Salesforce host, the proxy seeing only its name', async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'proxy-tls-'));
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost',
          '-keyout',
          path.join(dir, 'key.pem'),
          '-out',
          path.join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const cert = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
      const seen: Array<{ servername: string | false | null; authorization: string | undefined }> = [];
      server = createHttpsServer({ key: readFileSync(path.join(dir, 'key.pem')), cert }, (request, response) => {
        seen.push({
          servername: (request.socket as import('node:tls').TLSSocket).servername,
          authorization: request.headers.authorization,
        });
        response.writeHead(200, { 'Content-Type': 'application/json', 'Sforce-Limit-Info': 'api-usage=5/15000' });
        response.end('{"DailyApiRequests":{"Max":15000,"Remaining":14995}}');
      });
      // Bound by name, so that it listens where the proxy will resolve `localhost` to.
      await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
      const port = (server.address() as AddressInfo).port;
      proxy = await startProxy();
      const settings: ProxySettings = { httpsProxy: proxy.url, noProxy: [] };
      let limit: unknown = null;
      const rest = new SalesforceRestClient({
        instanceUrl: `https://localhost:${port}`,
        apiVersion: API_VERSION,
        timeoutMs: 5000,
        http: new SalesforceHttp({ proxy: settings, ca: cert }),
        hooks: {
          getAccessToken: async () => 'token-abc',
          refreshAccessToken: async () => 'token-abc',
          beforeApiCall: async () => undefined,
          afterApiCall: async (info) => {
            limit = info;
          },
        },
      });
      expect(await rest.limits()).toEqual({ DailyApiRequests: { Max: 15000, Remaining: 14995 } });
      expect(limit).toEqual({ used: 5, max: 15000 });
      expect(proxy.tunnels).toEqual([`localhost:${port}`]);
      expect(proxy.relayed[0]).toBeGreaterThan(0);
      expect(seen).toEqual([{ servername: 'localhost', authorization: 'Bearer token-abc' }]);
      const untrusting = new SalesforceRestClient({
        instanceUrl: `https://localhost:${port}`,
        apiVersion: API_VERSION,
        timeoutMs: 5000,
        http: new SalesforceHttp({ proxy: settings }),
        hooks: {
          getAccessToken: async () => 'token-abc',
          refreshAccessToken: async () => 'token-abc',
          beforeApiCall: async () => undefined,
          afterApiCall: async () => undefined,
        },
      });
      expect(await caught(untrusting.limits())).toMatchObject({ kind: 'retryable', code: 'NETWORK_ERROR' });
      expect(seen).toHaveLength(1);
    });
  });
});

describe('proxy settings', () => {
  it('reads HTTPS_PROXY and NO_PROXY through the configuration, upper case first', () => {
    expect(salesforceProxy(loadConfig({}))).toEqual({ httpsProxy: null, noProxy: [] });
    expect(
      salesforceProxy(
        loadConfig({ HTTPS_PROXY: 'proxy.corp.example.jp:3128', https_proxy: 'http://other:1', no_proxy: 'a, .b c' }),
      ),
    ).toEqual({ httpsProxy: 'http://proxy.corp.example.jp:3128/', noProxy: ['a', '.b', 'c'] });
    expect(() => loadConfig({ HTTPS_PROXY: 'https://proxy.example.jp:443' })).toThrow(ConfigError);
    expect(() => loadConfig({ HTTPS_PROXY: 'http://' })).toThrow(ConfigError);
  });

  it.each([
    ['https://acme.my.salesforce.com', ['*'], true],
    ['https://acme.my.salesforce.com', ['salesforce.com'], true],
    ['https://acme.my.salesforce.com', ['.salesforce.com'], true],
    ['https://acme.my.salesforce.com', ['*.my.salesforce.com'], true],
    ['https://salesforce.com', ['.salesforce.com'], true],
    ['https://acme.my.salesforce.com', ['force.com'], false],
    ['https://notsalesforce.com', ['salesforce.com'], false],
    ['https://acme.my.salesforce.com', ['acme.my.salesforce.com:443'], true],
    ['https://acme.my.salesforce.com', ['acme.my.salesforce.com:8443'], false],
    ['http://127.0.0.1:8080/orgs/acme', ['127.0.0.1'], true],
    ['http://127.0.0.1:8080/orgs/acme', ['127.0.0.0/8'], true],
    ['http://10.1.2.3', ['10.0.0.0/8'], true],
    ['http://192.168.1.1', ['10.0.0.0/8'], false],
    ['http://[::1]:8080', ['::1'], true],
    ['http://[::1]:8080', ['::1/128'], true],
    ['http://localhost:8080', ['127.0.0.1'], false],
    ['https://login.salesforce.com', ['', ' '], false],
  ])('%s with NO_PROXY %j bypasses the proxy: %s', (url, noProxy, expected) => {
    expect(bypassesProxy(new URL(url), noProxy)).toBe(expected);
  });
});
