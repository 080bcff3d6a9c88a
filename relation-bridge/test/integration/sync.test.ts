import { SYNCABLE_CHANNELS } from '../../src/core/channels';
import { startBridgeHarness, type BridgeHarness } from '../helpers/bridge-harness';
import { actionPayload, sendAll, sendWebhook } from '../helpers/payloads';

const TARO = 'taro.yamada@example.co.jp';

describe('sync from webhook to Salesforce Event', () => {
  let h: BridgeHarness;

  beforeEach(async () => {
    h = await startBridgeHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  it('writes one Event per syncable channel on the matched Contact, owned by the operator', async () => {
    await h.linkInbox();
    const payloads = SYNCABLE_CHANNELS.map((channel) =>
      actionPayload({
        channel,
        kind: channel === 'call_memo' ? 'call_memo' : 'message_sent',
        emails: [TARO.toUpperCase()],
        callSeconds: 125,
      }),
    );
    await sendAll(h.baseUrl, payloads);
    await h.bridge.engine.runUntilIdle();

    const taro = h.seeded.contactIdsByEmail[TARO]?.[0];
    const sato = h.seeded.userIdsByEmail['hanako.sato@relation-demo.example.jp'];
    for (const payload of payloads) {
      const events = h.eventsFor(payload.action.id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ WhoId: taro, OwnerId: sato, inbx__Channel__c: payload.action.channel });
      expect((await h.bridge.store.actions.get(payload.action.id))?.state).toBe('synced');
    }
    const call = h.eventsFor(payloads[SYNCABLE_CHANNELS.indexOf('call_memo')]!.action.id)[0];
    expect(call?.DurationInMinutes).toBe(3);
  });

  it('records a reason for every action it does not sync', async () => {
    const beforeLink = actionPayload({ occurredAt: new Date(Date.now() - 60_000) });
    const noLink = actionPayload({ inboxId: '99' });
    await h.linkInbox();
    const otherChannel = actionPayload({ channel: 'facebook' });
    const comment = actionPayload({ kind: 'comment', direction: 'internal' });
    const unknownKind = actionPayload({ kind: 'ticket_merged' });
    const nobody = actionPayload({ emails: ['nobody@nowhere.example'] });
    const noIdentifier = actionPayload({ emails: [], phones: [] });
    await sendAll(h.baseUrl, [beforeLink, noLink, otherChannel, comment, unknownKind, nobody, noIdentifier]);
    await h.bridge.engine.runUntilIdle();

    const stateOf = async (id: string) => {
      const action = await h.bridge.store.actions.get(id);
      return [action?.state, action?.reason];
    };
    expect(await stateOf(beforeLink.action.id)).toEqual(['skipped', 'before_link']);
    expect(await stateOf(noLink.action.id)).toEqual(['skipped', 'no_link']);
    expect(await stateOf(otherChannel.action.id)).toEqual(['skipped', 'channel_not_supported']);
    expect(await stateOf(comment.action.id)).toEqual(['skipped', 'kind_not_synced']);
    expect(await stateOf(unknownKind.action.id)).toEqual(['skipped', 'kind_not_synced']);
    expect(await stateOf(nobody.action.id)).toEqual(['unmatched', 'no_matching_record']);
    expect(await stateOf(noIdentifier.action.id)).toEqual(['unmatched', 'no_customer_identifier']);
    expect(h.org.records('Event')).toHaveLength(0);
  });

  it('yields one Event when the same action is delivered twice, by webhook id or by action id', async () => {
    await h.linkInbox();
    const payload = actionPayload({ emails: [TARO] });
    expect((await sendWebhook(h.baseUrl, payload, { webhookId: 'msg_same' })).status).toBe(202);
    expect(await sendWebhook(h.baseUrl, payload, { webhookId: 'msg_same' })).toEqual({
      status: 200,
      body: { status: 'duplicate', action_id: payload.action.id },
    });
    expect((await sendWebhook(h.baseUrl, payload, { webhookId: 'msg_other' })).status).toBe(200);
    await h.bridge.engine.runUntilIdle();
    expect((await sendWebhook(h.baseUrl, payload, { webhookId: 'msg_third' })).status).toBe(200);
    await h.bridge.engine.runUntilIdle();
    expect(h.eventsFor(payload.action.id)).toHaveLength(1);
  });

  it('matches by normalised phone when there is no email, and prefers a Contact to a Lead', async () => {
    await h.linkInbox();
    const contact = h.seeded.contacts.find((c) => c.mobilePhone === '０９０－１２３４－５６７８');
    expect(contact).toBeDefined();
    const payload = actionPayload({ emails: [], phones: ['+81 90-1234-5678'] });
    await sendAll(h.baseUrl, [payload]);
    await h.bridge.engine.runUntilIdle();
    expect(h.eventsFor(payload.action.id)[0]?.WhoId).toBe(contact?.id);
    const stored = await h.bridge.store.actions.get(payload.action.id);
    expect(stored?.match?.chosen).toMatchObject({ id: contact?.id, object: 'Contact', via: 'phone' });
  });

  it('never matches a converted Lead, and picks the earliest of two Contacts sharing an email', async () => {
    await h.linkInbox({ target: 'lead' });
    const converted = actionPayload({ emails: [h.seeded.convertedLead.email] });
    await sendAll(h.baseUrl, [converted]);
    await h.bridge.engine.runUntilIdle();
    const convertedAction = await h.bridge.store.actions.get(converted.action.id);
    expect(convertedAction?.match?.candidates.map((c) => c.id)).not.toContain(h.seeded.convertedLead.leadId);
    expect(h.eventsFor(converted.action.id).map((e) => e.WhoId)).not.toContain(h.seeded.convertedLead.leadId);

    await h.admin('PATCH', `/links/${(await h.bridge.store.links.getLinkForInbox('12'))!.id}`, { target: 'contact' });
    const shared = actionPayload({ emails: [h.seeded.sharedEmail.email] });
    await sendAll(h.baseUrl, [shared]);
    await h.bridge.engine.runUntilIdle();
    const sharedAction = await h.bridge.store.actions.get(shared.action.id);
    expect(sharedAction?.whoId).toBe(h.seeded.sharedEmail.contactIds[0]);
    expect(sharedAction?.match?.candidates.map((c) => c.id).sort()).toEqual(
      [...h.seeded.sharedEmail.contactIds].sort(),
    );
  });

  it('falls back to the default owner when the operator has no active Salesforce user', async () => {
    const link = await h.linkInbox();
    const payload = actionPayload({ emails: [TARO], operatorEmail: 'ken.tanaka@relation-demo.example.jp' });
    await sendAll(h.baseUrl, [payload]);
    await h.bridge.engine.runUntilIdle();
    expect(h.eventsFor(payload.action.id)[0]?.OwnerId).toBe(link.defaultOwnerId);
  });

  it('fails only the action that a validation rule rejects, keeping Salesforce’s message', async () => {
    await h.linkInbox();
    h.org.addValidationRule({
      object: 'Event',
      name: 'No_Urgent_Subject',
      message: '件名に「至急」は使えません',
      when: (record) => String(record.Subject ?? '').includes('至急'),
    });
    const good = actionPayload({ emails: [TARO], title: '通常' });
    const bad = actionPayload({ emails: [TARO], title: '至急' });
    await sendAll(h.baseUrl, [good, bad]);
    await h.bridge.engine.runUntilIdle();
    expect((await h.bridge.store.actions.get(good.action.id))?.state).toBe('synced');
    const failed = await h.bridge.store.actions.get(bad.action.id);
    expect(failed).toMatchObject({
      state: 'failed',
      reason: 'salesforce_rejected',
      errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
    });
    expect(failed?.errorMessage).toContain('件名に「至急」は使えません');
  });
});
