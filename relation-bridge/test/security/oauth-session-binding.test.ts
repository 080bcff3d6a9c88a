import { completeAuthorization } from '../../local-org';
import { callAs, type SessionClient, signInOverHttp } from '../auth/session-client';
import { type BridgeHarness, startBridgeHarness } from '../helpers/bridge-harness';

/**
 * The outside review: completing a console admin's OAuth callback from another session
 * was refused, but it used up the admin's flow, so their own callback failed afterwards.
 * The binding is now checked before the flow is taken.
 */

let harness: BridgeHarness;
let victim: SessionClient;
let attacker: SessionClient;

beforeAll(async () => {
  harness = await startBridgeHarness();
  for (const inboxId of ['21', '22']) await harness.admin('POST', '/inboxes', { inboxId, name: `受信箱 ${inboxId}` });
  const people = [
    { key: 'victim', email: 'victim@relation-demo.example.jp', inboxId: '21' },
    { key: 'attacker', email: 'attacker@relation-demo.example.jp', inboxId: '22' },
  ];
  for (const person of people) {
    const password = `${person.key}-password-2026`;
    const created = await harness.admin('POST', '/users', { email: person.email, name: person.key, password });
    await harness.admin('PUT', `/inboxes/${person.inboxId}/members/${created.body.user.id}`, { role: 'admin' });
  }
  victim = await signInOverHttp(harness.baseUrl, 'victim@relation-demo.example.jp', 'victim-password-2026');
  attacker = await signInOverHttp(harness.baseUrl, 'attacker@relation-demo.example.jp', 'attacker-password-2026');
});

afterAll(async () => {
  await harness.close();
});

const salesforceUser = () => harness.seeded.authorizingUser;

async function callbackFor(authorizeUrl: string): Promise<URL> {
  return completeAuthorization(authorizeUrl, {
    username: salesforceUser().username,
    password: salesforceUser().password,
  });
}

const visit = (callback: URL, cookie: string | null) =>
  fetch(callback, { redirect: 'manual', headers: cookie === null ? {} : { cookie } });

it.each([
  [
    'a link',
    '/links/authorize',
    { target: 'contact_then_lead' },
    /\/console\/inboxes\/21\/settings\/ticket-sync\?linked=1$/,
  ],
  ['a pending link', '/pending-links', {}, /\/console\/inboxes\/21\/settings\/ticket-sync\/new\/finish\?pending=pnd_/],
] as const)(
  'for %s: a callback from another session, and one from no session, are refused; the victim’s own callback afterwards still completes',
  async (_what, route, extra, success) => {
    const started = await callAs(harness.baseUrl, victim, 'POST', route, {
      inboxId: '21',
      environment: 'production',
      ...extra,
    });
    expect(started.status).toBe(201);
    const callback = await callbackFor(started.body.authorizeUrl);
    const grants = harness.org.approvals(salesforceUser().id).length;

    const fromAttacker = await visit(callback, attacker.cookie);
    expect(fromAttacker.status).toBe(303);
    expect(fromAttacker.headers.get('location')).toBe('/console/link-result?error=session_mismatch');
    const fromNobody = await visit(callback, null);
    expect(fromNobody.status).toBe(400);
    expect(await fromNobody.text()).toContain('session_mismatch');
    // Nothing was exchanged or kept for either of them.
    expect(harness.org.approvals(salesforceUser().id)).toHaveLength(grants);
    expect(await harness.bridge.store.links.getLinkForInbox('21')).toBeNull();
    expect(await harness.bridge.store.pendingLinks.list()).toEqual([]);

    const fromVictim = await visit(callback, victim.cookie);
    expect(fromVictim.status).toBe(303);
    expect(fromVictim.headers.get('location')).toMatch(success);

    // Clean up for the next case: the link (or the pending link) goes again.
    const link = await harness.bridge.store.links.getLinkForInbox('21');
    if (link !== null) expect((await harness.admin('DELETE', `/links/${link.id}`)).status).toBe(200);
    for (const pending of await harness.bridge.store.pendingLinks.list()) {
      expect((await harness.admin('DELETE', `/pending-links/${pending.id}`)).status).toBe(200);
    }
  },
);
