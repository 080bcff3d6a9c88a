import type { LinkTarget } from '../../src/core/types';
import { startBridgeHarness, type BridgeHarness } from '../helpers/bridge-harness';
import { actionPayload, sendAll } from '../helpers/payloads';

/**
 * A Lead the customer once was has been converted: its ConvertedContactId names the Contact
 * the sales team works with now, and the Event belongs there.
 */
describe('a customer whose Lead was converted', () => {
  let h: BridgeHarness;

  afterEach(async () => {
    await h.close();
  });

  async function start(target: LinkTarget): Promise<void> {
    h = await startBridgeHarness();
    await h.linkInbox({ target });
  }

  /** A Lead converted into an existing Contact that carries neither its email nor its phone. */
  function convertedLead(): { leadId: string; contactId: string } {
    const contactId = h.org.addContact({ LastName: '鈴木', FirstName: '一郎', Email: 'ichiro@kaisha.example.jp' });
    const leadId = h.org.addLead({
      LastName: '鈴木',
      FirstName: '一郎',
      Company: '鈴木商店',
      Email: 'i.suzuki@private.example.jp',
      MobilePhone: '080-5555-0101',
    });
    h.org.convertLead(leadId, { contactId });
    return { leadId, contactId };
  }

  async function sync(options: { emails?: string[]; phones?: string[] }) {
    const payload = actionPayload({ emails: options.emails ?? [], phones: options.phones ?? [], channel: 'line' });
    await sendAll(h.baseUrl, [payload]);
    await h.bridge.engine.runUntilIdle();
    return { action: await h.bridge.store.actions.get(payload.action.id), events: h.eventsFor(payload.action.id) };
  }

  it('follows the conversion by email to the Contact, and says so in the match record', async () => {
    await start('contact_then_lead');
    const { leadId, contactId } = convertedLead();
    const { action, events } = await sync({ emails: ['I.Suzuki@private.example.jp'] });
    expect(action).toMatchObject({ state: 'synced', whoId: contactId });
    expect(events.map((event) => event.WhoId)).toEqual([contactId]);
    expect(action?.match?.chosen).toEqual({
      id: contactId,
      object: 'Contact',
      via: 'email',
      value: 'i.suzuki@private.example.jp',
      createdDate: expect.any(String),
      convertedFromLeadId: leadId,
    });
    expect(action?.match?.rule).toMatch(/^converted_lead_by_email: /);
  });

  it('follows the conversion by phone for a Contact-only link', async () => {
    await start('contact');
    const { leadId, contactId } = convertedLead();
    const { action } = await sync({ phones: ['+81 80 5555 0101'] });
    expect(action).toMatchObject({ state: 'synced', whoId: contactId });
    expect(action?.match?.chosen).toMatchObject({ via: 'phone', convertedFromLeadId: leadId });
    expect(action?.match?.rule).toMatch(/^converted_lead_by_phone: /);
  });

  it('prefers the converted Lead’s Contact to an open Lead with the same email (Contacts first)', async () => {
    await start('contact_then_lead');
    const { contactId } = convertedLead();
    const openLead = h.org.addLead({ LastName: '鈴木', Company: '別会社', Email: 'i.suzuki@private.example.jp' });
    const { action } = await sync({ emails: ['i.suzuki@private.example.jp'] });
    expect(action).toMatchObject({ state: 'synced', whoId: contactId });
    expect(action?.match?.candidates.map((c) => c.id)).toEqual([contactId, openLead]);
  });

  it('still prefers a Contact found directly', async () => {
    await start('contact_then_lead');
    convertedLead();
    const direct = h.org.addContact({ LastName: '鈴木', Email: 'i.suzuki@private.example.jp' });
    const { action } = await sync({ emails: ['i.suzuki@private.example.jp'] });
    expect(action).toMatchObject({ state: 'synced', whoId: direct });
    expect(action?.match?.rule).toMatch(/^contact_by_email: /);
  });

  it('leaves it unmatched for a Lead-only link: the Event can go neither on the converted Lead nor on a Contact', async () => {
    await start('lead');
    const { leadId, contactId } = convertedLead();
    const { action, events } = await sync({ emails: ['i.suzuki@private.example.jp'], phones: ['080-5555-0101'] });
    expect(action).toMatchObject({ state: 'unmatched', reason: 'no_matching_record' });
    expect(events).toEqual([]);
    expect(action?.match?.candidates.map((c) => c.id)).not.toContain(leadId);
    expect(action?.match?.candidates.map((c) => c.id)).not.toContain(contactId);
  });
});
