import type { LocalOrg, LocalSalesforce, LocalUser } from '../../local-org';
import { eventFor, login, refreshWith, rest, startOrg } from './support';

/** The `/__local` control API, for tests and demos that drive the org from another process. */
describe('local org control API', () => {
  let sf: LocalSalesforce;
  let org: LocalOrg;
  let user: LocalUser;
  let token: string;

  beforeEach(async () => {
    ({ sf, org, user } = await startOrg());
    token = (await login(sf, user)).access_token;
  });

  afterEach(async () => {
    await sf.close();
  });

  async function control(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const response = await fetch(`${sf.baseUrl}/__local${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.json() };
  }

  it('describes the server, the app and every org', async () => {
    const { body } = await control('GET', '');
    expect(body).toMatchObject({
      productionLoginUrl: sf.productionLoginUrl,
      sandboxLoginUrl: sf.sandboxLoginUrl,
      app: { clientId: sf.app.clientId },
      orgs: [{ orgId: org.orgId, instanceUrl: org.instanceUrl, loginUrl: sf.productionLoginUrl }],
    });
  });

  it('creates a seeded org', async () => {
    const { status, body } = await control('POST', '/orgs', { name: 'Demo Sandbox', sandbox: true, seed: true });
    expect(status).toBe(201);
    expect(body.loginUrl).toBe(sf.sandboxLoginUrl);
    expect(body.seeded.contacts.length).toBeGreaterThan(0);
    expect(sf.org(body.orgId)?.records('Lead').length).toBe(body.seeded.leads.length);
  });

  it('adds a fault that fails the next matching request', async () => {
    const added = await control('POST', '/faults', {
      type: 'fail',
      path: '/limits',
      status: 503,
      body: [{ errorCode: 'SERVER_UNAVAILABLE', message: 'down' }],
    });
    expect(added.status).toBe(201);
    expect((await control('GET', '/faults')).body).toEqual([
      expect.objectContaining({ id: added.body.id, kind: 'fail' }),
    ]);
    expect((await rest(org, token, 'GET', '/limits')).status).toBe(503);
    expect((await rest(org, token, 'GET', '/limits')).status).toBe(200);
  });

  it('hangs and releases requests by fault id', async () => {
    const added = await control('POST', '/faults', { type: 'hang', path: '/limits' });
    const pending = rest(org, token, 'GET', '/limits');
    for (let waiting = 0; waiting === 0;) {
      waiting = ((await control('GET', '/faults')).body[0] as { waiting: number }).waiting;
    }
    expect((await control('POST', `/faults/${added.body.id}/release`)).status).toBe(200);
    expect((await pending).status).toBe(200);
  });

  it('expires access tokens and revokes refresh tokens', async () => {
    const session = await login(sf, user);
    expect((await control('POST', `/orgs/${org.orgId}/expire-access-tokens`)).body.expired).toBeGreaterThan(0);
    expect((await rest(org, session.access_token, 'GET', '/limits')).status).toBe(401);
    expect((await control('POST', `/orgs/${org.orgId}/revoke-refresh-tokens`, { userId: user.id })).body.revoked).toBe(
      2,
    );
    expect((await refreshWith(sf, session.refresh_token as string)).body.error).toBe('invalid_grant');
  });

  it('exhausts and resets the daily budget and reports the calls', async () => {
    await control('PUT', `/orgs/${org.slug}/api-usage`, { exhausted: true });
    expect((await rest(org, token, 'GET', '/limits')).status).toBe(403);
    await control('PUT', `/orgs/${org.slug}/api-usage`, { used: 0 });
    expect((await rest(org, token, 'GET', '/limits')).status).toBe(200);
    const usage = await control('GET', `/orgs/${org.slug}/api-usage`);
    expect(usage.body).toMatchObject({ used: 1, max: 15000, calls: { total: 1, byEndpoint: { 'GET /limits': 1 } } });
    await control('DELETE', `/orgs/${org.slug}/api-calls`);
    expect(org.apiCalls().total).toBe(0);
  });

  it('flips settings and validates them', async () => {
    const changed = await control('PATCH', `/orgs/${org.orgId}/settings`, {
      apiEnabled: false,
      searchIndexLagMs: 5000,
    });
    expect(changed.body).toMatchObject({ apiEnabled: false, searchIndexLagMs: 5000 });
    expect((await rest(org, token, 'GET', '/limits')).body[0].errorCode).toBe('API_DISABLED_FOR_ORG');
    expect((await control('PATCH', `/orgs/${org.orgId}/settings`, { apiEnabled: 'no' })).status).toBe(400);
    expect((await control('PATCH', `/orgs/${org.orgId}/settings`, { bogus: true })).status).toBe(400);
  });

  it('lists records and the commits of writes', async () => {
    const contact = (await control('POST', `/orgs/${org.orgId}/records/Contact`, { LastName: '山田' })).body.id;
    await rest(org, token, 'POST', '/composite/sobjects', { records: [eventFor(org, contact)] });
    const events = await control('GET', `/orgs/${org.orgId}/records/Event`);
    expect(events.body).toHaveLength(1);
    const commits = await control('GET', '/commits?after=0');
    expect(commits.body).toEqual([
      expect.objectContaining({ orgId: org.orgId, records: [{ id: events.body[0].Id, type: 'Event' }] }),
    ]);
    const rows = await control('GET', `/orgs/${org.orgId}/query?q=${encodeURIComponent('SELECT Id FROM Event')}`);
    expect(rows.body).toEqual([{ Id: events.body[0].Id }]);
  });

  it('changes the app’s callback URLs', async () => {
    const changed = await control('PATCH', '/app', { callbackUrls: ['http://127.0.0.1:1234/oauth/callback'] });
    expect(changed.body.callbackUrls).toEqual(['http://127.0.0.1:1234/oauth/callback']);
    expect(sf.app.callbackUrls).toEqual(['http://127.0.0.1:1234/oauth/callback']);
  });
});
