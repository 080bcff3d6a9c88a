import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { LocalOrg } from '../../local-org';
import { sql } from '../../src/store/sql';
import { api, type LinkHarness, startLinkHarness } from './harness';

/**
 * A My Domain typed or pasted into the wizard: the address bar's host is taken to its login
 * host, and that host must answer before the admin's browser is sent there (a typo would end
 * on the browser's DNS error page). The check goes through the bridge's Salesforce transport:
 * through HTTPS_PROXY, within SF_REQUEST_TIMEOUT_MS, following no redirect.
 */

/** A CONNECT proxy that refuses every tunnel and remembers where each was asked to go. */
async function startRefusingProxy(): Promise<{ url: string; asked: string[]; close(): Promise<void> }> {
  const asked: string[] = [];
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let head = '';
    client.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      asked.push(head.split(' ')[1] ?? '');
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    asked,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

let harness: LinkHarness;
let proxy: Awaited<ReturnType<typeof startRefusingProxy>>;
let org: LocalOrg;

beforeAll(async () => {
  proxy = await startRefusingProxy();
  harness = await startLinkHarness({
    env: { HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1,localhost', SF_REQUEST_TIMEOUT_MS: '1000' },
  });
  org = harness.local.createOrg({ name: 'Acme' });
});

afterAll(async () => {
  await harness.close();
  await proxy.close();
});

const authorize = (myDomain: string, inboxId = '8') =>
  api(harness, 'POST', '/links/authorize', { inboxId, environment: 'custom', myDomain, target: 'contact' });

describe('a My Domain typed or pasted into the wizard', () => {
  it('takes a pasted Lightning address to its My Domain, and refuses it when that host does not answer; nothing is started', async () => {
    const refused = await authorize('https://acme--uat.sandbox.lightning.force.com/lightning/page/home?tab=1');
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      error: 'my_domain_unreachable',
      details: { host: 'acme--uat.sandbox.my.salesforce.com' },
    });
    expect(proxy.asked).toEqual(['acme--uat.sandbox.my.salesforce.com:443']);
    expect(await harness.store.database.all(sql`SELECT state FROM oauth_flows`)).toEqual([]);
  });

  it("accepts the local org's My Domain pasted with a page and a query, and starts the flow there", async () => {
    const started = await authorize(`${org.instanceUrl}/lightning/page/home?tab=1#top`);
    expect(started.status).toBe(201);
    expect(started.body.authorizeUrl.startsWith(`${org.instanceUrl}/services/oauth2/authorize?`)).toBe(true);
  });

  it('refuses a host that answers "no such page" (a typo in the org part), naming the host', async () => {
    const typo = `${harness.local.baseUrl}/orgs/acme-typo`;
    const refused = await authorize(typo, '9');
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'my_domain_unreachable', details: { loginUrl: typo } });
  });

  it('counts a redirect as an answer and never follows it', async () => {
    let followed = 0;
    const elsewhere = createServer((_req, res) => {
      followed += 1;
      res.end('followed');
    });
    const elsewhereUrl = await listen(elsewhere);
    let asked = 0;
    const redirecting = createServer((_req, res) => {
      asked += 1;
      res.writeHead(302, { location: `${elsewhereUrl}/login` }).end();
    });
    const redirectingUrl = await listen(redirecting);
    try {
      const started = await authorize(redirectingUrl, '10');
      expect(started.status).toBe(201);
      expect(asked).toBe(1);
      expect(followed).toBe(0);
    } finally {
      await closeServer(redirecting);
      await closeServer(elsewhere);
    }
  });

  it('gives up on a host that never answers within SF_REQUEST_TIMEOUT_MS', async () => {
    const silent = createServer(() => undefined);
    const silentUrl = await listen(silent);
    try {
      const refused = await authorize(silentUrl, '11');
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error: 'my_domain_unreachable', details: { why: 'no answer in time' } });
    } finally {
      await closeServer(silent);
    }
  });
});
