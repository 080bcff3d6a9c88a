import type { LocalOrg } from '../../local-org';
import type { Link } from '../../src/core/types';
import {
  addUser,
  api,
  completeInBrowser,
  type Credentials,
  linkInbox,
  type LinkHarness,
  newAction,
  startLinkHarness,
} from './harness';
import { classifyActions, ingestActions } from '../helpers/store-actions';

let harness: LinkHarness;
let org: LocalOrg;
let user: Credentials & { id: string };
let reauthorized: string[];

beforeEach(async () => {
  reauthorized = [];
  harness = await startLinkHarness({ onReauthorized: (authId) => void reauthorized.push(authId) });
  org = harness.local.createOrg({ name: 'Acme' });
  user = addUser(org, 'hanako');
});

afterEach(async () => {
  await harness.close();
});

/** A linked inbox whose refresh token Salesforce revoked: the engine held its actions. */
async function linkThatNeedsReauth(heldCount: number): Promise<{ link: Link; actionIds: string[] }> {
  expect((await linkInbox(harness, { inboxId: '12', environment: 'production', target: 'contact' }, user)).status).toBe(
    200,
  );
  const link = (await harness.store.links.getLinkForInbox('12')) as Link;
  const now = Date.now();
  const actionIds: string[] = [];
  for (let i = 0; i < heldCount; i++) {
    const action = newAction('12', { occurredAt: now + i });
    await ingestActions(harness.store, [action]);
    actionIds.push(action.actionId);
  }
  await classifyActions(
    harness.store,
    actionIds.map((actionId) => ({ actionId, state: 'pending', reason: null, linkId: link.id, orgId: link.orgId })),
    now,
  );
  org.revokeRefreshTokens(user.id);
  await harness.store.actions.holdLink(link.id, 'needs_reauth', now);
  await harness.store.links.setLinkStatus(link.id, 'needs_reauth', 'invalid_grant: expired access/refresh token', now);
  return { link, actionIds };
}

async function statesOf(actionIds: string[]): Promise<string[]> {
  return Promise.all(actionIds.map(async (id) => (await harness.store.actions.get(id))?.state ?? 'missing'));
}

describe('re-authenticating a link', () => {
  it('when the same user signs in again, the link is active, its held actions resume and the new tokens are kept', async () => {
    const { link, actionIds } = await linkThatNeedsReauth(3);
    expect(await statesOf(actionIds)).toEqual(['held', 'held', 'held']);
    const health = await api(harness, 'GET', '/inboxes/12/health');
    expect(health.body.status).toBe('needs_reauth');
    expect(health.body.problems.map((problem: { code: string }) => problem.code)).toContain('needs_reauth');
    reauthorized = [];

    const started = await api(harness, 'POST', `/links/${link.id}/reauthorize`);
    expect(started.status).toBe(201);
    expect(started.body.authorizeUrl.startsWith(`${harness.local.productionLoginUrl}/services/oauth2/authorize?`)).toBe(
      true,
    );
    const page = await completeInBrowser(started.body.authorizeUrl, user);
    expect(page.status).toBe(200);
    expect(page.html).toContain('再認証が完了しました');

    const renewed = await harness.store.links.getLink(link.id);
    expect(renewed).toMatchObject({
      id: link.id,
      status: 'active',
      statusReason: null,
      authId: link.authId,
      target: 'contact',
    });
    expect(await statesOf(actionIds)).toEqual(['pending', 'pending', 'pending']);
    expect(reauthorized).toEqual([link.authId]);
    const auth = await harness.store.links.getAuth(link.authId);
    await expect(
      harness.oauth.refresh(harness.local.productionLoginUrl, auth?.refreshToken as string),
    ).resolves.toBeTruthy();
  });

  it('when the admin signs in to another org, it refuses, keeps the link held and revokes the stray token', async () => {
    const { link, actionIds } = await linkThatNeedsReauth(2);
    const otherOrg = harness.local.createOrg({ name: 'Other Co' });
    const stranger = addUser(otherOrg, 'stranger');
    const started = await api(harness, 'POST', `/links/${link.id}/reauthorize`);
    const page = await completeInBrowser(started.body.authorizeUrl, stranger);
    expect(page.status).toBe(400);
    expect(page.html).toContain('別の Salesforce 組織');
    expect(page.html).toContain('org_mismatch');
    expect((await harness.store.links.getLink(link.id))?.status).toBe('needs_reauth');
    expect(await statesOf(actionIds)).toEqual(['held', 'held']);
    expect(otherOrg.approvals(stranger.id).filter((token) => !token.revoked)).toHaveLength(0);
    expect(await harness.store.links.listAuths()).toHaveLength(1);
  });

  it('when the user who authorised has left, a colleague of the same org takes the link over, audited, with every held action', async () => {
    const { link, actionIds } = await linkThatNeedsReauth(2);
    org.setUserActive(user.id, false);
    const colleague = addUser(org, 'ichiro');
    const started = await api(harness, 'POST', `/links/${link.id}/reauthorize`);
    const page = await completeInBrowser(started.body.authorizeUrl, colleague);
    expect(page.status).toBe(200);
    const renewed = await harness.store.links.getLink(link.id);
    expect(renewed).toMatchObject({
      status: 'active',
      authorizedUserId: colleague.id,
      authorizedUsername: colleague.username,
      // The default owner was the user who left: the colleague takes that over too.
      defaultOwnerId: colleague.id,
    });
    expect(await statesOf(actionIds)).toEqual(['pending', 'pending']);
    // The leaver's authorisation served no other link: revoked and forgotten.
    expect((await harness.store.links.listAuths()).map((auth) => auth.userId)).toEqual([colleague.id]);
    const [entry] = await harness.store.audit.list('12', 1);
    expect(entry).toMatchObject({
      event: 'reauthorized',
      changes: {
        authorizedUsername: { from: user.username, to: colleague.username },
        defaultOwnerId: { from: user.id, to: colleague.id },
        status: { from: 'needs_reauth', to: 'active' },
        resumedActions: { from: null, to: 2 },
      },
    });
  });

  it('rotates the tokens of an active link', async () => {
    await linkInbox(harness, { inboxId: '12', environment: 'production', target: 'contact' }, user);
    const link = (await harness.store.links.getLinkForInbox('12')) as Link;
    const before = (await harness.store.links.getAuth(link.authId))?.refreshToken;
    const started = await api(harness, 'POST', `/links/${link.id}/reauthorize`);
    expect((await completeInBrowser(started.body.authorizeUrl, user)).status).toBe(200);
    const after = (await harness.store.links.getAuth(link.authId))?.refreshToken;
    expect(after).toBeTruthy();
    expect(after).not.toBe(before);
    expect((await harness.store.links.getLink(link.id))?.status).toBe('active');
  });

  it('a new link by the same user also revives that user’s links that needed re-authentication', async () => {
    const { link, actionIds } = await linkThatNeedsReauth(1);
    const page = await linkInbox(harness, { inboxId: '13', environment: 'production', target: 'lead' }, user);
    expect(page.status).toBe(200);
    expect((await harness.store.links.getLink(link.id))?.status).toBe('active');
    expect(await statesOf(actionIds)).toEqual(['pending']);
  });

  it('refuses to re-authorise a deleted or unknown link', async () => {
    await linkInbox(harness, { inboxId: '12', environment: 'production', target: 'contact' }, user);
    const link = (await harness.store.links.getLinkForInbox('12')) as Link;
    await api(harness, 'DELETE', `/links/${link.id}`);
    const deleted = await api(harness, 'POST', `/links/${link.id}/reauthorize`);
    expect(deleted.status).toBe(409);
    expect(deleted.body.error).toBe('link_deleted');
    expect((await api(harness, 'POST', '/links/lnk_missing/reauthorize')).status).toBe(404);
  });
});
