import Database from 'better-sqlite3';
import { completeAuthorization, type LocalOrg } from '../../local-org';
import { isBridgeError } from '../../src/core/errors';
import {
  addUser,
  api,
  completeInBrowser,
  type Credentials,
  linkInbox,
  type LinkHarness,
  startLinkHarness,
} from './harness';

let harness: LinkHarness;
let org: LocalOrg;
let user: Credentials & { id: string };

beforeEach(async () => {
  harness = await startLinkHarness();
  org = harness.local.createOrg({ name: 'Acme' });
  user = addUser(org, 'hanako');
});

afterEach(async () => {
  await harness.close();
});

function rawTable(table: string): Array<Record<string, unknown>> {
  const db = new Database(harness.dbFile, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(`SELECT * FROM ${table}`).all() as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
}

async function expectNothingSaved(): Promise<void> {
  expect(await harness.store.links.listLinks({ includeDeleted: true })).toEqual([]);
  expect(await harness.store.links.listAuths()).toEqual([]);
}

describe('linking an inbox through the OAuth web-server flow', () => {
  it('when the admin signs in and allows access, it stores an active link and shows the ready page', async () => {
    const started = await api(harness, 'POST', '/links/authorize', {
      inboxId: '12',
      inboxName: '営業窓口',
      environment: 'production',
      target: 'contact_then_lead',
    });
    expect(started.status).toBe(201);
    const authorizeUrl = new URL(started.body.authorizeUrl);
    expect(authorizeUrl.origin + authorizeUrl.pathname).toBe(
      `${harness.local.productionLoginUrl}/services/oauth2/authorize`,
    );
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizeUrl.searchParams.get('state')).toBe(started.body.state);
    expect(Buffer.from(started.body.state, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(Date.parse(started.body.expiresAt)).toBeGreaterThan(Date.now());

    const page = await completeInBrowser(started.body.authorizeUrl, user);
    expect(page.status).toBe(200);
    expect(page.html).toContain('連携が完了しました');
    expect(page.html).toContain('The link is ready');
    expect(page.html).toContain('営業窓口');
    expect(page.html).toContain(org.orgId);
    expect(page.html).toContain(user.username);
    expect(page.html).not.toContain(page.callbackUrl.searchParams.get('code') as string);
    expect(page.html).not.toContain(started.body.state);

    const listed = await api(harness, 'GET', '/links');
    expect(listed.body.links).toHaveLength(1);
    expect(listed.body.links[0]).toMatchObject({
      inboxId: '12',
      inboxName: '営業窓口',
      orgId: org.orgId,
      instanceUrl: org.instanceUrl,
      environment: 'production',
      authorizedUser: { id: user.id, username: user.username },
      target: 'contact_then_lead',
      defaultOwnerId: user.id,
      status: 'active',
      deletedAt: null,
    });
    expect(JSON.stringify(listed.body)).not.toMatch(/token/i);
  });

  it('keeps the tokens encrypted at rest and never writes them to the log', async () => {
    await linkInbox(harness, { inboxId: '12', environment: 'production', target: 'contact' }, user);
    const [auth] = await harness.store.links.listAuths();
    expect(auth?.refreshToken).toBeTruthy();
    const rows = rawTable('salesforce_auths');
    expect(rows).toHaveLength(1);
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(auth?.refreshToken);
    expect(stored).not.toContain(auth?.accessToken);
    expect(String(rows[0]?.refresh_token_enc)).toMatch(/^v1\./);
    const log = harness.logLines.join('\n');
    expect(log).toContain('link created');
    expect(log).not.toContain(auth?.refreshToken);
    expect(log).not.toContain(auth?.accessToken);
    expect(rawTable('oauth_flows')).toEqual([]);
  });

  it('uses the sandbox login host for a sandbox link', async () => {
    const sandbox = harness.local.createOrg({ name: 'Acme UAT', sandbox: true });
    const tester = addUser(sandbox, 'tester');
    const started = await api(harness, 'POST', '/links/authorize', {
      inboxId: '7',
      environment: 'sandbox',
      target: 'lead',
    });
    expect(started.body.authorizeUrl.startsWith(`${harness.local.sandboxLoginUrl}/services/oauth2/authorize?`)).toBe(
      true,
    );
    const page = await completeInBrowser(started.body.authorizeUrl, tester);
    expect(page.status).toBe(200);
    const [link] = await harness.store.links.listLinks();
    expect(link).toMatchObject({ inboxId: '7', orgId: sandbox.orgId, environment: 'sandbox', target: 'lead' });
    expect((await harness.store.links.getAuth(link?.authId as string))?.loginUrl).toBe(harness.local.sandboxLoginUrl);
  });

  it('uses the My Domain as the login host for a custom link', async () => {
    const started = await api(harness, 'POST', '/links/authorize', {
      inboxId: '8',
      environment: 'custom',
      myDomain: `${org.instanceUrl}/`,
      target: 'contact',
    });
    expect(started.status).toBe(201);
    expect(started.body.authorizeUrl.startsWith(`${org.instanceUrl}/services/oauth2/authorize?`)).toBe(true);
    const page = await completeInBrowser(started.body.authorizeUrl, user);
    expect(page.status).toBe(200);
    const [link] = await harness.store.links.listLinks();
    expect(link).toMatchObject({ inboxId: '8', orgId: org.orgId, environment: 'custom' });
    expect((await harness.store.links.getAuth(link?.authId as string))?.loginUrl).toBe(org.instanceUrl);
  });

  it('refuses a custom login host outside Salesforce with the field that is wrong', async () => {
    for (const myDomain of [
      'https://evil.example.com',
      'https://acme.my.salesforce.com:8443',
      'http://acme.my.salesforce.com',
    ]) {
      const refused = await api(harness, 'POST', '/links/authorize', {
        inboxId: '8',
        environment: 'custom',
        myDomain,
        target: 'contact',
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('invalid_my_domain');
      expect(refused.body.details[0].path).toBe('myDomain');
    }
  });

  it('when the state does not match a flow in progress, it answers 400 and saves nothing', async () => {
    const started = await api(harness, 'POST', '/links/authorize', {
      inboxId: '12',
      environment: 'production',
      target: 'contact',
    });
    const callbackUrl = await completeAuthorization(started.body.authorizeUrl, user);
    const forged = new URL(callbackUrl);
    forged.searchParams.set('state', 'not-the-state-we-sent');
    const response = await fetch(forged);
    const html = await response.text();
    expect(response.status).toBe(400);
    expect(html).toContain('有効期限');
    expect(html).toContain('invalid_state');
    expect(html).not.toContain(callbackUrl.searchParams.get('code') as string);
    await expectNothingSaved();
  });

  it('accepts each state once: replaying the callback saves nothing more', async () => {
    const page = await linkInbox(harness, { inboxId: '12', environment: 'production', target: 'contact' }, user);
    expect(page.status).toBe(200);
    const replay = await fetch(page.callbackUrl);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('invalid_state');
    expect(await harness.store.links.listLinks()).toHaveLength(1);
  });

  it('when the admin denies access, it shows why and saves nothing', async () => {
    const started = await api(harness, 'POST', '/links/authorize', {
      inboxId: '12',
      environment: 'production',
      target: 'contact',
    });
    const page = await completeInBrowser(started.body.authorizeUrl, user, 'deny');
    expect(page.callbackUrl.searchParams.get('error')).toBe('access_denied');
    expect(page.status).toBe(400);
    expect(page.html).toContain('「許可」が選ばれなかった');
    expect(page.html).toContain('Access was not allowed');
    await expectNothingSaved();
    const retry = await fetch(
      `${harness.baseUrl}/oauth/callback?state=${encodeURIComponent(started.body.state)}&code=x`,
    );
    expect(retry.status).toBe(400);
  });

  it('when the app is not installed in the org, it shows what Salesforce said and saves nothing', async () => {
    org.settings.appInstalled = false;
    const page = await linkInbox(harness, { inboxId: '12', environment: 'production', target: 'contact' }, user);
    expect(page.status).toBe(400);
    expect(page.html).toContain('app must be installed into org');
    await expectNothingSaved();
  });

  it('refuses a second link for the same inbox with 409 link_exists', async () => {
    await linkInbox(harness, { inboxId: '12', environment: 'production', target: 'contact' }, user);
    const second = await api(harness, 'POST', '/links/authorize', {
      inboxId: '12',
      environment: 'sandbox',
      target: 'lead',
    });
    expect(second.status).toBe(409);
    expect(second.body.error).toBe('link_exists');
    expect(second.body.message).toMatch(/already linked/);
    expect(second.body.details.inboxId).toBe('12');
  });

  it('when two flows for one inbox race, the second callback is refused and its token revoked', async () => {
    const first = await api(harness, 'POST', '/links/authorize', {
      inboxId: '12',
      environment: 'production',
      target: 'contact',
    });
    const second = await api(harness, 'POST', '/links/authorize', {
      inboxId: '12',
      environment: 'production',
      target: 'lead',
    });
    expect((await completeInBrowser(first.body.authorizeUrl, user)).status).toBe(200);
    const other = addUser(org, 'ichiro');
    const late = await completeInBrowser(second.body.authorizeUrl, other);
    expect(late.status).toBe(409);
    expect(late.html).toContain('すでに Salesforce 連携があります');
    expect(org.approvals(other.id).filter((token) => !token.revoked)).toHaveLength(0);
    expect(await harness.store.links.listLinks()).toHaveLength(1);
  });

  it('when the org has no API access, it says the org and user need it, saves nothing and revokes the token', async () => {
    org.settings.apiEnabled = false;
    const page = await linkInbox(harness, { inboxId: '12', environment: 'production', target: 'contact' }, user);
    expect(page.status).toBe(400);
    expect(page.html).toContain('API を使用できません');
    expect(page.html).toContain('API Enabled');
    expect(page.html).toContain('API_DISABLED_FOR_ORG');
    await expectNothingSaved();
    expect(org.approvals(user.id).filter((token) => !token.revoked)).toHaveLength(0);
  });

  it('when the user lacks the API Enabled permission, it refuses the link the same way', async () => {
    const noApi = addUser(org, 'noapi', { apiEnabled: false });
    const page = await linkInbox(harness, { inboxId: '12', environment: 'production', target: 'contact' }, noApi);
    expect(page.status).toBe(400);
    expect(page.html).toContain('api_access_missing');
    await expectNothingSaved();
  });

  it('accepts another active user of the org as default owner, and refuses an inactive one', async () => {
    const owner = addUser(org, 'owner');
    const page = await linkInbox(
      harness,
      { inboxId: '12', environment: 'production', target: 'lead', defaultOwnerId: owner.id },
      user,
    );
    expect(page.status).toBe(200);
    expect((await harness.store.links.listLinks())[0]?.defaultOwnerId).toBe(owner.id);

    const inactive = addUser(org, 'retired', { isActive: false });
    const refused = await linkInbox(
      harness,
      { inboxId: '13', environment: 'production', target: 'lead', defaultOwnerId: inactive.id },
      user,
    );
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('owner_not_found');
    expect(await harness.store.links.getLinkForInbox('13')).toBeNull();
  });
});

describe('changing and deleting a link', () => {
  it('changes the target and default owner in place', async () => {
    await linkInbox(harness, { inboxId: '12', environment: 'production', target: 'contact' }, user);
    const [link] = await harness.store.links.listLinks();
    const owner = addUser(org, 'owner');
    const changed = await api(harness, 'PATCH', `/links/${link?.id}`, {
      target: 'contact_then_lead',
      defaultOwnerId: owner.id,
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      id: link?.id,
      target: 'contact_then_lead',
      defaultOwnerId: owner.id,
      status: 'active',
    });
    expect(await harness.store.links.getLink(link?.id as string)).toMatchObject({
      target: 'contact_then_lead',
      defaultOwnerId: owner.id,
      authId: link?.authId,
    });

    const bad = await api(harness, 'PATCH', `/links/${link?.id}`, { defaultOwnerId: '003000000000001' });
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].path).toBe('body.defaultOwnerId');
    const empty = await api(harness, 'PATCH', `/links/${link?.id}`, {});
    expect(empty.status).toBe(400);
  });

  it('refuses a default owner who is not an active user of the org, when Salesforce can tell', async () => {
    await linkInbox(harness, { inboxId: '12', environment: 'production', target: 'contact' }, user);
    const [link] = await harness.store.links.listLinks();
    const retired = addUser(org, 'retired', { isActive: false });
    const refused = await api(harness, 'PATCH', `/links/${link?.id}`, { defaultOwnerId: retired.id });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('owner_not_found');
    const stranger = addUser(harness.local.createOrg({ name: 'Other Co' }), 'stranger');
    expect((await api(harness, 'PATCH', `/links/${link?.id}`, { defaultOwnerId: stranger.id })).body.error).toBe(
      'owner_not_found',
    );
    expect((await harness.store.links.getLink(link?.id as string))?.defaultOwnerId).toBe(user.id);

    // With the session expired the bridge does not refresh behind the sync engine's back.
    org.expireAccessTokens();
    const unchecked = await api(harness, 'PATCH', `/links/${link?.id}`, { defaultOwnerId: retired.id });
    expect(unchecked.status).toBe(200);
    expect(unchecked.body.defaultOwnerId).toBe(retired.id);
  });

  it('deleting revokes the refresh token at Salesforce and frees the inbox for a new link', async () => {
    await linkInbox(harness, { inboxId: '12', environment: 'production', target: 'contact' }, user);
    const [link] = await harness.store.links.listLinks();
    const auth = await harness.store.links.getAuth(link?.authId as string);
    const refreshToken = auth?.refreshToken as string;
    await expect(harness.oauth.refresh(harness.local.productionLoginUrl, refreshToken)).resolves.toBeTruthy();

    const deleted = await api(harness, 'DELETE', `/links/${link?.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ deleted: true, revoked: true, revokeSkipped: null });
    expect(deleted.body.link.status).toBe('deleted');

    const refused = await harness.oauth
      .refresh(harness.local.productionLoginUrl, refreshToken)
      .catch((error: unknown) => error);
    expect(isBridgeError(refused) && refused.code).toBe('invalid_grant');
    expect(await harness.store.links.getAuth(link?.authId as string)).toBeNull();
    expect((await api(harness, 'GET', `/links/${link?.id}`)).body.status).toBe('deleted');
    expect((await api(harness, 'GET', '/links')).body.links).toEqual([]);
    expect((await api(harness, 'GET', '/links?includeDeleted=true')).body.links).toHaveLength(1);

    const again = await linkInbox(harness, { inboxId: '12', environment: 'production', target: 'lead' }, user);
    expect(again.status).toBe(200);
    expect((await harness.store.links.getLinkForInbox('12'))?.target).toBe('lead');
  });

  it('keeps the authorisation while another link of the same user uses it', async () => {
    await linkInbox(harness, { inboxId: '12', environment: 'production', target: 'contact' }, user);
    await linkInbox(harness, { inboxId: '13', environment: 'production', target: 'lead' }, user);
    const [first, second] = await harness.store.links.listLinks();
    expect(first?.authId).toBe(second?.authId);
    const deleted = await api(harness, 'DELETE', `/links/${first?.id}`);
    expect(deleted.body).toMatchObject({ deleted: true, revoked: false, revokeSkipped: 'auth_shared' });
    const auth = await harness.store.links.getAuth(second?.authId as string);
    await expect(
      harness.oauth.refresh(harness.local.productionLoginUrl, auth?.refreshToken as string),
    ).resolves.toBeTruthy();
  });

  it('deletes the link even when Salesforce cannot be reached to revoke, and says so', async () => {
    await linkInbox(harness, { inboxId: '12', environment: 'production', target: 'contact' }, user);
    const [link] = await harness.store.links.listLinks();
    await harness.local.close();
    const deleted = await api(harness, 'DELETE', `/links/${link?.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ deleted: true, revoked: false, revokeSkipped: 'revoke_failed' });
    expect(deleted.body.message).toMatch(/Connected Apps OAuth Usage/);
    expect(await harness.store.links.getLinkForInbox('12')).toBeNull();
  });

  it('answers 404 for an unknown link and 409 when changing a deleted one', async () => {
    expect((await api(harness, 'GET', '/links/lnk_missing')).status).toBe(404);
    expect((await api(harness, 'DELETE', '/links/lnk_missing')).body.error).toBe('link_not_found');
    await linkInbox(harness, { inboxId: '12', environment: 'production', target: 'contact' }, user);
    const [link] = await harness.store.links.listLinks();
    await api(harness, 'DELETE', `/links/${link?.id}`);
    const patch = await api(harness, 'PATCH', `/links/${link?.id}`, { target: 'lead' });
    expect(patch.status).toBe(409);
    expect(patch.body.error).toBe('link_deleted');
    const again = await api(harness, 'DELETE', `/links/${link?.id}`);
    expect(again.body).toMatchObject({ deleted: true, revoked: false, revokeSkipped: 'already_deleted' });
  });
});
