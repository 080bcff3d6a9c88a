import { SalesforceFault } from './errors';

/** Tokens of SOQL and of the SOQL-like parts of SOSL. */
export type TokenKind = 'ident' | 'string' | 'number' | 'datetime' | 'date' | 'punct' | 'eof';

export interface Token {
  kind: TokenKind;
  /** Source text (for strings: the unescaped value). */
  text: string;
  /** Offset in the statement, for Salesforce's "ERROR at Row:Column" messages. */
  pos: number;
}

const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})/;
const DATE = /^\d{4}-\d{2}-\d{2}(?![\dT])/;
const NUMBER = /^[+-]?\d+(\.\d+)?/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_.:]*/;
const PUNCT = /^(!=|<>|<=|>=|[=<>(),])/;

const STRING_ESCAPES: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  '"': '"',
  "'": "'",
  '\\': '\\',
  // LIKE patterns keep these escaped so that % and _ can be matched literally.
  _: '\\_',
  '%': '\\%',
};

/** A Salesforce-style parse error pointing at `pos` in `statement`. */
export function statementError(code: string, statement: string, pos: number, detail: string): SalesforceFault {
  const before = statement.slice(0, pos);
  const row = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const lineEnd = statement.indexOf('\n', pos);
  const line = statement.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
  const column = pos - lineStart + 1;
  return new SalesforceFault(
    400,
    code,
    `\n${line}\n${' '.repeat(column - 1)}^\nERROR at Row:${row}:Column:${column}\n${detail}`,
  );
}

export function tokenize(statement: string, start = 0, end = statement.length): Token[] {
  const tokens: Token[] = [];
  let pos = start;
  while (pos < end) {
    const char = statement.charAt(pos);
    if (/\s/.test(char)) {
      pos += 1;
      continue;
    }
    const rest = statement.slice(pos, end);
    if (char === "'") {
      const { value, next } = readString(statement, pos, end);
      tokens.push({ kind: 'string', text: value, pos });
      pos = next;
      continue;
    }
    const datetime = DATETIME.exec(rest);
    if (datetime) {
      tokens.push({ kind: 'datetime', text: datetime[0], pos });
      pos += datetime[0].length;
      continue;
    }
    const date = DATE.exec(rest);
    if (date) {
      tokens.push({ kind: 'date', text: date[0], pos });
      pos += date[0].length;
      continue;
    }
    const number = NUMBER.exec(rest);
    if (number && !(/^[+-]/.test(number[0]) && isValueEnd(tokens))) {
      tokens.push({ kind: 'number', text: number[0], pos });
      pos += number[0].length;
      continue;
    }
    const ident = IDENT.exec(rest);
    if (ident) {
      tokens.push({ kind: 'ident', text: ident[0], pos });
      pos += ident[0].length;
      continue;
    }
    const punct = PUNCT.exec(rest);
    if (punct) {
      tokens.push({ kind: 'punct', text: punct[0], pos });
      pos += punct[0].length;
      continue;
    }
    throw statementError('MALFORMED_QUERY', statement, pos, `unexpected token: '${char}'`);
  }
  tokens.push({ kind: 'eof', text: '', pos: end });
  return tokens;
}

/** A sign right after a value is an operator, not part of a number. */
function isValueEnd(tokens: Token[]): boolean {
  const last = tokens[tokens.length - 1];
  return last !== undefined && last.kind !== 'punct';
}

function readString(statement: string, start: number, end: number): { value: string; next: number } {
  let value = '';
  let pos = start + 1;
  while (pos < end) {
    const char = statement.charAt(pos);
    if (char === '\\') {
      const escaped = statement.charAt(pos + 1);
      const replacement = STRING_ESCAPES[escaped];
      if (replacement === undefined) {
        throw statementError(
          'MALFORMED_QUERY',
          statement,
          pos,
          `Invalid string literal '\\${escaped}'. Illegal character sequence '\\${escaped}' in string literal.`,
        );
      }
      value += replacement;
      pos += 2;
      continue;
    }
    if (char === "'") return { value, next: pos + 1 };
    value += char;
    pos += 1;
  }
  throw statementError(
    'MALFORMED_QUERY',
    statement,
    start,
    'line 1:' + start + " mismatched character '<EOF>' expecting '''",
  );
}
