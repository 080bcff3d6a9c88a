import { startBridgeHarness, type BridgeHarness } from '../helpers/bridge-harness';
import { actionPayload, sendAll } from '../helpers/payloads';

/**
 * Salesforce keeps at most five approvals of the app per user; a sixth silently revokes the
 * oldest. The bridge keeps one authorisation per org and user, so a fresh grant by the same user
 * (another inbox's new authorisation, a re-authentication) replaces the stored refresh token:
 * the replaced one is revoked, and the user's approvals do not pile up towards the limit.
 */
describe("a fresh grant by the same user replaces the bridge's approval instead of adding one", () => {
  let h: BridgeHarness;

  beforeEach(async () => {
    h = await startBridgeHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  it('keeps the user at one approval through another inbox’s new authorisation and a re-authentication, and both inboxes sync', async () => {
    const user = h.seeded.authorizingUser;
    const first = await h.linkInbox({ inboxId: '12' });
    expect(h.org.approvals(user.id)).toHaveLength(1);

    const second = await h.linkInbox({ inboxId: '13', inboxName: 'サポート窓口' });
    expect(second.authId).toBe(first.authId);
    expect(h.org.approvals(user.id)).toHaveLength(1);

    await h.reauthorize(first.id);
    expect(h.org.approvals(user.id)).toHaveLength(1);
    const [kept] = h.org.approvals(user.id);
    expect((await h.bridge.store.links.getAuth(first.authId))?.refreshToken).toBe(kept?.token);

    const email = h.seeded.contacts[0]?.email as string;
    const payloads = [
      actionPayload({ inboxId: '12', emails: [email] }),
      actionPayload({ inboxId: '13', inboxName: 'サポート窓口', emails: [email] }),
    ];
    await sendAll(h.baseUrl, payloads);
    await h.bridge.engine.runUntilIdle();
    for (const payload of payloads) {
      expect((await h.bridge.store.actions.get(payload.action.id))?.state).toBe('synced');
    }
  });
});
