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
  // Both threads start at once (loading a worker takes longer than opening the file).
  const writer = spawnWorker(workerOptions);
  const reader = spawnWorker({ ...workerOptions, readonly: true });
  // Awaited only once told to open; a reader never used is stopped, and its end is no failure.
  reader.ready.catch(() => undefined);
  let readerWorker: Worker | null = null;
  try {
    const journalMode = await writer.ready;
    if (journalMode === 'wal') {
      reader.worker.postMessage({ op: 'open' });
      await reader.ready;
      readerWorker = reader.worker;
    } else {
      options.logger?.warn({ journalMode }, 'store: WAL is not available for this database file');
    }
  } catch (error) {
    await Promise.all([writer.worker.terminate(), reader.worker.terminate()]);
    throw error;
  }
  if (readerWorker === null) await reader.worker.terminate();
  return new SqliteDatabase(writer.worker, readerWorker, file, options.logger);
}

interface Spawned {
  worker: Worker;
  /** The journal mode once the worker's connection is open; rejects (the worker ended) if it could not open. */
  ready: Promise<string>;
}

function spawnWorker(workerOptions: WorkerOptions): Spawned {
  const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { ...workerOptions, ...workerModule() } });
  const ready = new Promise<string>((resolve, reject) => {
    const onMessage = (message: WorkerResponse) => {
      worker.off('error', onError);
      worker.off('exit', onExit);
      if ('ready' in message) resolve(message.journalMode);
      else if (!message.ok) reject(toStoreError(message.error));
    };
    const onError = (error: unknown) => {
      worker.off('message', onMessage);
      reject(storeUnavailable(error, 'the SQLite worker could not start'));
    };
    const onExit = (code: number) => reject(storeUnavailable(null, `the SQLite worker exited with code ${code}`));
    worker.once('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  return { worker, ready };
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

/** One worker's requests and their answers. */
class WorkerChannel {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Set once the worker has stopped (closed, or gone): what every later request fails with. */
  private failure: unknown = null;
  private closed = false;

  constructor(
    private readonly worker: Worker,
    onDeath: (error: unknown) => void,
  ) {
    worker.on('message', (message: WorkerResponse) => this.settle(message));
    worker.on('error', (error) => {
      this.die(error);
      onDeath(error);
    });
    worker.on('exit', (code) => {
      if (this.closed) return;
      const error = new Error(`the SQLite worker exited with code ${code}`);
      this.die(error);
      onDeath(error);
    });
  }

  send(request: Request): Promise<StatementResult[] | undefined> {
    if (this.closed) return Promise.reject(storeUnavailable(this.failure, 'the store is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
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
    if (this.closed) return;
    this.closed = true;
    this.failure = error;
    for (const waiting of this.pending.values()) waiting.reject(storeUnavailable(error));
    this.pending.clear();
  }
}

/**
 * A statement for the reader: a query, with or without a WITH clause (a write, even one with
 * RETURNING, names its verb). A write taken for a query is refused by the reader's
 * read-only connection without effect, and runs on the writer.
 */
const QUERY = /^\s*(SELECT|WITH)\b/i;
const WRITE_VERB = /\b(INSERT|UPDATE|DELETE|REPLACE)\b/i;
const isQuery = (statement: WireStatement) => QUERY.test(statement.text) && !WRITE_VERB.test(statement.text);

class SqliteDatabase extends ExecutorBase implements Database {
  readonly dialect = 'sqlite' as const;
  readonly description: string;
  private readonly ambient = new AsyncLocalStorage<SqliteTransaction>();
  private readonly writer: WorkerChannel;
  /** Null without WAL, or once the reader has stopped: queries then go to the writer. */
  private reader: WorkerChannel | null;
  private nextTx = 1;

  constructor(
    writer: Worker,
    reader: Worker | null,
    file: string,
    private readonly logger: Logger | undefined,
  ) {
    super();
    this.description = `sqlite:${file}`;
    this.writer = new WorkerChannel(writer, (error) => {
      this.logger?.error({ err: error }, 'store: the SQLite worker stopped');
      void this.close().catch(() => undefined);
    });
    this.reader =
      reader === null
        ? null
        : new WorkerChannel(reader, (error) => {
            this.logger?.warn({ err: error }, 'store: the SQLite reader stopped; queries go to the writer');
            this.reader = null;
          });
  }

  /** @internal */
  send(request: Request): Promise<StatementResult[] | undefined> {
    return this.writer.send(request);
  }

  async batch(queries: readonly SqlFragment[]): Promise<StatementResult[]> {
    const joined = this.ambient.getStore();
    if (joined !== undefined && joined.open) return joined.batch(queries);
    if (queries.length === 0) return [];
    const statements = wire(queries);
    const request = { op: 'batch', tx: null, statements } as const;
    if (this.reader !== null && statements.every(isQuery)) {
      try {
        return (await this.reader.send(request)) ?? [];
      } catch (error) {
        if (!(error instanceof BridgeError && error.code === 'store_not_a_query')) throw error;
      }
    }
    return (await this.writer.send(request)) ?? [];
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

  /** Asks the writer, which every webhook's commit goes through. */
  async ping(): Promise<void> {
    await this.send({ op: 'batch', tx: null, statements: wire([sql`SELECT 1 AS ok`]) });
  }

  async close(): Promise<void> {
    const reader = this.reader;
    this.reader = null;
    try {
      await reader?.close();
    } finally {
      await this.writer.close();
    }
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
  if (error.code === 'NOT_A_QUERY') {
    return new BridgeError('permanent', error.message, { code: 'store_not_a_query', cause });
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
