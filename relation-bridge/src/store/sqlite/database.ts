import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
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
import type { WireError, WireStatement, WorkerOptions, WorkerRequest, WorkerResponse } from './worker';

export interface SqliteOptions {
  /** Path of the database file; its folder is created (0700) if missing. */
  file: string;
  logger?: Logger;
  /** How long a statement waits for another process's write lock. */
  busyTimeoutMs?: number;
  /** An interactive transaction still open after this is rolled back. */
  txTimeoutMs?: number;
}

type Pending = { resolve: (results: StatementResult[] | undefined) => void; reject: (error: unknown) => void };
/** A request before it gets its id. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type Request = WithoutId<WorkerRequest>;

/**
 * Starts the worker module: the compiled `.js` as it is, or the `.ts` source through tsx
 * (tests, `npm run demo`), so that the worker is the same code in every way of running.
 */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
if (workerData.module.endsWith('.ts')) require(workerData.tsx).register();
require(workerData.module);
`;

function workerModule(): { module: string; tsx: string | null } {
  const extension = path.extname(__filename);
  const module = path.join(__dirname, `worker${extension}`);
  return { module, tsx: extension === '.ts' ? require.resolve('tsx/cjs/api') : null };
}

/**
 * The embedded default store: one SQLite file in WAL mode with synchronous=FULL, its
 * connection owned by a worker thread (sqlite/worker.ts) so that no query and no fsync ever
 * runs on the event loop that answers webhooks.
 */
export async function openSqliteDatabase(options: SqliteOptions): Promise<Database> {
  const file = path.resolve(options.file);
  privateFolder(path.dirname(file), options.logger);
  const workerOptions: WorkerOptions = {
    file,
    busyTimeoutMs: options.busyTimeoutMs ?? 5_000,
    txTimeoutMs: options.txTimeoutMs ?? 30_000,
  };
  const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { ...workerOptions, ...workerModule() } });
  const journalMode = await new Promise<string>((resolve, reject) => {
    const onMessage = (message: WorkerResponse) => {
      worker.off('error', onError);
      if ('ready' in message) resolve(message.journalMode);
      else if (!message.ok) reject(toStoreError(message.error));
    };
    const onError = (error: unknown) => {
      worker.off('message', onMessage);
      reject(storeUnavailable(error, 'the SQLite worker could not start'));
    };
    worker.once('message', onMessage);
    worker.once('error', onError);
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  if (journalMode !== 'wal') {
    options.logger?.warn({ journalMode }, 'store: WAL is not available for this database file');
  }
  return new SqliteDatabase(worker, file, options.logger);
}

/** The data folder holds customer messages and password hashes: only the bridge's user may read it. */
function privateFolder(folder: string, logger: Logger | undefined): void {
  fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
  const mode = fs.statSync(folder).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    try {
      fs.chmodSync(folder, 0o700);
      logger?.warn({ folder, mode: mode.toString(8) }, 'store: the data folder was readable by others; it is now 0700');
    } catch (error) {
      logger?.warn(
        { folder, err: error },
        'store: the data folder is readable by others and could not be made private',
      );
    }
  }
}

class SqliteDatabase extends ExecutorBase implements Database {
  readonly dialect = 'sqlite' as const;
  readonly description: string;
  private readonly pending = new Map<number, Pending>();
  private readonly ambient = new AsyncLocalStorage<SqliteTransaction>();
  private nextId = 1;
  private nextTx = 1;
  private closed = false;
  private failure: unknown = null;

  constructor(
    private readonly worker: Worker,
    file: string,
    private readonly logger: Logger | undefined,
  ) {
    super();
    this.description = `sqlite:${file}`;
    worker.on('message', (message: WorkerResponse) => this.settle(message));
    worker.on('error', (error) => this.die(error));
    worker.on('exit', (code) => {
      if (!this.closed) this.die(new Error(`the SQLite worker exited with code ${code}`));
    });
  }

  /** @internal */
  send(request: Request): Promise<StatementResult[] | undefined> {
    if (this.closed) return Promise.reject(storeUnavailable(this.failure, 'the store is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  async batch(queries: readonly SqlFragment[]): Promise<StatementResult[]> {
    const joined = this.ambient.getStore();
    if (joined !== undefined && joined.open) return joined.batch(queries);
    if (queries.length === 0) return [];
    return (await this.send({ op: 'batch', tx: null, statements: wire(queries) })) ?? [];
  }

  atomic<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.transaction(work);
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const joined = this.ambient.getStore();
    if (joined !== undefined && joined.open) return work(joined);
    const tx = new SqliteTransaction(this, this.nextTx++);
    await this.send({ op: 'begin', tx: tx.id });
    let result: T;
    try {
      result = await this.ambient.run(tx, () => work(tx));
    } catch (error) {
      tx.open = false;
      await this.send({ op: 'rollback', tx: tx.id }).catch((rollbackError: unknown) =>
        this.logger?.warn({ err: rollbackError }, 'store: rollback failed'),
      );
      throw error;
    }
    tx.open = false;
    await this.send({ op: 'commit', tx: tx.id });
    return result;
  }

  async script(text: string, tx?: SqlExecutor): Promise<void> {
    const txId = tx instanceof SqliteTransaction ? tx.id : (this.ambient.getStore()?.id ?? null);
    await this.send({ op: 'script', tx: txId, text });
  }

  async ping(): Promise<void> {
    await this.one(sql`SELECT 1 AS ok`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.send({ op: 'close' });
    } finally {
      this.closed = true;
      await this.worker.terminate();
    }
  }

  private settle(message: WorkerResponse): void {
    const waiting = this.pending.get(message.id);
    if (waiting === undefined) return;
    this.pending.delete(message.id);
    if ('ok' in message && message.ok) waiting.resolve(message.results);
    else if ('error' in message) waiting.reject(toStoreError(message.error));
  }

  private die(error: unknown): void {
    this.logger?.error({ err: error }, 'store: the SQLite worker stopped');
    this.closed = true;
    this.failure = error;
    for (const waiting of this.pending.values()) waiting.reject(storeUnavailable(error));
    this.pending.clear();
  }
}

class SqliteTransaction extends ExecutorBase {
  readonly dialect = 'sqlite' as const;
  open = true;

  constructor(
    private readonly database: SqliteDatabase,
    readonly id: number,
  ) {
    super();
  }

  async batch(queries: readonly SqlFragment[]): Promise<StatementResult[]> {
    if (!this.open) throw new BridgeError('permanent', 'the transaction has ended', { code: 'transaction_ended' });
    if (queries.length === 0) return [];
    return (await this.database.send({ op: 'batch', tx: this.id, statements: wire(queries) })) ?? [];
  }

  atomic<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return work(this);
  }
}

function wire(queries: readonly SqlFragment[]): WireStatement[] {
  return queries.map((query) => query.render('sqlite'));
}

const CONSTRAINTS: Record<string, ConstraintKind> = {
  SQLITE_CONSTRAINT_UNIQUE: 'unique',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'unique',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'foreign_key',
  SQLITE_CONSTRAINT_CHECK: 'check',
  SQLITE_CONSTRAINT_NOTNULL: 'not_null',
};

/**
 * A violated constraint is a refusal the caller may act on; anything else (disk full, I/O
 * error, lock timeout, a worker gone) is the store being unavailable, which may be retried.
 */
function toStoreError(error: WireError): BridgeError {
  const cause = Object.assign(new Error(error.message), { code: error.code });
  if (error.code?.startsWith('SQLITE_CONSTRAINT') === true) {
    return storeConstraint(CONSTRAINTS[error.code] ?? 'other', cause);
  }
  if (error.code === 'SQLITE_ERROR' || error.code === 'SQLITE_RANGE' || error.code === 'SQLITE_MISMATCH') {
    // A statement SQLite could not run as written: a bug, not an outage.
    return new BridgeError('permanent', `the store could not run a statement: ${error.message}`, {
      code: 'store_statement',
      cause,
    });
  }
  return storeUnavailable(cause);
}
