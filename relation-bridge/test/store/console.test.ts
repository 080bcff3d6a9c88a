import type { Actor } from '../../src/core/types';
import { newAction } from './actions-fixtures';
import { describeEachStore } from './databases';

const T0 = Date.parse('2026-11-28T02:00:00Z');
const ACTOR: Actor = { kind: 'user', id: 'usr_1', name: '佐藤 花子 <sato@example.co.jp>' };
const POLICY = { windowMs: 60_000, maxFailures: 5, lockMs: 900_000 };

describeEachStore('Store: accounts, sessions, throttling, inboxes, audit, secrets and pending links', ({ store }) => {
  const newUser = (email: string, isOwner = false) =>
    store().accounts.createUser({
      email,
      name: email.split('@')[0] ?? email,
      isOwner,
      passwordHash: 'scrypt$x',
      now: T0,
    });

  it('refuses a second account with the same email, and keeps at least one owner', async () => {
    const owner = await newUser('owner@example.co.jp', true);
    await expect(newUser('owner@example.co.jp')).rejects.toMatchObject({ code: 'email_taken', reason: 'conflict' });
    await expect(store().accounts.updateUser(owner.id, { isOwner: false }, T0 + 1)).rejects.toMatchObject({
      code: 'last_owner',
    });
    await expect(store().accounts.deleteUser(owner.id)).rejects.toMatchObject({ code: 'last_owner' });
    const second = await newUser('second@example.co.jp', true);
    expect(await store().accounts.updateUser(owner.id, { isOwner: false, name: '元オーナー' }, T0 + 2)).toMatchObject({
      isOwner: false,
      name: '元オーナー',
      updatedAt: T0 + 2,
    });
    await expect(store().accounts.deleteUser(second.id)).rejects.toMatchObject({ code: 'last_owner' });
  });

  it('never lets two owners demote each other at once into having none', async () => {
    const [a, b] = await Promise.all([newUser('a@example.co.jp', true), newUser('b@example.co.jp', true)]);
    const results = await Promise.allSettled([
      store().accounts.updateUser(a.id, { isOwner: false }, T0 + 1),
      store().accounts.updateUser(b.id, { isOwner: false }, T0 + 1),
    ]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect((await store().accounts.listUsers()).filter((user) => user.isOwner)).toHaveLength(1);
  });

  it('keeps sessions per user, signs a user out elsewhere, and removes ended sessions', async () => {
    const user = await newUser('u@example.co.jp', true);
    for (const [idHash, lastSeenAt] of [
      ['s1', T0],
      ['s2', T0],
      ['s3', T0 - 10_000],
    ] as const) {
      await store().accounts.createSession({
        idHash,
        userId: user.id,
        createdAt: T0,
        lastSeenAt,
        expiresAt: T0 + 1_000,
      });
    }
    await store().accounts.touchSession('s1', T0 + 5);
    expect(await store().accounts.getSession('s1')).toMatchObject({ lastSeenAt: T0 + 5 });
    expect(await store().accounts.deleteExpiredSessions(T0 + 10, T0 - 1)).toBe(1);
    expect(await store().accounts.deleteSessionsOfUser(user.id, 's1')).toBe(1);
    expect(await store().accounts.getSession('s1')).not.toBeNull();
    expect(await store().accounts.getSession('s2')).toBeNull();
  });

  it('counts sign-in attempts atomically: of many at once, exactly the allowed number pass before the lock', async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, () => store().accounts.countAttempt('pair:x 10.0.0.1', T0, POLICY)),
    );
    const counts = results.map((result) => result.after.failures).sort((a, b) => a - b);
    expect(counts).toEqual(Array.from({ length: 30 }, (_, index) => index + 1));
    const unlockedBefore = results.filter(
      (result) => result.before === null || result.before.lockedUntil === null,
    ).length;
    expect(unlockedBefore).toBe(POLICY.maxFailures);
    expect(
      results.every(
        (result) => result.after.failures < POLICY.maxFailures || result.after.lockedUntil === T0 + POLICY.lockMs,
      ),
    ).toBe(true);
  });

  it('starts counting again once the window has passed or the lock has ended, and takes back a success', async () => {
    for (let i = 0; i < 5; i += 1) await store().accounts.countAttempt('k', T0, POLICY);
    expect((await store().accounts.getThrottle('k'))?.lockedUntil).toBe(T0 + POLICY.lockMs);
    const afterLock = await store().accounts.countAttempt('k', T0 + POLICY.lockMs, POLICY);
    expect(afterLock.after).toMatchObject({ failures: 1, lockedUntil: null });
    await store().accounts.uncountAttempt('k', POLICY.maxFailures);
    expect((await store().accounts.getThrottle('k'))?.failures).toBe(0);
    await store().accounts.clearThrottle('k');
    expect(await store().accounts.getThrottle('k')).toBeNull();
  });

  it('registers inboxes with roles, lists the inboxes webhooks mention, and removes roles with their inbox', async () => {
    const user = await newUser('member@example.co.jp');
    await store().inboxes.register({ inboxId: '12', name: '営業窓口', registeredBy: user.id, now: T0 });
    await expect(
      store().inboxes.register({ inboxId: '12', name: 'again', registeredBy: null, now: T0 }),
    ).rejects.toMatchObject({ code: 'inbox_exists' });
    await store().inboxes.setRole('12', user.id, 'admin', T0 + 1);
    await store().inboxes.setRole('12', user.id, 'member', T0 + 2);
    expect(await store().inboxes.listRolesOfUser(user.id)).toEqual([
      { inboxId: '12', userId: user.id, role: 'member', grantedAt: T0 + 2 },
    ]);
    await expect(store().inboxes.setRole('99', user.id, 'admin', T0)).rejects.toMatchObject({
      code: 'inbox_or_user_not_found',
    });
    await store().actions.ingest([newAction({ inboxId: '12' }), newAction({ inboxId: '56' })]);
    expect((await store().inboxes.listSeen()).map((seen) => [seen.inboxId, seen.actions])).toEqual([
      ['12', 1],
      ['56', 1],
    ]);
    expect(await store().inboxes.rename('12', '営業')).toMatchObject({ name: '営業' });
    await store().inboxes.unregister('12');
    expect(await store().inboxes.listMembers('12')).toEqual([]);
    await expect(store().inboxes.unregister('12')).rejects.toMatchObject({ code: 'inbox_not_found' });
  });

  it('keeps the link audit newest first, and webhook secrets sealed until revoked', async () => {
    await store().audit.add({ inboxId: '12', linkId: 'l1', at: T0, actor: ACTOR, event: 'created', changes: {} });
    await store().audit.add({
      inboxId: '12',
      linkId: 'l1',
      at: T0 + 1,
      actor: ACTOR,
      event: 'changed',
      changes: { target: { from: 'contact', to: 'lead' } },
    });
    expect((await store().audit.list('12', 10)).map((entry) => entry.event)).toEqual(['changed', 'created']);

    const secret = await store().webhookSecrets.add({
      label: 'rotation',
      secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0',
      fingerprint: 'abc',
      createdBy: 'owner',
      now: T0,
    });
    expect(await store().webhookSecrets.list()).toEqual([secret]);
    expect((await store().webhookSecrets.revoke(secret.id, T0 + 1)).revokedAt).toBe(T0 + 1);
    expect(await store().webhookSecrets.list()).toEqual([]);
    expect(await store().webhookSecrets.list({ includeRevoked: true })).toHaveLength(1);
    await expect(store().webhookSecrets.revoke('whs_unknown', T0)).rejects.toMatchObject({
      code: 'webhook_secret_not_found',
    });
  });

  it('keeps pending links with sealed tokens, and drops those of an inbox at once', async () => {
    const pending = {
      inboxId: '12',
      inboxName: '営業窓口',
      orgId: '00D1',
      userId: '0051',
      username: 'u@example.co.jp',
      displayName: null,
      instanceUrl: 'https://x.my.salesforce.com',
      loginUrl: 'https://login.salesforce.com',
      environment: 'production' as const,
      accessToken: 'access',
      refreshToken: 'refresh',
      scope: 'api refresh_token',
      issuedAt: T0,
      createdBy: ACTOR,
      createdAt: T0,
      expiresAt: T0 + 1_000,
    };
    const first = await store().pendingLinks.save(pending);
    await store().pendingLinks.save({ ...pending, inboxId: '56' });
    expect(await store().pendingLinks.get(first.id)).toEqual(first);
    expect(await store().pendingLinks.listExpired(T0 + 1_000)).toHaveLength(2);
    expect((await store().pendingLinks.deleteOfInbox('12')).map((p) => p.id)).toEqual([first.id]);
    expect((await store().pendingLinks.list()).map((p) => p.inboxId)).toEqual(['56']);
  });
});
