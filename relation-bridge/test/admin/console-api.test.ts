import { type BridgeHarness, startBridgeHarness } from '../helpers/bridge-harness';
import { actionPayload, sendWebhook } from '../helpers/payloads';

/** Inboxes, roles, users and the link audit log through the admin API, as a script would use them. */

let harness: BridgeHarness;

beforeAll(async () => {
  harness = await startBridgeHarness();
});

afterAll(async () => {
  await harness.close();
});

describe('inboxes and roles', () => {
  it('lists inboxes seen in webhooks or links but not registered, until an owner registers them', async () => {
    await sendWebhook(harness.baseUrl, actionPayload({ inboxId: '31', inboxName: '問い合わせ窓口' }));
    await sendWebhook(harness.baseUrl, actionPayload({ inboxId: '31', inboxName: '問い合わせ窓口' }));
    await harness.linkInbox({ inboxId: '32', inboxName: '代理店窓口' });
    const before = await harness.admin('GET', '/inboxes');
    expect(before.body.inboxes).toEqual([]);
    expect(before.body.unregistered).toEqual([
      expect.objectContaining({ inboxId: '31', inboxName: '問い合わせ窓口', actions: 2, link: null }),
      expect.objectContaining({ inboxId: '32', actions: 0, link: expect.objectContaining({ status: 'active' }) }),
    ]);

    const registered = await harness.admin('POST', '/inboxes', { inboxId: '31', name: '問い合わせ窓口' });
    expect(registered).toMatchObject({
      status: 201,
      body: { inboxId: '31', name: '問い合わせ窓口', role: 'owner', link: null },
    });
    expect((await harness.admin('POST', '/inboxes', { inboxId: '31', name: 'again' })).body.error).toBe('inbox_exists');
    const after = await harness.admin('GET', '/inboxes');
    expect(after.body.inboxes.map((inbox: { inboxId: string }) => inbox.inboxId)).toEqual(['31']);
    expect(after.body.unregistered.map((inbox: { inboxId: string }) => inbox.inboxId)).toEqual(['32']);

    expect((await harness.admin('PATCH', '/inboxes/31', { name: '問い合わせ窓口 (東京)' })).body.name).toBe(
      '問い合わせ窓口 (東京)',
    );
    expect((await harness.admin('GET', '/inboxes/40')).body.error).toBe('inbox_not_found');
  });

  it('gives, changes and takes roles on registered inboxes only', async () => {
    const user = await harness.admin('POST', '/users', {
      email: 'staff@relation-demo.example.jp',
      name: 'Staff',
      password: 'staff-password-1',
    });
    const userId = user.body.user.id as string;
    expect((await harness.admin('PUT', `/inboxes/31/members/${userId}`, { role: 'member' })).status).toBe(200);
    expect((await harness.admin('PUT', `/inboxes/31/members/${userId}`, { role: 'admin' })).body).toMatchObject({
      role: 'admin',
    });
    expect((await harness.admin('GET', '/inboxes/31/members')).body.members).toEqual([
      expect.objectContaining({ userId, email: 'staff@relation-demo.example.jp', role: 'admin' }),
    ]);
    expect(
      (await harness.admin('GET', '/users')).body.users.find((u: { id: string }) => u.id === userId).roles,
    ).toEqual([{ inboxId: '31', role: 'admin' }]);
    expect((await harness.admin('PUT', `/inboxes/32/members/${userId}`, { role: 'member' })).body.error).toBe(
      'inbox_not_found',
    );
    expect((await harness.admin('PUT', '/inboxes/31/members/usr_missing', { role: 'member' })).body.error).toBe(
      'user_not_found',
    );
    expect((await harness.admin('PUT', `/inboxes/31/members/${userId}`, { role: 'owner' })).status).toBe(400);
    expect((await harness.admin('DELETE', `/inboxes/31/members/${userId}`)).status).toBe(204);
    expect((await harness.admin('GET', '/inboxes/31/members')).body.members).toEqual([]);

    await harness.admin('PUT', `/inboxes/31/members/${userId}`, { role: 'member' });
    expect((await harness.admin('DELETE', '/inboxes/31')).status).toBe(204);
    expect(await harness.bridge.store.inboxes.listRolesOfUser(userId)).toEqual([]);
  });

  it('manages console users, never showing a password or its hash, and keeps one owner', async () => {
    const created = await harness.admin('POST', '/users', {
      email: 'Misaki@Relation-Demo.example.jp',
      name: '高橋 美咲',
      isOwner: true,
    });
    expect(created).toMatchObject({
      status: 201,
      body: { user: { email: 'misaki@relation-demo.example.jp', isOwner: true } },
    });
    expect(created.body.generatedPassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const listed = await harness.admin('GET', '/users');
    expect(JSON.stringify(listed.body)).not.toMatch(/scrypt|password_hash|passwordHash/);
    expect(
      (
        await harness.admin('POST', '/users', {
          email: 'short@relation-demo.example.jp',
          name: 'Short',
          password: 'short',
        })
      ).status,
    ).toBe(400);
    expect(
      (await harness.admin('POST', '/users', { email: 'misaki@relation-demo.example.jp', name: 'Again' })).body.error,
    ).toBe('email_taken');

    const id = created.body.user.id as string;
    expect((await harness.admin('PATCH', `/users/${id}`, { name: '高橋 美咲 (情シス)' })).body.name).toBe(
      '高橋 美咲 (情シス)',
    );
    expect((await harness.admin('PATCH', `/users/${id}`, { isOwner: false })).body.error).toBe('last_owner');
    expect((await harness.admin('DELETE', `/users/${id}`)).body.error).toBe('last_owner');
    expect((await harness.admin('DELETE', '/users/usr_missing')).body.error).toBe('user_not_found');
  });
});

describe('the link audit log', () => {
  it('records who changed what, from and to; a change that changes nothing is not recorded', async () => {
    const link = await harness.linkInbox({ inboxId: '33', inboxName: '展示会窓口', target: 'contact' });
    const other = harness.seeded.users.find((user) => user.isActive && user.id !== link.defaultOwnerId)?.id as string;
    await harness.admin('PATCH', `/links/${link.id}`, { target: 'contact' });
    await harness.admin('PATCH', `/links/${link.id}`, { target: 'lead', defaultOwnerId: other });
    await harness.admin('DELETE', `/links/${link.id}`);
    const audit = await harness.admin('GET', '/inboxes/33/audit');
    expect(audit.body.entries.map((entry: { event: string }) => entry.event)).toEqual([
      'deleted',
      'changed',
      'created',
    ]);
    expect(audit.body.entries[1]).toMatchObject({
      linkId: link.id,
      actor: { kind: 'token', id: null, name: 'BRIDGE_ADMIN_TOKEN' },
      changes: {
        target: { from: 'contact', to: 'lead' },
        defaultOwnerId: { from: link.defaultOwnerId, to: other },
      },
    });
    expect(Date.parse(audit.body.entries[1].at)).toBeGreaterThan(Date.now() - 60_000);
    expect((await harness.admin('GET', '/inboxes/33/audit?limit=1')).body.entries).toHaveLength(1);
  });
});

describe('names instead of ids', () => {
  it("keeps the org's name and the default owner's name and email from the link's making, and a new owner's when changed", async () => {
    const link = await harness.linkInbox({ inboxId: '34', inboxName: '代理店窓口', target: 'contact' });
    const authorizing = harness.seeded.authorizingUser;
    const view = (await harness.admin('GET', `/links/${link.id}`)).body;
    expect(view).toMatchObject({
      orgName: 'Yamato Trading',
      orgIsSandbox: false,
      defaultOwnerId: authorizing.id,
      defaultOwnerName: authorizing.name,
      defaultOwnerEmail: authorizing.email,
      version: 1,
    });
    const other = harness.seeded.users.find((user) => user.isActive && user.id !== authorizing.id);
    const changed = await harness.admin('PATCH', `/links/${link.id}`, { defaultOwnerId: other?.id, version: 1 });
    expect(changed.body).toMatchObject({ defaultOwnerName: other?.name, defaultOwnerEmail: other?.email, version: 2 });
    const [entry] = (await harness.admin('GET', '/inboxes/34/audit')).body.entries;
    expect(entry.changes.defaultOwnerId).toEqual({
      from: authorizing.id,
      to: other?.id,
      fromLabel: `${authorizing.name} <${authorizing.email}>`,
      toLabel: `${other?.name} <${other?.email}>`,
    });
    const auth = (await harness.admin('GET', '/salesforce-auths')).body.authorizations.find(
      (candidate: { id: string }) => candidate.id === link.authId,
    );
    expect(auth).toMatchObject({ orgName: 'Yamato Trading', orgIsSandbox: false });
  });
});

describe('two tabs, two admins', () => {
  it('a change made on an older version of the link is refused with 409 link_changed, and changes nothing', async () => {
    const link = await harness.linkInbox({ inboxId: '35', inboxName: '採用窓口', target: 'contact' });
    const first = await harness.admin('PATCH', `/links/${link.id}`, { target: 'lead', version: 1 });
    expect(first.body).toMatchObject({ target: 'lead', version: 2 });
    const stale = await harness.admin('PATCH', `/links/${link.id}`, { target: 'contact_then_lead', version: 1 });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ error: 'link_changed', details: { version: 2, expectedVersion: 1 } });
    expect(stale.body.message).toMatch(/changed in another tab or by another admin/);
    expect(await harness.bridge.store.links.getLink(link.id)).toMatchObject({ target: 'lead', version: 2 });
    const audit = (await harness.admin('GET', '/inboxes/35/audit')).body.entries;
    expect(audit.map((entry: { event: string }) => entry.event)).toEqual(['changed', 'created']);
    // A script that sends no version changes whatever the link is now.
    expect((await harness.admin('PATCH', `/links/${link.id}`, { target: 'contact' })).body).toMatchObject({
      target: 'contact',
      version: 3,
    });
  });
});
