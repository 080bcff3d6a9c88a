import { randomBytes } from 'node:crypto';

/** A short random id with a readable prefix, e.g. `lnk_3f9c…`. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}
