import { BridgeError } from '../core/errors';
import type { DialectName, SqlFragment } from './sql';

/** What one statement gave: its rows (queries, RETURNING) and how many rows it changed. */
export interface StatementResult<R = Record<string, unknown>> {
  rows: R[];
  changes: number;
}

/**
 * Runs SQL on one database. Every repository is written against this, once for both
 * databases. Outside a transaction each call is atomic on its own; inside one (the
 * executor given to `transaction`'s work) every call belongs to that transaction.
 */
export interface SqlExecutor {
  readonly dialect: DialectName;
  /** Rows of a query, or of a write with RETURNING. */
  all<R = Record<string, unknown>>(query: SqlFragment): Promise<R[]>;
  /** The first row, or null. */
  one<R = Record<string, unknown>>(query: SqlFragment): Promise<R | null>;
  /** How many rows a write changed. */
  run(query: SqlFragment): Promise<number>;
  /** Several statements in order, atomically, in one round trip where the database allows. */
  batch(queries: readonly SqlFragment[]): Promise<StatementResult[]>;
  /**
   * Work that must be atomic: a transaction of its own, or part of the transaction this
   * executor already belongs to.
   */
  atomic<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
}

/** A database the bridge keeps its state in: SQLite (embedded, the default) or PostgreSQL. */
export interface Database extends SqlExecutor {
  readonly description: string;
  /**
   * One unit of work: the statements `work` runs on the executor it is given commit together
   * or not at all. Work inside must be about the database only (no Salesforce calls): it
   * holds SQLite's single writer, or PostgreSQL's row locks, until it ends. A call made on
   * this Database from inside `work` joins the transaction instead of waiting for it.
   */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Runs a script of several statements without parameters (migrations). */
  script(text: string, tx?: SqlExecutor): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type ConstraintKind = 'unique' | 'foreign_key' | 'check' | 'not_null' | 'other';

export function storeUnavailable(cause?: unknown, message = 'the store is unavailable'): BridgeError {
  return new BridgeError('retryable', message, { code: 'store_unavailable', reason: 'unavailable', cause });
}

export function storeConstraint(kind: ConstraintKind, cause: unknown): BridgeError {
  return new BridgeError('bad_input', `the store refused the write (${kind} constraint)`, {
    code: 'store_constraint',
    details: { constraint: kind },
    cause,
  });
}

/** Whether an error is the database refusing a write for a constraint of this kind. */
export function isConstraintViolation(error: unknown, kind: ConstraintKind): boolean {
  return (
    error instanceof BridgeError &&
    error.code === 'store_constraint' &&
    (error.details as { constraint?: unknown } | undefined)?.constraint === kind
  );
}

/** Shared by both databases: the convenience methods on top of `batch`. */
export abstract class ExecutorBase implements SqlExecutor {
  abstract readonly dialect: DialectName;
  abstract batch(queries: readonly SqlFragment[]): Promise<StatementResult[]>;
  abstract atomic<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;

  async all<R = Record<string, unknown>>(query: SqlFragment): Promise<R[]> {
    const [result] = await this.batch([query]);
    return (result?.rows ?? []) as R[];
  }

  async one<R = Record<string, unknown>>(query: SqlFragment): Promise<R | null> {
    return (await this.all<R>(query))[0] ?? null;
  }

  async run(query: SqlFragment): Promise<number> {
    const [result] = await this.batch([query]);
    return result?.changes ?? 0;
  }
}
