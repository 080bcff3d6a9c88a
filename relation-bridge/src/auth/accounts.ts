import { createHash, randomBytes } from 'node:crypto';
import { BridgeError } from '../core/errors';
import type { Logger } from '../logging';
import type { ConsoleSession, ConsoleUser, InboxMembership, ThrottlePolicy } from '../store/console-store';
import type { Store } from '../store/store';
import {
  DEFAULT_SCRYPT,
  generatePassword,
  hashPassword,
  needsRehash,
  type ScryptParams,
  unknownAccountHash,
  verifyPassword,
} from './passwords';

const MINUTE_MS = 60_000;

/** Failed sign-ins tolerated per account and per client address before a lock. */
export const DEFAULT_THROTTLE = {
  account: { windowMs: 15 * MINUTE_MS, maxFailures: 5, lockMs: 15 * MINUTE_MS },
  address: { windowMs: 15 * MINUTE_MS, maxFailures: 20, lockMs: 15 * MINUTE_MS },
} as const satisfies Record<string, ThrottlePolicy>;

/** A session's last-seen time is written at most this often, not on every request. */
const TOUCH_EVERY_MS = MINUTE_MS;

export interface AccountsOptions {
  store: Store;
  logger: Logger;
  now?: () => number;
  /** A session ends after this long without a request. */
  sessionIdleMs: number;
  /** A session ends this long after sign-in, whatever the activity. */
  sessionMaxMs: number;
  throttle?: { account: ThrottlePolicy; address: ThrottlePolicy };
  /** scrypt cost of new hashes; the default is what the bridge runs with. */
  passwordHashing?: ScryptParams;
}

export interface SignedIn {
  /** The secret that goes into the cookie; the store only has its hash. */
  sessionId: string;
  session: ConsoleSession;
  user: ConsoleUser;
}

export interface ActiveSession {
  sessionIdHash: string;
  session: ConsoleSession;
  user: ConsoleUser;
  roles: InboxMembership[];
}

export interface NewUserInput {
  email: string;
  name: string;
  isOwner: boolean;
  /** Omitted: a password is generated and returned once. */
  password?: string;
}

export function hashSessionId(sessionId: string): string {
  return createHash('sha256').update(sessionId, 'utf8').digest('base64url');
}

/** The CSRF token of a session: derived from its secret id, so it needs no storage and dies with it. */
export function csrfTokenFor(sessionId: string): string {
  return createHash('sha256').update(`csrf\0${sessionId}`, 'utf8').digest('base64url');
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function tooManyAttempts(lockedUntil: number, now: number): BridgeError {
  const retryAfterSeconds = Math.max(1, Math.ceil((lockedUntil - now) / 1000));
  return new BridgeError('bad_input', 'Too many failed sign-ins: wait before trying again.', {
    code: 'too_many_attempts',
    httpStatus: 429,
    details: { retryAfterSeconds },
  });
}

/**
 * Console accounts and their sessions: sign-in with throttling per account and per client
 * address, sliding idle expiry with an absolute end, and password changes that sign the
 * user out elsewhere.
 */
export class ConsoleAccounts {
  private readonly store: Store;
  private readonly logger: Logger;
  private readonly now: () => number;
  readonly sessionIdleMs: number;
  readonly sessionMaxMs: number;
  private readonly throttle: { account: ThrottlePolicy; address: ThrottlePolicy };
  private readonly hashing: ScryptParams;

  constructor(options: AccountsOptions) {
    this.store = options.store;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.sessionIdleMs = options.sessionIdleMs;
    this.sessionMaxMs = options.sessionMaxMs;
    this.throttle = options.throttle ?? DEFAULT_THROTTLE;
    this.hashing = options.passwordHashing ?? DEFAULT_SCRYPT;
  }

  async signIn(email: string, password: string, address: string): Promise<SignedIn> {
    const accounts = this.store.console;
    const normalized = normalizeEmail(email);
    const keys = { account: `account:${normalized}`, address: `ip:${address}` };
    const now = this.now();
    for (const key of [keys.account, keys.address]) {
      const throttle = await accounts.getLoginThrottle(key);
      if (throttle?.lockedUntil != null && throttle.lockedUntil > now) {
        this.logger.warn(
          { key: key.startsWith('ip:') ? key : 'account', lockedUntil: throttle.lockedUntil },
          'console sign-in refused: locked',
        );
        throw tooManyAttempts(throttle.lockedUntil, now);
      }
    }
    const user = await accounts.getUserByEmail(normalized);
    const matches = await verifyPassword(password, user?.passwordHash ?? unknownAccountHash(this.hashing));
    if (user === null || !matches) {
      const failedAt = this.now();
      const account = await accounts.recordLoginFailure(keys.account, failedAt, this.throttle.account);
      const byAddress = await accounts.recordLoginFailure(keys.address, failedAt, this.throttle.address);
      this.logger.info(
        { known: user !== null, failures: account.failures, addressFailures: byAddress.failures },
        'console sign-in failed',
      );
      throw new BridgeError('bad_input', 'The email or the password is wrong.', {
        code: 'invalid_credentials',
        httpStatus: 401,
      });
    }
    await accounts.clearLoginFailures(keys.account);
    let signedInUser = user;
    if (needsRehash(user.passwordHash, this.hashing)) {
      signedInUser = await accounts.updateUser(
        user.id,
        { passwordHash: await hashPassword(password, this.hashing) },
        this.now(),
      );
    }
    const sessionId = randomBytes(32).toString('base64url');
    const createdAt = this.now();
    const session: ConsoleSession = {
      idHash: hashSessionId(sessionId),
      userId: user.id,
      createdAt,
      lastSeenAt: createdAt,
      expiresAt: createdAt + this.sessionMaxMs,
    };
    await accounts.createSession(session);
    this.logger.info({ userId: user.id }, 'console sign-in');
    return { sessionId, session, user: signedInUser };
  }

  /** The live session for a cookie value, or null (unknown, idle too long, or past its end). */
  async resume(sessionId: string): Promise<ActiveSession | null> {
    const accounts = this.store.console;
    const sessionIdHash = hashSessionId(sessionId);
    const session = await accounts.getSession(sessionIdHash);
    if (session === null) return null;
    const now = this.now();
    if (session.expiresAt <= now || now - session.lastSeenAt >= this.sessionIdleMs) {
      await accounts.deleteSession(sessionIdHash);
      return null;
    }
    const user = await accounts.getUser(session.userId);
    if (user === null) return null;
    if (now - session.lastSeenAt >= TOUCH_EVERY_MS) await accounts.touchSession(sessionIdHash, now);
    const roles = await accounts.listRolesOfUser(user.id);
    return { sessionIdHash, session: { ...session, lastSeenAt: now }, user, roles };
  }

  async signOut(sessionIdHash: string): Promise<void> {
    await this.store.console.deleteSession(sessionIdHash);
  }

  async createUser(input: NewUserInput): Promise<{ user: ConsoleUser; generatedPassword: string | null }> {
    const generatedPassword = input.password === undefined ? generatePassword() : null;
    const user = await this.store.console.createUser({
      email: normalizeEmail(input.email),
      name: input.name.trim(),
      isOwner: input.isOwner,
      passwordHash: await hashPassword(input.password ?? (generatedPassword as string), this.hashing),
      now: this.now(),
    });
    this.logger.info({ userId: user.id, isOwner: user.isOwner }, 'console user created');
    return { user, generatedPassword };
  }

  /** A new password signs the user out of every session. */
  async updateUser(
    userId: string,
    changes: { name?: string; isOwner?: boolean; password?: string },
  ): Promise<ConsoleUser> {
    const user = await this.store.console.updateUser(
      userId,
      {
        ...(changes.name === undefined ? {} : { name: changes.name.trim() }),
        ...(changes.isOwner === undefined ? {} : { isOwner: changes.isOwner }),
        ...(changes.password === undefined ? {} : { passwordHash: await hashPassword(changes.password, this.hashing) }),
      },
      this.now(),
    );
    if (changes.password !== undefined) await this.store.console.deleteSessionsOfUser(userId);
    this.logger.info(
      {
        userId,
        changed: Object.keys(changes).filter((key) => key !== 'password'),
        passwordReset: changes.password !== undefined,
      },
      'console user changed',
    );
    return user;
  }

  /** Checks the current password; other sessions of the user end, this one stays. */
  async changeOwnPassword(active: ActiveSession, currentPassword: string, newPassword: string): Promise<void> {
    if (!(await verifyPassword(currentPassword, active.user.passwordHash))) {
      throw new BridgeError('bad_input', 'The current password is wrong.', {
        code: 'invalid_credentials',
        httpStatus: 400,
      });
    }
    await this.store.console.updateUser(
      active.user.id,
      { passwordHash: await hashPassword(newPassword, this.hashing) },
      this.now(),
    );
    await this.store.console.deleteSessionsOfUser(active.user.id, active.sessionIdHash);
    this.logger.info({ userId: active.user.id }, 'console password changed');
  }

  async deleteUser(userId: string): Promise<void> {
    await this.store.console.deleteUser(userId);
    this.logger.info({ userId }, 'console user deleted');
  }

  listUsers(): Promise<ConsoleUser[]> {
    return this.store.console.listUsers();
  }

  /** Removes ended sessions and sign-in failures that no longer count. */
  async sweep(): Promise<void> {
    const now = this.now();
    await this.store.console.deleteExpiredSessions(now, now - this.sessionIdleMs);
    const longest = Math.max(
      this.throttle.account.windowMs,
      this.throttle.address.windowMs,
      this.throttle.account.lockMs,
      this.throttle.address.lockMs,
    );
    await this.store.console.deleteStaleLoginFailures(now - longest);
  }
}
