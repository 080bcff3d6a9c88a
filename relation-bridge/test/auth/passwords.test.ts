import {
  generatePassword,
  hashPassword,
  needsRehash,
  unknownAccountHash,
  verifyPassword,
} from '../../src/auth/passwords';

describe('console passwords', () => {
  it('are stored as salted scrypt hashes that carry their parameters, never the password', async () => {
    const first = await hashPassword('correct horse battery');
    const second = await hashPassword('correct horse battery');
    expect(first).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(first).not.toBe(second);
    expect(first).not.toContain('correct horse battery');
    expect(needsRehash(first)).toBe(false);
  });

  it('verify only the right password, also after Unicode normalisation', async () => {
    const stored = await hashPassword('ぱすわーど-12345');
    expect(await verifyPassword('ぱすわーど-12345', stored)).toBe(true);
    expect(await verifyPassword('ぱすわーど-12345'.normalize('NFD'), stored)).toBe(true);
    expect(await verifyPassword('ぱすわーど-12346', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('never match a malformed hash or the hash used for unknown accounts', async () => {
    expect(await verifyPassword('anything', 'plain-text-password')).toBe(false);
    expect(await verifyPassword('anything', 'scrypt$x$8$1$c2FsdA$a2V5')).toBe(false);
    expect(await verifyPassword('', unknownAccountHash())).toBe(false);
  });

  it('ask for a re-hash when they were made with weaker parameters', () => {
    expect(needsRehash('scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2E$a2V5')).toBe(true);
    expect(needsRehash('bcrypt$whatever')).toBe(true);
  });

  it('generate passwords long enough for the policy, different each time', () => {
    const generated = new Set(Array.from({ length: 20 }, () => generatePassword()));
    expect(generated.size).toBe(20);
    for (const password of generated) expect(password.length).toBeGreaterThanOrEqual(20);
  });
});
