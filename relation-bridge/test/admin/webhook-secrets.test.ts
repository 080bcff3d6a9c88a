import path from 'node:path';
import Database from 'better-sqlite3';
import { type BridgeHarness, startBridgeHarness } from '../helpers/bridge-harness';
import { actionPayload, sendWebhook, TEST_SECRET } from '../helpers/payloads';

/** Rotating the webhook secret from the admin API: several active at once, encrypted at rest. */

let harness: BridgeHarness;

beforeAll(async () => {
  harness = await startBridgeHarness();
});

afterAll(async () => {
  await harness.close();
});

describe('webhook secrets', () => {
  it('a generated secret is accepted at once next to the configured one, until it is revoked', async () => {
    const before = await harness.admin('GET', '/webhook-secrets');
    expect(before.body.secrets).toEqual([
      expect.objectContaining({ id: 'config-1', source: 'config', label: 'WEBHOOK_SECRETS', createdAt: null }),
    ]);
    expect(JSON.stringify(before.body)).not.toContain(TEST_SECRET);

    const added = await harness.admin('POST', '/webhook-secrets', { label: '2026 rotation' });
    expect(added).toMatchObject({
      status: 201,
      body: { source: 'console', label: '2026 rotation', createdBy: 'BRIDGE_ADMIN_TOKEN' },
    });
    const secret = added.body.secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);

    expect((await sendWebhook(harness.baseUrl, actionPayload(), { secret })).status).toBe(202);
    expect((await sendWebhook(harness.baseUrl, actionPayload())).status).toBe(202);
    const listed = await harness.admin('GET', '/webhook-secrets');
    expect(listed.body.secrets.map((entry: { id: string }) => entry.id)).toEqual(['config-1', added.body.id]);
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    expect((await harness.admin('DELETE', `/webhook-secrets/${added.body.id}`)).status).toBe(204);
    expect((await sendWebhook(harness.baseUrl, actionPayload(), { secret })).status).toBe(401);
    expect((await sendWebhook(harness.baseUrl, actionPayload())).status).toBe(202);
  });

  it('an entered secret is kept encrypted in the store and is never given back', async () => {
    const entered = `whsec_${Buffer.from('a secret the helpdesk generated!').toString('base64')}`;
    const added = await harness.admin('POST', '/webhook-secrets', { label: 'from the helpdesk', secret: entered });
    expect(added.body.secret).toBeNull();
    expect((await sendWebhook(harness.baseUrl, actionPayload(), { secret: entered })).status).toBe(202);
    const raw = new Database(path.join(harness.dataDir, 'bridge.db'), { readonly: true });
    try {
      const rows = raw.prepare('SELECT * FROM webhook_secrets').all() as Array<{ secret_enc: string }>;
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row.secret_enc).toMatch(/^v1\./);
      expect(JSON.stringify(rows)).not.toContain(entered.slice('whsec_'.length));
    } finally {
      raw.close();
    }
  });

  it('refuses secrets that are not Standard Webhooks secrets, and the configured ones cannot be revoked here', async () => {
    expect((await harness.admin('POST', '/webhook-secrets', { label: 'x', secret: 'not-a-secret' })).status).toBe(400);
    expect((await harness.admin('POST', '/webhook-secrets', { label: 'x', secret: 'whsec_c2hvcnQ=' })).status).toBe(
      400,
    );
    expect((await harness.admin('DELETE', '/webhook-secrets/config-1')).body.error).toBe('configured_secret');
    expect((await harness.admin('DELETE', '/webhook-secrets/whs_missing')).body.error).toBe('webhook_secret_not_found');
  });
});
