import { completeAuthorization, MAX_APPROVALS_PER_USER, type LocalOrg, type LocalSalesforce } from '../../local-org';
import type { LocalUser } from '../../local-org';
import { PACKAGE_APP_LABEL } from '../../src/salesforce/package-names';
import { authorizeUrl, login, newPkce, PASSWORD, postForm, refreshWith, rest, startOrg } from './support';

/**
 * What the bridge checks before a link breaks, as the local org serves it: a user's IsActive
 * and their UserLogin.IsFrozen (Manage Users only), their approvals of the app in OauthToken
 * (their own; everybody's with Manage Users), the refresh-token policies, and token
 * introspection.
 */

const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;

describe('local org: the facts behind a link’s warnings', () => {
  let sf: LocalSalesforce;
  let org: LocalOrg;
  let user: LocalUser;
  let clock: number;

  beforeEach(async () => {
    clock = Date.parse('2026-06-01T00:00:00Z');
    ({ sf, org, user } = await startOrg({ now: () => clock }));
  });

  afterEach(async () => {
    await sf.close();
  });

  const introspect = (token: string, credentials = { id: sf.app.clientId, secret: sf.app.clientSecret }) =>
    postForm(`${sf.productionLoginUrl}/services/oauth2/introspect`, {
      token,
      token_type_hint: 'refresh_token',
      client_id: credentials.id,
      client_secret: credentials.secret,
    });

  it('shows UserLogin.IsFrozen only to users with Manage Users; others get INVALID_TYPE', async () => {
    org.setUserFrozen(user.id, true);
    const admin = await login(sf, org.adminUser);
    const seen = await rest(
      org,
      admin.access_token,
      'GET',
      `/query?q=${encodeURIComponent(`SELECT UserId, IsFrozen FROM UserLogin WHERE UserId = '${user.id}'`)}`,
    );
    expect(seen.status).toBe(200);
    expect(seen.body.records).toEqual([expect.objectContaining({ UserId: user.id, IsFrozen: true })]);

    const plain = org.addUser({
      username: 'plain@acme.example.com',
      email: 'plain@acme.jp',
      lastName: '平',
      password: PASSWORD,
    });
    const own = await login(sf, plain);
    const refused = await rest(
      org,
      own.access_token,
      'GET',
      `/query?q=${encodeURIComponent('SELECT IsFrozen FROM UserLogin')}`,
    );
    expect(refused.status).toBe(400);
    expect(refused.body[0]).toMatchObject({ errorCode: 'INVALID_TYPE' });
    const users = await rest(
      org,
      own.access_token,
      'GET',
      `/query?q=${encodeURIComponent(`SELECT Id, IsActive FROM User WHERE Id = '${user.id}'`)}`,
    );
    expect(users.body.records).toEqual([expect.objectContaining({ Id: user.id, IsActive: true })]);
  });

  it('refuses a frozen user’s login and refresh, while a session already open lives on', async () => {
    const tokens = await login(sf, user);
    org.setUserFrozen(user.id, true);
    const page = await completeAuthorization(authorizeUrl(sf, { challenge: newPkce().challenge }), {
      username: user.username,
      password: PASSWORD,
    }).catch((error: Error) => error);
    expect(page).toBeInstanceOf(Error);
    const refreshed = await refreshWith(sf, tokens.refresh_token as string);
    expect(refreshed).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const still = await rest(org, tokens.access_token, 'GET', '/limits');
    expect(still.status).toBe(200);

    org.setUserFrozen(user.id, false);
    expect((await refreshWith(sf, tokens.refresh_token as string)).status).toBe(200);
  });

  it('lists a user’s own approvals of the app in OauthToken, and the sixth approval removes the oldest', async () => {
    const other = org.addUser({
      username: 'other@acme.example.com',
      email: 'o@acme.jp',
      lastName: '他',
      password: PASSWORD,
    });
    await login(sf, other);
    const first = await login(sf, user);
    let latest = first;
    for (let n = 1; n < MAX_APPROVALS_PER_USER; n += 1) {
      clock += HOUR;
      latest = await login(sf, user);
    }
    await refreshWith(sf, first.refresh_token as string);
    const soql = `SELECT AppName, CreatedDate, LastUsedDate, UseCount, UserId FROM OauthToken WHERE UserId = '${user.id}' ORDER BY CreatedDate`;
    const own = await rest(org, latest.access_token, 'GET', `/query?q=${encodeURIComponent(soql)}`);
    expect(own.status).toBe(200);
    expect(own.body.records).toHaveLength(MAX_APPROVALS_PER_USER);
    expect(own.body.records[0]).toMatchObject({
      AppName: PACKAGE_APP_LABEL,
      CreatedDate: '2026-06-01T00:00:00.000+0000',
      UseCount: 1,
      UserId: user.id,
    });
    const everyone = await rest(
      org,
      latest.access_token,
      'GET',
      `/query?q=${encodeURIComponent('SELECT UserId FROM OauthToken')}`,
    );
    expect(everyone.body.records.map((row: { UserId: string }) => row.UserId)).toEqual(
      Array(MAX_APPROVALS_PER_USER).fill(user.id),
    );
    const admin = await login(sf, org.adminUser);
    const all = await rest(
      org,
      admin.access_token,
      'GET',
      `/query?q=${encodeURIComponent('SELECT UserId FROM OauthToken')}`,
    );
    expect(all.body.records).toHaveLength(MAX_APPROVALS_PER_USER + 2);

    clock += HOUR;
    const sixth = await login(sf, user);
    expect((await refreshWith(sf, first.refresh_token as string)).body).toMatchObject({ error: 'invalid_grant' });
    const after = await rest(org, sixth.access_token, 'GET', `/query?q=${encodeURIComponent(soql)}`);
    expect(after.body.records).toHaveLength(MAX_APPROVALS_PER_USER);
    expect(after.body.records[0].CreatedDate).toBe('2026-06-01T01:00:00.000+0000');
  });

  it('introspects a refresh token: active with no exp while valid until revoked, with exp under "expire after N"', async () => {
    const tokens = await login(sf, user);
    const calls = org.apiCalls().total;
    const valid = await introspect(tokens.refresh_token as string);
    expect(valid).toEqual({
      status: 200,
      body: {
        active: true,
        scope: 'api refresh_token',
        client_id: sf.app.clientId,
        username: user.username,
        sub: `${sf.productionLoginUrl}/id/${org.orgId}/${user.id}`,
        token_type: 'refresh_token',
        iat: clock / 1000,
        nbf: clock / 1000,
      },
    });
    org.settings.refreshTokenLifetimeMs = 30 * DAY;
    expect((await introspect(tokens.refresh_token as string)).body).toMatchObject({
      active: true,
      exp: (clock + 30 * DAY) / 1000,
    });
    clock += 30 * DAY;
    expect((await introspect(tokens.refresh_token as string)).body).toEqual({ active: false });
    expect((await refreshWith(sf, tokens.refresh_token as string)).body).toMatchObject({ error: 'invalid_grant' });
    expect(org.apiCalls().total).toBe(calls);
  });

  it('ends refresh tokens at once under "immediately expire", and after N idle days under "expire if not used for N"', async () => {
    org.settings.refreshTokenExpiresImmediately = true;
    const immediate = await login(sf, user);
    expect(immediate.refresh_token).toBeDefined();
    expect((await introspect(immediate.refresh_token as string)).body).toEqual({ active: false });
    expect((await refreshWith(sf, immediate.refresh_token as string)).body).toMatchObject({
      error: 'invalid_grant',
      error_description: 'expired access/refresh token',
    });

    org.settings.refreshTokenExpiresImmediately = false;
    org.settings.refreshTokenIdleLifetimeMs = 7 * DAY;
    const idle = await login(sf, user);
    expect((await introspect(idle.refresh_token as string)).body).toMatchObject({ exp: (clock + 7 * DAY) / 1000 });
    clock += 6 * DAY;
    expect((await refreshWith(sf, idle.refresh_token as string)).status).toBe(200);
    expect((await introspect(idle.refresh_token as string)).body).toMatchObject({ exp: (clock + 7 * DAY) / 1000 });
    clock += 7 * DAY;
    expect((await refreshWith(sf, idle.refresh_token as string)).body).toMatchObject({ error: 'invalid_grant' });
  });

  it('answers introspection with another client’s credentials 401 invalid_client, and an unknown token inactive', async () => {
    const tokens = await login(sf, user);
    expect(await introspect(tokens.refresh_token as string, { id: sf.app.clientId, secret: 'wrong' })).toEqual({
      status: 401,
      body: { error: 'invalid_client', error_description: 'invalid client credentials' },
    });
    expect((await introspect('5Aep861unknown')).body).toEqual({ active: false });
    org.setUserActive(user.id, false);
    expect((await introspect(tokens.refresh_token as string)).body).toEqual({ active: false });
  });
});
