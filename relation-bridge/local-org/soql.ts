import { SalesforceFault } from './errors';
import { canonicalId } from './ids';
import type { StoredRecord } from './records';
import type { FieldDef, ObjectDef, Schema } from './schema';
import { statementError, tokenize, type Token } from './soql-lexer';
import { dateToMs, formatDate, parseDate, parseDateTime, type FieldValue } from './values';

/**
 * The SOQL subset of the local org: SELECT fields or COUNT() FROM one object, WHERE with
 * AND/OR/NOT and parentheses, comparisons, IN, NOT IN, LIKE, ORDER BY, LIMIT, OFFSET.
 * Text comparisons are case-insensitive, as in Salesforce.
 */

export type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'datetime'; value: number }
  | { kind: 'date'; value: string }
  /** Date literals such as TODAY or LAST_N_DAYS:7: a half-open ms range. */
  | { kind: 'range'; start: number; end: number };

export type CompareOp = '=' | '!=' | '<' | '>' | '<=' | '>=';

export type Condition =
  | { kind: 'and' | 'or'; items: Condition[] }
  | { kind: 'not'; item: Condition }
  | { kind: 'compare'; field: FieldDef; op: CompareOp; value: Literal }
  | { kind: 'in'; field: FieldDef; negated: boolean; values: Literal[] }
  | { kind: 'like'; field: FieldDef; pattern: RegExp };

export interface OrderTerm {
  field: FieldDef;
  descending: boolean;
  nullsLast: boolean;
}

export interface ParsedQuery {
  object: ObjectDef;
  /** Selected fields in the order written; empty for COUNT(). */
  fields: FieldDef[];
  count: boolean;
  where: Condition | null;
  orderBy: OrderTerm[];
  limit: number | null;
  offset: number;
}

const MAX_OFFSET = 2000;
const DAY_MS = 86_400_000;
const TEXT_TYPES = new Set(['string', 'textarea', 'email', 'phone', 'url', 'picklist']);

/** Parses SOQL tokens; also used by SOSL for the clauses inside RETURNING. */
export class SoqlParser {
  private index = 0;

  constructor(
    readonly statement: string,
    private readonly tokens: Token[],
    private readonly schema: Schema,
    private readonly now: number,
  ) {}

  peek(offset = 0): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)] as Token;
  }

  next(): Token {
    const token = this.peek();
    if (this.index < this.tokens.length - 1) this.index += 1;
    return token;
  }

  isKeyword(word: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'ident' && token.text.toUpperCase() === word;
  }

  isPunct(text: string): boolean {
    const token = this.peek();
    return token.kind === 'punct' && token.text === text;
  }

  acceptKeyword(word: string): boolean {
    if (!this.isKeyword(word)) return false;
    this.next();
    return true;
  }

  expectKeyword(word: string): Token {
    if (!this.isKeyword(word)) throw this.unexpected();
    return this.next();
  }

  expectPunct(text: string): Token {
    if (!this.isPunct(text)) throw this.unexpected();
    return this.next();
  }

  unexpected(token = this.peek()): SalesforceFault {
    const shown = token.kind === 'eof' ? '<EOF>' : token.kind === 'string' ? `'${token.text}'` : token.text;
    return statementError('MALFORMED_QUERY', this.statement, token.pos, `unexpected token: ${shown}`);
  }

  parseQuery(): ParsedQuery {
    this.expectKeyword('SELECT');
    const selected = this.parseSelectList();
    this.expectKeyword('FROM');
    const object = this.parseObject();
    const query = this.parseClauses(object, selected, ['WHERE', 'ORDER', 'LIMIT', 'OFFSET']);
    if (this.peek().kind !== 'eof') throw this.unexpected();
    return query;
  }

  /** `f1, f2` or `COUNT()`: raw tokens, resolved once the object is known. */
  parseSelectList(): Token[] | 'count' {
    if (this.isKeyword('COUNT') && this.peek(1).text === '(') {
      this.next();
      this.expectPunct('(');
      this.expectPunct(')');
      if (this.isPunct(',')) {
        throw statementError(
          'MALFORMED_QUERY',
          this.statement,
          this.peek().pos,
          'COUNT() and other fields cannot be selected together without GROUP BY',
        );
      }
      return 'count';
    }
    const fields: Token[] = [];
    do {
      const token = this.next();
      if (token.kind !== 'ident' || isReserved(token.text)) throw this.unexpected(token);
      fields.push(token);
    } while (this.isPunct(',') && this.next());
    return fields;
  }

  parseObject(): ObjectDef {
    const token = this.next();
    if (token.kind !== 'ident') throw this.unexpected(token);
    const object = this.schema.get(token.text.toLowerCase());
    if (object === undefined) {
      throw statementError(
        'INVALID_TYPE',
        this.statement,
        token.pos,
        `sObject type '${token.text}' is not supported. If you are attempting to use a custom object, be sure to ` +
          `append the '__c' after the entity name. Please reference your WSDL or the describe call for the ` +
          `appropriate names.`,
      );
    }
    return object;
  }

  /** The clauses after the object name, in Salesforce's fixed order, limited to those `allowed`. */
  parseClauses(object: ObjectDef, selected: Token[] | 'count', allowed: string[]): ParsedQuery {
    const fields = selected === 'count' ? [] : this.resolveSelected(object, selected);
    let where: Condition | null = null;
    const orderBy: OrderTerm[] = [];
    let limit: number | null = null;
    let offset = 0;
    if (allowed.includes('WHERE') && this.acceptKeyword('WHERE')) where = this.parseCondition(object);
    if (allowed.includes('ORDER') && this.acceptKeyword('ORDER')) {
      this.expectKeyword('BY');
      do orderBy.push(this.parseOrderTerm(object));
      while (this.isPunct(',') && this.next());
    }
    if (allowed.includes('LIMIT') && this.acceptKeyword('LIMIT')) limit = this.parseCount();
    if (allowed.includes('OFFSET') && this.isKeyword('OFFSET')) {
      const token = this.next();
      offset = this.parseCount();
      if (offset > MAX_OFFSET) {
        throw statementError(
          'NUMBER_OUTSIDE_VALID_RANGE',
          this.statement,
          token.pos,
          `Maximum SOQL offset allowed is ${MAX_OFFSET}`,
        );
      }
    }
    return { object, fields, count: selected === 'count', where, orderBy, limit, offset };
  }

  private resolveSelected(object: ObjectDef, tokens: Token[]): FieldDef[] {
    const fields: FieldDef[] = [];
    for (const token of tokens) {
      const field = this.resolveField(object, token);
      if (fields.includes(field)) {
        throw statementError('MALFORMED_QUERY', this.statement, token.pos, `duplicate field selected: ${field.name}`);
      }
      fields.push(field);
    }
    return fields;
  }

  resolveField(object: ObjectDef, token: Token): FieldDef {
    const field = object.fields.get(token.text.toLowerCase());
    if (field !== undefined) return field;
    if (token.text.includes('.')) {
      const relationship = token.text.split('.')[0] ?? '';
      throw statementError(
        'INVALID_FIELD',
        this.statement,
        token.pos,
        `Didn't understand relationship '${relationship}' in field path. If you are attempting to use a custom ` +
          `relationship, be sure to append the '__r' after the custom relationship name. Please reference your ` +
          `WSDL or the describe call for the appropriate names.`,
      );
    }
    throw statementError(
      'INVALID_FIELD',
      this.statement,
      token.pos,
      `No such column '${token.text}' on entity '${object.name}'. If you are attempting to use a custom field, be ` +
        `sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for ` +
        `the appropriate names.`,
    );
  }

  private parseCount(): number {
    const token = this.next();
    if (token.kind !== 'number' || !/^\d+$/.test(token.text)) throw this.unexpected(token);
    return Number(token.text);
  }

  private parseOrderTerm(object: ObjectDef): OrderTerm {
    const token = this.next();
    if (token.kind !== 'ident') throw this.unexpected(token);
    const field = this.resolveField(object, token);
    if (field.type === 'textarea') {
      throw statementError(
        'INVALID_FIELD',
        this.statement,
        token.pos,
        `field '${field.name}' can not be sorted in a query call`,
      );
    }
    let descending = false;
    if (this.acceptKeyword('DESC')) descending = true;
    else this.acceptKeyword('ASC');
    let nullsLast = descending;
    if (this.acceptKeyword('NULLS')) {
      if (this.acceptKeyword('LAST')) nullsLast = true;
      else {
        this.expectKeyword('FIRST');
        nullsLast = false;
      }
    }
    return { field, descending, nullsLast };
  }

  /** SOQL demands parentheses where AND and OR meet, so one level holds one operator only. */
  parseCondition(object: ObjectDef): Condition {
    const first = this.parseUnary(object);
    if (!this.isKeyword('AND') && !this.isKeyword('OR')) return first;
    const operator = this.peek().text.toUpperCase();
    const items = [first];
    while (this.isKeyword('AND') || this.isKeyword('OR')) {
      const token = this.next();
      if (token.text.toUpperCase() !== operator) throw this.unexpected(token);
      items.push(this.parseUnary(object));
    }
    return { kind: operator === 'AND' ? 'and' : 'or', items };
  }

  private parseUnary(object: ObjectDef): Condition {
    if (this.acceptKeyword('NOT')) return { kind: 'not', item: this.parseUnary(object) };
    if (this.isPunct('(')) {
      this.next();
      const inner = this.parseCondition(object);
      this.expectPunct(')');
      return inner;
    }
    return this.parseComparison(object);
  }

  private parseComparison(object: ObjectDef): Condition {
    const fieldToken = this.next();
    if (fieldToken.kind !== 'ident' || isReserved(fieldToken.text)) throw this.unexpected(fieldToken);
    const field = this.resolveField(object, fieldToken);
    if (field.type === 'textarea') {
      throw statementError(
        'INVALID_FIELD',
        this.statement,
        fieldToken.pos,
        `field '${field.name}' can not be filtered in a query call`,
      );
    }
    if (this.isKeyword('NOT') && this.isKeyword('IN', 1)) {
      this.next();
      this.next();
      return { kind: 'in', field, negated: true, values: this.parseValueList(field) };
    }
    if (this.acceptKeyword('IN')) return { kind: 'in', field, negated: false, values: this.parseValueList(field) };
    if (this.isKeyword('LIKE')) {
      this.next();
      const token = this.next();
      if (token.kind !== 'string' || !TEXT_TYPES.has(field.type)) {
        throw statementError(
          'INVALID_QUERY_FILTER_OPERATOR',
          this.statement,
          token.pos,
          `invalid operator on ${field.type} field: LIKE`,
        );
      }
      return { kind: 'like', field, pattern: likePattern(token.text) };
    }
    const operator = this.next();
    if (operator.kind !== 'punct' || !['=', '!=', '<>', '<', '>', '<=', '>='].includes(operator.text)) {
      throw this.unexpected(operator);
    }
    const op = (operator.text === '<>' ? '!=' : operator.text) as CompareOp;
    const value = this.parseValue(field);
    if (value.kind === 'null' && op !== '=' && op !== '!=') throw this.unexpected();
    return { kind: 'compare', field, op, value };
  }

  private parseValueList(field: FieldDef): Literal[] {
    this.expectPunct('(');
    const values: Literal[] = [];
    do values.push(this.parseValue(field));
    while (this.isPunct(',') && this.next());
    this.expectPunct(')');
    return values;
  }

  private parseValue(field: FieldDef): Literal {
    const token = this.next();
    const literal = this.literalOf(token);
    if (literal === null) throw this.unexpected(token);
    return this.checkType(field, literal, token);
  }

  private literalOf(token: Token): Literal | null {
    switch (token.kind) {
      case 'string':
        return { kind: 'string', value: token.text };
      case 'number':
        return { kind: 'number', value: Number(token.text) };
      case 'datetime': {
        const ms = parseDateTime(token.text);
        return ms === null ? null : { kind: 'datetime', value: ms };
      }
      case 'date': {
        const date = parseDate(token.text);
        return date === null ? null : { kind: 'date', value: date };
      }
      case 'ident': {
        const word = token.text.toUpperCase();
        if (word === 'TRUE' || word === 'FALSE') return { kind: 'boolean', value: word === 'TRUE' };
        if (word === 'NULL') return { kind: 'null' };
        return this.dateLiteral(word);
      }
      default:
        return null;
    }
  }

  private dateLiteral(word: string): Literal | null {
    const today = dateToMs(formatDate(this.now));
    const day = (offset: number, length = 1): Literal => ({
      kind: 'range',
      start: today + offset * DAY_MS,
      end: today + (offset + length) * DAY_MS,
    });
    if (word === 'TODAY') return day(0);
    if (word === 'YESTERDAY') return day(-1);
    if (word === 'TOMORROW') return day(1);
    const relative = /^(LAST|NEXT)_N_DAYS:(\d+)$/.exec(word);
    if (relative) {
      const days = Number(relative[2]);
      return relative[1] === 'LAST' ? day(-days, days + 1) : day(1, days);
    }
    return null;
  }

  private checkType(field: FieldDef, literal: Literal, token: Token): Literal {
    if (literal.kind === 'null') return literal;
    const mismatch = (expected: string, quoted: boolean) =>
      statementError(
        'INVALID_QUERY_FILTER_OPERATOR',
        this.statement,
        token.pos,
        `value of filter criterion for field '${field.name}' must be of type ${expected} and should ` +
          `${quoted ? '' : 'not '}be enclosed in quotes`,
      );
    switch (field.type) {
      case 'id':
      case 'reference': {
        if (literal.kind !== 'string') throw mismatch('id', true);
        const id = canonicalId(literal.value);
        if (id === null) {
          throw statementError(
            'INVALID_QUERY_FILTER_OPERATOR',
            this.statement,
            token.pos,
            `invalid ID field: ${literal.value}`,
          );
        }
        return { kind: 'string', value: id };
      }
      case 'boolean':
        if (literal.kind !== 'boolean') throw mismatch('boolean', false);
        return literal;
      case 'int':
      case 'double':
        if (literal.kind !== 'number') throw mismatch('double', false);
        return literal;
      case 'datetime':
        if (literal.kind !== 'datetime' && literal.kind !== 'range') throw mismatch('dateTime', false);
        return literal;
      case 'date':
        if (literal.kind !== 'date' && literal.kind !== 'range') throw mismatch('date', false);
        return literal;
      default:
        if (literal.kind !== 'string') throw mismatch('string', true);
        return literal;
    }
  }
}

const RESERVED = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'AND',
  'OR',
  'NOT',
  'IN',
  'LIKE',
  'ORDER',
  'BY',
  'LIMIT',
  'OFFSET',
  'NULL',
  'TRUE',
  'FALSE',
]);

function isReserved(word: string): boolean {
  return RESERVED.has(word.toUpperCase());
}

function likePattern(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern.charAt(i);
    if (char === '\\' && i + 1 < pattern.length) {
      source += escapeRegExp(pattern.charAt(i + 1));
      i += 1;
    } else if (char === '%') source += '.*';
    else if (char === '_') source += '.';
    else source += escapeRegExp(char);
  }
  return new RegExp(`^${source}$`, 'is');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Salesforce's limits on a SOQL statement, and on each string literal in its WHERE clause. */
export const MAX_SOQL_STATEMENT = 100_000;
export const MAX_SOQL_STRING = 4000;

export function parseSoql(statement: string, schema: Schema, now: number): ParsedQuery {
  if (statement.length > MAX_SOQL_STATEMENT) {
    throw new SalesforceFault(
      400,
      'MALFORMED_QUERY',
      `SOQL statements cannot be longer than ${MAX_SOQL_STATEMENT} characters`,
    );
  }
  const tokens = tokenize(statement);
  const long = tokens.find((token) => token.kind === 'string' && token.text.length > MAX_SOQL_STRING);
  if (long !== undefined) {
    throw statementError(
      'MALFORMED_QUERY',
      statement,
      long.pos,
      `String literals in a WHERE clause cannot be longer than ${MAX_SOQL_STRING} characters`,
    );
  }
  return new SoqlParser(statement, tokens, schema, now).parseQuery();
}

export function matches(condition: Condition, record: StoredRecord): boolean {
  switch (condition.kind) {
    case 'and':
      return condition.items.every((item) => matches(item, record));
    case 'or':
      return condition.items.some((item) => matches(item, record));
    case 'not':
      return !matches(condition.item, record);
    case 'like': {
      const value = record.fields[condition.field.name];
      return typeof value === 'string' && condition.pattern.test(value);
    }
    case 'in': {
      const value = record.fields[condition.field.name] ?? null;
      const found = condition.values.some((literal) => compare(condition.field, value, '=', literal));
      return condition.negated ? !found : found;
    }
    case 'compare':
      return compare(condition.field, record.fields[condition.field.name] ?? null, condition.op, condition.value);
  }
}

function compare(field: FieldDef, value: FieldValue, op: CompareOp, literal: Literal): boolean {
  if (literal.kind === 'null') return op === '=' ? value === null : value !== null;
  if (value === null) return op === '!=';
  if (literal.kind === 'range') {
    const ms = typeof value === 'number' ? value : dateToMs(String(value));
    switch (op) {
      case '=':
        return ms >= literal.start && ms < literal.end;
      case '!=':
        return ms < literal.start || ms >= literal.end;
      case '<':
        return ms < literal.start;
      case '<=':
        return ms < literal.end;
      case '>':
        return ms >= literal.end;
      case '>=':
        return ms >= literal.start;
    }
  }
  const order = compareValues(field, value, literalValue(literal));
  switch (op) {
    case '=':
      return order === 0;
    case '!=':
      return order !== 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
  }
}

function literalValue(literal: Exclude<Literal, { kind: 'null' } | { kind: 'range' }>): FieldValue {
  return literal.value;
}

/** Orders two non-null values of one field; text case-insensitively, ids exactly. */
export function compareValues(field: FieldDef, left: FieldValue, right: FieldValue): number {
  if (left === null || right === null) return left === right ? 0 : left === null ? -1 : 1;
  if (TEXT_TYPES.has(field.type)) {
    const a = String(left).toLowerCase();
    const b = String(right).toLowerCase();
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof left === 'boolean' || typeof right === 'boolean') return Number(left) - Number(right);
  if (typeof left === 'number' && typeof right === 'number') return left - right;
  const a = String(left);
  const b = String(right);
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortRecords(records: StoredRecord[], orderBy: OrderTerm[]): StoredRecord[] {
  if (orderBy.length === 0) return records;
  return [...records].sort((left, right) => {
    for (const term of orderBy) {
      const a = left.fields[term.field.name] ?? null;
      const b = right.fields[term.field.name] ?? null;
      if (a === null || b === null) {
        if (a === b) continue;
        return (a === null) === term.nullsLast ? 1 : -1;
      }
      const order = compareValues(term.field, a, b);
      if (order !== 0) return term.descending ? -order : order;
    }
    return 0;
  });
}

/** Rows of a parsed query over the given records (already limited to live or all rows). */
export function selectRows(query: ParsedQuery, records: StoredRecord[]): StoredRecord[] {
  const filtered =
    query.where === null ? records : records.filter((record) => matches(query.where as Condition, record));
  const sorted = sortRecords(filtered, query.orderBy);
  const end = query.limit === null ? undefined : query.offset + query.limit;
  return sorted.slice(query.offset, end);
}
