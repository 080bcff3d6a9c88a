import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { completeAuthorization, seedDemoOrg, startLocalSalesforce, type LocalSalesforce } from '../../local-org';
import { SecretBox } from '../../src/crypto/secret-box';
import { openBridgeStore } from '../../src/repositories';
import { sql } from '../../src/store/sql';
import { exited, freePort, startBridgeProcess, stopProcess } from '../helpers/bridge-process';
import { TEST_SECRET } from '../helpers/payloads';

const ADMIN_TOKEN = 'atomicity-test-admin-token-0123456789';

/**
 * A link is made in one unit of work: the authorisation, the link, its audit entry and the
 * actions it takes over. The bridge is killed right after each of those steps, before the
 * commit; what the restarted bridge finds is the whole link or nothing, never a part.
 */
describe('a link is never half-made', () => {
  let local: LocalSalesforce;
  let dataDir: string;
  let child: ChildProcess | null = null;

  beforeEach(async () => {
    local = await startLocalSalesforce();
    dataDir = mkdtempSync(path.join(tmpdir(), 'relation-bridge-atomic-'));
  });

  afterEach(async () => {
    await stopProcess(child);
    child = null;
    await local.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it.each(['links.saveAuth', 'links.createLink', 'audit.add', 'actions.adoptHeld', 'pendingLinks.deleteOfInbox'])(
    'killed right after %s, the restarted bridge has no link and no authorisation, and links the inbox cleanly',
    async (step) => {
      const org = local.createOrg({ name: 'Atomic' });
      const seeded = seedDemoOrg(org);
      const port = await freePort();
      const baseUrl = `http://127.0.0.1:${port}`;
      local.app.callbackUrls.push(`${baseUrl}/oauth/callback`);
      const encryptionKey = randomBytes(32).toString('base64');
      const env = {
        BRIDGE_PORT: String(port),
        BRIDGE_PUBLIC_URL: baseUrl,
        BRIDGE_DATA_DIR: dataDir,
        BRIDGE_ENCRYPTION_KEY: encryptionKey,
        BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
        WEBHOOK_SECRETS: TEST_SECRET,
        SF_CLIENT_ID: local.app.clientId,
        SF_CLIENT_SECRET: local.app.clientSecret,
        SF_LOGIN_URL_PRODUCTION: local.productionLoginUrl,
        SF_LOGIN_URL_SANDBOX: local.sandboxLoginUrl,
        LOG_LEVEL: 'warn',
      };
      const link = async () => {
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
        return fetch(callback).then(
          (response) => response.status,
          () => 'connection lost',
        );
      };

      child = (await startBridgeProcess({ ...env, BRIDGE_TEST_CRASH_AFTER: step }, 'test/helpers/crashing-bridge.ts'))
        .child;
      expect(await link()).toBe('connection lost');
      expect(await exited(child)).toBe('SIGKILL');

      const store = await openBridgeStore({ dataDir, secretBox: SecretBox.fromKey(encryptionKey) });
      try {
        expect(await store.links.listLinks({ includeDeleted: true })).toEqual([]);
        expect(await store.links.listAuths()).toEqual([]);
        expect(await store.audit.list('12', 10)).toEqual([]);
        expect(await store.database.all(sql`SELECT state FROM oauth_flows`)).toEqual([]);
      } finally {
        await store.close();
      }

      child = (await startBridgeProcess(env)).child;
      expect(await link()).toBe(200);
      const after = await openBridgeStore({ dataDir, secretBox: SecretBox.fromKey(encryptionKey) });
      try {
        const [made] = await after.links.listLinks();
        expect(made).toMatchObject({ inboxId: '12', status: 'active' });
        expect(await after.links.getAuth(made?.authId ?? '')).not.toBeNull();
        expect((await after.audit.list('12', 10)).map((entry) => entry.event)).toEqual(['created']);
      } finally {
        await after.close();
      }
    },
  );
});
