import { randomBytes } from 'node:crypto';

/** Salesforce record ids: 3-char key prefix, 2-char pod, 1 reserved char, 9-char counter, 3-char checksum. */

const CHECKSUM_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID15 = /^[a-zA-Z0-9]{15}$/;
const ID18 = /^[a-zA-Z0-9]{18}$/;

/** The 3-character suffix that makes a 15-character id case-insensitive. */
export function idChecksum(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let position = 0; position < 5; position++) {
      const char = id15.charAt(chunk * 5 + position);
      if (char >= 'A' && char <= 'Z') bits |= 1 << position;
    }
    suffix += CHECKSUM_ALPHABET.charAt(bits);
  }
  return suffix;
}

export function toId18(id15: string): string {
  return id15 + idChecksum(id15);
}

/**
 * The canonical 18-character form of an id given in either form, or null when the value
 * is not a well-formed id (wrong length, bad characters, or a checksum that does not fit).
 */
export function canonicalId(value: string): string | null {
  if (ID15.test(value)) return toId18(value);
  if (ID18.test(value)) {
    // An 18-character id is case-insensitive: its checksum restores the case of the first 15.
    const checksum = value.slice(15).toUpperCase();
    const restored = restoreCase(value.slice(0, 15), checksum);
    return restored !== null && idChecksum(restored) === checksum ? toId18(restored) : null;
  }
  return null;
}

function restoreCase(id15: string, checksum: string): string | null {
  let restored = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    const bits = CHECKSUM_ALPHABET.indexOf(checksum.charAt(chunk));
    if (bits < 0) return null;
    for (let position = 0; position < 5; position++) {
      const char = id15.charAt(chunk * 5 + position);
      restored += bits & (1 << position) ? char.toUpperCase() : char.toLowerCase();
    }
  }
  return restored;
}

export function keyPrefixOf(id: string): string {
  return id.slice(0, 3);
}

/** Issues ids for one server: every org and every object shares the counter, like one pod. */
export class IdFactory {
  private counter = 0;
  private readonly pod: string;

  constructor(pod = '5g') {
    this.pod = pod;
  }

  next(keyPrefix: string): string {
    this.counter += 1;
    // A random high part keeps ids from different server runs apart, as real ids are.
    const high = randomBytes(2).readUInt16BE(0) % (62 * 62);
    const unique = BASE62.charAt(Math.floor(high / 62)) + BASE62.charAt(high % 62) + base62(this.counter, 7);
    return toId18(`${keyPrefix}${this.pod}0${unique}`);
  }
}

function base62(value: number, width: number): string {
  let out = '';
  let rest = value;
  while (rest > 0) {
    out = BASE62.charAt(rest % 62) + out;
    rest = Math.floor(rest / 62);
  }
  return out.padStart(width, '0');
}
