/**
 * The SQLite connection's own thread. better-sqlite3 is synchronous, and with
 * synchronous=FULL every commit waits for the disk: run on the HTTP event loop, that wait
 * (and every large query) would hold back every webhook. Here it holds back nobody but
 * this thread. The main thread (sqlite/database.ts) sends statements as messages; one
 * message is one transaction, or part of an interactive one, and messages of other callers
 * wait while an interactive transaction is open (SQLite has one writer anyway).
 *
 * A second worker of this module opens the same file read-only: queries made outside any
 * transaction (the console's pages, health counts, metrics) read there, from WAL snapshots,
 * so that a count over a large backlog never makes a webhook's commit wait behind it.
 */
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { StatementResult } from '../database';
import type { SqlValue } from '../sql';

export interface WorkerOptions {
  file: string;
  busyTimeoutMs: number;
  /** An interactive transaction open longer than this is rolled back (a caller that never ends it). */
  txTimeoutMs: number;
  /** The reader: a read-only connection, which only answers queries outside transactions. */
  readonly?: boolean;
}

export interface WireStatement {
  text: string;
  values: SqlValue[];
}

export type WorkerRequest =
  | { id: number; op: 'batch'; tx: number | null; statements: WireStatement[] }
  | { id: number; op: 'script'; tx: number | null; text: string }
  | { id: number; op: 'begin' | 'commit' | 'rollback'; tx: number }
  | { id: number; op: 'close' };

export interface WireError {
  message: string;
  code: string | null;
}

export type WorkerResponse =
  | { id: number; ok: true; results?: StatementResult[] }
  | { id: number; ok: false; error: WireError }
  | { id: 0; ready: true; journalMode: string }
  | { id: 0; ok: false; error: WireError };

const STATEMENT_CACHE_SIZE = 400;

class Connection {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private openTx: number | null = null;
  private txTimer: NodeJS.Timeout | null = null;
  private readonly abortedTx = new Set<number>();
  private readonly waiting: WorkerRequest[] = [];

  constructor(
    private readonly options: WorkerOptions,
    private readonly reply: (response: WorkerResponse) => void,
  ) {
    this.db = new Database(options.file, { timeout: options.busyTimeoutMs, readonly: options.readonly === true });
  }

  configure(): string {
    // The writer made the file WAL (a lasting property of the file); a reader only reads it.
    if (this.options.readonly === true) return String(this.db.pragma('journal_mode', { simple: true }));
    const journalMode = String(this.db.pragma('journal_mode = WAL', { simple: true }));
    // FULL: a commit is on disk before it is answered (and so before intake answers 2xx).
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    return journalMode;
  }

  receive(request: WorkerRequest): void {
    if (this.options.readonly === true && request.op !== 'close' && request.op !== 'batch') {
      this.fail(request.id, { message: `the reader does not take ${request.op}`, code: 'SQLITE_READONLY' });
      return;
    }
    if (this.openTx !== null && request.op !== 'close' && request.tx !== this.openTx) {
      this.waiting.push(request);
      return;
    }
    this.handle(request);
  }

  private handle(request: WorkerRequest): void {
    try {
      switch (request.op) {
        case 'begin':
          this.db.exec('BEGIN IMMEDIATE');
          this.openTx = request.tx;
          this.txTimer = setTimeout(() => this.abort(request.tx), this.options.txTimeoutMs);
          this.reply({ id: request.id, ok: true });
          return;
        case 'commit':
        case 'rollback':
          if (this.abortedTx.delete(request.tx)) {
            if (request.op === 'rollback') this.reply({ id: request.id, ok: true });
            else
              this.fail(request.id, {
                message: 'the transaction ran too long and was rolled back',
                code: 'TX_TIMEOUT',
              });
            return;
          }
          try {
            this.db.exec(request.op === 'commit' ? 'COMMIT' : 'ROLLBACK');
            this.endTx();
            this.reply({ id: request.id, ok: true });
          } catch (error) {
            // A failed COMMIT (disk full, I/O) can leave SQLite's transaction open: end it.
            if (this.db.inTransaction) this.db.exec('ROLLBACK');
            this.endTx();
            this.fail(request.id, wireError(error));
          }
          this.drain();
          return;
        case 'batch':
          if (request.tx !== null && this.abortedTx.has(request.tx)) {
            this.fail(request.id, { message: 'the transaction ran too long and was rolled back', code: 'TX_TIMEOUT' });
            return;
          }
          this.reply({ id: request.id, ok: true, results: this.runBatch(request.statements, request.tx === null) });
          return;
        case 'script':
          this.db.exec(request.text);
          this.reply({ id: request.id, ok: true });
          return;
        case 'close':
          this.endTx();
          this.db.close();
          this.reply({ id: request.id, ok: true });
          return;
      }
    } catch (error) {
      this.fail(request.id, wireError(error));
    }
  }

  private runBatch(statements: WireStatement[], ownTransaction: boolean): StatementResult[] {
    const runAll = () => statements.map((statement) => this.runOne(statement));
    if (!ownTransaction || statements.length === 1) return runAll();
    // Several queries on the reader share one snapshot; the writer takes the lock up front.
    const transaction = this.db.transaction(runAll);
    return this.options.readonly === true ? transaction.deferred() : transaction.immediate();
  }

  private runOne({ text, values }: WireStatement): StatementResult {
    const statement = this.prepare(text);
    if (this.options.readonly === true && !statement.readonly) {
      // Refused before it runs: the caller sends it to the writer.
      throw Object.assign(new Error('a write sent to the reader'), { code: 'NOT_A_QUERY' });
    }
    if (statement.reader) {
      const rows = statement.all(values) as Array<Record<string, unknown>>;
      return { rows, changes: rows.length };
    }
    return { rows: [], changes: statement.run(values).changes };
  }

  private prepare(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text);
      if (this.statements.size >= STATEMENT_CACHE_SIZE) {
        const oldest = this.statements.keys().next().value as string;
        this.statements.delete(oldest);
      }
    } else {
      this.statements.delete(text);
    }
    this.statements.set(text, statement);
    return statement;
  }

  private abort(tx: number): void {
    if (this.openTx !== tx) return;
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.abortedTx.add(tx);
    this.endTx();
    this.drain();
  }

  private endTx(): void {
    if (this.txTimer !== null) clearTimeout(this.txTimer);
    this.txTimer = null;
    this.openTx = null;
  }

  /** Whoever waited for a transaction goes now, in order, until one of them opens another. */
  private drain(): void {
    while (this.openTx === null && this.waiting.length > 0) {
      this.handle(this.waiting.shift() as WorkerRequest);
    }
  }

  private fail(id: number, error: WireError): void {
    this.reply({ id, ok: false, error });
  }
}

function wireError(error: unknown): WireError {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    message: error instanceof Error ? error.message : String(error),
    code: typeof code === 'string' ? code : null,
  };
}

function open(options: WorkerOptions, reply: (response: WorkerResponse) => void): Connection | null {
  try {
    if (options.readonly !== true) {
      // SQLite gives the -wal and -shm files the main file's permissions: create it private.
      fs.closeSync(fs.openSync(options.file, 'a', 0o600));
      fs.chmodSync(options.file, 0o600);
    }
    const connection = new Connection(options, reply);
    const journalMode = connection.configure();
    reply({ id: 0, ready: true, journalMode });
    return connection;
  } catch (error) {
    reply({ id: 0, ok: false, error: wireError(error) });
    return null;
  }
}

function main(): void {
  const port = parentPort;
  if (port === null) throw new Error('the SQLite worker must run in a worker thread');
  const options = workerData as WorkerOptions;
  const reply = (response: WorkerResponse) => port.postMessage(response);
  if (options.readonly !== true) {
    const connection = open(options, reply);
    if (connection !== null) port.on('message', (request: WorkerRequest) => connection.receive(request));
    return;
  }
  // The reader starts beside the writer and opens the file once told: after the writer has
  // made it WAL (a read-only connection cannot, and without WAL it would block the writer).
  let connection: Connection | null = null;
  port.on('message', (request: WorkerRequest | { op: 'open' }) => {
    if (request.op === 'open') connection ??= open(options, reply);
    else if (connection !== null) connection.receive(request);
    else reply({ id: request.id, ok: false, error: { message: 'the reader is not open', code: 'SQLITE_MISUSE' } });
  });
}

main();
