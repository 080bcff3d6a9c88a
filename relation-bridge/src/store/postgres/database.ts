import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { BridgeError } from '../../core/errors';
import type { Logger } from '../../logging';
import {
  type ConstraintKind,
  type Database,
  ExecutorBase,
  type SqlExecutor,
  type StatementResult,
  storeConstraint,
  storeUnavailable,
} from '../database';
import { sql, type SqlFragment } from '../sql';

export interface PostgresOptions {
  /** `postgres://user@host:port/database` */
  url: string;
  logger?: Logger;
  /** Connections this bridge instance keeps open. */
  poolSize?: number;
  /** A statement running longer than this is cancelled. */
  statementTimeoutMs?: number;
  /** A transaction left idle longer than this is ended by the server (its locks released). */
  idleInTransactionTimeoutMs?: number;
}

/** Times are bigint ms epochs and counts bigint: all well inside a JavaScript number. */
const INT8_OID = 20;
const NUMERIC_OID = 1700;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser,
};

/** A serialization failure or deadlock: the whole transaction may simply run again. */
const RETRYABLE_TX_STATES = new Set(['40001', '40P01']);
const TX_ATTEMPTS = 3;

/**
 * PostgreSQL for several bridge instances on one database. Each instance keeps a small pool;
 * a unit of work is a transaction on one pooled connection at READ COMMITTED, with row
 * locks (and `FOR UPDATE SKIP LOCKED` for claims) instead of SQLite's single writer.
 */
export async function openPostgresDatabase(options: PostgresOptions): Promise<Database> {
  const statementTimeout = options.statementTimeoutMs ?? 30_000;
  const idleTimeout = options.idleInTransactionTimeoutMs ?? 60_000;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    types,
    options: `-c statement_timeout=${statementTimeout} -c idle_in_transaction_session_timeout=${idleTimeout}`,
    connectionTimeoutMillis: 10_000,
    application_name: 'relation-bridge',
  });
  pool.on('error', (error) => options.logger?.warn({ err: error }, 'store: an idle PostgreSQL connection failed'));
  const database = new PostgresDatabase(pool, options.url, options.logger);
  try {
    await database.ping();
  } catch (error) {
    await pool.end();
    throw error;
  }
  return database;
}

class PostgresDatabase extends ExecutorBase implements Database {
  readonly dialect = 'postgres' as const;
  readonly description: string;
  private readonly ambient = new AsyncLocalStorage<PostgresTransaction>();
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    url: string,
    private readonly logger: Logger | undefined,
  ) {
    super();
    const parsed = new URL(url);
    this.description = `postgres://${parsed.host}${parsed.pathname}`;
  }

  async batch(queries: readonly SqlFragment[]): Promise<StatementResult[]> {
    const joined = this.ambient.getStore();
    if (joined !== undefined && joined.open) return joined.batch(queries);
    if (queries.length === 0) return [];
    if (queries.length === 1) return [await this.query(this.pool, queries[0] as SqlFragment)];
    return this.transaction((tx) => tx.batch(queries));
  }

  atomic<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.transaction(work);
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const joined = this.ambient.getStore();
    if (joined !== undefined && joined.open) return work(joined);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.transactionOnce(work);
      } catch (error) {
        const state = sqlState(error);
        if (attempt >= TX_ATTEMPTS || state === undefined || !RETRYABLE_TX_STATES.has(state)) throw error;
        this.logger?.debug({ state, attempt }, 'store: transaction conflicted; running it again');
      }
    }
  }

  private async transactionOnce<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    if (this.closed) throw storeUnavailable(undefined, 'the store is closed');
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw storeUnavailable(error);
    }
    const tx = new PostgresTransaction(this, client);
    let broken: unknown = undefined;
    // A connection the server ends while it is checked out (a timeout, a restart) fails the
    // transaction's next statement; it must not also crash the process as an unhandled event.
    const onError = (error: Error) => {
      broken = error;
      this.logger?.warn({ err: error }, 'store: a PostgreSQL connection failed during a transaction');
    };
    client.on('error', onError);
    try {
      await this.raw(client, 'BEGIN');
      const result = await this.ambient.run(tx, () => work(tx));
      tx.open = false;
      await this.raw(client, 'COMMIT');
      return result;
    } catch (error) {
      tx.open = false;
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError;
      }
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken === undefined ? undefined : (broken as Error));
    }
  }

  /** @internal */
  async query(client: pg.Pool | pg.PoolClient, fragment: SqlFragment): Promise<StatementResult> {
    if (this.closed) throw storeUnavailable(undefined, 'the store is closed');
    const { text, values } = fragment.render('postgres');
    try {
      const result = await client.query(text, values);
      return { rows: result.rows as Array<Record<string, unknown>>, changes: result.rowCount ?? result.rows.length };
    } catch (error) {
      throw toStoreError(error);
    }
  }

  /** @internal */
  async raw(client: pg.PoolClient, text: string): Promise<void> {
    try {
      await client.query(text);
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async script(text: string, tx?: SqlExecutor): Promise<void> {
    const target = tx instanceof PostgresTransaction ? tx : this.ambient.getStore();
    if (target !== undefined) {
      await this.raw(target.client, text);
      return;
    }
    await this.transaction(async (own) => this.raw((own as PostgresTransaction).client, text));
  }

  async ping(): Promise<void> {
    await this.one(sql`SELECT 1 AS ok`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

class PostgresTransaction extends ExecutorBase {
  readonly dialect = 'postgres' as const;
  open = true;

  constructor(
    private readonly database: PostgresDatabase,
    readonly client: pg.PoolClient,
  ) {
    super();
  }

  async batch(queries: readonly SqlFragment[]): Promise<StatementResult[]> {
    if (!this.open) throw new BridgeError('permanent', 'the transaction has ended', { code: 'transaction_ended' });
    const results: StatementResult[] = [];
    for (const query of queries) results.push(await this.database.query(this.client, query));
    return results;
  }

  atomic<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return work(this);
  }
}

function sqlState(error: unknown): string | undefined {
  const direct = (error as { code?: unknown } | null)?.code;
  if (typeof direct === 'string' && /^[0-9A-Z]{5}$/.test(direct)) return direct;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause === undefined || cause === error ? undefined : sqlState(cause);
}

const CONSTRAINTS: Record<string, ConstraintKind> = {
  '23505': 'unique',
  '23503': 'foreign_key',
  '23514': 'check',
  '23502': 'not_null',
};

/**
 * SQLSTATE classes: 23 (integrity) is a refusal the caller may act on; 42 and 22 are
 * statements that cannot run as written (a bug); connection, resource and operator
 * interventions (08, 53, 57, 40) are the store being unavailable, which may be retried.
 */
function toStoreError(error: unknown): unknown {
  if (error instanceof BridgeError) return error;
  const state = sqlState(error);
  if (state?.startsWith('23') === true) return storeConstraint(CONSTRAINTS[state] ?? 'other', error);
  if (state !== undefined && (state.startsWith('42') || state.startsWith('22'))) {
    return new BridgeError('permanent', `the store could not run a statement: ${(error as Error).message}`, {
      code: 'store_statement',
      cause: error,
    });
  }
  return storeUnavailable(error);
}
