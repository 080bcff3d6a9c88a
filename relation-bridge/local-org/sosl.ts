import { SalesforceFault } from './errors';
import type { StoredRecord } from './records';
import type { FieldDef, ObjectDef, Schema } from './schema';
import { matches, sortRecords, SoqlParser, type Condition, type OrderTerm } from './soql';
import { tokenize } from './soql-lexer';

/**
 * The SOSL subset: `FIND {terms} [IN ALL|NAME|EMAIL|PHONE FIELDS] [RETURNING Obj[(fields
 * [WHERE …] [ORDER BY …] [LIMIT n])], …] [LIMIT n]`. Terms combine with OR, AND, AND NOT
 * and parentheses; "quoted phrases", `*` and `?` wildcards and backslash escapes work.
 * The phone index matches on digits only, so `03-1234-5678`, `(03) 1234 5678`,
 * `０３１２３４５６７８` and `+81 3 1234 5678` are one number.
 */

export type SearchScope = 'ALL' | 'NAME' | 'EMAIL' | 'PHONE';

export type SearchExpr =
  | { kind: 'term'; words: SearchWord[]; phrase: boolean }
  | { kind: 'and' | 'or'; items: SearchExpr[] }
  | { kind: 'andNot'; include: SearchExpr; exclude: SearchExpr };

export interface SearchWord {
  /** The word with escapes resolved. */
  text: string;
  /** Set when the word holds an unescaped `*` or `?`. */
  wildcard: RegExp | null;
}

export interface ReturningSpec {
  object: ObjectDef;
  fields: FieldDef[];
  where: Condition | null;
  orderBy: OrderTerm[];
  limit: number | null;
  offset: number;
}

export interface ParsedSearch {
  expr: SearchExpr;
  scope: SearchScope;
  returning: ReturningSpec[];
  limit: number;
  /** A search query over 10,000 characters returns no rows at all. */
  noRows: boolean;
}

export const MAX_SEARCH_ROWS = 2000;
/** Beyond this many characters in FIND {…}, logical operators are dropped: every word is ORed. */
export const MAX_SEARCH_QUERY_WITH_OPERATORS = 4000;
/** Beyond this many characters in FIND {…}, the search returns no rows. */
export const MAX_SEARCH_QUERY = 10_000;

function malformed(message: string): SalesforceFault {
  return new SalesforceFault(400, 'MALFORMED_SEARCH', message);
}

export function parseSosl(statement: string, schema: Schema, now: number): ParsedSearch {
  const find = /^\s*FIND\s*\{/i.exec(statement);
  if (!find) throw malformed('No search term found. The search term must be enclosed in braces.');
  const open = find[0].length;
  const close = closingBrace(statement, open);
  if (close < 0) throw malformed('No search term found. The search term must be enclosed in braces.');
  const searchQuery = statement.slice(open, close);
  const expr =
    searchQuery.length > MAX_SEARCH_QUERY_WITH_OPERATORS ? anyWordOf(searchQuery) : parseSearchExpr(searchQuery);
  try {
    return {
      expr,
      ...parseSearchClauses(statement, close + 1, schema, now),
      noRows: searchQuery.length > MAX_SEARCH_QUERY,
    };
  } catch (error) {
    if (error instanceof SalesforceFault && error.errorCode === 'MALFORMED_QUERY') {
      throw new SalesforceFault(400, 'MALFORMED_SEARCH', error.message);
    }
    throw error;
  }
}

function closingBrace(statement: string, from: number): number {
  for (let i = from; i < statement.length; i++) {
    const char = statement.charAt(i);
    if (char === '\\') i += 1;
    else if (char === '}') return i;
  }
  return -1;
}

function parseSearchClauses(statement: string, start: number, schema: Schema, now: number) {
  const parser = new SoqlParser(statement, tokenize(statement, start), schema, now);
  let scope: SearchScope = 'ALL';
  if (parser.acceptKeyword('IN')) {
    const token = parser.next();
    const word = token.text.toUpperCase();
    if (token.kind !== 'ident' || !['ALL', 'NAME', 'EMAIL', 'PHONE'].includes(word)) throw parser.unexpected(token);
    scope = word as SearchScope;
    parser.expectKeyword('FIELDS');
  }
  const returning: ReturningSpec[] = [];
  if (parser.acceptKeyword('RETURNING')) {
    do returning.push(parseReturning(parser));
    while (parser.isPunct(',') && parser.next());
  } else {
    for (const object of schema.values()) {
      if (object.searchable === false) continue;
      returning.push({ object, fields: [], where: null, orderBy: [], limit: null, offset: 0 });
    }
  }
  let limit = MAX_SEARCH_ROWS;
  if (parser.acceptKeyword('LIMIT')) {
    const token = parser.next();
    if (token.kind !== 'number' || !/^\d+$/.test(token.text)) throw parser.unexpected(token);
    limit = Math.min(Number(token.text), MAX_SEARCH_ROWS);
  }
  if (parser.peek().kind !== 'eof') throw parser.unexpected();
  return { scope, returning, limit };
}

function parseReturning(parser: SoqlParser): ReturningSpec {
  const object = parser.parseObject();
  if (!parser.isPunct('(')) return { object, fields: [], where: null, orderBy: [], limit: null, offset: 0 };
  parser.next();
  const selected = parser.parseSelectList();
  if (selected === 'count') throw parser.unexpected();
  const clauses = parser.parseClauses(object, selected, ['WHERE', 'ORDER', 'LIMIT', 'OFFSET']);
  parser.expectPunct(')');
  return {
    object,
    fields: clauses.fields,
    where: clauses.where,
    orderBy: clauses.orderBy,
    limit: clauses.limit,
    offset: clauses.offset,
  };
}

type SearchToken =
  { kind: 'word'; word: SearchWord } | { kind: 'phrase'; word: SearchWord } | { kind: '(' } | { kind: ')' };

function tokenizeSearch(text: string): SearchToken[] {
  const tokens: SearchToken[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text.charAt(i);
    if (/\s/.test(char)) {
      i += 1;
    } else if (char === '(' || char === ')') {
      tokens.push({ kind: char });
      i += 1;
    } else if (char === '"') {
      let phrase = '';
      i += 1;
      while (i < text.length && text.charAt(i) !== '"') {
        if (text.charAt(i) === '\\') i += 1;
        phrase += text.charAt(i);
        i += 1;
      }
      i += 1;
      tokens.push({ kind: 'phrase', word: { text: phrase, wildcard: null } });
    } else {
      let word = '';
      let pattern = '';
      let wild = false;
      while (i < text.length && !/[\s()"]/.test(text.charAt(i))) {
        let next = text.charAt(i);
        if (next === '\\' && i + 1 < text.length) {
          i += 1;
          next = text.charAt(i);
          pattern += escapeRegExp(next);
        } else if (next === '*' || next === '?') {
          wild = true;
          pattern += next === '*' ? '.*' : '.';
          i += 1;
          continue;
        } else {
          pattern += escapeRegExp(next);
        }
        word += next;
        i += 1;
      }
      tokens.push({ kind: 'word', word: { text: word, wildcard: wild ? new RegExp(`^${pattern}$`, 'iu') : null } });
    }
  }
  return tokens;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A long search query without its logical operators: any one of its words or phrases. */
function anyWordOf(text: string): SearchExpr {
  const items: SearchExpr[] = [];
  for (const token of tokenizeSearch(text)) {
    if (token.kind === '(' || token.kind === ')') continue;
    const upper = token.kind === 'word' && token.word.wildcard === null ? token.word.text.toUpperCase() : '';
    if (upper === 'AND' || upper === 'OR' || upper === 'NOT') continue;
    items.push({ kind: 'term', words: [token.word], phrase: token.kind === 'phrase' });
  }
  return items.length === 1 ? (items[0] as SearchExpr) : { kind: 'or', items };
}

/** NOT binds tighter than AND, AND tighter than OR; adjacent words form one term. */
export function parseSearchExpr(text: string): SearchExpr {
  const tokens = tokenizeSearch(text);
  let index = 0;
  const peekOperator = (): string | null => {
    const token = tokens[index];
    if (token?.kind !== 'word' || token.word.wildcard !== null) return null;
    const upper = token.word.text.toUpperCase();
    return upper === 'AND' || upper === 'OR' || upper === 'NOT' ? upper : null;
  };
  const parseOr = (): SearchExpr => {
    const items = [parseAnd()];
    while (peekOperator() === 'OR') {
      index += 1;
      items.push(parseAnd());
    }
    return items.length === 1 ? (items[0] as SearchExpr) : { kind: 'or', items };
  };
  const parseAnd = (): SearchExpr => {
    let left = parsePrimary();
    while (peekOperator() === 'AND') {
      index += 1;
      if (peekOperator() === 'NOT') {
        index += 1;
        left = { kind: 'andNot', include: left, exclude: parsePrimary() };
      } else {
        left = { kind: 'and', items: [left, parsePrimary()] };
      }
    }
    return left;
  };
  const parsePrimary = (): SearchExpr => {
    const token = tokens[index];
    if (token === undefined) throw malformed('No search term found. The search term must be enclosed in braces.');
    if (token.kind === '(') {
      index += 1;
      const inner = parseOr();
      if (tokens[index]?.kind !== ')') throw malformed("unexpected token: missing ')' in search term");
      index += 1;
      return inner;
    }
    if (token.kind === ')' || peekOperator() !== null) {
      throw malformed(`unexpected token: ${token.kind === 'word' ? token.word.text : token.kind}`);
    }
    index += 1;
    if (token.kind === 'phrase') return checkTerm({ kind: 'term', words: [token.word], phrase: true });
    const words = [token.word];
    while (peekOperator() === null) {
      const next = tokens[index];
      if (next === undefined || next.kind !== 'word') break;
      words.push(next.word);
      index += 1;
    }
    return checkTerm({ kind: 'term', words, phrase: false });
  };
  const expr = parseOr();
  if (index < tokens.length) throw malformed('unexpected token in search term');
  return expr;
}

function checkTerm(term: Extract<SearchExpr, { kind: 'term' }>): SearchExpr {
  const significant = term.words.map((word) => word.text.replace(/[*?]/g, '')).join('');
  if ([...significant].length < 2) {
    throw new SalesforceFault(400, 'INVALID_SEARCH', 'search term must be longer than one character');
  }
  return term;
}

/**
 * The keys under which the phone index knows a number: its digits, and for Japanese
 * numbers both the national (leading 0) and the international (81…) form.
 */
export function phoneKeys(raw: string): Set<string> {
  const text = raw.normalize('NFKC').trim();
  let digits = text.replace(/\D/g, '');
  const keys = new Set<string>();
  if (digits.length < 4) return keys;
  keys.add(digits);
  if (text.startsWith('+') || digits.startsWith('00')) digits = digits.replace(/^00/, '');
  const japaneseInternational =
    digits.startsWith('81') && (text.startsWith('+') || text.startsWith('00') || digits.length >= 11);
  if (japaneseInternational) {
    const national = `0${digits.slice(2).replace(/^0/, '')}`;
    keys.add(national);
    keys.add(`81${national.slice(1)}`);
  } else if (digits.startsWith('0') && !digits.startsWith('00')) {
    keys.add(`81${digits.slice(1)}`);
  }
  return keys;
}

function normalizeText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

const CJK = /[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]/u;

function textTokens(value: string): string[] {
  const normalized = normalizeText(value);
  const coarse = normalized.split(/[\s,;()[\]「」（）]+/u).filter((part) => part !== '');
  const fine = normalized.split(/[^\p{L}\p{N}]+/u).filter((part) => part !== '');
  return [normalized, ...coarse, ...fine];
}

function wordMatchesText(word: SearchWord, value: string): boolean {
  const tokens = textTokens(value);
  if (word.wildcard !== null) {
    const pattern = word.wildcard;
    return tokens.some((token) => pattern.test(token));
  }
  const needle = normalizeText(word.text);
  if (tokens.includes(needle)) return true;
  return CJK.test(needle) && normalizeText(value).includes(needle);
}

function phoneMatches(term: Extract<SearchExpr, { kind: 'term' }>, value: string): boolean {
  const termKeys = phoneKeys(term.words.map((word) => word.text).join(' '));
  if (termKeys.size === 0) return false;
  for (const key of phoneKeys(value)) if (termKeys.has(key)) return true;
  return false;
}

function termMatchesField(term: Extract<SearchExpr, { kind: 'term' }>, field: FieldDef, value: string): boolean {
  if (field.type === 'phone' && phoneMatches(term, value)) return true;
  if (term.phrase) {
    const phrase = normalizeText(term.words[0]?.text ?? '');
    return phrase !== '' && normalizeText(value).includes(phrase);
  }
  return term.words.every((word) => wordMatchesText(word, value));
}

const SEARCHABLE_TYPES = new Set(['string', 'textarea', 'email', 'phone', 'url', 'picklist']);

function fieldsInScope(object: ObjectDef, scope: SearchScope): FieldDef[] {
  const fields = [...object.fields.values()];
  switch (scope) {
    case 'PHONE':
      return fields.filter((field) => field.type === 'phone');
    case 'EMAIL':
      return fields.filter((field) => field.type === 'email');
    case 'NAME':
      return fields.filter((field) => object.nameFields.includes(field.name));
    case 'ALL':
      return fields.filter((field) => SEARCHABLE_TYPES.has(field.type));
  }
}

function exprMatches(expr: SearchExpr, record: StoredRecord, fields: FieldDef[], scope: SearchScope): boolean {
  switch (expr.kind) {
    case 'or':
      return expr.items.some((item) => exprMatches(item, record, fields, scope));
    case 'and':
      return expr.items.every((item) => exprMatches(item, record, fields, scope));
    case 'andNot':
      return exprMatches(expr.include, record, fields, scope) && !exprMatches(expr.exclude, record, fields, scope);
    case 'term':
      return fields.some((field) => {
        const value = record.fields[field.name];
        if (typeof value !== 'string' || value === '') return false;
        if (scope === 'PHONE') return phoneMatches(expr, value);
        return termMatchesField(expr, field, value);
      });
  }
}

export interface SearchHit {
  spec: ReturningSpec;
  record: StoredRecord;
}

/** Runs a parsed search over the records each RETURNING object offers (live and indexed). */
export function runSearch(search: ParsedSearch, recordsOf: (object: ObjectDef) => StoredRecord[]): SearchHit[] {
  const hits: SearchHit[] = [];
  if (search.noRows) return hits;
  for (const spec of search.returning) {
    const fields = fieldsInScope(spec.object, search.scope);
    if (fields.length === 0) continue;
    let found = recordsOf(spec.object).filter((record) => exprMatches(search.expr, record, fields, search.scope));
    if (spec.where !== null) {
      const where = spec.where;
      found = found.filter((record) => matches(where, record));
    }
    found = sortRecords(found, spec.orderBy);
    const end = spec.limit === null ? undefined : spec.offset + spec.limit;
    for (const record of found.slice(spec.offset, end)) hits.push({ spec, record });
  }
  return hits.slice(0, search.limit);
}
