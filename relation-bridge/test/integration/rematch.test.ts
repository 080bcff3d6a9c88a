import { startBridgeHarness, type BridgeHarness } from '../helpers/bridge-harness';
import { actionPayload, sendAll } from '../helpers/payloads';

const NEWCOMER = 'newcomer@prospect.example.jp';

/**
 * Unmatched is not final: an action whose customer was not found is matched again, by itself,
 * once a Contact or Lead with that email or phone appears; a retry matches afresh at once; and
 * an action whose matched record was deleted (or merged away) is matched again before it fails.
 */
describe('matching again', () => {
  let h: BridgeHarness;
  let clock: number;

  afterEach(async () => {
    await h.close();
  });

  async function stateOf(actionId: string) {
    return h.bridge.store.actions.get(actionId);
  }

  it('syncs an unmatched action by itself after its Lead is created', async () => {
    clock = Date.now();
    h = await startBridgeHarness({ now: () => clock, env: { SYNC_REMATCH_INTERVAL_MS: '60000' } });
    await h.linkInbox({ target: 'contact_then_lead' });
    const [first] = [actionPayload({ emails: [NEWCOMER] })];
    await sendAll(h.baseUrl, [first!]);
    await h.bridge.engine.runUntilIdle();
    expect(await stateOf(first!.action.id)).toMatchObject({ state: 'unmatched', reason: 'no_matching_record' });

    // A sales rep creates the Lead; nobody retries anything.
    const leadId = h.org.addLead({ LastName: '新規', Company: '見込み株式会社', Email: NEWCOMER });
    clock += 60_000;
    await h.bridge.engine.runUntilIdle();
    expect(await stateOf(first!.action.id)).toMatchObject({ state: 'synced', whoId: leadId });
    expect(h.eventsFor(first!.action.id)).toEqual([expect.objectContaining({ WhoId: leadId })]);
  });

  it('a retry matches afresh at once, past what the bridge remembered, and tells what will happen', async () => {
    clock = Date.now();
    h = await startBridgeHarness({ now: () => clock, env: { SYNC_REMATCH_INTERVAL_MS: '0' } });
    await h.linkInbox({ target: 'contact_then_lead' });
    const payload = actionPayload({ emails: [NEWCOMER] });
    await sendAll(h.baseUrl, [payload]);
    await h.bridge.engine.runUntilIdle();
    expect(await stateOf(payload.action.id)).toMatchObject({ state: 'unmatched' });

    const contactId = h.org.addContact({ LastName: '新規', Email: NEWCOMER });
    const retried = await h.admin('POST', '/actions/retry', { actionIds: [payload.action.id, 'act_unknown'] });
    expect(retried).toMatchObject({
      status: 200,
      body: { retried: 1, willSync: 1, notRetryable: 1, held: {}, skipped: {}, waitingForLink: 0 },
    });
    await h.bridge.engine.runUntilIdle();
    expect(await stateOf(payload.action.id)).toMatchObject({ state: 'synced', whoId: contactId, attempts: 0 });
  });

  it('explains a retried action from before the current link as such, instead of no_link', async () => {
    h = await startBridgeHarness({ env: { SYNC_REMATCH_INTERVAL_MS: '0' } });
    const first = await h.linkInbox();
    const payload = actionPayload({ emails: [NEWCOMER] });
    await sendAll(h.baseUrl, [payload]);
    await h.bridge.engine.runUntilIdle();
    expect(await stateOf(payload.action.id)).toMatchObject({ state: 'unmatched' });
    expect((await h.admin('DELETE', `/links/${first.id}`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await h.linkInbox();

    const retried = await h.admin('POST', '/actions/retry', { actionIds: [payload.action.id] });
    expect(retried.body).toMatchObject({ retried: 1, willSync: 0, skipped: { before_link: 1 } });
    expect(await stateOf(payload.action.id)).toMatchObject({ state: 'skipped', reason: 'before_link' });
  });

  it('matches again when the matched Contact was deleted, and finds where the customer is now', async () => {
    h = await startBridgeHarness({ env: { SYNC_REMATCH_INTERVAL_MS: '0' } });
    await h.linkInbox({ target: 'contact_then_lead' });
    const contactId = h.org.addContact({ LastName: '旧', Email: NEWCOMER });
    const firstMessage = actionPayload({ emails: [NEWCOMER] });
    await sendAll(h.baseUrl, [firstMessage]);
    await h.bridge.engine.runUntilIdle();
    expect(await stateOf(firstMessage.action.id)).toMatchObject({ state: 'synced', whoId: contactId });

    // The Contact is merged away (deleted); the customer now lives as a Lead.
    h.org.deleteRecord(contactId);
    const leadId = h.org.addLead({ LastName: '新', Company: '見込み株式会社', Email: NEWCOMER });
    const next = actionPayload({ emails: [NEWCOMER] });
    await sendAll(h.baseUrl, [next]);
    await h.bridge.engine.runUntilIdle();
    expect(await stateOf(next.action.id)).toMatchObject({ state: 'synced', whoId: leadId, attempts: 0 });
  });

  it('says the matched record is gone when matching again finds the same one gone', async () => {
    h = await startBridgeHarness({ env: { SYNC_REMATCH_INTERVAL_MS: '0' } });
    await h.linkInbox({ target: 'contact' });
    const contactId = h.org.addContact({ LastName: '旧', Email: NEWCOMER });
    await sendAll(h.baseUrl, [actionPayload({ emails: [NEWCOMER] })]);
    await h.bridge.engine.runUntilIdle();

    h.org.deleteRecord(contactId);
    const next = actionPayload({ emails: [NEWCOMER] });
    await sendAll(h.baseUrl, [next]);
    await h.bridge.engine.runUntilIdle();
    // Matched afresh: no Contact has that email any more.
    expect(await stateOf(next.action.id)).toMatchObject({ state: 'unmatched', reason: 'no_matching_record' });
  });
});
