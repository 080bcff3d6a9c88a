import { DEMO_PASSWORD, seedDemoOrg, startLocalSalesforce, type LocalSalesforce } from '../../local-org';

describe('seedDemoOrg', () => {
  let sf: LocalSalesforce;

  beforeEach(async () => {
    sf = await startLocalSalesforce();
  });

  afterEach(async () => {
    await sf.close();
  });

  it('seeds Japanese users, contacts and leads and describes them by email', () => {
    const org = sf.createOrg({ name: 'Demo' });
    const seeded = seedDemoOrg(org);

    expect(seeded.users.filter((user) => user.isActive).length).toBeGreaterThanOrEqual(3);
    expect(seeded.users.filter((user) => !user.isActive)).toHaveLength(1);
    expect(seeded.authorizingUser.password).toBe(DEMO_PASSWORD);
    expect(seeded.contacts.length).toBeGreaterThanOrEqual(20);
    expect(seeded.leads.length).toBeGreaterThanOrEqual(15);
    expect(org.records('Contact').length).toBe(seeded.contacts.length);
    expect(seeded.contacts[0]?.name).toBe('山田 太郎');
    expect(org.record(seeded.contacts[0]?.id as string)?.Name).toBe('山田 太郎');
  });

  it('has two contacts sharing one email, oldest first, for the tie rule', () => {
    const seeded = seedDemoOrg(sf.createOrg({ name: 'Demo' }));
    const [older, newer] = seeded.sharedEmail.contactIds;
    expect(seeded.sharedEmail.contactIds).toHaveLength(2);
    const byId = new Map(seeded.contacts.map((contact) => [contact.id, contact]));
    expect(Date.parse(byId.get(older as string)?.createdDate ?? '')).toBeLessThan(
      Date.parse(byId.get(newer as string)?.createdDate ?? ''),
    );
  });

  it('has a converted lead whose email is also a contact’s', () => {
    const org = sf.createOrg({ name: 'Demo' });
    const seeded = seedDemoOrg(org);
    const lead = org.record(seeded.convertedLead.leadId);
    expect(lead).toMatchObject({ IsConverted: true, ConvertedContactId: seeded.convertedLead.contactId });
    expect(seeded.contactIdsByEmail[seeded.convertedLead.email]).toEqual([seeded.convertedLead.contactId]);
  });

  it('writes phones in every format, full-width digits and +81 included', () => {
    const seeded = seedDemoOrg(sf.createOrg({ name: 'Demo' }));
    const phones = [...seeded.contacts, ...seeded.leads].flatMap((person) => [person.phone, person.mobilePhone]);
    expect(phones).toEqual(
      expect.arrayContaining(['03-1234-5678', '(03) 2345 6789', '０９０－１２３４－５６７８', '+81 90 2345 6789']),
    );
  });
});
