/**
 * Escaping for values the bridge puts into SOQL and SOSL statements. Customer emails and
 * phones come from webhooks, so every value goes through one of these.
 */

const SOQL_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

/** A quoted SOQL string literal: `O'Brien` → `'O\'Brien'`. */
export function soqlString(value: string): string {
  return `'${value.replace(/[\\'\n\r\t]/g, (char) => SOQL_ESCAPES[char] ?? char)}'`;
}

/** Characters SOSL reserves inside FIND {…}; each is escaped with a backslash. */
const SOSL_RESERVED = /[?&|!{}[\]()^~*:\\"'+-]/g;

/**
 * One SOSL search term for `FIND {…}`: reserved characters escaped, and a value with
 * spaces quoted as a phrase so that it stays one term.
 */
export function soslTerm(value: string): string {
  const escaped = value.replace(SOSL_RESERVED, (char) => `\\${char}`);
  return /\s/.test(value) ? `"${escaped}"` : escaped;
}
