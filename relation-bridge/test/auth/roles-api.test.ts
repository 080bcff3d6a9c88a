import type { Link } from '../../src/core/types';
import { startConsoleHarness, type ConsoleHarness } from '../console/console-harness';
import { actionPayload, sendWebhook } from '../helpers/payloads';
import { callAs, type SessionClient, signInOverHttp } from './session-client';

/**
 * The roles are enforced by the API, not only by the console: the same request, with each
 * kind of caller's session, answers what the caller's role allows.
 */

type Actor = 'owner' | 'admin' | 'member' | 'outsider';

let harness: ConsoleHarness;
const sessions = {} as Record<Actor, SessionClient>;
let link12: Link;
let link16: Link;
let action16: string;

beforeAll(async () => {
  harness = await startConsoleHarness();
  await harness.admin('POST', '/inboxes', { inboxId: '16', name: '別部署' });
  link12 = await harness.linkInbox({ inboxId: '12', inboxName: '営業窓口' });
  link16 = await harness.linkInbox({ inboxId: '16', inboxName: '別部署' });
  const unmatched = actionPayload({ inboxId: '16', emails: ['nobody@unknown.example.jp'] });
  await sendWebhook(harness.baseUrl, unmatched);
  await harness.bridge.engine.runUntilIdle();
  action16 = unmatched.action.id;
  const accounts: Record<Actor, { email: string; password: string }> = {
    owner: harness.owner,
    admin: harness.inboxAdmin,
    member: harness.member,
    outsider: harness.outsider,
  };
  for (const [actor, account] of Object.entries(accounts)) {
    sessions[actor as Actor] = await signInOverHttp(harness.baseUrl, account.email, account.password);
  }
}, 60_000);

afterAll(async () => {
  await harness.close();
});

interface Row {
  what: string;
  method: string;
  route: () => string;
  body?: () => unknown;
  /** Statuses for owner, inbox admin (of 12–15), member (of 12), user without a role. */
  expect: [number, number, number, number];
}

const ROWS: Row[] = [
  {
    what: 'read the health of inbox 12',
    method: 'GET',
    route: () => '/inboxes/12/health',
    expect: [200, 200, 200, 403],
  },
  {
    what: 'read the health of inbox 16',
    method: 'GET',
    route: () => '/inboxes/16/health',
    expect: [200, 403, 403, 403],
  },
  {
    what: 'read the link of inbox 12',
    method: 'GET',
    route: () => `/links/${link12.id}`,
    expect: [200, 200, 200, 403],
  },
  {
    what: 'change the link of inbox 12',
    method: 'PATCH',
    route: () => `/links/${link12.id}`,
    body: () => ({ target: link12.target }),
    expect: [200, 200, 403, 403],
  },
  {
    what: 'change the link of inbox 16',
    method: 'PATCH',
    route: () => `/links/${link16.id}`,
    body: () => ({ target: link16.target }),
    expect: [200, 403, 403, 403],
  },
  {
    what: 're-authorise the link of inbox 16',
    method: 'POST',
    route: () => `/links/${link16.id}/reauthorize`,
    expect: [201, 403, 403, 403],
  },
  { what: "read inbox 12's actions", method: 'GET', route: () => '/actions?inboxId=12', expect: [200, 200, 200, 403] },
  { what: 'read every inbox’s actions', method: 'GET', route: () => '/actions', expect: [200, 403, 403, 403] },
  {
    what: 'read an action of inbox 16',
    method: 'GET',
    route: () => `/actions/${action16}`,
    expect: [200, 403, 403, 403],
  },
  {
    what: 'retry an action of inbox 16',
    method: 'POST',
    route: () => '/actions/retry',
    body: () => ({ actionIds: [action16] }),
    expect: [200, 403, 403, 403],
  },
  {
    what: 'start the wizard for inbox 13',
    method: 'POST',
    route: () => '/pending-links',
    body: () => ({ inboxId: '13', environment: 'production' }),
    expect: [201, 201, 403, 403],
  },
  {
    what: "list inbox 13's pending links",
    method: 'GET',
    route: () => '/pending-links?inboxId=13',
    expect: [200, 200, 403, 403],
  },
  { what: 'list every pending link', method: 'GET', route: () => '/pending-links', expect: [200, 403, 403, 403] },
  {
    what: 'list the authorisations to reuse',
    method: 'GET',
    route: () => '/salesforce-auths',
    expect: [200, 200, 403, 403],
  },
  {
    what: 'reuse an authorisation for inbox 16',
    method: 'POST',
    route: () => '/links',
    body: () => ({ inboxId: '16', authId: link12.authId, target: 'lead' }),
    expect: [409, 403, 403, 403],
  },
  { what: "read inbox 12's audit log", method: 'GET', route: () => '/inboxes/12/audit', expect: [200, 200, 200, 403] },
  { what: "read inbox 12's members", method: 'GET', route: () => '/inboxes/12/members', expect: [200, 200, 200, 403] },
  {
    what: 'register an inbox',
    method: 'POST',
    route: () => '/inboxes',
    body: () => ({ inboxId: '99', name: '新設' }),
    expect: [201, 403, 403, 403],
  },
  {
    what: 'take a role away',
    method: 'DELETE',
    route: () => `/inboxes/15/members/${harness.member.id}`,
    expect: [204, 403, 403, 403],
  },
  { what: 'list the console users', method: 'GET', route: () => '/users', expect: [200, 403, 403, 403] },
  { what: 'list the webhook secrets', method: 'GET', route: () => '/webhook-secrets', expect: [200, 403, 403, 403] },
];

describe('what each role may do, enforced by the API', () => {
  it.each(ROWS.map((row) => [row.what, row] as const))('%s', async (_what, row) => {
    const actors: Actor[] = ['owner', 'admin', 'member', 'outsider'];
    const statuses: number[] = [];
    for (const actor of actors) {
      const answer = await callAs(harness.baseUrl, sessions[actor], row.method, row.route(), row.body?.());
      statuses.push(answer.status);
      if (answer.status === 403) expect(answer.body.error).toBe('forbidden');
    }
    expect(statuses).toEqual(row.expect);
  });

  it('an inbox admin may delete its inbox’s link, a member may not; the link of another inbox is out of reach', async () => {
    expect((await callAs(harness.baseUrl, sessions.member, 'DELETE', `/links/${link12.id}`)).status).toBe(403);
    expect((await callAs(harness.baseUrl, sessions.admin, 'DELETE', `/links/${link16.id}`)).status).toBe(403);
    expect((await harness.bridge.store.links.getLink(link16.id))?.status).toBe('active');
    const deleted = await callAs(harness.baseUrl, sessions.admin, 'DELETE', `/links/${link12.id}`);
    expect(deleted).toMatchObject({ status: 200, body: { deleted: true } });
    const audit = await callAs(harness.baseUrl, sessions.member, 'GET', '/inboxes/12/audit');
    expect(audit.body.entries[0]).toMatchObject({
      event: 'deleted',
      actor: { kind: 'user', id: harness.inboxAdmin.id },
      changes: { status: { from: 'active', to: 'deleted' } },
    });
  });
});
