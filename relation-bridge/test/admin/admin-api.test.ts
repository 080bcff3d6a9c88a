import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createAdminRouter } from '../../src/admin/routes';
import { WebhookSecrets } from '../../src/intake/webhook-secrets';
import { ConsoleAccounts } from '../../src/auth/accounts';
import type { Link } from '../../src/core/types';
import { createLogger } from '../../src/logging';
import { ADMIN_TOKEN, addUser, api, linkInbox, type LinkHarness, newAction, startLinkHarness } from '../links/harness';
import { classifyActions, ingestActions } from '../helpers/store-actions';

describe('admin API authentication', () => {
  let harness: LinkHarness;
  afterEach(async () => {
    await harness.close();
  });

  it('answers 401 without a token or with a wrong one, and asks for a bearer token', async () => {
    harness = await startLinkHarness();
    const missing = await api(harness, 'GET', '/links', undefined, null);
    expect(missing.status).toBe(401);
    expect(missing.body.error).toBe('unauthorized');
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await api(harness, 'GET', '/links', undefined, `${ADMIN_TOKEN}x`)).status).toBe(401);
    expect((await api(harness, 'GET', '/links', undefined, 'short')).status).toBe(401);
    const basic = await fetch(`${harness.baseUrl}/api/v1/links`, {
      headers: { authorization: `Basic ${ADMIN_TOKEN}` },
    });
    expect(basic.status).toBe(401);
    expect((await api(harness, 'POST', '/links/authorize', { inboxId: '1' }, null)).status).toBe(401);
    expect((await api(harness, 'GET', '/links')).status).toBe(200);
  });

  it('answers a bearer token with 503 admin_api_disabled when no admin token is configured, and asks anyone else to sign in', async () => {
    harness = await startLinkHarness({ adminToken: null });
    for (const token of [ADMIN_TOKEN, 'any-other-token-0123456789']) {
      const answer = await api(harness, 'GET', '/links', undefined, token);
      expect(answer.status).toBe(503);
      expect(answer.body.error).toBe('admin_api_disabled');
      expect(answer.body.message).toMatch(/BRIDGE_ADMIN_TOKEN/);
    }
    const anonymous = await api(harness, 'GET', '/links', undefined, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.message).toMatch(/^Sign in to the console/);
  });
});

describe('admin API requests and errors', () => {
  let harness: LinkHarness;
  beforeAll(async () => {
    harness = await startLinkHarness();
  });
  afterAll(async () => {
    await harness.close();
  });

  it('answers 400 with the path of every invalid field', async () => {
    const answer = await api(harness, 'POST', '/links/authorize', {
      inboxId: '',
      environment: 'prod',
      target: 'account',
      extra: 1,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_request');
    const paths = answer.body.details.map((detail: { path: string }) => detail.path);
    expect(paths).toEqual(expect.arrayContaining(['body.inboxId', 'body.environment', 'body.target', 'body']));

    const custom = await api(harness, 'POST', '/links/authorize', {
      inboxId: '1',
      environment: 'custom',
      target: 'lead',
    });
    expect(custom.body.details).toEqual([{ path: 'body.myDomain', message: 'required when environment is custom' }]);

    const owner = await api(harness, 'POST', '/links/authorize', {
      inboxId: '1',
      environment: 'production',
      target: 'lead',
      defaultOwnerId: '00Q000000000001',
    });
    expect(owner.body.details[0].path).toBe('body.defaultOwnerId');
  });

  it("says each rule broken with zod's issue and its limit, so that a console can say it in its reader's language", async () => {
    const answer = await api(harness, 'POST', '/users', { email: 'not-an-email', name: '', password: 'short' });
    expect(answer.status).toBe(400);
    expect(answer.body.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'body.email', issue: 'invalid_format', format: 'email' }),
        expect.objectContaining({ path: 'body.name', issue: 'too_small', minimum: 1 }),
        expect.objectContaining({ path: 'body.password', issue: 'too_small', minimum: 12 }),
      ]),
    );
  });

  it('refuses a date range that ends before it starts, instead of answering nothing', async () => {
    const reversed = await api(
      harness,
      'GET',
      '/actions?inboxId=12&since=2026-11-28T00:00:00Z&until=2026-11-27T00:00:00Z',
    );
    expect(reversed.status).toBe(400);
    expect(reversed.body.details).toEqual([
      { path: 'query.until', message: 'must be after since', code: 'reversed_range' },
    ]);
    const ordered = await api(
      harness,
      'GET',
      '/actions?inboxId=12&since=2026-11-27T00:00:00Z&until=2026-11-28T00:00:00Z',
    );
    expect(ordered.status).toBe(200);
  });

  it('answers 400 invalid_json for a body that is not JSON, and 404 for an unknown endpoint', async () => {
    const broken = await api(harness, 'POST', '/links/authorize', '{"inboxId":');
    expect(broken.status).toBe(400);
    expect(broken.body.error).toBe('invalid_json');
    const missing = await api(harness, 'GET', '/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('not_found');
    expect((await api(harness, 'GET', '/actions/act_missing')).body.error).toBe('action_not_found');
  });

  it('reports an inbox without a link as not linked', async () => {
    const health = await api(harness, 'GET', '/inboxes/99/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ inboxId: '99', status: 'not_linked', link: null, org: null, lastSyncAt: null });
    expect(health.body.problems[0].code).toBe('not_linked');
    expect(Object.values(health.body.counts).every((count) => count === 0)).toBe(true);
  });
});

describe('action log through the admin API', () => {
  let harness: LinkHarness;
  let link: Link;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    harness = await startLinkHarness();
    const org = harness.local.createOrg({ name: 'Acme' });
    const user = addUser(org, 'hanako');
    await linkInbox(
      harness,
      { inboxId: '12', inboxName: '営業窓口', environment: 'production', target: 'contact' },
      user,
    );
    link = (await harness.store.links.getLinkForInbox('12')) as Link;
    const { store } = harness;
    const now = Date.now();

    const plan = ['synced', 'failed', 'unmatched', 'pending'] as const;
    for (const [index, outcome] of plan.entries()) {
      const action = newAction('12', { occurredAt: now + index });
      ids[outcome] = action.actionId;
      await ingestActions(store, [action]);
    }
    const skipped = newAction('34', { channel: 'fax', occurredAt: now + 10 });
    ids.skipped = skipped.actionId;
    await ingestActions(store, [skipped]);

    await classifyActions(
      store,
      [
        ...plan.map((outcome) => ({
          actionId: ids[outcome] as string,
          state: 'pending' as const,
          reason: null,
          linkId: link.id,
          orgId: link.orgId,
        })),
        {
          actionId: ids.skipped as string,
          state: 'skipped' as const,
          reason: 'no_link' as const,
          linkId: null,
          orgId: null,
        },
      ],
      now,
    );
    const claimed = await store.actions.claimDue({
      orgId: link.orgId,
      limit: 10,
      leaseOwner: 'test',
      leaseMs: 60_000,
      now: now + 100,
    });
    expect(claimed).toHaveLength(4);
    await store.actions.complete(
      [
        {
          actionId: ids.synced as string,
          state: 'synced',
          sfEventId: '00U000000000001AAA',
          whoId: '003000000000001AAA',
        },
        {
          actionId: ids.failed as string,
          state: 'failed',
          reason: 'salesforce_rejected',
          errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
          errorMessage: '件名は必須です',
        },
        {
          actionId: ids.unmatched as string,
          state: 'unmatched',
          reason: 'no_matching_record',
          match: { rule: 'email_then_phone', chosen: null, candidates: [] },
        },
        { actionId: ids.pending as string, state: 'pending', nextAttemptAt: now + 60_000 },
      ],
      'test',
      now + 200,
    );
  });

  afterAll(async () => {
    await harness.close();
  });

  it('lists actions newest first with state, reason, error and ticket, and never a token', async () => {
    const page = await api(harness, 'GET', '/actions');
    expect(page.status).toBe(200);
    expect(page.body.actions).toHaveLength(5);
    const failed = page.body.actions.find((action: { actionId: string }) => action.actionId === ids.failed);
    expect(failed).toMatchObject({
      state: 'failed',
      reason: 'salesforce_rejected',
      error: { code: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: '件名は必須です' },
      inboxId: '12',
      linkId: link.id,
      ticket: { id: '48213', url: 'https://example.relationapp.jp/tickets/48213' },
      customer: { emails: ['taro.yamada@example.com'] },
    });
    expect(failed.payload).toBeUndefined();
    const synced = page.body.actions.find((action: { actionId: string }) => action.actionId === ids.synced);
    expect(synced).toMatchObject({ state: 'synced', sfEventId: '00U000000000001AAA', error: null });
    const updated = page.body.actions.map((action: { updatedAt: string }) => Date.parse(action.updatedAt));
    expect([...updated].sort((a, b) => b - a)).toEqual(updated);
    const auth = await harness.store.links.getAuth(link.authId);
    expect(JSON.stringify(page.body)).not.toContain(auth?.refreshToken);
  });

  it('filters by inbox, state (one or several) and reason', async () => {
    const inbox = await api(harness, 'GET', '/actions?inboxId=34');
    expect(inbox.body.actions.map((action: { actionId: string }) => action.actionId)).toEqual([ids.skipped]);
    const several = await api(harness, 'GET', '/actions?state=failed,unmatched');
    expect(several.body.actions.map((action: { actionId: string }) => action.actionId).sort()).toEqual(
      [ids.failed, ids.unmatched].sort(),
    );
    const repeated = await api(harness, 'GET', '/actions?state=failed&state=synced');
    expect(repeated.body.actions).toHaveLength(2);
    const reason = await api(harness, 'GET', '/actions?reason=no_link');
    expect(reason.body.actions.map((action: { actionId: string }) => action.actionId)).toEqual([ids.skipped]);
    const since = await api(
      harness,
      'GET',
      `/actions?since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`,
    );
    expect(since.body.actions).toEqual([]);
    const bad = await api(harness, 'GET', '/actions?state=lost&limit=0&since=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((detail: { path: string }) => detail.path).sort()).toEqual([
      'query.limit',
      'query.since',
      'query.state.0',
    ]);
    expect((await api(harness, 'GET', '/actions?stat=failed')).status).toBe(400);
  });

  it('pages with nextCursor until every action was seen once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const route: string = `/actions?limit=2${cursor === null ? '' : `&before=${encodeURIComponent(cursor)}`}`;
      const page = await api(harness, 'GET', route);
      expect(page.status).toBe(200);
      seen.push(...page.body.actions.map((action: { actionId: string }) => action.actionId));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    expect((await api(harness, 'GET', '/actions?before=garbage')).body.details[0].path).toBe('query.before');
  });

  it('shows one action with its webhook body, and a synced one with its Event in Salesforce', async () => {
    const answer = await api(harness, 'GET', `/actions/${ids.unmatched}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      actionId: ids.unmatched,
      state: 'unmatched',
      reason: 'no_matching_record',
      match: { rule: 'email_then_phone', chosen: null },
      payload: { type: 'ticket.action.created', inbox: { id: '12' } },
      eventUrl: null,
    });
    const synced = await api(harness, 'GET', `/actions/${ids.synced}`);
    expect(synced.body).toMatchObject({
      sfEventId: '00U000000000001AAA',
      eventUrl: `${link.instanceUrl}/lightning/r/Event/00U000000000001AAA/view`,
    });
  });

  it('reports the inbox health: link, counts of the last 24 hours, API calls and problems', async () => {
    const health = await api(harness, 'GET', '/inboxes/12/health');
    expect(health.body).toMatchObject({ inboxId: '12', status: 'active', link: { id: link.id } });
    expect(health.body.counts).toMatchObject({ synced: 1, failed: 1, unmatched: 1, pending: 1, skipped: 0 });
    expect(health.body.org.orgId).toBe(link.orgId);
    expect(health.body.org.bridgeApiCallsLast24h).toBeGreaterThanOrEqual(1);
    expect(health.body.org.apiUsage).toMatchObject({ max: 15000 });
    const codes = health.body.problems.map((problem: { code: string }) => problem.code);
    expect(codes).toEqual(expect.arrayContaining(['failed_actions', 'unmatched_actions']));
  });

  it('retries failed and unmatched actions only', async () => {
    const answer = await api(harness, 'POST', '/actions/retry', {
      actionIds: [ids.failed, ids.unmatched, ids.synced, ids.skipped, 'act_missing'],
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      retried: 2,
      willSync: 2,
      held: {},
      skipped: {},
      waitingForLink: 0,
      notRetryable: 3,
    });
    expect((await harness.store.actions.get(ids.failed as string))?.state).toBe('pending');
    expect((await harness.store.actions.get(ids.unmatched as string))?.state).toBe('pending');
    expect((await harness.store.actions.get(ids.synced as string))?.state).toBe('synced');
    expect((await api(harness, 'POST', '/actions/retry', { actionIds: [] })).status).toBe(400);
  });
});

describe('admin API documentation', () => {
  it("documents every endpoint of the router, the console's included, in docs/openapi.json", async () => {
    const harness = await startLinkHarness();
    try {
      const logger = createLogger('silent');
      const router = createAdminRouter({
        links: harness.links,
        store: harness.store,
        adminToken: ADMIN_TOKEN,
        logger,
        accounts: new ConsoleAccounts({ store: harness.store, logger, sessionIdleMs: 60_000, sessionMaxMs: 3_600_000 }),
        webhookSecrets: new WebhookSecrets({ repository: harness.store.webhookSecrets, configured: [], logger }),
      });
      const routes = (router.stack as Array<{ route?: { path: string; methods: Record<string, boolean> } }>)
        .filter((layer) => layer.route !== undefined)
        .flatMap((layer) =>
          Object.keys(layer.route?.methods ?? {}).map(
            (method) => `${method} ${layer.route?.path.replace(/:(\w+)/g, '{$1}')}`,
          ),
        );
      expect(routes.length).toBeGreaterThanOrEqual(40);
      expect(documentedOperations()).toEqual(new Set(routes));
    } finally {
      await harness.close();
    }
  });
});

/** `method /path` for every operation of the published OpenAPI document. */
function documentedOperations(): Set<string> {
  const document = JSON.parse(readFileSync(path.resolve(__dirname, '../../../docs/openapi.json'), 'utf8')) as {
    paths: Record<string, Record<string, unknown>>;
  };
  return new Set(
    Object.entries(document.paths).flatMap(([route, methods]) =>
      Object.keys(methods).map((method) => `${method} ${route}`),
    ),
  );
}
