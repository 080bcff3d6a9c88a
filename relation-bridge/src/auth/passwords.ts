import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Console passwords, hashed with scrypt and a random salt per password. The parameters are
 * stored with each hash (`scrypt$N$r$p$salt$hash`), so that raising them later re-hashes
 * passwords at their next sign-in instead of locking anyone out.
 *
 * N = 2^15, r = 8 (32 MiB, about 0.2 s on a small server core): slow enough to make
 * guessing expensive, fast enough that a sign-in stays interactive. Sign-ins are throttled
 * besides (accounts.ts).
 */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const PREFIX = 'scrypt';

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 200;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must exceed 128·N·r; twice that leaves room for the implementation's overhead.
    scrypt(
      password.normalize('NFC'),
      salt,
      KEY_BYTES,
      { ...params, maxmem: 256 * params.N * params.r },
      (error, key) => (error === null ? resolve(key) : reject(error)),
    );
  });
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  return [PREFIX, params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

function parse(stored: string): { params: ScryptParams; salt: Buffer; key: Buffer } | null {
  const [prefix, n, r, p, salt, key, ...rest] = stored.split('$');
  if (prefix !== PREFIX || rest.length > 0 || salt === undefined || key === undefined) return null;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (![params.N, params.r, params.p].every((value) => Number.isSafeInteger(value) && value > 0)) return null;
  return { params, salt: Buffer.from(salt, 'base64url'), key: Buffer.from(key, 'base64url') };
}

/** Constant-time compare of the derived key; a malformed stored hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (parsed === null) return false;
  const key = await derive(password, parsed.salt, parsed.params);
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
}

/** True when the hash was made with weaker parameters than the current ones. */
export function needsRehash(stored: string, current: ScryptParams = DEFAULT_SCRYPT): boolean {
  const parsed = parse(stored);
  return parsed === null || parsed.params.N < current.N || parsed.params.r < current.r || parsed.params.p < current.p;
}

/**
 * The hash verified against when the email is unknown, so that an unknown account takes as long to
 * refuse as a wrong password (no account discovery by timing).
 */
export function unknownAccountHash(params: ScryptParams = DEFAULT_SCRYPT): string {
  const zeros = (bytes: number) => Buffer.alloc(bytes).toString('base64url');
  return `${PREFIX}$${params.N}$${params.r}$${params.p}$${zeros(SALT_BYTES)}$${zeros(KEY_BYTES)}`;
}

/** A password for a new account when the owner does not type one: 18 random bytes, base64url. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
