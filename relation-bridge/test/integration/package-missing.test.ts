import { completeAuthorization } from '../../local-org';
import type { StoredAction } from '../../src/core/types';
import { PACKAGE_PERMISSION_SETS } from '../../src/salesforce/package-names';
import { startBridgeHarness, type BridgeHarness } from '../helpers/bridge-harness';
import { actionPayload, sendAll } from '../helpers/payloads';

/**
 * The most likely first-day mistake of a Salesforce admin, end to end against the local org
 * (as strict as Salesforce about field-level security): the package not installed, or the
 * linking user without its Integration permission set. Linking is refused with the fix; a
 * link that loses either later has its actions held, not failed, and they sync once each
 * when the fix is in place.
 */

const TARO = 'taro.yamada@example.co.jp';
const INTEGRATION = PACKAGE_PERMISSION_SETS.integration.name;
const POLICY_TTL_MS = 1000;

interface Health {
  status: string;
  counts: Record<string, number>;
  problems: Array<{ code: string; message: string }>;
}

async function actionsOf(h: BridgeHarness, ids: string[]): Promise<StoredAction[]> {
  return Promise.all(ids.map(async (id) => (await h.bridge.store.actions.get(id)) as StoredAction));
}

async function healthOf(h: BridgeHarness): Promise<Health> {
  const response = await h.admin<Health>('GET', '/inboxes/12/health');
  expect(response.status).toBe(200);
  return response.body;
}

/** Starts a link through the admin API and goes through Salesforce's pages; the callback page's answer. */
async function tryLinking(h: BridgeHarness): Promise<{ status: number; page: string }> {
  const started = await h.admin<{ authorizeUrl: string }>('POST', '/links/authorize', {
    inboxId: '12',
    inboxName: '営業窓口',
    environment: 'production',
    target: 'contact_then_lead',
  });
  expect(started.status).toBe(201);
  const user = h.seeded.authorizingUser;
  const callback = await completeAuthorization(started.body.authorizeUrl, {
    username: user.username,
    password: user.password,
  });
  const response = await fetch(callback, { redirect: 'manual' });
  return { status: response.status, page: await response.text() };
}

describe('the package missing, or its permission set not assigned', () => {
  let h: BridgeHarness;
  /** The bridge's clock runs ahead of the wall clock by this much: checks go stale without waiting. */
  let ahead = 0;

  const start = (options: { packageInstalled?: boolean } = {}) =>
    startBridgeHarness({
      env: { SF_POLICY_CACHE_MS: String(POLICY_TTL_MS) },
      orgOptions: options,
      now: () => Date.now() + ahead,
    });

  /** Lets the bridge's last look at the org's package go stale, as SF_POLICY_CACHE_MS later. */
  const afterNextCheck = () => {
    ahead += POLICY_TTL_MS + 1;
  };

  beforeEach(() => {
    ahead = 0;
  });

  afterEach(async () => {
    await h.close();
  });

  describe('at link time', () => {
    it('refuses a link to an org without the package, names the fix in Japanese and English, and links once it is installed', async () => {
      h = await start({ packageInstalled: false });
      const user = h.seeded.authorizingUser;

      const refused = await tryLinking(h);
      expect(refused.status).toBe(400);
      expect(refused.page).toContain('Re:lation Inbox Bridge パッケージがインストールされていない');
      expect(refused.page).toContain('The Re:lation Inbox Bridge package is not installed in the Salesforce org');
      expect(refused.page).toContain(`Re:lation Inbox Bridge: Integration&#34; to ${user.username}`);
      expect(refused.page).toContain('(package_missing)');
      expect(await h.bridge.store.links.getLinkForInbox('12')).toBeNull();
      // The authorisation obtained for the refused link was given back.
      expect(h.org.approvals(user.id)).toEqual([]);

      h.org.installPackage();
      h.org.assignPermissionSet(user.id, INTEGRATION);
      const link = await h.linkInbox();
      expect(link).toMatchObject({ inboxId: '12', status: 'active', authorizedUsername: user.username });
    });

    it('refuses a link by a user without the integration permission set, naming the user, and links once it is assigned', async () => {
      h = await start();
      const user = h.seeded.authorizingUser;
      h.org.removePermissionSet(user.id, INTEGRATION);

      const refused = await tryLinking(h);
      expect(refused.status).toBe(400);
      expect(refused.page).toContain(`Salesforce ユーザー ${user.username} には、行動のヘルプデスク項目`);
      expect(refused.page).toContain(`The Salesforce user ${user.username} may not write the package`);
      expect(refused.page).toContain('(field_access_missing)');
      expect(await h.bridge.store.links.getLinkForInbox('12')).toBeNull();

      h.org.assignPermissionSet(user.id, INTEGRATION);
      expect(await h.linkInbox()).toMatchObject({ status: 'active' });
    });

    it('refuses to reuse, for another inbox, an authorisation whose user lost the permission set', async () => {
      h = await start();
      const user = h.seeded.authorizingUser;
      const link = await h.linkInbox();
      expect((await h.admin('POST', '/inboxes', { inboxId: '13', name: 'サポート窓口' })).status).toBe(201);
      h.org.removePermissionSet(user.id, INTEGRATION);

      const refused = await h.admin<{ error: string; message: string; details: Record<string, unknown> }>(
        'POST',
        '/links',
        { inboxId: '13', authId: link.authId, target: 'contact' },
      );
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({
        error: 'field_access_missing',
        message: expect.stringContaining(`"Re:lation Inbox Bridge: Integration" to ${user.username}`),
        details: { username: user.username, permissionSet: INTEGRATION },
      });
      expect(await h.bridge.store.links.getLinkForInbox('13')).toBeNull();
    });
  });

  describe('after the link is made', () => {
    it('holds the actions of an org whose package is gone, writes nothing, names the fix, and syncs them once when it is installed', async () => {
      h = await start();
      const user = h.seeded.authorizingUser;
      await h.linkInbox();
      h.org.uninstallPackage();

      const payloads = Array.from({ length: 3 }, () => actionPayload({ emails: [TARO] }));
      const ids = payloads.map((payload) => payload.action.id);
      await sendAll(h.baseUrl, payloads);
      await h.bridge.engine.runUntilIdle();

      for (const action of await actionsOf(h, ids)) {
        expect([action.state, action.reason]).toEqual(['held', 'package_missing']);
        expect(action.errorMessage).toContain(
          `assign the permission set "Re:lation Inbox Bridge: Integration" to ${user.username}`,
        );
      }
      expect(h.org.records('Event')).toHaveLength(0);
      const held = await healthOf(h);
      expect(held.counts.held).toBe(3);
      expect(held.problems).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ code: 'package_missing', message: expect.stringContaining('Install the package') }),
        ]),
      );

      // Still missing at the next check: the actions keep waiting.
      afterNextCheck();
      await h.bridge.engine.runUntilIdle();
      expect((await actionsOf(h, ids)).map((a) => a.state)).toEqual(['held', 'held', 'held']);

      h.org.installPackage();
      h.org.assignPermissionSet(user.id, INTEGRATION);
      afterNextCheck();
      await h.bridge.engine.runUntilIdle();

      expect((await actionsOf(h, ids)).map((a) => a.state)).toEqual(['synced', 'synced', 'synced']);
      for (const id of ids) expect(h.eventsFor(id)).toHaveLength(1);
      expect(h.org.records('Event')).toHaveLength(3);
      expect((await healthOf(h)).problems.map((problem) => problem.code)).not.toContain('package_missing');
    });

    it('holds the actions of a user who lost the permission set, names the user, and syncs them once when it is assigned', async () => {
      h = await start();
      const user = h.seeded.authorizingUser;
      await h.linkInbox();
      h.org.removePermissionSet(user.id, INTEGRATION);

      const payloads = Array.from({ length: 3 }, () => actionPayload({ emails: [TARO] }));
      const ids = payloads.map((payload) => payload.action.id);
      await sendAll(h.baseUrl, payloads);
      await h.bridge.engine.runUntilIdle();

      for (const action of await actionsOf(h, ids)) {
        expect([action.state, action.reason]).toEqual(['held', 'field_access_missing']);
        expect(action.errorMessage).toContain('Not visible: inbx__Action_Id__c');
      }
      expect(h.org.records('Event')).toHaveLength(0);
      const problem = (await healthOf(h)).problems.find((p) => p.code === 'field_access_missing');
      expect(problem?.message).toContain(`to ${user.username}`);

      h.org.assignPermissionSet(user.id, INTEGRATION);
      afterNextCheck();
      await h.bridge.engine.runUntilIdle();

      expect((await actionsOf(h, ids)).map((a) => a.state)).toEqual(['synced', 'synced', 'synced']);
      for (const id of ids) expect(h.eventsFor(id)).toHaveLength(1);
      expect(h.org.records('Event')).toHaveLength(3);
      expect((await healthOf(h)).problems.map((p) => p.code)).not.toContain('field_access_missing');
    });

    it('holds rather than fails when a write meets the package removed since the last check', async () => {
      h = await start();
      const user = h.seeded.authorizingUser;
      await h.linkInbox();
      const first = actionPayload({ emails: [TARO] });
      await sendAll(h.baseUrl, [first]);
      await h.bridge.engine.runUntilIdle();
      expect((await h.bridge.store.actions.get(first.action.id))?.state).toBe('synced');

      // Within the check's TTL, the bridge believes the fields writable: the write is what finds out.
      h.org.uninstallPackage();
      const later = Array.from({ length: 2 }, () => actionPayload({ emails: [TARO] }));
      const ids = later.map((payload) => payload.action.id);
      await sendAll(h.baseUrl, later);
      await h.bridge.engine.runUntilIdle();
      for (const action of await actionsOf(h, ids)) {
        expect([action.state, action.reason, action.errorCode]).toEqual(['held', 'package_missing', 'INVALID_FIELD']);
      }

      h.org.installPackage();
      h.org.assignPermissionSet(user.id, INTEGRATION);
      afterNextCheck();
      await h.bridge.engine.runUntilIdle();
      expect((await actionsOf(h, ids)).map((a) => a.state)).toEqual(['synced', 'synced']);
      for (const id of ids) expect(h.eventsFor(id)).toHaveLength(1);
    });

    it('holds, naming the read-only fields, when the user’s permission set only lets them read the fields', async () => {
      h = await start();
      const user = h.seeded.authorizingUser;
      await h.linkInbox();
      const first = actionPayload({ emails: [TARO] });
      await sendAll(h.baseUrl, [first]);
      await h.bridge.engine.runUntilIdle();

      // The admin's permission set instead of the integration one: the fields are visible, read-only.
      h.org.removePermissionSet(user.id, INTEGRATION);
      h.org.assignPermissionSet(user.id, PACKAGE_PERMISSION_SETS.admin.name);
      const later = actionPayload({ emails: [TARO] });
      await sendAll(h.baseUrl, [later]);
      await h.bridge.engine.runUntilIdle();
      const held = await h.bridge.store.actions.get(later.action.id);
      expect([held?.state, held?.reason, held?.errorCode]).toEqual([
        'held',
        'field_access_missing',
        'INVALID_FIELD_FOR_INSERT_UPDATE',
      ]);
      expect(held?.errorMessage).toContain('Read-only: inbx__Action_Id__c');
      expect(h.eventsFor(later.action.id)).toHaveLength(0);

      h.org.assignPermissionSet(user.id, INTEGRATION);
      afterNextCheck();
      await h.bridge.engine.runUntilIdle();
      expect((await h.bridge.store.actions.get(later.action.id))?.state).toBe('synced');
      expect(h.eventsFor(later.action.id)).toHaveLength(1);
      expect(h.eventsFor(first.action.id)).toHaveLength(1);
    });
  });
});
