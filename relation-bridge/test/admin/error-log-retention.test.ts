import { type BridgeHarness, startBridgeHarness } from '../helpers/bridge-harness';
import { actionPayload, sendWebhook } from '../helpers/payloads';

/**
 * RETENTION_DAYS applies to the error log too: failed and unmatched actions older than it are
 * purged by the housekeeping; held actions stay, since they wait for a re-authentication.
 */

const DAY = 86_400_000;
let harness: BridgeHarness;
let offset = 0;

beforeAll(async () => {
  harness = await startBridgeHarness({ now: () => Date.now() + offset, env: { RETENTION_DAYS: '30' } });
});

afterAll(async () => {
  await harness.close();
});

describe('error log retention', () => {
  it('purges synced, failed and unmatched actions older than RETENTION_DAYS, not younger ones, and keeps held ones', async () => {
    const link = await harness.linkInbox({ inboxId: '12', target: 'contact' });
    const contact = harness.seeded.contacts[0]?.email as string;
    const removeRule = harness.org.addValidationRule({
      object: 'Event',
      name: 'Blocked',
      message: 'この件名は登録できません',
      when: (record) => String(record.Subject ?? '').includes('登録不可'),
    });
    const unmatched = actionPayload({ inboxId: '12', emails: ['nobody@unknown.example.jp'] });
    const failed = actionPayload({ inboxId: '12', emails: [contact], title: '登録不可の件' });
    const synced = actionPayload({ inboxId: '12', emails: [contact], title: 'お見積り' });
    for (const payload of [unmatched, failed, synced]) await sendWebhook(harness.baseUrl, payload);
    await harness.bridge.engine.runUntilIdle();
    removeRule();
    expect((await harness.bridge.store.actions.get(unmatched.action.id))?.state).toBe('unmatched');
    expect((await harness.bridge.store.actions.get(failed.action.id))?.state).toBe('failed');
    expect((await harness.bridge.store.actions.get(synced.action.id))?.state).toBe('synced');

    harness.org.revokeRefreshTokens();
    harness.org.expireAccessTokens();
    const held = actionPayload({ inboxId: '12', emails: [contact] });
    await sendWebhook(harness.baseUrl, held);
    await harness.bridge.engine.runUntilIdle();
    expect((await harness.bridge.store.actions.get(held.action.id))?.state).toBe('held');
    expect((await harness.admin('GET', '/actions?inboxId=12')).body.retentionDays).toBe(30);

    offset = 29 * DAY;
    expect(await harness.bridge.housekeeping.runOnce()).toMatchObject({ finishedPurged: 0, errorLogPurged: 0 });
    expect(await harness.bridge.store.actions.get(unmatched.action.id)).not.toBeNull();
    offset = 31 * DAY;
    expect(await harness.bridge.housekeeping.runOnce()).toMatchObject({ finishedPurged: 1, errorLogPurged: 2 });
    expect(await harness.bridge.store.actions.get(synced.action.id)).toBeNull();
    expect(await harness.bridge.store.actions.get(unmatched.action.id)).toBeNull();
    expect(await harness.bridge.store.actions.get(failed.action.id)).toBeNull();
    expect((await harness.bridge.store.actions.get(held.action.id))?.state).toBe('held');
    expect((await harness.bridge.store.links.getLink(link.id))?.status).toBe('needs_reauth');
  });
});
