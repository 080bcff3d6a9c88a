import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { completeAuthorization, seedDemoOrg, startLocalSalesforce, type LocalSalesforce } from '../../local-org';
import { SecretBox } from '../../src/crypto/secret-box';
import { openBridgeStore } from '../../src/repositories';
import { exited, freePort, startBridgeProcess } from '../helpers/bridge-process';
import { actionPayload, sendAll, TEST_SECRET } from '../helpers/payloads';

const ADMIN_TOKEN = 'crash-test-admin-token-0123456789';

describe('crash recovery', () => {
  let local: LocalSalesforce;
  let child: ChildProcess | null = null;
  let dataDir: string;

  afterEach(async () => {
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
    await local.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('when the bridge is killed after Salesforce accepted a batch and before it committed the result, the restarted bridge finds exactly one Event per action', async () => {
    local = await startLocalSalesforce();
    const org = local.createOrg({ name: 'Crash Test' });
    const seeded = seedDemoOrg(org);
    dataDir = mkdtempSync(path.join(tmpdir(), 'relation-bridge-crash-'));
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
      SYNC_LEASE_MS: '1500',
      // A send of the killed bridge can be answered for this long: the restarted one looks it up after.
      SF_REQUEST_TIMEOUT_MS: '1500',
      SYNC_UNCERTAIN_WAIT_MS: '0',
      SYNC_LINGER_MS: '200',
      SYNC_POLL_MS: '100',
      LOG_LEVEL: 'warn',
    };

    child = (await startBridgeProcess(env)).child;
    const started = await fetch(`${baseUrl}/api/v1/links/authorize`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        inboxId: '12',
        inboxName: '営業窓口',
        environment: 'production',
        target: 'contact_then_lead',
      }),
    });
    const { authorizeUrl } = (await started.json()) as { authorizeUrl: string };
    const callback = await completeAuthorization(authorizeUrl, {
      username: seeded.authorizingUser.username,
      password: seeded.authorizingUser.password,
    });
    expect((await fetch(callback)).status).toBe(200);

    // Salesforce commits the Events, then the answer is held: the bridge is killed right then.
    const hold = local.faults.holdAfterCommit({ path: '/composite', method: 'POST' });
    const holding = hold.waitForHold();
    const payloads = Array.from({ length: 20 }, (_, i) => actionPayload({ emails: [seeded.contacts[i % 10]!.email!] }));
    await sendAll(baseUrl, payloads);
    const commit = await holding;
    child.kill('SIGKILL');
    expect(await exited(child)).toBe('SIGKILL');
    hold.remove();
    hold.release();

    expect(commit.records).toHaveLength(20);
    expect(org.records('Event')).toHaveLength(20);
    const store = await openBridgeStore({ dataDir, secretBox: SecretBox.fromKey(encryptionKey) });
    const afterCrash = await Promise.all(payloads.map((p) => store.actions.get(p.action.id)));
    await store.close();
    for (const action of afterCrash) {
      expect(action?.state).toBe('pending');
      expect(action?.writeAttemptedAt).not.toBeNull();
    }

    child = (await startBridgeProcess(env)).child;
    let synced = 0;
    for (let round = 0; round < 300 && synced < payloads.length; round += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const health = await fetch(`${baseUrl}/api/v1/inboxes/12/health`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      synced = ((await health.json()) as { counts: { synced: number } }).counts.synced;
    }
    expect(synced).toBe(payloads.length);

    const events = org.records('Event');
    expect(events).toHaveLength(20);
    for (const payload of payloads) {
      expect(events.filter((e) => e.inbx__Action_Id__c === payload.action.id)).toHaveLength(1);
    }
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });
});
