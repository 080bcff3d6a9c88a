import { createHash, randomBytes } from 'node:crypto';
import { BridgeError } from '../core/errors';
import type { Logger } from '../logging';
import type { InboxesRepository, InboxMembership } from '../admin/inboxes-repository';
import type { Store } from '../store/store';
import type {
  AccountsRepository,
  ConsoleLanguage,
  ConsoleSession,
  ConsoleUser,
  ThrottlePolicy,
} from './accounts-repository';
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

/**
 * Sign-in attempts tolerated before a lock. The tight limit is per account and client
 * address together, so nobody can lock a person out from elsewhere by knowing their email;
 * the account's own limit is slower (it stops spraying from many addresses), and so is the
 * address's (an office behind one NAT address is many people).
 */
export const DEFAULT_THROTTLE = {
  pair: { windowMs: 15 * MINUTE_MS, maxFailures: 5, lockMs: 15 * MINUTE_MS },
  account: { windowMs: 60 * MINUTE_MS, maxFailures: 50, lockMs: 15 * MINUTE_MS },
  address: { windowMs: 15 * MINUTE_MS, maxFailures: 100, lockMs: 15 * MINUTE_MS },
} as const satisfies Record<string, ThrottlePolicy>;

export type ThrottlePolicies = Record<keyof typeof DEFAULT_THROTTLE, ThrottlePolicy>;

/** Password checks (scrypt, 32 MiB and tens of ms each) running at once; more wait for nobody: 429. */
const DEFAULT_MAX_CONCURRENT_VERIFICATIONS = 8;

/** A session's last-seen time is written at most this often, not on every request. */
const TOUCH_EVERY_MS = MINUTE_MS;

export interface AccountsOptions {
  store: Store<{ accounts: AccountsRepository; inboxes: InboxesRepository }>;
  logger: Logger;
  now?: () => number;
  /** A session ends after this long without a request. */
  sessionIdleMs: number;
  /** A session ends this long after sign-in, whatever the activity. */
  sessionMaxMs: number;
  throttle?: ThrottlePolicies;
  /** scrypt cost of new hashes; the default is what the bridge runs with. */
  passwordHashing?: ScryptParams;
  maxConcurrentVerifications?: number;
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
  /** The language of the user's notice e-mails; default Japanese. */
  language?: ConsoleLanguage;
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

function busy(): BridgeError {
  return new BridgeError('retryable', 'Too many sign-ins at once: try again in a moment.', {
    code: 'sign_in_busy',
    reason: 'too_many_requests',
    details: { retryAfterSeconds: 1 },
  });
}

function tooManyAttempts(lockedUntil: number, now: number): BridgeError {
  const retryAfterSeconds = Math.max(1, Math.ceil((lockedUntil - now) / 1000));
  return new BridgeError('bad_input', 'Too many failed sign-ins: wait before trying again.', {
    code: 'too_many_attempts',
    reason: 'too_many_requests',
    details: { retryAfterSeconds },
  });
}

/**
 * Console accounts and their sessions: sign-in with throttling per account and per client
 * address, sliding idle expiry with an absolute end, and password changes that sign the
 * user out elsewhere.
 */
export class ConsoleAccounts {
  private readonly store: AccountsOptions['store'];
  private readonly logger: Logger;
  private readonly now: () => number;
  readonly sessionIdleMs: number;
  readonly sessionMaxMs: number;
  private readonly throttle: ThrottlePolicies;
  private readonly hashing: ScryptParams;
  private readonly maxVerifications: number;
  private verifying = 0;

  constructor(options: AccountsOptions) {
    this.store = options.store;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.sessionIdleMs = options.sessionIdleMs;
    this.sessionMaxMs = options.sessionMaxMs;
    this.throttle = options.throttle ?? DEFAULT_THROTTLE;
    this.hashing = options.passwordHashing ?? DEFAULT_SCRYPT;
    this.maxVerifications = options.maxConcurrentVerifications ?? DEFAULT_MAX_CONCURRENT_VERIFICATIONS;
  }

  /**
   * Every attempt is counted before its password is checked, in one atomic statement per
   * throttle key, so that parallel guesses cannot all pass a check made before any of them
   * was counted; an attempt past a limit is refused without checking the password. A
   * successful attempt is taken back from the address's count and clears the account's.
   */
  async signIn(email: string, password: string, address: string): Promise<SignedIn> {
    const accounts = this.store.accounts;
    const normalized = normalizeEmail(email);
    const keys = {
      pair: `pair:${normalized} ${address}`,
      account: `account:${normalized}`,
      address: `ip:${address}`,
    };
    if (this.verifying >= this.maxVerifications) {
      this.logger.warn({ address, verifying: this.verifying }, 'console sign-in refused: too many at once');
      throw busy();
    }
    this.verifying += 1;
    try {
      const now = this.now();
      const counted: string[] = [];
      for (const name of ['pair', 'account', 'address'] as const) {
        const { before, after } = await accounts.countAttempt(keys[name], now, this.throttle[name]);
        counted.push(keys[name]);
        const lockedUntil =
          before?.lockedUntil != null && before.lockedUntil > now
            ? before.lockedUntil
            : after.failures > this.throttle[name].maxFailures
              ? after.lockedUntil
              : null;
        if (lockedUntil !== null) {
          this.logger.warn({ address, limit: name, lockedUntil }, 'console sign-in refused: locked');
          throw tooManyAttempts(lockedUntil, now);
        }
      }
      const user = await accounts.getUserByEmail(normalized);
      const matches = await verifyPassword(password, user?.passwordHash ?? unknownAccountHash(this.hashing));
      if (user === null || !matches) {
        this.logger.info({ address, known: user !== null }, 'console sign-in failed');
        throw new BridgeError('bad_input', 'The email or the password is wrong.', {
          code: 'invalid_credentials',
          reason: 'unauthenticated',
        });
      }
      await accounts.clearThrottle(keys.pair);
      await accounts.clearThrottle(keys.account);
      await accounts.uncountAttempt(keys.address, this.throttle.address.maxFailures);
      return await this.startSession(user, password);
    } finally {
      this.verifying -= 1;
    }
  }

  private async startSession(user: ConsoleUser, password: string): Promise<SignedIn> {
    let signedInUser = user;
    if (needsRehash(user.passwordHash, this.hashing)) {
      signedInUser = await this.store.accounts.updateUser(
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
    await this.store.accounts.createSession(session);
    this.logger.info({ userId: user.id }, 'console sign-in');
    return { sessionId, session, user: signedInUser };
  }

  /** The live session for a cookie value, or null (unknown, idle too long, or past its end). */
  async resume(sessionId: string): Promise<ActiveSession | null> {
    const accounts = this.store.accounts;
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
    const roles = await this.store.inboxes.listRolesOfUser(user.id);
    return { sessionIdHash, session: { ...session, lastSeenAt: now }, user, roles };
  }

  async signOut(sessionIdHash: string): Promise<void> {
    await this.store.accounts.deleteSession(sessionIdHash);
  }

  async createUser(input: NewUserInput): Promise<{ user: ConsoleUser; generatedPassword: string | null }> {
    const generatedPassword = input.password === undefined ? generatePassword() : null;
    const user = await this.store.accounts.createUser({
      email: normalizeEmail(input.email),
      name: input.name.trim(),
      isOwner: input.isOwner,
      ...(input.language === undefined ? {} : { language: input.language }),
      passwordHash: await hashPassword(input.password ?? (generatedPassword as string), this.hashing),
      now: this.now(),
    });
    this.logger.info({ userId: user.id, isOwner: user.isOwner }, 'console user created');
    return { user, generatedPassword };
  }

  /** A new password signs the user out of every session. */
  async updateUser(
    userId: string,
    changes: { name?: string; isOwner?: boolean; password?: string; language?: ConsoleLanguage },
  ): Promise<ConsoleUser> {
    const passwordHash =
      changes.password === undefined ? undefined : await hashPassword(changes.password, this.hashing);
    const user = await this.store.transaction(async (tx) => {
      const updated = await tx.accounts.updateUser(
        userId,
        {
          ...(changes.name === undefined ? {} : { name: changes.name.trim() }),
          ...(changes.isOwner === undefined ? {} : { isOwner: changes.isOwner }),
          ...(changes.language === undefined ? {} : { language: changes.language }),
          ...(passwordHash === undefined ? {} : { passwordHash }),
        },
        this.now(),
      );
      if (passwordHash !== undefined) await tx.accounts.deleteSessionsOfUser(userId);
      return updated;
    });
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
      // Not `invalid_credentials`: the user is signed in, and only this field is wrong.
      throw new BridgeError('bad_input', 'The current password is wrong.', {
        code: 'wrong_current_password',
        reason: 'bad_input',
        details: [{ path: 'body.currentPassword', message: 'is not your current password' }],
      });
    }
    const passwordHash = await hashPassword(newPassword, this.hashing);
    await this.store.transaction(async (tx) => {
      await tx.accounts.updateUser(active.user.id, { passwordHash }, this.now());
      await tx.accounts.deleteSessionsOfUser(active.user.id, active.sessionIdHash);
    });
    this.logger.info({ userId: active.user.id }, 'console password changed');
  }

  /** The signed-in user's own language: of their notice e-mails, and of the console when they sign in. */
  async setOwnLanguage(active: ActiveSession, language: ConsoleLanguage): Promise<ConsoleUser> {
    const user = await this.store.accounts.updateUser(active.user.id, { language }, this.now());
    this.logger.info({ userId: user.id, language }, 'console user chose a language');
    return user;
  }

  async deleteUser(userId: string): Promise<void> {
    await this.store.accounts.deleteUser(userId);
    this.logger.info({ userId }, 'console user deleted');
  }

  listUsers(): Promise<ConsoleUser[]> {
    return this.store.accounts.listUsers();
  }

  /** Removes ended sessions and sign-in failures that no longer count. */
  async sweep(): Promise<void> {
    const now = this.now();
    await this.store.accounts.deleteExpiredSessions(now, now - this.sessionIdleMs);
    const longest = Math.max(...Object.values(this.throttle).flatMap((policy) => [policy.windowMs, policy.lockMs]));
    await this.store.accounts.deleteStaleThrottles(now - longest);
  }
}
