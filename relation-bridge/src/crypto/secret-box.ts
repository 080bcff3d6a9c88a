import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BridgeError } from '../core/errors';

const FORMAT_VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Name of the key file created in the data folder when no key is configured. */
export const MASTER_KEY_FILE = 'master.key';

/**
 * Authenticated encryption of secrets at rest (OAuth tokens, PKCE verifiers).
 *
 * Output is `v1.<iv>.<tag>.<ciphertext>`, each part base64url: the version prefix lets a
 * later format (or key rotation) coexist with values already stored.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** @param base64Key standard base64 of exactly 32 random bytes. */
  static fromKey(base64Key: string): SecretBox {
    const trimmed = base64Key.trim();
    const key = BASE64.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
    if (key.length !== KEY_BYTES) {
      throw new BridgeError(
        'bad_input',
        `the encryption key must be the base64 encoding of exactly ${KEY_BYTES} bytes (got ${key.length} bytes); create one with: openssl rand -base64 32`,
        { code: 'invalid_encryption_key' },
      );
    }
    return new SecretBox(key);
  }

  /** A fresh random key, base64. */
  static generateKey(): string {
    return randomBytes(KEY_BYTES).toString('base64');
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [FORMAT_VERSION, ...[iv, tag, ciphertext].map((part) => part.toString('base64url'))].join('.');
  }

  /** @throws BridgeError (permanent, `decryption_failed`) on a wrong key, tampering or a malformed value. */
  decrypt(text: string): string {
    const parts = text.split('.');
    const [version, ivText, tagText, ciphertextText] = parts;
    if (parts.length !== 4 || version !== FORMAT_VERSION) {
      throw decryptionFailed(`not a ${FORMAT_VERSION} encrypted value`);
    }
    if (![ivText, tagText, ciphertextText].every((part) => part !== undefined && BASE64URL.test(part))) {
      throw decryptionFailed('the encrypted value is not base64url');
    }
    const iv = Buffer.from(ivText ?? '', 'base64url');
    const tag = Buffer.from(tagText ?? '', 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
      throw decryptionFailed('the encrypted value has a malformed header');
    }
    try {
      const decipher = createDecipheriv(ALGORITHM, this.key, iv);
      decipher.setAuthTag(tag);
      const plaintext = Buffer.concat([
        decipher.update(Buffer.from(ciphertextText ?? '', 'base64url')),
        decipher.final(),
      ]);
      return plaintext.toString('utf8');
    } catch (error) {
      throw decryptionFailed('wrong encryption key, or the value was altered', error);
    }
  }
}

function decryptionFailed(why: string, cause?: unknown): BridgeError {
  return new BridgeError('permanent', `cannot decrypt a stored secret: ${why}`, { code: 'decryption_failed', cause });
}

/**
 * The key that encrypts secrets at rest: the configured one (BRIDGE_ENCRYPTION_KEY) when
 * given, otherwise `<dataDir>/master.key`, created (mode 0600, its folder 0700) on first run
 * and kept 0600. The key file
 * is for local use; production sets the key from its secret manager so that a copy of the
 * data folder alone reveals nothing.
 *
 * @returns the base64 key, validated (ready for SecretBox.fromKey).
 */
export function loadOrCreateKey(dataDir: string, configuredKey?: string): string {
  if (configuredKey !== undefined && configuredKey.trim() !== '') {
    SecretBox.fromKey(configuredKey);
    return configuredKey.trim();
  }
  const file = path.join(dataDir, MASTER_KEY_FILE);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    writeNewKeyFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  keepPrivate(file);
  const key = fs.readFileSync(file, 'utf8').trim();
  try {
    SecretBox.fromKey(key);
  } catch (error) {
    throw new BridgeError('bad_input', `${file} does not hold a valid encryption key`, {
      code: 'invalid_encryption_key',
      cause: error,
    });
  }
  return key;
}

/**
 * A key file that others may read (copied in with the default umask, or left by an older
 * release) is made 0600: with it, anyone could decrypt every stored token.
 */
function keepPrivate(file: string): void {
  if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
}

/**
 * Written to a temporary file, fsynced, then hard-linked into place: the link fails if
 * another process created the key first, and a crash never leaves an empty key file
 * (losing the key would make every stored token unreadable).
 */
function writeNewKeyFile(file: string): void {
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const descriptor = fs.openSync(temporary, 'wx', 0o600);
  try {
    fs.writeSync(descriptor, `${SecretBox.generateKey()}\n`);
    fs.fsyncSync(descriptor);
  } finally {
    fs.closeSync(descriptor);
  }
  try {
    fs.linkSync(temporary, file);
  } finally {
    fs.unlinkSync(temporary);
  }
  const folder = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(folder);
  } finally {
    fs.closeSync(folder);
  }
}
