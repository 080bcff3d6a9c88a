import type { StoredAction } from '../../src/core/types';
import { startBridgeHarness, type BridgeHarness } from '../helpers/bridge-harness';
import { actionPayload, sendAll } from '../helpers/payloads';

const TARO = 'taro.yamada@example.co.jp';
const HEALTH = 'inbx__Inbox_Sync_Health__c';
const HEALTH_UPSERT = `PATCH /composite/sobjects/${HEALTH}/inbx__Inbox_Id__c`;
const MARKER = '\n\n…(以下省略 / truncated) 全文 / full text: ';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function actionsOf(h: BridgeHarness, ids: string[]): Promise<StoredAction[]> {
  return Promise.all(ids.map(async (id) => (await h.bridge.store.actions.get(id)) as StoredAction));
}

/** Runs the engine (and lets short intervals pass) until `check` holds; bounded. */
async function eventually(h: BridgeHarness, check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let round = 0; round < 150; round += 1) {
    await h.bridge.engine.runUntilIdle();
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`gave up waiting for ${what}`);
}

function healthOf(h: BridgeHarness, inboxId: string): Record<string, unknown> | undefined {
  return h.org.records(HEALTH).find((record) => record.inbx__Inbox_Id__c === inboxId);
}

function healthUpserts(h: BridgeHarness): number {
  return h.org.apiCalls().byEndpoint[HEALTH_UPSERT] ?? 0;
}

describe('the Salesforce link policy over the helpdesk link', () => {
  let h: BridgeHarness;

  afterEach(async () => {
    await h.close();
  });

  it('holds an inactive inbox’s actions as disabled_in_salesforce, writes no Event, and syncs them once when it is active again', async () => {
    h = await startBridgeHarness({ env: { SF_POLICY_CACHE_MS: '1000' } });
    await h.linkInbox();
    h.org.setCustomMetadata('Inbox_Link', 'Inbox_12', { Inbox_Id__c: '12', Active__c: false });

    const first = Array.from({ length: 3 }, () => actionPayload({ emails: [TARO] }));
    await sendAll(h.baseUrl, first);
    await h.bridge.engine.runUntilIdle();
    const later = actionPayload({ emails: [TARO] });
    await sendAll(h.baseUrl, [later]);
    await h.bridge.engine.runUntilIdle();

    const ids = [...first, later].map((p) => p.action.id);
    for (const action of await actionsOf(h, ids)) {
      expect([action.state, action.reason]).toEqual(['held', 'disabled_in_salesforce']);
    }
    expect(h.org.records('Event')).toHaveLength(0);
    const log = await h.admin<{ actions: Array<{ actionId: string; state: string; reason: string }> }>(
      'GET',
      '/actions?inboxId=12&state=held',
    );
    expect(log.body.actions.map((a) => [a.state, a.reason])).toEqual(Array(4).fill(['held', 'disabled_in_salesforce']));
    expect(healthOf(h, '12')).toMatchObject({ inbx__Link_State__c: 'Disabled', inbx__Pending__c: 3 });

    h.org.setCustomMetadata('Inbox_Link', 'Inbox_12', { Active__c: true });
    await eventually(
      h,
      async () => (await actionsOf(h, ids)).every((a) => a.state === 'synced'),
      'the held actions to sync once the policy is active',
    );
    await h.bridge.engine.runUntilIdle();
    for (const id of ids) expect(h.eventsFor(id)).toHaveLength(1);
    expect(h.org.records('Event')).toHaveLength(4);
    const synced = await h.bridge.store.actions.get(later.action.id);
    expect(synced?.match?.policy).toMatchObject({ source: 'salesforce', record: 'Inbox_12' });
  });

  it('lets a policy target override the link’s: the Event lands on the Lead although a Contact matches', async () => {
    h = await startBridgeHarness();
    const contactId = h.org.addContact({ LastName: '二重', Email: 'both@kokyaku.example.jp' });
    const leadId = h.org.addLead({ LastName: '二重', Company: '二重商事', Email: 'both@kokyaku.example.jp' });
    await h.linkInbox({ target: 'contact_then_lead' });
    h.org.setCustomMetadata('Inbox_Link', 'Inbox_12', { Inbox_Id__c: '12', Active__c: true, Target__c: 'Lead' });

    const payload = actionPayload({ emails: ['both@kokyaku.example.jp'] });
    await sendAll(h.baseUrl, [payload]);
    await h.bridge.engine.runUntilIdle();

    const action = await h.bridge.store.actions.get(payload.action.id);
    expect(action?.state).toBe('synced');
    expect(h.eventsFor(payload.action.id)).toEqual([expect.objectContaining({ WhoId: leadId })]);
    expect(action?.match?.rule).toMatch(/^lead_by_email/);
    expect(action?.match?.candidates.map((c) => c.id)).not.toContain(contactId);
    expect(action?.match?.policy).toMatchObject({ source: 'salesforce', record: 'Inbox_12', target: 'lead' });
  });

  it('writes no message text with body capture None, and the first N characters with the marker with First_N', async () => {
    h = await startBridgeHarness();
    await h.linkInbox({ inboxId: '12' });
    await h.linkInbox({ inboxId: '13', inboxName: 'サポート窓口' });
    h.org.setCustomMetadata('Inbox_Link', 'Inbox_12', { Inbox_Id__c: '12', Active__c: true, Body_Capture__c: 'None' });
    h.org.setCustomMetadata('Inbox_Link', 'Inbox_13', {
      Inbox_Id__c: '13',
      Active__c: true,
      Body_Capture__c: 'First_N',
      Body_Max_Chars__c: 100,
    });
    const body = 'お見積りの内容について詳しくご説明いたします。'.repeat(20);
    const none = actionPayload({ inboxId: '12', emails: [TARO], body });
    const cut = actionPayload({ inboxId: '13', inboxName: 'サポート窓口', emails: [TARO], body });
    const short = actionPayload({ inboxId: '13', inboxName: 'サポート窓口', emails: [TARO], body: '短い本文' });
    await sendAll(h.baseUrl, [none, cut, short]);
    await h.bridge.engine.runUntilIdle();

    const [noneEvent] = h.eventsFor(none.action.id);
    expect(noneEvent?.Description ?? '').toBe('');
    expect(noneEvent).toMatchObject({ Subject: '[メール・受信] お問い合わせ', ShowAs: 'Free', DurationInMinutes: 0 });
    expect(h.eventsFor(cut.action.id)[0]?.Description).toBe(`${body.slice(0, 100)}${MARKER}${cut.ticket.url}`);
    expect(h.eventsFor(short.action.id)[0]?.Description).toBe('短い本文');
    expect((await h.bridge.store.actions.get(cut.action.id))?.match?.policy).toMatchObject({
      bodyCapture: 'first_n',
      bodyMaxChars: 100,
    });
  });

  it('owns Events by the policy’s default owner, and by the link’s when the policy’s owner is inactive', async () => {
    h = await startBridgeHarness();
    const link12 = await h.linkInbox({ inboxId: '12' });
    const link13 = await h.linkInbox({ inboxId: '13' });
    const [, suzuki, takahashi, tanaka] = h.seeded.users;
    if (suzuki === undefined || takahashi === undefined || tanaka === undefined) throw new Error('seed changed');
    expect(tanaka.isActive).toBe(false);
    h.org.setCustomMetadata('Inbox_Link', 'Inbox_12', {
      Inbox_Id__c: '12',
      Active__c: true,
      Default_Owner_Id__c: suzuki.id,
    });
    h.org.setCustomMetadata('Inbox_Link', 'Inbox_13', {
      Inbox_Id__c: '13',
      Active__c: true,
      Default_Owner_Id__c: tanaka.id.slice(0, 15),
    });
    const byPolicy = actionPayload({ inboxId: '12', emails: [TARO], operatorEmail: null });
    const byOperator = actionPayload({ inboxId: '12', emails: [TARO], operatorEmail: takahashi.email });
    const fallback = actionPayload({ inboxId: '13', emails: [TARO], operatorEmail: null });
    await sendAll(h.baseUrl, [byPolicy, byOperator, fallback]);
    await h.bridge.engine.runUntilIdle();

    expect(h.eventsFor(byPolicy.action.id)[0]?.OwnerId).toBe(suzuki.id);
    expect(h.eventsFor(byOperator.action.id)[0]?.OwnerId).toBe(takahashi.id);
    expect(h.eventsFor(fallback.action.id)[0]?.OwnerId).toBe(link13.defaultOwnerId);
    expect(link12.defaultOwnerId).not.toBe(suzuki.id);
    const recorded = (await h.bridge.store.actions.get(fallback.action.id))?.match?.policy;
    expect(recorded).toMatchObject({ source: 'salesforce', defaultOwnerId: link13.defaultOwnerId });
    expect(recorded?.note).toContain('not an active User');

    // Deactivated after the policy was read: Salesforce refuses the owner, and the retry uses the link's.
    h.org.setUserActive(suzuki.id, false);
    const afterDeactivation = actionPayload({ inboxId: '12', emails: [TARO], operatorEmail: null });
    await sendAll(h.baseUrl, [afterDeactivation]);
    await eventually(
      h,
      async () => (await h.bridge.store.actions.get(afterDeactivation.action.id))?.state === 'synced',
      'the action to sync with the link’s default owner',
    );
    expect(h.eventsFor(afterDeactivation.action.id)).toEqual([
      expect.objectContaining({ OwnerId: link12.defaultOwnerId }),
    ]);
    const retried = await h.bridge.store.actions.get(afterDeactivation.action.id);
    expect(retried?.attempts).toBe(1);
    expect(retried?.match?.policy?.note).toContain('not an active User');
  });

  it('applies the helpdesk link’s settings to an inbox without a policy record', async () => {
    h = await startBridgeHarness();
    const contactId = h.org.addContact({ LastName: '二重', Email: 'both@kokyaku.example.jp' });
    h.org.addLead({ LastName: '二重', Company: '二重商事', Email: 'both@kokyaku.example.jp' });
    const link = await h.linkInbox({ target: 'contact_then_lead' });
    h.org.setCustomMetadata('Inbox_Link', 'Inbox_99', {
      Inbox_Id__c: '99',
      Active__c: false,
      Target__c: 'Lead',
      Body_Capture__c: 'None',
    });
    const body = '本文はそのまま残ります。';
    const payload = actionPayload({ emails: ['both@kokyaku.example.jp'], body, operatorEmail: null });
    await sendAll(h.baseUrl, [payload]);
    await h.bridge.engine.runUntilIdle();

    expect(h.eventsFor(payload.action.id)).toEqual([
      expect.objectContaining({ WhoId: contactId, Description: body, OwnerId: link.defaultOwnerId }),
    ]);
    expect((await h.bridge.store.actions.get(payload.action.id))?.match?.policy).toEqual({
      source: 'helpdesk',
      record: null,
      target: 'contact_then_lead',
      bodyCapture: 'full',
      bodyMaxChars: null,
      defaultOwnerId: link.defaultOwnerId,
      note: null,
    });
  });

  it('syncs with the helpdesk settings where the org lacks the policy type and health object, and stops trying health', async () => {
    h = await startBridgeHarness({
      orgOptions: { linkPolicyAndHealth: false },
      env: { SF_HEALTH_INTERVAL_MS: '100' },
    });
    await h.linkInbox();
    const waves = [0, 1, 2].map(() => [actionPayload({ emails: [TARO] }), actionPayload({ emails: [TARO] })]);
    for (const wave of waves) {
      await sendAll(h.baseUrl, wave);
      await h.bridge.engine.runUntilIdle();
      // Longer than the health interval: only the org's missing object keeps health away.
      await sleep(150);
    }
    await h.bridge.engine.runUntilIdle();

    const ids = waves.flat().map((p) => p.action.id);
    expect((await actionsOf(h, ids)).map((a) => a.state)).toEqual(Array(6).fill('synced'));
    for (const payload of waves.flat()) {
      expect(h.eventsFor(payload.action.id)).toEqual([expect.objectContaining({ Description: payload.action.body })]);
    }
    expect(healthUpserts(h)).toBe(1);
  });
});

describe('sync health in Salesforce', () => {
  let h: BridgeHarness;

  afterEach(async () => {
    await h.close();
  });

  it('shows a rejected write with Salesforce’s message, then the recovery', async () => {
    h = await startBridgeHarness({ env: { SF_HEALTH_INTERVAL_MS: '200' } });
    await h.linkInbox();
    const rule = '行動の登録は現在停止しています (検証ルール)';
    const removeRule = h.org.addValidationRule({ object: 'Event', name: 'Stop_All', message: rule, when: () => true });
    const payloads = [actionPayload({ emails: [TARO] }), actionPayload({ emails: [TARO] })];
    await sendAll(h.baseUrl, payloads);
    await h.bridge.engine.runUntilIdle();
    const ids = payloads.map((p) => p.action.id);
    expect((await actionsOf(h, ids)).map((a) => a.state)).toEqual(['failed', 'failed']);

    const failing = healthOf(h, '12');
    expect(failing).toMatchObject({
      Name: '営業窓口',
      inbx__Link_State__c: 'Active',
      inbx__Failed_24h__c: 2,
      inbx__Synced_24h__c: 0,
      inbx__Last_Success_At__c: null,
      inbx__Last_Error_Message__c: `FIELD_CUSTOM_VALIDATION_EXCEPTION: ${rule}`,
    });
    expect(failing?.inbx__Last_Error_At__c).not.toBeNull();

    removeRule();
    expect((await h.admin('POST', '/actions/retry', { actionIds: ids })).status).toBe(200);
    await eventually(
      h,
      () => {
        const record = healthOf(h, '12');
        return typeof record?.inbx__Last_Success_At__c === 'string' && record.inbx__Synced_24h__c === 2;
      },
      'the health record to show the recovery',
    );
    const recovered = healthOf(h, '12') as Record<string, string | number>;
    expect(Date.parse(String(recovered.inbx__Last_Success_At__c))).toBeGreaterThanOrEqual(
      Date.parse(String(recovered.inbx__Last_Error_At__c)),
    );
    expect(recovered).toMatchObject({
      inbx__Link_State__c: 'Active',
      inbx__Failed_24h__c: 0,
      inbx__Pending__c: 0,
      inbx__Last_Error_Message__c: `FIELD_CUSTOM_VALIDATION_EXCEPTION: ${rule}`,
    });
    for (const id of ids) expect(h.eventsFor(id)).toHaveLength(1);
  });

  it('is upserted at most once per interval, with every inbox of the org in that one call', async () => {
    h = await startBridgeHarness({ env: { SF_HEALTH_INTERVAL_MS: String(60 * 60_000) } });
    await h.linkInbox({ inboxId: '12' });
    await h.linkInbox({ inboxId: '13', inboxName: 'サポート窓口' });
    for (let batch = 0; batch < 3; batch += 1) {
      await sendAll(h.baseUrl, [
        actionPayload({ inboxId: '12', emails: [TARO] }),
        actionPayload({ inboxId: '13', inboxName: 'サポート窓口', emails: [TARO] }),
      ]);
      await h.bridge.engine.runUntilIdle();
    }
    expect(h.org.records('Event')).toHaveLength(6);
    expect(healthUpserts(h)).toBe(1);
    expect(h.org.records(HEALTH).map((record) => [record.inbx__Inbox_Id__c, record.Name])).toEqual([
      ['12', '営業窓口'],
      ['13', 'サポート窓口'],
    ]);
    expect(healthOf(h, '12')).toMatchObject({ inbx__Synced_24h__c: 1, inbx__Link_State__c: 'Active' });
  });
});
