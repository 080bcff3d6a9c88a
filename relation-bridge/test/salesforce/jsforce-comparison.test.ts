import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection, OAuth2 } from '@jsforce/jsforce-node';
import { completeAuthorization, type LocalOrg, type LocalSalesforce, type LocalUser } from '../../local-org';
import { isBridgeError, type BridgeError } from '../../src/core/errors';
import { SalesforceHttp } from '../../src/salesforce/http';
import { OAuthClient } from '../../src/salesforce/oauth-client';
import { SalesforceRestClient } from '../../src/salesforce/rest-client';
import { soqlString } from '../../src/salesforce/soql';
import type { NewRecord, SessionHooks } from '../../src/salesforce/types';
import { API_VERSION, CALLBACK_URL, eventFor, startOrg } from '../local-org/support';

/**
 * The measured comparison behind docs/salesforce-client.md: jsforce 3.10.16 (the version
 * this repository pins, Node 20) against the bridge's own client, on the same local org and
 * the same faults. Each test states one finding and fails when it stops being true, so a
 * jsforce upgrade that changes it shows up here. Run it alone to print the table:
 *
 *   npx jest relation-bridge/test/salesforce/jsforce-comparison.test.ts --selectProjects bridge
 *
 * "jsforce" is used through its public API as documented (a Connection with oauth2 and a
 * refresh token, OAuth2 for the web-server flow); "jsforce, hardened" adds every per-request
 * option its types offer (`retry: { maxRetries: 0 }`, `followRedirect: false`, `timeout`).
 */

const rows: Array<[string, string, string]> = [];
const row = (what: string, jsforce: string, ours: string) => rows.push([what, jsforce, ours]);

const HARDENED = { retry: { maxRetries: 0 }, followRedirect: false, timeout: 5000 };

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return null;
}

function described(error: unknown): string {
  if (isBridgeError(error)) return `${error.kind} / ${error.code}`;
  if (error instanceof Error) {
    const code = (error as { errorCode?: unknown }).errorCode;
    return `${error.name}${typeof code === 'string' && code !== error.name ? ` / ${code}` : ''}: ${error.message.split('\n')[0]}`;
  }
  return String(error);
}

/** Elsewhere on this machine: records what reaches it, answers with a token-shaped body. */
async function startElsewhere(): Promise<{ url: string; seen: IncomingMessage[]; close(): Promise<void> }> {
  const seen: IncomingMessage[] = [];
  const server: Server = createServer((request, response) => {
    seen.push(request);
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(
        JSON.stringify({
          access_token: 'from-elsewhere',
          instance_url: 'https://elsewhere.example.com',
          id: 'https://elsewhere.example.com/id/00D/005',
          totalSize: 0,
          done: true,
          records: [],
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

class CountingSession implements SessionHooks {
  calls = 0;
  refreshes = 0;
  constructor(
    private readonly oauth: OAuthClient,
    private readonly loginUrl: string,
    public accessToken: string,
    private readonly refreshToken: string,
  ) {}
  async getAccessToken() {
    return this.accessToken;
  }
  async refreshAccessToken() {
    this.refreshes += 1;
    this.accessToken = (await this.oauth.refresh(this.loginUrl, this.refreshToken)).accessToken;
    return this.accessToken;
  }
  async beforeApiCall() {
    this.calls += 1;
  }
  async afterApiCall(): Promise<void> {
    return undefined;
  }
}

describe('jsforce 3.10.16 against the bridge’s client, measured on the local org', () => {
  let sf: LocalSalesforce;
  let org: LocalOrg;
  let user: LocalUser;
  let elsewhere: Awaited<ReturnType<typeof startElsewhere>>;
  let oauth: OAuthClient;
  let tokens: { accessToken: string; refreshToken: string; instanceUrl: string };
  let session: CountingSession;
  let ours: SalesforceRestClient;

  const jsforce = () =>
    new Connection({
      oauth2: {
        clientId: sf.app.clientId,
        clientSecret: sf.app.clientSecret,
        redirectUri: CALLBACK_URL,
        loginUrl: sf.productionLoginUrl,
      },
      instanceUrl: tokens.instanceUrl,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      version: API_VERSION,
    });

  beforeEach(async () => {
    ({ sf, org, user } = await startOrg());
    elsewhere = await startElsewhere();
    oauth = new OAuthClient({
      clientId: sf.app.clientId,
      clientSecret: sf.app.clientSecret,
      redirectUri: CALLBACK_URL,
      scopes: 'api refresh_token',
      timeoutMs: 5000,
      loginUrls: [sf.productionLoginUrl],
    });
    const pkce = oauth.createPkce();
    const redirect = await completeAuthorization(
      oauth.authorizeUrl(sf.productionLoginUrl, { state: 's', codeChallenge: pkce.challenge }),
      user,
    );
    const token = await oauth.exchangeCode(
      sf.productionLoginUrl,
      redirect.searchParams.get('code') as string,
      pkce.verifier,
    );
    tokens = {
      accessToken: token.accessToken,
      refreshToken: token.refreshToken as string,
      instanceUrl: token.instanceUrl,
    };
    session = new CountingSession(oauth, sf.productionLoginUrl, tokens.accessToken, tokens.refreshToken);
    ours = new SalesforceRestClient({
      instanceUrl: tokens.instanceUrl,
      apiVersion: API_VERSION,
      hooks: session,
      timeoutMs: 5000,
    });
    org.resetApiCalls();
  });

  afterEach(async () => {
    await elsewhere.close();
    await sf.close();
  });

  afterAll(() => {
    const width = [0, 1, 2].map((column) => Math.max(...rows.map((r) => r[column]?.length ?? 0), 8));
    const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(width[i] as number)).join(' | ')} |`;
    process.stdout.write(
      [
        line(['measured', 'jsforce 3.10.16', 'bridge client']),
        line(width.map((w) => '-'.repeat(w))),
        ...rows.map((r) => line(r)),
      ].join('\n') + '\n',
    );
  });

  it('API calls on the happy path: the same once the bundling is ours, nearly three times as many the idiomatic way', async () => {
    const contact = org.addContact({ LastName: '山田', Email: 'person0@example.jp', Phone: '03-1234-5678' });
    const soqls = Array.from(
      { length: 12 },
      (_unused, index) => `SELECT Id FROM Contact WHERE Email = ${soqlString(`person${index}@example.jp`)}`,
    );
    const sosls = Array.from({ length: 2 }, () => 'FIND {0312345678} IN PHONE FIELDS RETURNING Contact(Id)');
    const records = () =>
      Array.from({ length: 450 }, (_unused, index) => eventFor(org, contact, { inbx__Action_Id__c: `a_${index}` }));

    await ours.queryMany(soqls);
    await ours.searchMany(sosls);
    await ours.createRecords(records() as NewRecord[]);
    const ourCalls = org.apiCalls().total;

    const conn = jsforce();
    const refused = await caught(conn.sobject('Event').create(records(), { allOrNone: false }));
    org.resetApiCalls();
    for (const soql of soqls) await conn.query(soql);
    for (const sosl of sosls) await conn.search(sosl);
    await conn.sobject('Event').create(records(), { allOrNone: false, allowRecursive: true });
    const idiomatic = org.apiCalls().total;

    // The same bundling, sent through jsforce's Connection.request: the transport does not change the count.
    org.resetApiCalls();
    const base = `/services/data/v${API_VERSION}`;
    for (let start = 0; start < soqls.length; start += 5) {
      const compositeRequest = soqls.slice(start, start + 5).map((soql, index) => ({
        method: 'GET',
        url: `${base}/query?q=${encodeURIComponent(soql)}`,
        referenceId: `q${index}`,
      }));
      await conn.requestPost('/composite', { allOrNone: false, compositeRequest });
    }
    for (const sosl of sosls) await conn.search(sosl);
    const all = records();
    await conn.requestPost('/composite', {
      allOrNone: false,
      compositeRequest: [0, 200, 400].map((start, index) => ({
        method: 'POST',
        url: `${base}/composite/sobjects`,
        referenceId: `c${index}`,
        body: { allOrNone: false, records: all.slice(start, start + 200) },
      })),
    });
    const bundled = org.apiCalls().total;

    row(
      '12 queries, 2 searches, 450 Events: API calls',
      `${idiomatic} the idiomatic way (one call a query; create() of 450 at once is refused, ` +
        `${described(refused).split(':')[0]}; allowRecursive: 200 a call); ${bundled} with our bundling on Connection.request`,
      `${ourCalls} (5 queries a composite call, collections of 200 five a call)`,
    );
    expect(ourCalls).toBe(3 + 2 + 1);
    expect(bundled).toBe(ourCalls);
    expect(idiomatic).toBe(12 + 2 + 3);
  });

  it('a GET that meets two 503s: jsforce retries them unseen (each a request the budget never saw)', async () => {
    const ourFault = sf.faults.serverError({ path: '/query', count: 2 });
    const ourError = await caught(ours.query('SELECT Id FROM Contact'));
    const ourRequests = 2 - ourFault.remaining();
    ourFault.remove();

    const fault = sf.faults.serverError({ path: '/query', count: 2 });
    await jsforce().query('SELECT Id FROM Contact');
    const jsforceRequests = 2 - fault.remaining() + org.apiCalls().total;

    const hardened = sf.faults.serverError({ path: '/query', count: 2 });
    const hardenedError = await caught(
      jsforce().request({ method: 'GET', url: `/query?q=${encodeURIComponent('SELECT Id FROM Contact')}` }, HARDENED),
    );
    row(
      'GET meeting two 503s: requests sent',
      `${jsforceRequests} (then success; hardened: 1, ${described(hardenedError)})`,
      `${ourRequests} (${described(ourError)}; the sync retries later, counted and budget-checked)`,
    );
    expect(jsforceRequests).toBe(3);
    expect(ourRequests).toBe(1);
    expect(hardened.remaining()).toBe(1);
  });

  it('an access token Salesforce keeps refusing: jsforce refreshes and retries for as long as it is refused', async () => {
    const ourFault = sf.faults.failNext({
      path: '/query',
      count: 20,
      status: 401,
      body: [{ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' }],
    });
    const ourError = await caught(ours.query('SELECT Id FROM Contact'));
    const ourRequests = 20 - ourFault.remaining();
    ourFault.remove();

    const fault = sf.faults.failNext({
      path: '/query',
      count: 20,
      status: 401,
      body: [{ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' }],
    });
    let refreshes = 0;
    const conn = jsforce();
    conn.on('refresh', () => (refreshes += 1));
    await conn.query('SELECT Id FROM Contact');
    row(
      '401 twenty times in a row: requests / token refreshes',
      `${20 - fault.remaining() + 1} / ${refreshes} (stops only when the 401s do)`,
      `${ourRequests} / ${session.refreshes} (${described(ourError)})`,
    );
    expect(refreshes).toBe(20);
    expect(ourRequests).toBe(3);
    expect(session.refreshes).toBe(2);
  });

  it('a revoked refresh token: jsforce’s error keeps no code, only a sentence', async () => {
    org.revokeRefreshTokens();
    org.expireAccessTokens();
    const jsforceError = await caught(Promise.resolve(jsforce().query('SELECT Id FROM Contact')));
    const ourError = (await caught(ours.query('SELECT Id FROM Contact'))) as BridgeError;
    row('refresh token revoked: what the caller gets', described(jsforceError), described(ourError));
    expect((jsforceError as Error).name).toBe('Error');
    expect((jsforceError as { errorCode?: unknown }).errorCode).toBeUndefined();
    expect(ourError).toMatchObject({ kind: 'needs_reauth', code: 'invalid_grant' });
  });

  it('errors: jsforce drops the HTTP status; a revoke of an unknown token is not recognisable', async () => {
    const busy = () =>
      sf.faults.failNext({
        path: '/limits',
        status: 503,
        body: [{ errorCode: 'SERVICE_DEGRADED', message: 'a code this client has never seen' }],
      });
    busy();
    const jsforceBusy = await caught(jsforce().request('/limits', HARDENED));
    busy();
    const ourBusy = await caught(ours.limits());
    const jsforceRevoke = await caught(
      new OAuth2({ loginUrl: sf.productionLoginUrl, clientId: sf.app.clientId }).revokeToken('unknown-token'),
    );
    const ourRevoke = await caught(oauth.revoke(sf.productionLoginUrl, 'unknown-token'));
    row(
      '503 with an errorCode the client does not know',
      `${described(jsforceBusy)} (no status kept: reads like a refusal)`,
      `${described(ourBusy)} (status 503 kept)`,
    );
    row(
      'revoke of a token Salesforce no longer knows (400 invalid_token)',
      described(jsforceRevoke),
      ourRevoke === null ? 'treated as revoked' : described(ourRevoke),
    );
    expect(jsforceBusy).toMatchObject({ name: 'SERVICE_DEGRADED' });
    expect((jsforceBusy as { statusCode?: unknown }).statusCode).toBeUndefined();
    expect(ourBusy).toMatchObject({ kind: 'retryable', remoteStatus: 503 });
    expect((jsforceRevoke as Error).name).toBe('ERROR_HTTP_400');
    expect(ourRevoke).toBeNull();
  });

  it('a 307 from the REST API: jsforce follows it with the bearer token; hardened, it calls it a success', async () => {
    const redirect = () =>
      sf.faults.failNext({ path: '/limits', status: 307, headers: { Location: `${elsewhere.url}/captured` } });
    redirect();
    await jsforce().request('/limits');
    const leaked = elsewhere.seen[0]?.headers.authorization === `Bearer ${tokens.accessToken}`;
    redirect();
    const hardenedResult = await jsforce().request('/limits', HARDENED);
    const seenBefore = elsewhere.seen.length;
    redirect();
    const ourError = await caught(ours.limits());
    row(
      '307 from /limits to another origin',
      `followed: the other origin got the bearer token (${leaked}); hardened: resolves with ${JSON.stringify(hardenedResult)}`,
      `${described(ourError)}, nothing sent elsewhere`,
    );
    expect(leaked).toBe(true);
    expect(elsewhere.seen.length).toBe(seenBefore);
    expect(ourError).toMatchObject({ code: 'REDIRECT_REFUSED' });
  });

  it('a 307 from the token endpoint: jsforce takes the other origin’s answer as the token response', async () => {
    sf.faults.failNext({
      path: '/services/oauth2/token',
      status: 307,
      headers: { Location: `${elsewhere.url}/token` },
    });
    const oauth2 = new OAuth2({
      loginUrl: sf.productionLoginUrl,
      clientId: sf.app.clientId,
      clientSecret: sf.app.clientSecret,
    });
    const answer = (await oauth2.refreshToken(tokens.refreshToken)) as { instance_url?: string; access_token?: string };
    sf.faults.failNext({
      path: '/services/oauth2/token',
      status: 307,
      headers: { Location: `${elsewhere.url}/token` },
    });
    const ourError = await caught(oauth.refresh(sf.productionLoginUrl, tokens.refreshToken));
    row(
      '307 from the token endpoint',
      `followed (as GET); accepted instance_url ${answer.instance_url}`,
      described(ourError),
    );
    expect(answer.access_token).toBe('from-elsewhere');
    expect(ourError).toMatchObject({ code: 'REDIRECT_REFUSED' });
  });

  it('an instance_url outside Salesforce on refresh: jsforce moves every later call, token included, there', async () => {
    org.expireAccessTokens();
    // A token the org accepts, in an answer that names another instance.
    const valid = (await oauth.refresh(sf.productionLoginUrl, tokens.refreshToken)).accessToken;
    const answer = {
      access_token: valid,
      instance_url: elsewhere.url,
      id: `${elsewhere.url}/id/${org.orgId}/${user.id}`,
      token_type: 'Bearer',
      issued_at: String(Date.now()),
    };
    sf.faults.failNext({ path: '/services/oauth2/token', status: 200, body: answer });
    const conn = jsforce();
    await conn.query('SELECT Id FROM Contact');
    await conn.query('SELECT Id FROM Contact');
    const moved = elsewhere.seen.find((request) => request.headers.authorization === `Bearer ${valid}`);
    sf.faults.failNext({ path: '/services/oauth2/token', status: 200, body: answer });
    const ourError = await caught(ours.query('SELECT Id FROM Contact'));
    row(
      'refresh answer naming another instance_url',
      `adopted: the next request went there with the token (${moved !== undefined})`,
      described(ourError),
    );
    expect(moved).toBeDefined();
    expect(ourError).toMatchObject({ kind: 'needs_reauth', code: 'UNTRUSTED_TOKEN_RESPONSE' });
  });

  it('HTTPS_PROXY and NO_PROXY: jsforce reads HTTPS_PROXY itself at import, and knows no NO_PROXY', async () => {
    const tunnels: string[] = [];
    const sockets = new Set<Socket>();
    const proxy = createTcpServer((client) => {
      sockets.add(client);
      client.once('data', (head: Buffer) => {
        const authority = head.toString('latin1').split(' ')[1] ?? '';
        tunnels.push(authority);
        const upstream = connect(
          Number(authority.split(':').pop()),
          authority.slice(0, authority.lastIndexOf(':')),
          () => {
            client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
            client.pipe(upstream).pipe(client);
          },
        );
        sockets.add(upstream);
        upstream.on('error', () => client.destroy());
      });
      client.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const script = `
      const { Connection } = require('@jsforce/jsforce-node');
      new Connection({ instanceUrl: process.argv[1], accessToken: process.argv[2], version: '${API_VERSION}' })
        .request('/limits').then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); });`;
    await promisify(execFile)(process.execPath, ['-e', script, tokens.instanceUrl, tokens.accessToken], {
      cwd: path.resolve(__dirname, '../..'),
      env: { PATH: process.env.PATH ?? '', HTTPS_PROXY: proxyUrl, NO_PROXY: '127.0.0.1,localhost' },
    });
    const jsforceTunnels = tunnels.length;
    const http = new SalesforceHttp({ proxy: { httpsProxy: proxyUrl, noProxy: ['127.0.0.1', 'localhost'] } });
    await new SalesforceRestClient({
      instanceUrl: tokens.instanceUrl,
      apiVersion: API_VERSION,
      hooks: session,
      timeoutMs: 5000,
      http,
    }).limits();
    row(
      'HTTPS_PROXY set, NO_PROXY naming the host',
      `${jsforceTunnels} tunnel through the proxy (env read at import, NO_PROXY ignored)`,
      `${tunnels.length - jsforceTunnels} (proxy settings from config.ts; NO_PROXY honoured)`,
    );
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
    expect(jsforceTunnels).toBe(1);
    expect(tunnels.length).toBe(jsforceTunnels);
  });

  it('PKCE: jsforce’s own verifier is longer than RFC 7636 allows', () => {
    const verifier = new OAuth2({ clientId: 'x', useVerifier: true }).codeVerifier as string;
    const ourVerifier = oauth.createPkce().verifier;
    row('PKCE code_verifier length (RFC 7636: 43–128)', String(verifier.length), String(ourVerifier.length));
    expect(verifier.length).toBeGreaterThan(128);
    expect(ourVerifier.length).toBe(43);
  });
});
