/**
 * SQL written once for SQLite and PostgreSQL. Queries are tagged templates: every
 * interpolated value is bound as a parameter, never spliced into the text, unless it is a
 * fragment (another `sql` template, `sql.raw` for trusted text, or a dialect helper below).
 * A fragment renders to `?` placeholders for SQLite and `$n` for PostgreSQL.
 */

export type SqlValue = string | number | null;
export type DialectName = 'sqlite' | 'postgres';

/** What the database receives: text with placeholders and the values in order. */
export interface RenderedQuery {
  text: string;
  values: SqlValue[];
}

type Part = string | { value: SqlValue } | { dialect: Record<DialectName, string | SqlFragment> };

export class SqlFragment {
  /** @internal */
  readonly parts: readonly Part[];

  constructor(parts: readonly Part[]) {
    this.parts = parts;
  }

  render(dialect: DialectName): RenderedQuery {
    const values: SqlValue[] = [];
    const text = this.renderInto(dialect, values);
    return { text, values };
  }

  private renderInto(dialect: DialectName, values: SqlValue[]): string {
    let text = '';
    for (const part of this.parts) {
      if (typeof part === 'string') text += part;
      else if ('value' in part) {
        values.push(bindable(part.value));
        text += dialect === 'postgres' ? `$${values.length}` : '?';
      } else {
        const chosen = part.dialect[dialect];
        text += typeof chosen === 'string' ? chosen : chosen.renderInto(dialect, values);
      }
    }
    return text;
  }
}

function isFragment(value: unknown): value is SqlFragment {
  return value instanceof SqlFragment;
}

/** A query or a piece of one. */
export function sql(strings: TemplateStringsArray, ...values: Array<SqlValue | SqlFragment>): SqlFragment {
  const parts: Part[] = [];
  strings.forEach((text, index) => {
    if (text !== '') parts.push(text);
    if (index < values.length) {
      const value = values[index] as SqlValue | SqlFragment;
      if (isFragment(value)) parts.push(...value.parts);
      else parts.push({ value });
    }
  });
  return new SqlFragment(parts);
}

/** Trusted text (identifiers, keywords, constants of the code itself). Never user input. */
sql.raw = (text: string): SqlFragment => new SqlFragment([text]);

sql.empty = new SqlFragment([]);

sql.join = (fragments: readonly SqlFragment[], separator = ', '): SqlFragment => {
  const parts: Part[] = [];
  fragments.forEach((fragment, index) => {
    if (index > 0) parts.push(separator);
    parts.push(...fragment.parts);
  });
  return new SqlFragment(parts);
};

/** Text that differs between the dialects. */
sql.dialect = (choices: Record<DialectName, string | SqlFragment>): SqlFragment =>
  new SqlFragment([{ dialect: choices }]);

/** `WHERE a AND b …`, or nothing when there are no conditions. */
sql.where = (conditions: readonly SqlFragment[]): SqlFragment =>
  conditions.length === 0 ? sql.empty : sql`WHERE ${sql.join(conditions, ' AND ')}`;

/** A bound integer that PostgreSQL must see as bigint where it cannot infer the type (VALUES, CASE). */
sql.int = (value: number | null): SqlFragment =>
  sql.dialect({ sqlite: sql`${value}`, postgres: sql`${value}::bigint` });

/** A bound text that PostgreSQL must see as text where it cannot infer the type. */
sql.text = (value: string | null): SqlFragment => sql.dialect({ sqlite: sql`${value}`, postgres: sql`${value}::text` });

/** `column IN (the values)`, with one bound parameter whatever the number of values. */
sql.in = (column: SqlFragment, values: readonly SqlValue[]): SqlFragment => {
  const json = JSON.stringify(values.map(bindable));
  return sql.dialect({
    sqlite: sql`${column} IN (SELECT value FROM json_each(${json}))`,
    postgres: sql`${column} IN (SELECT jsonb_array_elements_text(${json}::jsonb))`,
  });
};

export type JsonColumnType = 'text' | 'int';

/**
 * Rows given as one JSON parameter, usable in FROM as `alias`: one statement updates or
 * inserts any number of rows with a fixed text (SQLite caches it) and one bound value.
 */
sql.rows = (
  rows: ReadonlyArray<Record<string, SqlValue>>,
  columns: Record<string, JsonColumnType>,
  alias: string,
): SqlFragment => {
  const names = Object.keys(columns);
  const json = JSON.stringify(rows.map((row) => names.map((name) => bindable(row[name] ?? null))));
  const sqliteColumns = names.map((name, index) => `json_extract(value, '$[${index}]') AS ${name}`).join(', ');
  const postgresColumns = names
    .map((name, index) => {
      const type = columns[name] === 'int' ? 'bigint' : 'text';
      return `(value->>${index})::${type} AS ${name}`;
    })
    .join(', ');
  return sql.dialect({
    sqlite: sql`(SELECT ${sql.raw(sqliteColumns)} FROM json_each(${json})) AS ${sql.raw(alias)}`,
    postgres: sql`(SELECT ${sql.raw(postgresColumns)} FROM jsonb_array_elements(${json}::jsonb)) AS ${sql.raw(alias)}`,
  });
};

/**
 * What the databases can store. Text must be well-formed Unicode (a lone surrogate would be
 * written as bytes that never read back the same) and PostgreSQL refuses U+0000 in text:
 * both become U+FFFD, identically on both databases, so a value reads back as it is looked up.
 */
export function bindable(value: SqlValue | undefined): SqlValue {
  if (value === undefined) return null;
  if (typeof value !== 'string') return value;
  const wellFormed = value.isWellFormed() ? value : value.toWellFormed();
  return wellFormed.includes('\u0000') ? wellFormed.replaceAll('\u0000', '\uFFFD') : wellFormed;
}
