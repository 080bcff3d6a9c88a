import { ConsoleAccounts, csrfTokenFor, hashSessionId } from '../../src/auth/accounts';
import { createLogger } from '../../src/logging';
import { openTempSqliteStore } from '../store/databases';

/**
 * The account rules on a real SQLite store, with a clock the test moves. Hashing runs at a
 * low scrypt cost here (these tests are about sessions and throttling; passwords.test.ts
 * covers the hashing the bridge runs with).
 */

const MINUTE = 60_000;
let temp: Awaited<ReturnType<typeof openTempSqliteStore>>;
let clock: number;
let accounts: ConsoleAccounts;

beforeEach(async () => {
  temp = await openTempSqliteStore();
  clock = Date.parse('2026-11-28T09:00:00Z');
  accounts = new ConsoleAccounts({
    store: temp.store,
    logger: createLogger('silent'),
    now: () => clock,
    sessionIdleMs: 30 * MINUTE,
    sessionMaxMs: 8 * 60 * MINUTE,
    passwordHashing: { N: 2 ** 10, r: 8, p: 1 },
    throttle: {
      pair: { windowMs: 15 * MINUTE, maxFailures: 3, lockMs: 10 * MINUTE },
      account: { windowMs: 15 * MINUTE, maxFailures: 6, lockMs: 10 * MINUTE },
      address: { windowMs: 15 * MINUTE, maxFailures: 4, lockMs: 10 * MINUTE },
    },
  });
});

afterEach(async () => {
  await temp.cleanup();
});

async function owner(email = 'owner@example.jp', password = 'owner-password-1') {
  return (await accounts.createUser({ email, name: 'Owner', isOwner: true, password })).user;
}

describe('console sessions', () => {
  it('keeps only the hash of the session id; the id resumes the session and the CSRF token is derived from it', async () => {
    const user = await owner();
    const signedIn = await accounts.signIn('OWNER@example.jp ', 'owner-password-1', '10.0.0.1');
    expect(signedIn.user.id).toBe(user.id);
    expect(await temp.store.accounts.getSession(signedIn.sessionId)).toBeNull();
    expect(await temp.store.accounts.getSession(hashSessionId(signedIn.sessionId))).toMatchObject({ userId: user.id });
    expect((await accounts.resume(signedIn.sessionId))?.user.id).toBe(user.id);
    expect(await accounts.resume(`${signedIn.sessionId}x`)).toBeNull();
    expect(csrfTokenFor(signedIn.sessionId)).not.toBe(signedIn.sessionId);
    expect(csrfTokenFor(signedIn.sessionId)).toBe(csrfTokenFor(signedIn.sessionId));
  });

  it('ends a session after the idle time without requests, and at its absolute end despite activity', async () => {
    await owner();
    const idle = await accounts.signIn('owner@example.jp', 'owner-password-1', '10.0.0.1');
    clock += 29 * MINUTE;
    expect(await accounts.resume(idle.sessionId)).not.toBeNull();
    clock += 29 * MINUTE;
    expect(await accounts.resume(idle.sessionId)).not.toBeNull();
    clock += 31 * MINUTE;
    expect(await accounts.resume(idle.sessionId)).toBeNull();

    const busy = await accounts.signIn('owner@example.jp', 'owner-password-1', '10.0.0.1');
    for (let hour = 0; hour < 8; hour += 1) {
      clock += 20 * MINUTE;
      expect(await accounts.resume(busy.sessionId)).not.toBeNull();
      clock += 20 * MINUTE;
      expect(await accounts.resume(busy.sessionId)).not.toBeNull();
      clock += 20 * MINUTE;
      const alive = await accounts.resume(busy.sessionId);
      if (hour < 7) expect(alive).not.toBeNull();
      else expect(alive).toBeNull();
    }
  });

  it('signing out and changing the password end sessions; a password change keeps only the session that made it', async () => {
    await owner();
    const first = await accounts.signIn('owner@example.jp', 'owner-password-1', '10.0.0.1');
    const second = await accounts.signIn('owner@example.jp', 'owner-password-1', '10.0.0.2');
    const active = await accounts.resume(first.sessionId);
    await expect(accounts.changeOwnPassword(active!, 'wrong-password-0', 'new-password-123')).rejects.toMatchObject({
      code: 'wrong_current_password',
      reason: 'bad_input',
    });
    await accounts.changeOwnPassword(active!, 'owner-password-1', 'new-password-123');
    expect(await accounts.resume(first.sessionId)).not.toBeNull();
    expect(await accounts.resume(second.sessionId)).toBeNull();
    await expect(accounts.signIn('owner@example.jp', 'owner-password-1', '10.0.0.1')).rejects.toMatchObject({
      code: 'invalid_credentials',
    });
    await accounts.signOut(hashSessionId(first.sessionId));
    expect(await accounts.resume(first.sessionId)).toBeNull();
  });
});

describe('sign-in throttling', () => {
  it('locks an account and address pair after repeated failures, even for the right password, until the lock ends', async () => {
    await owner();
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await expect(accounts.signIn('owner@example.jp', 'guess-password-0', '10.0.1.1')).rejects.toMatchObject({
        code: 'invalid_credentials',
        reason: 'unauthenticated',
      });
    }
    await expect(accounts.signIn('owner@example.jp', 'owner-password-1', '10.0.1.1')).rejects.toMatchObject({
      code: 'too_many_attempts',
      reason: 'too_many_requests',
      details: { retryAfterSeconds: 600 },
    });
    // Whoever guessed from 10.0.1.1 cannot lock the owner out from anywhere else.
    await expect(accounts.signIn('owner@example.jp', 'owner-password-1', '10.0.2.1')).resolves.toMatchObject({
      user: { email: 'owner@example.jp' },
    });
    clock += 10 * MINUTE + 1;
    await expect(accounts.signIn('owner@example.jp', 'owner-password-1', '10.0.1.1')).resolves.toBeDefined();
  });

  it('locks an account guessed at from many addresses, at its own slower limit', async () => {
    await owner();
    for (let attempt = 0; attempt < 6; attempt += 1) {
      await expect(accounts.signIn('owner@example.jp', 'guess-password-0', `10.0.3.${attempt}`)).rejects.toMatchObject({
        code: 'invalid_credentials',
      });
    }
    await expect(accounts.signIn('owner@example.jp', 'owner-password-1', '10.0.4.1')).rejects.toMatchObject({
      code: 'too_many_attempts',
    });
  });

  it('counts parallel guesses before checking any: of 30 at once, only the allowed 3 are checked', async () => {
    await owner();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 30 }, (_, index) =>
        accounts.signIn('owner@example.jp', index === 29 ? 'owner-password-1' : `guess-password-${index}`, '10.9.9.9'),
      ),
    );
    const codes = outcomes.map((outcome) =>
      outcome.status === 'fulfilled' ? 'signed_in' : (outcome.reason as { code: string }).code,
    );
    expect(codes.filter((code) => code === 'invalid_credentials' || code === 'signed_in')).toHaveLength(3);
    expect(codes.filter((code) => code === 'too_many_attempts' || code === 'sign_in_busy')).toHaveLength(27);
    expect(codes[29]).not.toBe('signed_in');
  });

  it('checks only so many passwords at once, answering 429 beyond', async () => {
    const capped = new ConsoleAccounts({
      store: temp.store,
      logger: createLogger('silent'),
      now: () => clock,
      sessionIdleMs: 30 * MINUTE,
      sessionMaxMs: 8 * 60 * MINUTE,
      passwordHashing: { N: 2 ** 10, r: 8, p: 1 },
      maxConcurrentVerifications: 2,
    });
    await capped.createUser({ email: 'owner@example.jp', name: 'Owner', isOwner: true, password: 'owner-password-1' });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 5 }, (_, index) => capped.signIn('owner@example.jp', 'owner-password-1', `10.7.0.${index}`)),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(2);
    expect(
      outcomes
        .filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected')
        .map((outcome) => (outcome.reason as { code: string; reason: string }).reason),
    ).toEqual(['too_many_requests', 'too_many_requests', 'too_many_requests']);
  });

  it('locks a client address that tries many accounts, and unknown accounts count like known ones', async () => {
    await owner();
    for (const email of ['a@example.jp', 'b@example.jp', 'c@example.jp', 'd@example.jp']) {
      await expect(accounts.signIn(email, 'guess-password-0', '192.0.2.7')).rejects.toMatchObject({
        code: 'invalid_credentials',
      });
    }
    await expect(accounts.signIn('owner@example.jp', 'owner-password-1', '192.0.2.7')).rejects.toMatchObject({
      code: 'too_many_attempts',
    });
    await expect(accounts.signIn('owner@example.jp', 'owner-password-1', '192.0.2.8')).resolves.toBeDefined();
  });

  it('a success clears the account’s failures; failures older than the window are forgotten', async () => {
    await owner();
    await expect(accounts.signIn('owner@example.jp', 'guess-password-0', '10.0.0.1')).rejects.toBeDefined();
    await expect(accounts.signIn('owner@example.jp', 'guess-password-0', '10.0.0.1')).rejects.toBeDefined();
    await accounts.signIn('owner@example.jp', 'owner-password-1', '10.0.0.1');
    await expect(accounts.signIn('owner@example.jp', 'guess-password-0', '10.0.0.1')).rejects.toBeDefined();
    await expect(accounts.signIn('owner@example.jp', 'guess-password-0', '10.0.0.1')).rejects.toBeDefined();
    clock += 16 * MINUTE;
    await expect(accounts.signIn('owner@example.jp', 'guess-password-0', '10.0.0.1')).rejects.toMatchObject({
      code: 'invalid_credentials',
    });
    expect((await temp.store.accounts.getThrottle('account:owner@example.jp'))?.failures).toBe(1);
    clock += 60 * MINUTE;
    await accounts.sweep();
    expect(await temp.store.accounts.getThrottle('account:owner@example.jp')).toBeNull();
  });
});

describe('console users', () => {
  it('keeps at least one owner', async () => {
    const first = await owner();
    await expect(accounts.updateUser(first.id, { isOwner: false })).rejects.toMatchObject({ code: 'last_owner' });
    await expect(accounts.deleteUser(first.id)).rejects.toMatchObject({ code: 'last_owner' });
    const second = await owner('second@example.jp');
    await accounts.updateUser(first.id, { isOwner: false });
    await expect(accounts.deleteUser(second.id)).rejects.toMatchObject({ code: 'last_owner' });
    await accounts.deleteUser(first.id);
    expect((await accounts.listUsers()).map((user) => user.email)).toEqual(['second@example.jp']);
  });

  it('refuses a second user with the same email, whatever its case', async () => {
    await owner();
    await expect(
      accounts.createUser({ email: 'Owner@Example.JP', name: 'Again', isOwner: false, password: 'another-password' }),
    ).rejects.toMatchObject({ code: 'email_taken', reason: 'conflict' });
  });

  it('a password set by an owner signs the user out everywhere', async () => {
    const user = await owner();
    const session = await accounts.signIn('owner@example.jp', 'owner-password-1', '10.0.0.1');
    await accounts.updateUser(user.id, { password: 'reset-password-9' });
    expect(await accounts.resume(session.sessionId)).toBeNull();
    await expect(accounts.signIn('owner@example.jp', 'reset-password-9', '10.0.0.1')).resolves.toBeDefined();
  });
});
