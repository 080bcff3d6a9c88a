import { completeAuthorization } from '../../local-org';
import { createAdminRouter } from '../../src/admin/routes';
import { ConsoleAccounts } from '../../src/auth/accounts';
import { createConsoleRouter } from '../../src/console/server';
import type { Link } from '../../src/core/types';
import { createIntakeRouter } from '../../src/intake/routes';
import { WebhookSecrets } from '../../src/intake/webhook-secrets';
import { createOAuthCallbackRouter } from '../../src/links/routes';
import { createLogger } from '../../src/logging';
import { callAs, type SessionClient, signInOverHttp } from '../auth/session-client';
import { type BridgeHarness, HARNESS_ADMIN_TOKEN, startBridgeHarness } from '../helpers/bridge-harness';
import { actionPayload, sendWebhook } from '../helpers/payloads';

/**
 * Every route of the bridge, for every kind of caller: an owner, an admin of inboxes 12–15,
 * an admin of another team's inboxes (16, 17), a member of inbox 12, and someone signed out.
 * The list of routes comes from the routers themselves, so a new route without a row here
 * fails the first test. State-changing rows get a fresh target per caller, so that each
 * caller's answer depends on who it is, not on who went before.
 */

const ROLES = ['owner', 'admin', 'otherAdmin', 'member', 'signedOut'] as const;
type Role = (typeof ROLES)[number];
type Expectation = Record<Role, number>;

const expecting = (
  owner: number,
  admin: number,
  otherAdmin: number,
  member: number,
  signedOut: number,
): Expectation => ({
  owner,
  admin,
  otherAdmin,
  member,
  signedOut,
});

interface Call {
  path: string;
  body?: unknown;
  /** Another session than the caller's usual one (null: none). */
  session?: SessionClient | null;
  /** A browser-like request without the admin API's JSON expectations. */
  raw?: boolean;
}

interface Row {
  expect: Expectation;
  call(role: Role): Promise<Call> | Call;
  /** Undoes what an allowed call changed, so that the next caller finds the same state. */
  cleanup?(role: Role, status: number): Promise<void>;
}

const ACCOUNTS = {
  owner: { email: 'owner@relation-demo.example.jp', isOwner: true, admin: [], member: [] },
  admin: { email: 'admin@relation-demo.example.jp', isOwner: false, admin: ['12', '13', '14', '15'], member: [] },
  otherAdmin: { email: 'other-admin@relation-demo.example.jp', isOwner: false, admin: ['16', '17'], member: [] },
  member: { email: 'member@relation-demo.example.jp', isOwner: false, admin: [], member: ['12'] },
} as const;

let harness: BridgeHarness;
const sessions = {} as Record<Exclude<Role, 'signedOut'>, SessionClient>;
const passwords = {} as Record<Exclude<Role, 'signedOut'>, string>;
let link12: Link;
let link16: Link;
let action12: string;
let pending13: string;
let victimId: string;
let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter += 1)}`;

const token = (method: string, route: string, body?: unknown) => harness.admin(method, route, body);

/** A pending link made by a script through Salesforce's login and allow pages. */
async function pendingLinkFor(inboxId: string): Promise<string> {
  const started = await token('POST', '/pending-links', { inboxId, environment: 'production' });
  const user = harness.seeded.authorizingUser;
  const callback = await completeAuthorization(started.body.authorizeUrl, {
    username: user.username,
    password: user.password,
  });
  const page = await fetch(callback, { redirect: 'manual' });
  if (page.status !== 200) throw new Error(`pending link callback answered ${page.status}`);
  const listed = await token('GET', `/pending-links?inboxId=${inboxId}`);
  return listed.body.pendingLinks.at(-1).id as string;
}

async function deleteLinkOf(inboxId: string): Promise<void> {
  const link = await harness.bridge.store.links.getLinkForInbox(inboxId);
  if (link !== null) await token('DELETE', `/links/${link.id}`);
}

async function newUser(): Promise<string> {
  const created = await token('POST', '/users', {
    email: `someone-${unique()}@relation-demo.example.jp`,
    name: '一時 ユーザー',
    password: 'temporary-pass-2026',
  });
  return created.body.user.id as string;
}

const allowed = (status: number) => status >= 200 && status < 300;

/** The rows, keyed as the routers name their routes. */
const ROWS: Record<string, Row> = {
  // The session: signing in is open to all and checks only the password.
  'POST /api/v1/session': {
    expect: expecting(401, 401, 401, 401, 401),
    call: () => ({ path: '/session', body: { email: 'nobody@relation-demo.example.jp', password: 'not-a-password' } }),
  },
  'GET /api/v1/session': { expect: expecting(200, 200, 200, 200, 401), call: () => ({ path: '/session' }) },
  'DELETE /api/v1/session': {
    expect: expecting(204, 204, 204, 204, 401),
    // Signing out ends the session: each caller signs out of a fresh one.
    call: async (role) => ({
      path: '/session',
      session:
        role === 'signedOut' ? null : await signInOverHttp(harness.baseUrl, ACCOUNTS[role].email, passwords[role]),
    }),
  },
  'PUT /api/v1/session/password': {
    expect: expecting(204, 204, 204, 204, 401),
    call: (role) => {
      const current = role === 'signedOut' ? 'whatever-password' : passwords[role];
      return {
        path: '/session/password',
        body: { currentPassword: current, newPassword: `${role}-rotated-${unique()}` },
      };
    },
    async cleanup(role, status) {
      if (role !== 'signedOut' && status === 204) passwords[role] = (lastBody as { newPassword: string }).newPassword;
    },
  },
  'PUT /api/v1/session/language': {
    expect: expecting(200, 200, 200, 200, 401),
    call: () => ({ path: '/session/language', body: { language: 'ja' } }),
  },

  // Console users: owners only.
  'GET /api/v1/users': { expect: expecting(200, 403, 403, 403, 401), call: () => ({ path: '/users' }) },
  'POST /api/v1/users': {
    expect: expecting(201, 403, 403, 403, 401),
    call: () => ({
      path: '/users',
      body: { email: `new-${unique()}@relation-demo.example.jp`, name: '新人', password: 'fresh-start-2026' },
    }),
  },
  'PATCH /api/v1/users/:userId': {
    expect: expecting(200, 403, 403, 403, 401),
    call: () => ({ path: `/users/${victimId}`, body: { name: '名前 変更' } }),
  },
  'DELETE /api/v1/users/:userId': {
    expect: expecting(204, 403, 403, 403, 401),
    call: async () => ({ path: `/users/${await newUser()}` }),
  },

  // Links: members read their inbox's, admins change it, nobody reaches another team's.
  'POST /api/v1/links/authorize': {
    expect: expecting(201, 201, 403, 403, 401),
    call: () => ({ path: '/links/authorize', body: { inboxId: '13', environment: 'production', target: 'lead' } }),
  },
  'GET /api/v1/links': { expect: expecting(200, 200, 200, 200, 401), call: () => ({ path: '/links' }) },
  'GET /api/v1/links/:id': {
    expect: expecting(200, 200, 403, 200, 401),
    call: () => ({ path: `/links/${link12.id}` }),
  },
  'PATCH /api/v1/links/:id': {
    expect: expecting(200, 200, 403, 403, 401),
    call: () => ({ path: `/links/${link12.id}`, body: { target: link12.target } }),
  },
  'DELETE /api/v1/links/:id': {
    expect: expecting(200, 200, 403, 403, 401),
    // Those who may delete get a link of their own to delete (inbox 14); the others try link 12.
    call: async (role) => {
      if (role !== 'owner' && role !== 'admin') return { path: `/links/${link12.id}` };
      return { path: `/links/${(await harness.linkInbox({ inboxId: '14', inboxName: '受信箱 14' })).id}` };
    },
  },
  'POST /api/v1/links/:id/reauthorize': {
    expect: expecting(201, 201, 403, 403, 401),
    call: () => ({ path: `/links/${link12.id}/reauthorize` }),
  },
  'GET /api/v1/inboxes/:inboxId/health': {
    expect: expecting(200, 200, 403, 200, 401),
    call: () => ({ path: '/inboxes/12/health' }),
  },

  // The action log.
  'GET /api/v1/actions': { expect: expecting(200, 403, 403, 403, 401), call: () => ({ path: '/actions' }) },
  'POST /api/v1/actions/retry': {
    expect: expecting(200, 200, 403, 403, 401),
    call: () => ({ path: '/actions/retry', body: { actionIds: [action12] } }),
  },
  'GET /api/v1/actions/:actionId': {
    expect: expecting(200, 200, 403, 200, 401),
    call: () => ({ path: `/actions/${action12}` }),
  },

  // Inboxes and their members: owners manage, members read.
  'GET /api/v1/inboxes': { expect: expecting(200, 200, 200, 200, 401), call: () => ({ path: '/inboxes' }) },
  'POST /api/v1/inboxes': {
    expect: expecting(201, 403, 403, 403, 401),
    call: () => ({ path: '/inboxes', body: { inboxId: `new-${unique()}`, name: '新設' } }),
  },
  'GET /api/v1/inboxes/:inboxId': { expect: expecting(200, 200, 403, 200, 401), call: () => ({ path: '/inboxes/12' }) },
  'PATCH /api/v1/inboxes/:inboxId': {
    expect: expecting(200, 403, 403, 403, 401),
    call: () => ({ path: '/inboxes/12', body: { name: '受信箱 12' } }),
  },
  'DELETE /api/v1/inboxes/:inboxId': {
    expect: expecting(204, 403, 403, 403, 401),
    call: async () => {
      const inboxId = `gone-${unique()}`;
      await token('POST', '/inboxes', { inboxId, name: '削除予定' });
      return { path: `/inboxes/${inboxId}` };
    },
  },
  'GET /api/v1/inboxes/:inboxId/members': {
    expect: expecting(200, 200, 403, 200, 401),
    call: () => ({ path: '/inboxes/12/members' }),
  },
  'PUT /api/v1/inboxes/:inboxId/members/:userId': {
    expect: expecting(200, 403, 403, 403, 401),
    call: () => ({ path: `/inboxes/12/members/${victimId}`, body: { role: 'member' } }),
  },
  'DELETE /api/v1/inboxes/:inboxId/members/:userId': {
    expect: expecting(204, 403, 403, 403, 401),
    call: () => ({ path: `/inboxes/12/members/${victimId}` }),
  },
  'GET /api/v1/inboxes/:inboxId/audit': {
    expect: expecting(200, 200, 403, 200, 401),
    call: () => ({ path: '/inboxes/12/audit' }),
  },

  // The wizard: admins of the inbox.
  'POST /api/v1/pending-links': {
    expect: expecting(201, 201, 403, 403, 401),
    call: () => ({ path: '/pending-links', body: { inboxId: '13', environment: 'production' } }),
  },
  'GET /api/v1/pending-links': {
    expect: expecting(200, 200, 403, 403, 401),
    call: () => ({ path: '/pending-links?inboxId=13' }),
  },
  'GET /api/v1/pending-links/:id': {
    expect: expecting(200, 200, 403, 403, 401),
    call: () => ({ path: `/pending-links/${pending13}` }),
  },
  'GET /api/v1/pending-links/:id/salesforce-users': {
    expect: expecting(200, 200, 403, 403, 401),
    call: () => ({ path: `/pending-links/${pending13}/salesforce-users` }),
  },
  'POST /api/v1/pending-links/:id/complete': {
    expect: expecting(201, 201, 403, 403, 401),
    call: async (role) => ({
      path: `/pending-links/${role === 'owner' || role === 'admin' ? await pendingLinkFor('15') : pending13}/complete`,
      body: { target: 'contact' },
    }),
    cleanup: async (_role, status) => {
      if (allowed(status)) await deleteLinkOf('15');
    },
  },
  'DELETE /api/v1/pending-links/:id': {
    expect: expecting(200, 200, 403, 403, 401),
    call: async (role) => ({
      path: `/pending-links/${role === 'owner' || role === 'admin' ? await pendingLinkFor('13') : pending13}`,
    }),
  },

  // Authorisations: seen and reused by an owner, their creator, or an admin of an inbox using them.
  'GET /api/v1/salesforce-auths': {
    expect: expecting(200, 200, 200, 403, 401),
    call: () => ({ path: '/salesforce-auths' }),
  },
  'GET /api/v1/salesforce-auths/:authId/salesforce-users': {
    expect: expecting(200, 200, 404, 403, 401),
    call: () => ({ path: `/salesforce-auths/${link12.authId}/salesforce-users` }),
  },
  'POST /api/v1/links': {
    expect: expecting(201, 201, 404, 403, 401),
    // Each caller links an inbox it administers (when it has one) with inbox 12's authorisation.
    call: (role) => ({
      path: '/links',
      body: { inboxId: role === 'otherAdmin' ? '17' : '14', authId: link12.authId, target: 'lead' },
    }),
    cleanup: async (role, status) => {
      if (allowed(status)) await deleteLinkOf(role === 'otherAdmin' ? '17' : '14');
    },
  },
  'GET /api/v1/links/:id/salesforce-users': {
    expect: expecting(200, 200, 403, 403, 401),
    call: () => ({ path: `/links/${link12.id}/salesforce-users` }),
  },

  // Webhook secrets: owners only.
  'GET /api/v1/webhook-secrets': {
    expect: expecting(200, 403, 403, 403, 401),
    call: () => ({ path: '/webhook-secrets' }),
  },
  'POST /api/v1/webhook-secrets': {
    expect: expecting(201, 403, 403, 403, 401),
    call: () => ({ path: '/webhook-secrets', body: { label: `rotation ${unique()}` } }),
  },
  'DELETE /api/v1/webhook-secrets/:id': {
    expect: expecting(204, 403, 403, 403, 401),
    call: async () => ({
      path: `/webhook-secrets/${(await token('POST', '/webhook-secrets', { label: 'to revoke' })).body.id}`,
    }),
  },

  // Outside the admin API: no role is asked for.
  'POST /webhooks/relation': {
    expect: expecting(401, 401, 401, 401, 401),
    call: () => ({ path: '/webhooks/relation', body: actionPayload(), raw: true }),
  },
  // A callback without a flow: refused, on the console's result page for a signed-in browser.
  'GET /oauth/callback': {
    expect: expecting(303, 303, 303, 303, 400),
    call: () => ({ path: '/oauth/callback', raw: true }),
  },
  'GET /': { expect: expecting(302, 302, 302, 302, 302), call: () => ({ path: '/', raw: true }) },
  'GET /console/assets/console.css': {
    expect: expecting(200, 200, 200, 200, 200),
    call: () => ({ path: '/console/assets/console.css', raw: true }),
  },
  'GET /console /console/*rest': {
    expect: expecting(200, 200, 200, 200, 200),
    call: () => ({ path: '/console/inboxes/16/settings/ticket-sync', raw: true }),
  },
};

/** The body of the last call, for cleanups that need it. */
let lastBody: unknown;

type RouteLayer = { route?: { path: string | string[]; methods: Record<string, boolean> } };

function routesOf(stack: RouteLayer[], prefix = ''): string[] {
  return stack
    .filter((layer) => layer.route !== undefined)
    .flatMap((layer) => {
      const route = layer.route as NonNullable<RouteLayer['route']>;
      const paths = (Array.isArray(route.path) ? route.path : [route.path]).map((path) => `${prefix}${path}`).join(' ');
      return Object.keys(route.methods)
        .filter((method) => method !== '_all')
        .map((method) => `${method.toUpperCase()} ${paths}`);
    });
}

beforeAll(async () => {
  harness = await startBridgeHarness();
  for (const inboxId of ['12', '13', '14', '15', '16', '17']) {
    await token('POST', '/inboxes', { inboxId, name: `受信箱 ${inboxId}` });
  }
  link12 = await harness.linkInbox({ inboxId: '12', inboxName: '受信箱 12' });
  // Another team links inbox 16 as another Salesforce user: an authorisation of its own.
  const otherTeam = { username: 'kenji.mori@yamato.example.jp', password: 'other-team-password-1' };
  harness.org.addUser({ ...otherTeam, email: 'kenji.mori@yamato.example.jp', lastName: '森', firstName: '健二' });
  const started = await token('POST', '/links/authorize', { inboxId: '16', environment: 'production', target: 'lead' });
  const callback = await completeAuthorization(started.body.authorizeUrl, otherTeam);
  expect((await fetch(callback, { redirect: 'manual' })).status).toBe(200);
  link16 = (await harness.bridge.store.links.getLinkForInbox('16')) as Link;
  expect(link16.authId).not.toBe(link12.authId);
  for (const role of ['owner', 'admin', 'otherAdmin', 'member'] as const) {
    const account = ACCOUNTS[role];
    passwords[role] = `${role}-password-2026`;
    const created = await token('POST', '/users', {
      email: account.email,
      name: role,
      isOwner: account.isOwner,
      password: passwords[role],
    });
    for (const inboxId of account.admin) {
      await token('PUT', `/inboxes/${inboxId}/members/${created.body.user.id}`, { role: 'admin' });
    }
    for (const inboxId of account.member) {
      await token('PUT', `/inboxes/${inboxId}/members/${created.body.user.id}`, { role: 'member' });
    }
    sessions[role] = await signInOverHttp(harness.baseUrl, account.email, passwords[role]);
  }
  victimId = await newUser();
  const payload = actionPayload({ inboxId: '12', emails: ['nobody@unknown.example.jp'] });
  expect((await sendWebhook(harness.baseUrl, payload)).status).toBe(202);
  action12 = payload.action.id;
  pending13 = await pendingLinkFor('13');
}, 90_000);

afterAll(async () => {
  await harness.close();
});

it('has a row for every route of the admin API, the console, the intake and the OAuth callback', () => {
  const logger = createLogger('silent');
  const admin = createAdminRouter({
    links: harness.bridge.links,
    store: harness.bridge.store,
    adminToken: HARNESS_ADMIN_TOKEN,
    logger,
    accounts: new ConsoleAccounts({
      store: harness.bridge.store,
      logger,
      sessionIdleMs: 60_000,
      sessionMaxMs: 3_600_000,
    }),
    webhookSecrets: new WebhookSecrets({ repository: harness.bridge.store.webhookSecrets, configured: [], logger }),
  });
  const intake = createIntakeRouter({
    ingest: () => Promise.reject(new Error('not used')),
    secrets: () => [],
    toleranceSeconds: 300,
    maxBodyBytes: 1024,
    logger,
  });
  const routes = [
    ...routesOf(admin.stack as RouteLayer[], '/api/v1'),
    ...routesOf(intake.stack as RouteLayer[]).filter((route) => route.startsWith('POST ')),
    ...routesOf(createOAuthCallbackRouter({ links: harness.bridge.links, logger }).stack as RouteLayer[]),
    ...routesOf(createConsoleRouter().stack as RouteLayer[]),
  ];
  expect(routes.length).toBeGreaterThanOrEqual(45);
  expect(Object.keys(ROWS).sort()).toEqual([...new Set(routes)].sort());
});

describe.each(Object.entries(ROWS))('%s', (_route, row) => {
  it('answers each kind of caller as its role allows', async () => {
    const method = _route.split(' ')[0] as string;
    const answers = {} as Record<Role, number>;
    for (const role of ROLES) {
      const call = await row.call(role);
      lastBody = call.body;
      const session = call.session !== undefined ? call.session : role === 'signedOut' ? null : sessions[role];
      let status: number;
      if (call.raw === true) {
        const response = await fetch(`${harness.baseUrl}${call.path}`, {
          method,
          redirect: 'manual',
          headers: {
            ...(session === null ? {} : { cookie: session.cookie, 'x-csrf-token': session.csrfToken }),
            ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
        });
        await response.arrayBuffer();
        status = response.status;
      } else {
        const answer = await callAs(harness.baseUrl, session, method, call.path, call.body);
        status = answer.status;
        if (status === 403) expect(answer.body.error).toBe('forbidden');
      }
      answers[role] = status;
      await row.cleanup?.(role, status);
    }
    expect(answers).toEqual(row.expect);
  });
});

describe('what each caller sees in the lists', () => {
  const idsOf = async (role: Role, route: string, key: string, id: string) => {
    const answer = await callAs(
      harness.baseUrl,
      role === 'signedOut' ? null : sessions[role as Exclude<Role, 'signedOut'>],
      'GET',
      route,
    );
    return (answer.body[key] as Array<Record<string, string>>).map((item) => item[id]).sort();
  };

  it('links: an owner all, an inbox admin or member only their inboxes’', async () => {
    expect(await idsOf('owner', '/links', 'links', 'inboxId')).toEqual(['12', '16']);
    expect(await idsOf('admin', '/links', 'links', 'inboxId')).toEqual(['12']);
    expect(await idsOf('otherAdmin', '/links', 'links', 'inboxId')).toEqual(['16']);
    expect(await idsOf('member', '/links', 'links', 'inboxId')).toEqual(['12']);
  });

  it('authorisations: each admin only those its inboxes use; an owner all', async () => {
    expect(await idsOf('owner', '/salesforce-auths', 'authorizations', 'id')).toEqual(
      [link12.authId, link16.authId].sort(),
    );
    expect(await idsOf('admin', '/salesforce-auths', 'authorizations', 'id')).toEqual([link12.authId]);
    expect(await idsOf('otherAdmin', '/salesforce-auths', 'authorizations', 'id')).toEqual([link16.authId]);
  });

  it('inboxes: an owner all, the others those they hold a role on', async () => {
    expect(await idsOf('admin', '/inboxes', 'inboxes', 'inboxId')).toEqual(['12', '13', '14', '15']);
    expect(await idsOf('otherAdmin', '/inboxes', 'inboxes', 'inboxId')).toEqual(['16', '17']);
    expect(await idsOf('member', '/inboxes', 'inboxes', 'inboxId')).toEqual(['12']);
  });

  it('the console is the same empty shell for everyone: what it shows comes through the API', async () => {
    const shells = new Set<string>();
    for (const role of ROLES) {
      const session = role === 'signedOut' ? null : sessions[role];
      const response = await fetch(`${harness.baseUrl}/console/inboxes/16/settings/ticket-sync`, {
        headers: session === null ? {} : { cookie: session.cookie },
      });
      shells.add(await response.text());
    }
    expect(shells.size).toBe(1);
    expect([...shells][0]).not.toMatch(/relation-demo\.example\.jp|受信箱 16/);
  });
});
