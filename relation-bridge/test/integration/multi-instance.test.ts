import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { completeAuthorization, seedDemoOrg, startLocalSalesforce, type LocalSalesforce } from '../../local-org';
import { createBridge, type Bridge } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logging';
import { bridgeStoreOn } from '../../src/repositories';
import { OAuthClient } from '../../src/salesforce/oauth-client';
import { SalesforceSessions } from '../../src/sync/sessions';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../store/databases';
import { actionPayload, sendAll, TEST_SECRET } from '../helpers/payloads';

const ADMIN_TOKEN = 'multi-instance-admin-token-0123456789';
const LEASE_MS = 1_500;

/**
 * Several bridge instances on one PostgreSQL database, each with its own HTTP server and
 * engine, against one local org: work is shared, one instance writes to an org at a time, a
 * dead instance's claims pass on once their lease ends, one refresh serves every instance,
 * and the API budget is counted across them.
 */
const describeOnPostgres = DIALECTS.includes('postgres') ? describe : describe.skip;

describeOnPostgres('several bridges on one PostgreSQL', () => {
  let database: TestDatabase;
  let local: LocalSalesforce;
  const bridges: Array<{ bridge: Bridge; server: Server; baseUrl: string }> = [];

  async function startInstance(name: string): Promise<{ bridge: Bridge; baseUrl: string }> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    local.app.callbackUrls.push(`${baseUrl}/oauth/callback`);
    const config = loadConfig({
      BRIDGE_PUBLIC_URL: baseUrl,
      BRIDGE_DATA_DIR: database.dataDir,
      BRIDGE_DATABASE_URL: database.databaseUrl,
      BRIDGE_ENCRYPTION_KEY: database.encryptionKey,
      BRIDGE_INSTANCE_ID: name,
      BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
      WEBHOOK_SECRETS: TEST_SECRET,
      SF_CLIENT_ID: local.app.clientId,
      SF_CLIENT_SECRET: local.app.clientSecret,
      SF_LOGIN_URL_PRODUCTION: local.productionLoginUrl,
      SF_LOGIN_URL_SANDBOX: local.sandboxLoginUrl,
      SF_REQUEST_TIMEOUT_MS: '2000',
      SYNC_UNCERTAIN_WAIT_MS: '0',
      SYNC_LEASE_MS: String(LEASE_MS),
      SYNC_LINGER_MS: '20',
      LOG_LEVEL: 'silent',
    });
    const bridge = await createBridge(config, { logger: createLogger('silent') });
    server.on('request', bridge.app);
    bridges.push({ bridge, server, baseUrl });
    return { bridge, baseUrl };
  }

  beforeEach(async () => {
    database = await createTestDatabase('postgres');
    local = await startLocalSalesforce();
  });

  afterEach(async () => {
    for (const { bridge, server } of bridges.splice(0)) {
      await bridge.close().catch(() => undefined);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await local.close();
    await database.drop();
  });

  async function linkThrough(baseUrl: string, seeded: ReturnType<typeof seedDemoOrg>): Promise<void> {
    const started = await fetch(`${baseUrl}/api/v1/links/authorize`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ inboxId: '12', inboxName: '営業窓口', environment: 'production', target: 'contact' }),
    });
    const { authorizeUrl } = (await started.json()) as { authorizeUrl: string };
    const callback = await completeAuthorization(authorizeUrl, {
      username: seeded.authorizingUser.username,
      password: seeded.authorizingUser.password,
    });
    expect((await fetch(callback)).status).toBe(200);
  }

  it('shares the work: webhooks taken by any instance are synced once each, whichever instance syncs', async () => {
    const org = local.createOrg({ name: 'Shared' });
    const seeded = seedDemoOrg(org);
    const instances = await Promise.all(['a', 'b', 'c'].map((name) => startInstance(name)));
    await linkThrough(instances[1]!.baseUrl, seeded);
    const payloads = Array.from({ length: 90 }, (_, index) =>
      actionPayload({ emails: [seeded.contacts[index % 10]!.email!] }),
    );
    await Promise.all(
      instances.map(({ baseUrl }, index) =>
        sendAll(
          baseUrl,
          payloads.filter((_, at) => at % 3 === index),
        ),
      ),
    );
    await Promise.all(instances.map(({ bridge }) => bridge.engine.runUntilIdle()));
    const events = org.records('Event');
    expect(events).toHaveLength(90);
    for (const payload of payloads) {
      expect(events.filter((event) => event.inbx__Action_Id__c === payload.action.id)).toHaveLength(1);
    }
  });

  it('lets one instance write to an org at a time: another holding the org waits it out', async () => {
    const org = local.createOrg({ name: 'One Writer' });
    const seeded = seedDemoOrg(org);
    const [a, b] = await Promise.all([startInstance('a'), startInstance('b')]);
    await linkThrough(a.baseUrl, seeded);
    const payloads = Array.from({ length: 5 }, (_, index) =>
      actionPayload({ emails: [seeded.contacts[index]!.email!] }),
    );
    await sendAll(b.baseUrl, payloads);
    // Instance a is writing to the org (it holds the org's lease, renewing it).
    expect(await a.bridge.store.orgs.acquireLease(`org:${org.orgId}`, 'a', 60_000, Date.now())).toBe(true);
    await b.bridge.engine.runUntilIdle();
    expect(org.records('Event')).toHaveLength(0);
    await a.bridge.store.orgs.releaseLease(`org:${org.orgId}`, 'a');
    await b.bridge.engine.runUntilIdle();
    expect(org.records('Event')).toHaveLength(5);
  });

  it("passes a dead instance's claims to another once their lease ends, with nothing sent twice", async () => {
    const org = local.createOrg({ name: 'Takeover' });
    const seeded = seedDemoOrg(org);
    const [a, b] = await Promise.all([startInstance('a'), startInstance('b')]);
    await linkThrough(a.baseUrl, seeded);
    const payloads = Array.from({ length: 8 }, (_, index) =>
      actionPayload({ emails: [seeded.contacts[index]!.email!] }),
    );
    await sendAll(a.baseUrl, payloads);
    // Instance a classified and claimed the actions, then died without a word.
    await a.bridge.store.transaction(async (tx) => {
      const received = await tx.actions.lockReceived(null, 100);
      const [link] = await tx.links.listLinks();
      await tx.actions.applyClassifications(
        received.map((action) => ({
          rowKey: action.rowKey,
          state: 'pending' as const,
          reason: null,
          linkId: link!.id,
          orgId: link!.orgId,
        })),
        Date.now(),
      );
    });
    const claimed = await a.bridge.store.actions.claimDue({
      orgId: org.orgId,
      limit: 100,
      leaseOwner: 'a',
      leaseMs: LEASE_MS,
      now: Date.now(),
    });
    expect(claimed).toHaveLength(8);
    await b.bridge.engine.runUntilIdle();
    expect(org.records('Event')).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 100));
    await b.bridge.engine.runUntilIdle();
    expect(org.records('Event')).toHaveLength(8);
    for (const payload of payloads) {
      expect((await b.bridge.store.actions.get(payload.action.id))?.state).toBe('synced');
    }
  });

  it('refreshes an expired token once for every instance, even where Salesforce rotates refresh tokens', async () => {
    const org = local.createOrg({ name: 'Rotating' });
    org.settings.refreshTokenRotation = true;
    const seeded = seedDemoOrg(org);
    const [a] = await Promise.all([startInstance('a')]);
    await linkThrough(a.baseUrl, seeded);
    const [auth] = await a.bridge.store.links.listAuths();
    org.expireAccessTokens();

    let refreshes = 0;
    const sessionsOf = (instanceId: string, now: () => number = Date.now) => {
      const oauth = new OAuthClient({
        clientId: local.app.clientId,
        clientSecret: local.app.clientSecret,
        redirectUri: `${a.baseUrl}/oauth/callback`,
        scopes: 'api refresh_token',
        timeoutMs: 5_000,
      });
      const refresh = oauth.refresh.bind(oauth);
      oauth.refresh = async (...args) => {
        refreshes += 1;
        return refresh(...args);
      };
      return new SalesforceSessions({
        store: bridgeStoreOn(a.bridge.store.database, database.secretBox),
        oauth,
        logger: createLogger('silent'),
        now,
        instanceId,
        settings: { apiVersion: '66.0', timeoutMs: 5_000, budgetShare: 0.5, budgetPauseMs: 60_000 },
      });
    };
    const instances = ['x', 'y', 'z'].map((id) => sessionsOf(id));
    const answers = await Promise.all(
      instances.map((sessions) => sessions.clientFor(auth!).query('SELECT Id FROM User LIMIT 1')),
    );
    expect(answers.every((records) => records.length === 1)).toBe(true);
    expect(refreshes).toBe(1);
    // Later (Salesforce sessions last 15 minutes at least), that token expires too: an instance
    // still holding an older one refreshes again, with the one rotated refresh token the store keeps.
    org.expireAccessTokens();
    const later = sessionsOf('later', () => Date.now() + 15 * 60_000);
    await expect(later.clientFor(auth!).query('SELECT Id FROM User LIMIT 1')).resolves.toHaveLength(1);
    expect(refreshes).toBe(2);
  });

  it('counts the API budget across instances: the share used by one is used for all', async () => {
    const org = local.createOrg({ name: 'Budget', dailyApiMax: 1_000 });
    const seeded = seedDemoOrg(org);
    const [a, b] = await Promise.all([startInstance('a'), startInstance('b')]);
    await linkThrough(a.baseUrl, seeded);
    const [auth] = await a.bridge.store.links.listAuths();
    // SYNC_API_BUDGET_SHARE is 0.1 by default: 100 of the org's 1,000 calls, less the health reserve.
    await a.bridge.store.orgs.recordApiCalls(org.orgId, 98, Date.now(), { used: 98, max: 1_000 });
    await sendAll(b.baseUrl, [actionPayload({ emails: [seeded.contacts[0]!.email!] })]);
    await b.bridge.engine.runUntilIdle();
    expect(org.records('Event')).toHaveLength(0);
    expect((await b.bridge.store.orgs.getState(org.orgId)).pausedUntil).not.toBeNull();
    expect(auth).toBeDefined();
  });
});
