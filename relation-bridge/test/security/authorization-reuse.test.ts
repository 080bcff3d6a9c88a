import { completeAuthorization } from '../../local-org';
import type { Link } from '../../src/core/types';
import { callAs, type SessionClient, signInOverHttp } from '../auth/session-client';
import { type BridgeHarness, startBridgeHarness } from '../helpers/bridge-harness';

/**
 * The outside review: an admin of inbox 56 could list every org's authorisation, read
 * another org's user directory and link inbox 56 to another team's org. An authorisation
 * is now seen and reused only by an owner, the person who created it, or an admin of an
 * inbox already using it; to anyone else it does not exist (404). Every reuse is audited.
 * All through the bridge's HTTP API with console sessions.
 */

type Who = 'owner' | 'creator' | 'colleague' | 'stranger' | 'member';

const PEOPLE: Record<Who, { email: string; name: string; isOwner: boolean; admin: string[]; member: string[] }> = {
  owner: { email: 'owner@relation-demo.example.jp', name: '大和 太郎', isOwner: true, admin: [], member: [] },
  /** Linked inbox 12 and so created its authorisation; also admin of 57. */
  creator: {
    email: 'creator@relation-demo.example.jp',
    name: '佐藤 花子',
    isOwner: false,
    admin: ['12', '57'],
    member: [],
  },
  /** Admin of inbox 12, which uses the authorisation, and of 59. */
  colleague: {
    email: 'colleague@relation-demo.example.jp',
    name: '高橋 次郎',
    isOwner: false,
    admin: ['12', '59'],
    member: [],
  },
  /** Admin of inbox 56 only: another team. */
  stranger: { email: 'stranger@relation-demo.example.jp', name: '田中 健', isOwner: false, admin: ['56'], member: [] },
  /** Reads inbox 12, administers nothing. */
  member: { email: 'member@relation-demo.example.jp', name: '鈴木 一郎', isOwner: false, admin: [], member: ['12'] },
};

let harness: BridgeHarness;
const sessions = {} as Record<Who, SessionClient>;
let link12: Link;
let authId: string;

const as = (who: Who, method: string, route: string, body?: unknown) =>
  callAs(harness.baseUrl, sessions[who], method, route, body);

beforeAll(async () => {
  harness = await startBridgeHarness();
  for (const inboxId of ['12', '56', '57', '58', '59']) {
    await harness.admin('POST', '/inboxes', { inboxId, name: `受信箱 ${inboxId}` });
  }
  for (const [who, person] of Object.entries(PEOPLE) as Array<[Who, (typeof PEOPLE)[Who]]>) {
    const password = `${who}-password-2026`;
    const created = await harness.admin('POST', '/users', {
      email: person.email,
      name: person.name,
      isOwner: person.isOwner,
      password,
    });
    if (created.status !== 201) throw new Error(`creating ${who} answered ${created.status}`);
    for (const [role, inboxes] of [
      ['admin', person.admin],
      ['member', person.member],
    ] as const) {
      for (const inboxId of inboxes) {
        await harness.admin('PUT', `/inboxes/${inboxId}/members/${created.body.user.id}`, { role });
      }
    }
    sessions[who] = await signInOverHttp(harness.baseUrl, person.email, password);
  }

  // The creator links inbox 12 from the console: the flow is bound to the creator's session.
  const started = await as('creator', 'POST', '/links/authorize', {
    inboxId: '12',
    environment: 'production',
    target: 'contact_then_lead',
  });
  expect(started.status).toBe(201);
  const user = harness.seeded.authorizingUser;
  const callback = await completeAuthorization(started.body.authorizeUrl, {
    username: user.username,
    password: user.password,
  });
  const back = await fetch(callback, { redirect: 'manual', headers: { cookie: sessions.creator.cookie } });
  expect(back.status).toBe(303);
  link12 = (await harness.bridge.store.links.getLinkForInbox('12')) as Link;
  authId = link12.authId;
  expect((await harness.bridge.store.links.getAuth(authId))?.createdBy).toMatchObject({
    kind: 'user',
    name: expect.stringContaining(PEOPLE.creator.email),
  });
}, 60_000);

afterAll(async () => {
  await harness.close();
});

describe('an admin of another inbox (56)', () => {
  it('sees no authorisation in the list', async () => {
    const list = await as('stranger', 'GET', '/salesforce-auths');
    expect(list).toMatchObject({ status: 200, body: { authorizations: [] } });
  });

  it("cannot read the org's user directory through the authorisation or the link: 404 and 403", async () => {
    const users = await as('stranger', 'GET', `/salesforce-auths/${authId}/salesforce-users`);
    expect(users).toMatchObject({ status: 404, body: { error: 'auth_not_found' } });
    expect(JSON.stringify(users.body)).not.toContain(harness.seeded.authorizingUser.username);
    expect((await as('stranger', 'GET', `/links/${link12.id}/salesforce-users`)).status).toBe(403);
  });

  it('cannot link inbox 56 with it: 404 as for an authorisation that does not exist, nothing made, nothing audited', async () => {
    const reuse = await as('stranger', 'POST', '/links', { inboxId: '56', authId, target: 'lead' });
    expect(reuse).toMatchObject({ status: 404, body: { error: 'auth_not_found' } });
    const unknown = await as('stranger', 'POST', '/links', {
      inboxId: '56',
      authId: 'auth_does_not_exist',
      target: 'lead',
    });
    expect(unknown.status).toBe(404);
    expect(Object.keys(reuse.body).sort()).toEqual(Object.keys(unknown.body).sort());
    expect(await harness.bridge.store.links.getLinkForInbox('56')).toBeNull();
    expect((await as('stranger', 'GET', '/inboxes/56/audit')).body.entries).toEqual([]);
  });
});

describe('a member who administers no inbox', () => {
  it('may not list authorisations at all', async () => {
    expect((await as('member', 'GET', '/salesforce-auths')).status).toBe(403);
    expect((await as('member', 'GET', `/salesforce-auths/${authId}/salesforce-users`)).status).toBe(403);
  });
});

describe('those who may reuse it', () => {
  it.each([
    ['creator', '57'],
    ['colleague', '59'],
    ['owner', '58'],
  ] as const)(
    'the %s sees it, reads its users, and links inbox %s with it; the audit records the reuse and whose it was',
    async (who, inboxId) => {
      const list = await as(who, 'GET', '/salesforce-auths');
      expect(list.status).toBe(200);
      expect(list.body.authorizations.map((auth: { id: string }) => auth.id)).toContain(authId);
      expect(JSON.stringify(list.body)).not.toMatch(/accessToken|refreshToken/);

      const users = await as(who, 'GET', `/salesforce-auths/${authId}/salesforce-users`);
      expect(users.status).toBe(200);
      expect(users.body.users.map((user: { id: string }) => user.id)).toContain(harness.seeded.authorizingUser.id);

      const reuse = await as(who, 'POST', '/links', { inboxId, authId, target: 'lead' });
      expect(reuse).toMatchObject({ status: 201, body: { inboxId, status: 'active' } });
      const link = await harness.bridge.store.links.getLinkForInbox(inboxId);
      expect(link?.authId).toBe(authId);

      const audit = await as(who, 'GET', `/inboxes/${inboxId}/audit`);
      expect(audit.body.entries[0]).toMatchObject({
        event: 'created',
        actor: { kind: 'user', name: expect.stringContaining(PEOPLE[who].email) },
        changes: {
          reusedAuthorization: {
            from: null,
            to: expect.stringContaining(harness.seeded.authorizingUser.username),
          },
        },
      });
      expect(audit.body.entries[0].changes.reusedAuthorization.to).toContain(PEOPLE.creator.name);
    },
  );

  it('becoming admin of an inbox that uses it shows it; losing that role hides it again', async () => {
    const strangerId = (await harness.admin('GET', '/users')).body.users.find(
      (user: { email: string }) => user.email === PEOPLE.stranger.email,
    ).id;
    const before = await as('stranger', 'POST', '/links', { inboxId: '56', authId, target: 'lead' });
    expect(before.status).toBe(404);
    await harness.admin('PUT', `/inboxes/57/members/${strangerId}`, { role: 'admin' });
    const list = await as('stranger', 'GET', '/salesforce-auths');
    expect(list.body.authorizations.map((auth: { id: string }) => auth.id)).toEqual([authId]);
    await harness.admin('DELETE', `/inboxes/57/members/${strangerId}`);
    expect((await as('stranger', 'GET', '/salesforce-auths')).body.authorizations).toEqual([]);
  });
});
