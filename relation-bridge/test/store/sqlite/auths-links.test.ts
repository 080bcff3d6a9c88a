import fs from 'node:fs';
import Database from 'better-sqlite3';
import { BridgeError } from '../../../src/core/errors';
import type { OAuthPending } from '../../../src/core/types';
import { SecretBox } from '../../../src/crypto/secret-box';
import { LinkConflictError, type NewSalesforceAuth } from '../../../src/store/store';
import { openTempStore, type TempStore } from '../temp-store';

const T0 = Date.parse('2026-11-28T02:00:00Z');
const ACCESS_TOKEN = '00D000000000001!AQ8AQHaccess-token-plaintext';
const REFRESH_TOKEN = '5Aep861refresh-token-plaintext';
const VERIFIER = 'pkce-verifier-plaintext-4f8a0c1e9b';

function newAuth(overrides: Partial<NewSalesforceAuth> = {}): NewSalesforceAuth {
  return {
    orgId: '00D000000000001AAA',
    userId: '005000000000001AAA',
    username: 'admin@example.co.jp',
    displayName: '管理者 一郎',
    instanceUrl: 'https://example.my.salesforce.com',
    loginUrl: 'https://login.salesforce.com',
    environment: 'production',
    accessToken: ACCESS_TOKEN,
    refreshToken: REFRESH_TOKEN,
    scope: 'api refresh_token',
    issuedAt: T0,
    ...overrides,
  };
}

function pending(overrides: Partial<OAuthPending> = {}): OAuthPending {
  return {
    state: 'state_1',
    codeVerifier: VERIFIER,
    purpose: 'link',
    inboxId: '12',
    inboxName: '営業窓口',
    environment: 'sandbox',
    loginUrl: 'https://test.salesforce.com',
    target: 'contact_then_lead',
    defaultOwnerId: null,
    linkId: null,
    createdAt: T0,
    expiresAt: T0 + 600_000,
    ...overrides,
  };
}

describe('SQLite store: Salesforce authorisations, links and OAuth flows', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(async () => {
    await temp.cleanup();
  });

  it('saves an authorisation and returns its tokens in plaintext, and updates it for the same org and user', async () => {
    const saved = await temp.store.saveAuth(newAuth(), T0);
    expect(saved).toMatchObject({
      accessToken: ACCESS_TOKEN,
      refreshToken: REFRESH_TOKEN,
      createdAt: T0,
      updatedAt: T0,
    });
    expect(saved.id).toMatch(/^auth_/);

    const again = await temp.store.saveAuth(
      newAuth({ accessToken: null, refreshToken: 'rotated', issuedAt: T0 + 5 }),
      T0 + 5,
    );
    expect(again).toMatchObject({
      id: saved.id,
      accessToken: null,
      refreshToken: 'rotated',
      createdAt: T0,
      updatedAt: T0 + 5,
    });
    expect(await temp.store.listAuths()).toHaveLength(1);

    const otherUser = await temp.store.saveAuth(newAuth({ userId: '005000000000002AAA' }), T0 + 6);
    expect(otherUser.id).not.toBe(saved.id);
    expect((await temp.store.listAuths()).map((auth) => auth.id)).toEqual([saved.id, otherUser.id]);
  });

  it('updates tokens, keeping the refresh token when none is given', async () => {
    const saved = await temp.store.saveAuth(newAuth(), T0);
    await temp.store.updateAuthTokens(saved.id, { accessToken: 'fresh-access', issuedAt: T0 + 1 }, T0 + 1);
    expect(await temp.store.getAuth(saved.id)).toMatchObject({
      accessToken: 'fresh-access',
      refreshToken: REFRESH_TOKEN,
      issuedAt: T0 + 1,
    });
    await temp.store.updateAuthTokens(
      saved.id,
      { accessToken: null, refreshToken: 'rotated', issuedAt: T0 + 2 },
      T0 + 2,
    );
    expect(await temp.store.getAuth(saved.id)).toMatchObject({ accessToken: null, refreshToken: 'rotated' });
    await expect(
      temp.store.updateAuthTokens('auth_missing', { accessToken: 'x', issuedAt: T0 }, T0),
    ).rejects.toMatchObject({
      code: 'auth_not_found',
    });
  });

  it('never writes tokens or PKCE verifiers in plaintext: neither in rows nor anywhere in the database files', async () => {
    const saved = await temp.store.saveAuth(newAuth(), T0);
    await temp.store.updateAuthTokens(saved.id, { accessToken: `${ACCESS_TOKEN}-2`, issuedAt: T0 + 1 }, T0 + 1);
    await temp.store.saveOAuthPending(pending());

    const db = new Database(temp.file, { readonly: true });
    const rows = JSON.stringify([
      db.prepare('SELECT * FROM salesforce_auths').all(),
      db.prepare('SELECT * FROM oauth_pending').all(),
    ]);
    db.close();
    expect(rows).toContain('v1.');
    for (const secret of [ACCESS_TOKEN, REFRESH_TOKEN, VERIFIER]) expect(rows).not.toContain(secret);

    const files = fs.readdirSync(temp.dir).map((name) => fs.readFileSync(`${temp.dir}/${name}`));
    for (const secret of [ACCESS_TOKEN, REFRESH_TOKEN, VERIFIER]) {
      expect(files.some((bytes) => bytes.includes(secret))).toBe(false);
    }
  });

  it('cannot read the tokens with another encryption key', async () => {
    const saved = await temp.store.saveAuth(newAuth(), T0);
    await temp.store.close();
    const wrongKey = temp.reopen({ secretBox: SecretBox.fromKey(SecretBox.generateKey()) });
    await expect(wrongKey.getAuth(saved.id)).rejects.toMatchObject({ code: 'decryption_failed' });
  });

  it('creates a link from an authorisation, copying its org, user and instance', async () => {
    const auth = await temp.store.saveAuth(newAuth(), T0);
    const link = await temp.store.createLink({
      inboxId: '12',
      inboxName: '営業窓口',
      authId: auth.id,
      target: 'contact_then_lead',
      defaultOwnerId: auth.userId,
      createdAt: T0 + 1,
    });
    expect(link).toEqual({
      id: expect.stringMatching(/^lnk_/),
      inboxId: '12',
      inboxName: '営業窓口',
      authId: auth.id,
      orgId: auth.orgId,
      instanceUrl: auth.instanceUrl,
      environment: 'production',
      authorizedUserId: auth.userId,
      authorizedUsername: auth.username,
      target: 'contact_then_lead',
      defaultOwnerId: auth.userId,
      status: 'active',
      statusReason: null,
      statusChangedAt: T0 + 1,
      createdAt: T0 + 1,
      updatedAt: T0 + 1,
      deletedAt: null,
    });
    expect(await temp.store.getLink(link.id)).toEqual(link);
    expect(await temp.store.getLinkForInbox('12')).toEqual(link);
    expect(await temp.store.getLinkForInbox('13')).toBeNull();
  });

  it('refuses a second link for an inbox (enforced by the database), and allows one after the first is deleted', async () => {
    const auth = await temp.store.saveAuth(newAuth(), T0);
    const newLink = {
      inboxId: '12',
      inboxName: null,
      authId: auth.id,
      target: 'contact' as const,
      defaultOwnerId: auth.userId,
      createdAt: T0,
    };
    const first = await temp.store.createLink(newLink);
    await expect(temp.store.createLink(newLink)).rejects.toBeInstanceOf(LinkConflictError);
    await temp.store.setLinkStatus(first.id, 'disabled', 'paused by admin', T0 + 1);
    await expect(temp.store.createLink(newLink)).rejects.toBeInstanceOf(LinkConflictError);

    const deleted = await temp.store.setLinkStatus(first.id, 'deleted', null, T0 + 2);
    expect(deleted).toMatchObject({ status: 'deleted', deletedAt: T0 + 2, statusChangedAt: T0 + 2 });
    const second = await temp.store.createLink({ ...newLink, createdAt: T0 + 3 });
    expect(await temp.store.getLinkForInbox('12')).toMatchObject({ id: second.id });
    expect((await temp.store.listLinks()).map((link) => link.id)).toEqual([second.id]);
    expect((await temp.store.listLinks({ includeDeleted: true })).map((link) => link.id)).toEqual([
      first.id,
      second.id,
    ]);
  });

  it('refuses a link for an unknown authorisation, and changes to deleted or unknown links', async () => {
    await expect(
      temp.store.createLink({
        inboxId: '12',
        inboxName: null,
        authId: 'auth_none',
        target: 'lead',
        defaultOwnerId: '005',
        createdAt: T0,
      }),
    ).rejects.toMatchObject({ code: 'auth_not_found' });
    const auth = await temp.store.saveAuth(newAuth(), T0);
    const link = await temp.store.createLink({
      inboxId: '12',
      inboxName: null,
      authId: auth.id,
      target: 'lead',
      defaultOwnerId: '005',
      createdAt: T0,
    });
    await temp.store.setLinkStatus(link.id, 'deleted', null, T0 + 1);
    await expect(temp.store.updateLink(link.id, { target: 'contact' }, T0 + 2)).rejects.toMatchObject({
      code: 'link_deleted',
    });
    await expect(temp.store.setLinkStatus(link.id, 'active', null, T0 + 2)).rejects.toMatchObject({
      code: 'link_deleted',
    });
    await expect(temp.store.setLinkStatus('lnk_none', 'active', null, T0 + 2)).rejects.toMatchObject({
      code: 'link_not_found',
    });
  });

  it('patches only the given link fields', async () => {
    const auth = await temp.store.saveAuth(newAuth(), T0);
    const link = await temp.store.createLink({
      inboxId: '12',
      inboxName: '営業窓口',
      authId: auth.id,
      target: 'lead',
      defaultOwnerId: '005A',
      createdAt: T0,
    });
    const patched = await temp.store.updateLink(link.id, { target: 'contact_then_lead' }, T0 + 1);
    expect(patched).toMatchObject({
      target: 'contact_then_lead',
      defaultOwnerId: '005A',
      inboxName: '営業窓口',
      updatedAt: T0 + 1,
    });
    const renamed = await temp.store.updateLink(link.id, { inboxName: null, defaultOwnerId: '005B' }, T0 + 2);
    expect(renamed).toMatchObject({ target: 'contact_then_lead', defaultOwnerId: '005B', inboxName: null });
  });

  it('sets the status of every live link of an authorisation, keeping the status time when unchanged', async () => {
    const auth = await temp.store.saveAuth(newAuth(), T0);
    const base = { inboxName: null, authId: auth.id, target: 'lead' as const, defaultOwnerId: '005', createdAt: T0 };
    const a = await temp.store.createLink({ ...base, inboxId: '1' });
    const b = await temp.store.createLink({ ...base, inboxId: '2' });
    const gone = await temp.store.createLink({ ...base, inboxId: '3' });
    await temp.store.setLinkStatus(gone.id, 'deleted', null, T0 + 1);

    expect((await temp.store.setLinkStatusByAuth(auth.id, 'needs_reauth', 'invalid_grant', T0 + 2)).sort()).toEqual(
      [a.id, b.id].sort(),
    );
    expect(await temp.store.getLink(a.id)).toMatchObject({
      status: 'needs_reauth',
      statusReason: 'invalid_grant',
      statusChangedAt: T0 + 2,
    });
    expect(await temp.store.getLink(gone.id)).toMatchObject({ status: 'deleted' });

    await temp.store.setLinkStatusByAuth(auth.id, 'needs_reauth', 'invalid_grant again', T0 + 3);
    expect(await temp.store.getLink(a.id)).toMatchObject({
      statusReason: 'invalid_grant again',
      statusChangedAt: T0 + 2,
      updatedAt: T0 + 3,
    });
  });

  it('moves the links to the new instance when an authorisation is saved again', async () => {
    const auth = await temp.store.saveAuth(newAuth(), T0);
    const link = await temp.store.createLink({
      inboxId: '12',
      inboxName: null,
      authId: auth.id,
      target: 'lead',
      defaultOwnerId: '005',
      createdAt: T0,
    });
    await temp.store.saveAuth(newAuth({ instanceUrl: 'https://moved.my.salesforce.com' }), T0 + 1);
    expect(await temp.store.getLink(link.id)).toMatchObject({ instanceUrl: 'https://moved.my.salesforce.com' });
  });

  it('refuses to delete an authorisation a live link uses, and deletes it afterwards', async () => {
    const auth = await temp.store.saveAuth(newAuth(), T0);
    const link = await temp.store.createLink({
      inboxId: '12',
      inboxName: null,
      authId: auth.id,
      target: 'lead',
      defaultOwnerId: '005',
      createdAt: T0,
    });
    const refusal = temp.store.deleteAuth(auth.id);
    await expect(refusal).rejects.toBeInstanceOf(BridgeError);
    await expect(refusal).rejects.toMatchObject({ code: 'auth_in_use', details: { linkIds: [link.id] } });
    await temp.store.setLinkStatus(link.id, 'deleted', null, T0 + 1);
    await temp.store.deleteAuth(auth.id);
    expect(await temp.store.getAuth(auth.id)).toBeNull();
    expect(await temp.store.getLink(link.id)).toMatchObject({ orgId: auth.orgId, authorizedUsername: auth.username });
  });

  it('hands out a pending OAuth flow once, with its verifier', async () => {
    await temp.store.saveOAuthPending(pending());
    expect(await temp.store.takeOAuthPending('state_1', T0 + 1)).toEqual(pending());
    expect(await temp.store.takeOAuthPending('state_1', T0 + 2)).toBeNull();
    expect(await temp.store.takeOAuthPending('state_unknown', T0 + 2)).toBeNull();
  });

  it('refuses an expired OAuth flow and forgets expired flows', async () => {
    await temp.store.saveOAuthPending(pending({ state: 'expired', expiresAt: T0 + 10 }));
    await temp.store.saveOAuthPending(pending({ state: 'also_expired', expiresAt: T0 + 10 }));
    await temp.store.saveOAuthPending(
      pending({ state: 'live', expiresAt: T0 + 1_000, purpose: 'reauth', linkId: 'lnk_1' }),
    );
    expect(await temp.store.takeOAuthPending('expired', T0 + 10)).toBeNull();

    const db = new Database(temp.file, { readonly: true });
    const left = db.prepare('SELECT state FROM oauth_pending').all();
    db.close();
    expect(left).toEqual([{ state: 'live' }]);
    expect(await temp.store.takeOAuthPending('live', T0 + 999)).toMatchObject({ purpose: 'reauth', linkId: 'lnk_1' });
  });
});
