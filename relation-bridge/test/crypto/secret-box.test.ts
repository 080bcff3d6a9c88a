import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BridgeError } from '../../src/core/errors';
import { loadOrCreateKey, MASTER_KEY_FILE, SecretBox } from '../../src/crypto/secret-box';

describe('SecretBox', () => {
  const box = SecretBox.fromKey(SecretBox.generateKey());

  it('returns the plaintext after a round trip, for ASCII, Japanese, emoji and empty text', () => {
    for (const text of [
      '00D5g000001!AQ8AQH.refresh',
      '山田 太郎様 お世話になっております。',
      '🙇‍♀️✨ 全角０３－１２３４',
      '',
    ]) {
      expect(box.decrypt(box.encrypt(text))).toBe(text);
    }
  });

  it('writes a versioned value that does not contain the plaintext and differs on every call', () => {
    const first = box.encrypt('5Aep861secret-refresh-token');
    const second = box.encrypt('5Aep861secret-refresh-token');
    expect(first).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(first).not.toContain('secret-refresh-token');
    expect(first).not.toBe(second);
  });

  it('refuses a value whose ciphertext, tag or iv was altered', () => {
    const sealed = box.encrypt('a token worth protecting');
    const [version, iv, tag, ciphertext] = sealed.split('.') as [string, string, string, string];
    const flip = (part: string) => {
      const bytes = Buffer.from(part, 'base64url');
      bytes[0] = (bytes[0] as number) ^ 1;
      return bytes.toString('base64url');
    };
    for (const altered of [
      [version, iv, tag, flip(ciphertext)],
      [version, iv, flip(tag), ciphertext],
      [version, flip(iv), tag, ciphertext],
    ]) {
      expect(() => box.decrypt(altered.join('.'))).toThrow(/cannot decrypt/);
    }
  });

  it('refuses a value sealed with another key, with a clear permanent error', () => {
    const sealed = box.encrypt('a token');
    const other = SecretBox.fromKey(SecretBox.generateKey());
    let caught: unknown;
    try {
      other.decrypt(sealed);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BridgeError);
    expect((caught as BridgeError).kind).toBe('permanent');
    expect((caught as BridgeError).code).toBe('decryption_failed');
    expect((caught as BridgeError).message).toMatch(/wrong encryption key/);
  });

  it('refuses malformed values and unknown versions', () => {
    for (const value of ['', 'plaintext', 'v2.a.b.c', 'v1.AAAA.BBBB', 'v1.!!.??.**']) {
      expect(() => box.decrypt(value)).toThrow(BridgeError);
    }
  });

  it('accepts only a base64 key of exactly 32 bytes', () => {
    expect(() => SecretBox.fromKey(Buffer.alloc(16).toString('base64'))).toThrow(/exactly 32 bytes/);
    expect(() => SecretBox.fromKey(Buffer.alloc(33).toString('base64'))).toThrow(/exactly 32 bytes/);
    expect(() => SecretBox.fromKey('not base64 at all!')).toThrow(/exactly 32 bytes/);
    expect(() => SecretBox.fromKey(` ${Buffer.alloc(32, 7).toString('base64')}\n`)).not.toThrow();
  });
});

describe('loadOrCreateKey', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-key-'));
  });
  afterEach(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('uses the configured key and creates no key file', () => {
    const configured = SecretBox.generateKey();
    expect(loadOrCreateKey(dataDir, configured)).toBe(configured);
    expect(fs.existsSync(path.join(dataDir, MASTER_KEY_FILE))).toBe(false);
  });

  it('refuses a configured key that is not 32 bytes', () => {
    expect(() => loadOrCreateKey(dataDir, 'c2hvcnQ=')).toThrow(/exactly 32 bytes/);
  });

  it('creates master.key readable by the owner only on first run, and reuses it afterwards', () => {
    const nested = path.join(dataDir, 'data');
    const created = loadOrCreateKey(nested);
    const file = path.join(nested, MASTER_KEY_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateKey(nested)).toBe(created);
    expect(fs.readdirSync(nested)).toEqual([MASTER_KEY_FILE]);

    const sealed = SecretBox.fromKey(created).encrypt('survives a restart');
    expect(SecretBox.fromKey(loadOrCreateKey(nested)).decrypt(sealed)).toBe('survives a restart');
  });

  it('with umask 022 the key file is 0600 and its new folder 0700; a key file others can read is made 0600', () => {
    const previous = process.umask(0o022);
    try {
      const nested = path.join(dataDir, 'fresh');
      const created = loadOrCreateKey(nested);
      expect((fs.statSync(nested).mode & 0o777).toString(8)).toBe('700');
      const file = path.join(nested, MASTER_KEY_FILE);
      expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600');

      fs.chmodSync(file, 0o644);
      expect(loadOrCreateKey(nested)).toBe(created);
      expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600');
    } finally {
      process.umask(previous);
    }
  });

  it('refuses a key file that does not hold a valid key', () => {
    fs.writeFileSync(path.join(dataDir, MASTER_KEY_FILE), 'garbage\n', { mode: 0o600 });
    expect(() => loadOrCreateKey(dataDir)).toThrow(/does not hold a valid encryption key/);
  });
});
