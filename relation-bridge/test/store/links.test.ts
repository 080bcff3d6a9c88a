import fs from 'node:fs';
import path from 'node:path';
import { BridgeError } from '../../src/core/errors';
import type { Actor } from '../../src/core/types';
import { SecretBox } from '../../src/crypto/secret-box';
import { LinkConflictError, type NewSalesforceAuth } from '../../src/links/links-repository';
import type { OAuthFlow } from '../../src/links/oauth-flows-repository';
import { bridgeStoreOn } from '../../src/repositories';
import { sql } from '../../src/store/sql';
import { newAction } from './actions-fixtures';
import { describeEachStore } from './databases';

const T0 = Date.parse('2026-11-28T02:00:00Z');
const ACCESS_TOKEN = '00D000000000001!AQ8AQHaccess-token-plaintext';
const REFRESH_TOKEN = '5Aep861refresh-token-plaintext';
const VERIFIER = 'pkce-verifier-plaintext-4f8a0c1e9b';
const ACTOR: Actor = { kind: 'user', id: 'usr_1', name: '管理者 <admin@example.co.jp>' };
const OTHER_ACTOR: Actor = { kind: 'token', id: null, name: 'BRIDGE_ADMIN_TOKEN' };

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

function flow(overrides: Partial<OAuthFlow> = {}): OAuthFlow {
  return {
    state: 'state_1',
    codeVerifier: VERIFIER,
    mode: 'link',
    inboxId: '12',
    inboxName: '営業窓口',
    environment: 'sandbox',
    loginUrl: 'https://test.salesforce.com',
    target: 'contact_then_lead',
    defaultOwnerId: null,
    linkId: null,
    actor: ACTOR,
    sessionHash: null,
    createdAt: T0,
    expiresAt: T0 + 600_000,
    ...overrides,
  };
}

describeEachStore('Store: Salesforce authorisations, links and OAuth flows', ({ store, database }) => {
  it('saves an authorisation and returns its tokens in plaintext, and updates it for the same org and user', async () => {
    const saved = await store().links.saveAuth(newAuth(), ACTOR, T0);
    expect(saved).toMatchObject({
      accessToken: ACCESS_TOKEN,
      refreshToken: REFRESH_TOKEN,
      createdAt: T0,
      updatedAt: T0,
    });
    expect(saved.id).toMatch(/^auth_/);

    const again = await store().links.saveAuth(
      newAuth({ accessToken: null, refreshToken: 'rotated', issuedAt: T0 + 5 }),
      OTHER_ACTOR,
      T0 + 5,
    );
    expect(again).toMatchObject({
      id: saved.id,
      accessToken: null,
      refreshToken: 'rotated',
      createdAt: T0,
      updatedAt: T0 + 5,
      createdBy: ACTOR,
    });
    expect(await store().links.listAuths()).toHaveLength(1);

    const otherUser = await store().links.saveAuth(newAuth({ userId: '005000000000002AAA' }), ACTOR, T0 + 6);
    expect(otherUser.id).not.toBe(saved.id);
    expect((await store().links.listAuths()).map((auth) => auth.id)).toEqual([saved.id, otherUser.id]);
  });

  it('updates tokens, keeping the refresh token when none is given', async () => {
    const saved = await store().links.saveAuth(newAuth(), ACTOR, T0);
    await store().links.updateAuthTokens(saved.id, { accessToken: 'fresh-access', issuedAt: T0 + 1 }, T0 + 1);
    expect(await store().links.getAuth(saved.id)).toMatchObject({
      accessToken: 'fresh-access',
      refreshToken: REFRESH_TOKEN,
      issuedAt: T0 + 1,
    });
    await store().links.updateAuthTokens(
      saved.id,
      { accessToken: null, refreshToken: 'rotated', issuedAt: T0 + 2 },
      T0 + 2,
    );
    expect(await store().links.getAuth(saved.id)).toMatchObject({ accessToken: null, refreshToken: 'rotated' });
    await expect(
      store().links.updateAuthTokens('auth_missing', { accessToken: 'x', issuedAt: T0 }, T0),
    ).rejects.toMatchObject({
      code: 'auth_not_found',
    });
  });

  it('never writes tokens or PKCE verifiers in plaintext: neither in rows nor anywhere in the database files', async () => {
    const saved = await store().links.saveAuth(newAuth(), ACTOR, T0);
    await store().links.updateAuthTokens(saved.id, { accessToken: `${ACCESS_TOKEN}-2`, issuedAt: T0 + 1 }, T0 + 1);
    await store().oauthFlows.save(flow());

    const rows = JSON.stringify([
      await store().database.all(sql`SELECT * FROM salesforce_auths`),
      await store().database.all(sql`SELECT * FROM oauth_flows`),
    ]);
    expect(rows).toContain('v1.');
    for (const secret of [ACCESS_TOKEN, REFRESH_TOKEN, VERIFIER]) expect(rows).not.toContain(secret);

    if (database().dialect === 'sqlite') {
      const dir = database().dataDir;
      const files = fs.readdirSync(dir).map((name) => fs.readFileSync(path.join(dir, name)));
      for (const secret of [ACCESS_TOKEN, REFRESH_TOKEN, VERIFIER]) {
        expect(files.some((bytes) => bytes.includes(secret))).toBe(false);
      }
    }
  });

  it('cannot read the tokens with another encryption key', async () => {
    const saved = await store().links.saveAuth(newAuth(), ACTOR, T0);
    const wrongKey = bridgeStoreOn(store().database, SecretBox.fromKey(SecretBox.generateKey()));
    await expect(wrongKey.links.getAuth(saved.id)).rejects.toMatchObject({ code: 'decryption_failed' });
  });

  it('creates a link from an authorisation, copying its org (with its name), user and instance', async () => {
    const auth = await store().links.saveAuth(newAuth({ orgName: '大和商事', orgIsSandbox: false }), ACTOR, T0);
    const link = await store().links.createLink({
      inboxId: '12',
      inboxName: '営業窓口',
      authId: auth.id,
      target: 'contact_then_lead',
      defaultOwnerId: auth.userId,
      defaultOwnerName: '管理者 一郎',
      defaultOwnerEmail: 'ichiro@example.co.jp',
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
      defaultOwnerName: '管理者 一郎',
      defaultOwnerEmail: 'ichiro@example.co.jp',
      orgName: '大和商事',
      orgIsSandbox: false,
      status: 'active',
      statusReason: null,
      statusChangedAt: T0 + 1,
      createdAt: T0 + 1,
      updatedAt: T0 + 1,
      deletedAt: null,
      version: 1,
    });
    expect(await store().links.getLink(link.id)).toEqual(link);
    expect(await store().links.getLinkForInbox('12')).toEqual(link);
    expect(await store().links.getLinkForInbox('13')).toBeNull();
  });

  it('refuses a second link for an inbox (enforced by the database), and allows one after the first is deleted', async () => {
    const auth = await store().links.saveAuth(newAuth(), ACTOR, T0);
    const newLink = {
      inboxId: '12',
      inboxName: null,
      authId: auth.id,
      target: 'contact' as const,
      defaultOwnerId: auth.userId,
      createdAt: T0,
    };
    const first = await store().links.createLink(newLink);
    await expect(store().links.createLink(newLink)).rejects.toBeInstanceOf(LinkConflictError);
    await store().links.setLinkStatus(first.id, 'disabled', 'paused by admin', T0 + 1);
    await expect(store().links.createLink(newLink)).rejects.toBeInstanceOf(LinkConflictError);

    const deleted = await store().links.setLinkStatus(first.id, 'deleted', null, T0 + 2);
    expect(deleted).toMatchObject({ status: 'deleted', deletedAt: T0 + 2, statusChangedAt: T0 + 2 });
    const second = await store().links.createLink({ ...newLink, createdAt: T0 + 3 });
    expect(await store().links.getLinkForInbox('12')).toMatchObject({ id: second.id });
    expect((await store().links.listLinks()).map((link) => link.id)).toEqual([second.id]);
    expect((await store().links.listLinks({ includeDeleted: true })).map((link) => link.id)).toEqual([
      first.id,
      second.id,
    ]);
  });

  it('refuses a link for an unknown authorisation, and changes to deleted or unknown links', async () => {
    await expect(
      store().links.createLink({
        inboxId: '12',
        inboxName: null,
        authId: 'auth_none',
        target: 'lead',
        defaultOwnerId: '005',
        createdAt: T0,
      }),
    ).rejects.toMatchObject({ code: 'auth_not_found' });
    const auth = await store().links.saveAuth(newAuth(), ACTOR, T0);
    const link = await store().links.createLink({
      inboxId: '12',
      inboxName: null,
      authId: auth.id,
      target: 'lead',
      defaultOwnerId: '005',
      createdAt: T0,
    });
    await store().links.setLinkStatus(link.id, 'deleted', null, T0 + 1);
    await expect(store().links.updateLink(link.id, { target: 'contact' }, T0 + 2)).rejects.toMatchObject({
      code: 'link_deleted',
    });
    await expect(store().links.setLinkStatus(link.id, 'active', null, T0 + 2)).rejects.toMatchObject({
      code: 'link_deleted',
    });
    await expect(store().links.setLinkStatus('lnk_none', 'active', null, T0 + 2)).rejects.toMatchObject({
      code: 'link_not_found',
    });
  });

  it('patches only the given link fields', async () => {
    const auth = await store().links.saveAuth(newAuth(), ACTOR, T0);
    const link = await store().links.createLink({
      inboxId: '12',
      inboxName: '営業窓口',
      authId: auth.id,
      target: 'lead',
      defaultOwnerId: '005A',
      createdAt: T0,
    });
    const patched = await store().links.updateLink(link.id, { target: 'contact_then_lead' }, T0 + 1);
    expect(patched).toMatchObject({
      target: 'contact_then_lead',
      defaultOwnerId: '005A',
      inboxName: '営業窓口',
      updatedAt: T0 + 1,
    });
    const renamed = await store().links.updateLink(link.id, { inboxName: null, defaultOwnerId: '005B' }, T0 + 2);
    expect(renamed).toMatchObject({ target: 'contact_then_lead', defaultOwnerId: '005B', inboxName: null });
  });

  it('sets the status of every live link of an authorisation, keeping the status time when unchanged', async () => {
    const auth = await store().links.saveAuth(newAuth(), ACTOR, T0);
    const base = { inboxName: null, authId: auth.id, target: 'lead' as const, defaultOwnerId: '005', createdAt: T0 };
    const a = await store().links.createLink({ ...base, inboxId: '1' });
    const b = await store().links.createLink({ ...base, inboxId: '2' });
    const gone = await store().links.createLink({ ...base, inboxId: '3' });
    await store().links.setLinkStatus(gone.id, 'deleted', null, T0 + 1);

    expect((await store().links.setLinkStatusByAuth(auth.id, 'needs_reauth', 'invalid_grant', T0 + 2)).sort()).toEqual(
      [a.id, b.id].sort(),
    );
    expect(await store().links.getLink(a.id)).toMatchObject({
      status: 'needs_reauth',
      statusReason: 'invalid_grant',
      statusChangedAt: T0 + 2,
    });
    expect(await store().links.getLink(gone.id)).toMatchObject({ status: 'deleted' });

    await store().links.setLinkStatusByAuth(auth.id, 'needs_reauth', 'invalid_grant again', T0 + 3);
    expect(await store().links.getLink(a.id)).toMatchObject({
      statusReason: 'invalid_grant again',
      statusChangedAt: T0 + 2,
      updatedAt: T0 + 3,
    });
  });

  it('moves the links to the new instance when an authorisation is saved again', async () => {
    const auth = await store().links.saveAuth(newAuth(), ACTOR, T0);
    const link = await store().links.createLink({
      inboxId: '12',
      inboxName: null,
      authId: auth.id,
      target: 'lead',
      defaultOwnerId: '005',
      createdAt: T0,
    });
    await store().links.saveAuth(newAuth({ instanceUrl: 'https://moved.my.salesforce.com' }), ACTOR, T0 + 1);
    expect(await store().links.getLink(link.id)).toMatchObject({ instanceUrl: 'https://moved.my.salesforce.com' });
  });

  it("keeps the org's name when a later grant does not say it, and the links follow a new name", async () => {
    const auth = await store().links.saveAuth(newAuth({ orgName: '大和商事', orgIsSandbox: true }), ACTOR, T0);
    const link = await store().links.createLink({
      inboxId: '12',
      inboxName: null,
      authId: auth.id,
      target: 'lead',
      defaultOwnerId: '005000000000001AAA',
      createdAt: T0,
    });
    expect(link).toMatchObject({ orgName: '大和商事', orgIsSandbox: true, defaultOwnerName: null });
    const unnamed = await store().links.saveAuth(newAuth(), ACTOR, T0 + 1);
    expect(unnamed).toMatchObject({ orgName: '大和商事', orgIsSandbox: true });
    await store().links.saveAuth(newAuth({ orgName: '大和ホールディングス' }), ACTOR, T0 + 2);
    expect(await store().links.getLink(link.id)).toMatchObject({ orgName: '大和ホールディングス', orgIsSandbox: true });
  });

  it('a new default owner takes their name and email along; the same owner keeps them; one not known has none', async () => {
    const auth = await store().links.saveAuth(newAuth(), ACTOR, T0);
    const link = await store().links.createLink({
      inboxId: '12',
      inboxName: null,
      authId: auth.id,
      target: 'lead',
      defaultOwnerId: '005000000000001AAA',
      defaultOwnerName: '管理者 一郎',
      defaultOwnerEmail: 'ichiro@example.co.jp',
      createdAt: T0,
    });
    const retargeted = await store().links.updateLink(link.id, { target: 'contact' }, T0 + 1);
    expect(retargeted).toMatchObject({ defaultOwnerName: '管理者 一郎', defaultOwnerEmail: 'ichiro@example.co.jp' });
    const named = await store().links.updateLink(
      link.id,
      {
        defaultOwnerId: '005000000000002AAA',
        defaultOwnerName: '佐藤 花子',
        defaultOwnerEmail: 'hanako@example.co.jp',
      },
      T0 + 2,
    );
    expect(named).toMatchObject({ defaultOwnerName: '佐藤 花子', defaultOwnerEmail: 'hanako@example.co.jp' });
    const unknown = await store().links.updateLink(link.id, { defaultOwnerId: '005000000000003AAA' }, T0 + 3);
    expect(unknown).toMatchObject({
      defaultOwnerId: '005000000000003AAA',
      defaultOwnerName: null,
      defaultOwnerEmail: null,
    });
  });

  it('refuses to delete an authorisation a live link uses, and deletes it afterwards', async () => {
    const auth = await store().links.saveAuth(newAuth(), ACTOR, T0);
    const link = await store().links.createLink({
      inboxId: '12',
      inboxName: null,
      authId: auth.id,
      target: 'lead',
      defaultOwnerId: '005',
      createdAt: T0,
    });
    const refusal = store().links.deleteAuth(auth.id);
    await expect(refusal).rejects.toBeInstanceOf(BridgeError);
    await expect(refusal).rejects.toMatchObject({ code: 'auth_in_use', details: { linkIds: [link.id] } });
    await store().links.setLinkStatus(link.id, 'deleted', null, T0 + 1);
    await store().links.deleteAuth(auth.id);
    expect(await store().links.getAuth(auth.id)).toBeNull();
    expect(await store().links.getLink(link.id)).toMatchObject({
      orgId: auth.orgId,
      authorizedUsername: auth.username,
    });
  });

  it('hands out an OAuth flow once, with its verifier and who started it', async () => {
    await store().oauthFlows.save(flow());
    expect(await store().oauthFlows.peek('state_1', T0 + 1)).toEqual(flow());
    expect(await store().oauthFlows.take('state_1', null, T0 + 1)).toEqual(flow());
    expect(await store().oauthFlows.take('state_1', null, T0 + 2)).toBeNull();
    expect(await store().oauthFlows.take('state_unknown', null, T0 + 2)).toBeNull();
  });

  it('hands a flow started from a console session only to that session, leaving it usable by its own', async () => {
    await store().oauthFlows.save(flow({ sessionHash: 'session-a' }));
    expect(await store().oauthFlows.take('state_1', 'session-b', T0 + 1)).toBeNull();
    expect(await store().oauthFlows.take('state_1', null, T0 + 1)).toBeNull();
    expect(await store().oauthFlows.take('state_1', 'session-a', T0 + 1)).toMatchObject({ sessionHash: 'session-a' });
  });

  it('refuses an expired OAuth flow and forgets expired flows', async () => {
    await store().oauthFlows.save(flow({ state: 'expired', expiresAt: T0 + 10 }));
    await store().oauthFlows.save(flow({ state: 'also_expired', expiresAt: T0 + 10 }));
    await store().oauthFlows.save(flow({ state: 'live', expiresAt: T0 + 1_000, mode: 'reauth', linkId: 'lnk_1' }));
    expect(await store().oauthFlows.peek('expired', T0 + 10)).toBeNull();
    expect(await store().oauthFlows.take('expired', null, T0 + 10)).toBeNull();
    expect(await store().database.all(sql`SELECT state FROM oauth_flows`)).toEqual([{ state: 'live' }]);
    expect(await store().oauthFlows.take('live', null, T0 + 999)).toMatchObject({ mode: 'reauth', linkId: 'lnk_1' });
  });

  it("moves a link to another user's authorisation of the same org, with its version", async () => {
    const first = await store().links.saveAuth(newAuth(), ACTOR, T0);
    const second = await store().links.saveAuth(
      newAuth({ userId: '005000000000002AAA', username: 'b@example.co.jp' }),
      ACTOR,
      T0,
    );
    const link = await store().links.createLink({
      inboxId: '12',
      inboxName: null,
      authId: first.id,
      target: 'contact',
      defaultOwnerId: first.userId,
      createdAt: T0,
    });
    const moved = await store().links.reassignAuth(
      link.id,
      second,
      { id: second.userId, name: null, email: null },
      T0 + 1,
    );
    expect(moved).toMatchObject({
      authId: second.id,
      authorizedUserId: second.userId,
      authorizedUsername: 'b@example.co.jp',
      defaultOwnerId: second.userId,
      version: link.version + 1,
    });
    expect(await store().links.liveLinksOfAuth(first.id)).toEqual([]);
    expect((await store().links.liveLinksOfInboxes(['12', '99'])).map((l) => l.id)).toEqual([link.id]);
  });

  it('changes a link only at the version the change was based on', async () => {
    const auth = await store().links.saveAuth(newAuth(), ACTOR, T0);
    const link = await store().links.createLink({
      inboxId: '12',
      inboxName: null,
      authId: auth.id,
      target: 'contact',
      defaultOwnerId: auth.userId,
      createdAt: T0,
    });
    const [one, two] = await Promise.all([
      store().links.updateLink(link.id, { target: 'lead' }, T0 + 1, link.version),
      store().links.updateLink(link.id, { target: 'contact_then_lead' }, T0 + 1, link.version),
    ]);
    expect([one, two].filter((result) => result === null)).toHaveLength(1);
    expect((await store().links.getLink(link.id))?.version).toBe(link.version + 1);
  });

  it('applies a classification only while the inbox still has the link, in the status, it was made against', async () => {
    const auth = await store().links.saveAuth(newAuth(), ACTOR, T0);
    const link = await store().links.createLink({
      inboxId: '12',
      inboxName: '営業窓口',
      authId: auth.id,
      target: 'contact_then_lead',
      defaultOwnerId: auth.userId,
      defaultOwnerName: null,
      defaultOwnerEmail: null,
      createdAt: T0,
    });
    const [first, second] = [newAction({ inboxId: '12' }), newAction({ inboxId: '12' })];
    await store().actions.ingest([first, second]);
    const page = await store().actions.lockReceived(null, 10);
    const rowKey = (actionId: string) => page.find((action) => action.actionId === actionId)?.rowKey as string | number;
    const apply = (actionId: string, seenLink: string | null, state: 'pending' | 'held' | 'skipped' = 'pending') =>
      store().actions.applyClassifications(
        [
          {
            rowKey: rowKey(actionId),
            state,
            reason: state === 'held' ? 'needs_reauth' : state === 'skipped' ? 'no_link' : null,
            linkId: seenLink === null ? null : link.id,
            orgId: seenLink === null ? null : link.orgId,
            seenLink,
          },
        ],
        T0 + 10,
      );

    // Read while the link was active; it needs re-authentication since: nothing applies.
    await store().links.setLinkStatus(link.id, 'needs_reauth', 'invalid_grant', T0 + 1);
    expect(await apply(first.actionId, `${link.id}:active`)).toBe(0);
    expect(await store().actions.get(first.actionId)).toMatchObject({ state: 'received' });
    // Classified again against what the inbox has now: it applies.
    expect(await apply(first.actionId, `${link.id}:needs_reauth`, 'held')).toBe(1);
    expect(await store().actions.get(first.actionId)).toMatchObject({ state: 'held', linkId: link.id });

    // Read when the inbox had no link: the link it has now wins.
    expect(await apply(second.actionId, null, 'skipped')).toBe(0);
    // Read with the link that is deleted since: nothing applies either.
    await store().links.setLinkStatus(link.id, 'deleted', null, T0 + 2);
    expect(await apply(second.actionId, `${link.id}:needs_reauth`, 'held')).toBe(0);
    expect(await apply(second.actionId, null, 'skipped')).toBe(1);
    expect(await store().actions.get(second.actionId)).toMatchObject({ state: 'skipped', reason: 'no_link' });
  });
});
