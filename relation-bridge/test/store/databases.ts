import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { SecretBox } from '../../src/crypto/secret-box';
import { type BridgeStore, bridgeStoreOn } from '../../src/repositories';
import type { Database } from '../../src/store/database';
import { migrate } from '../../src/store/migrate';
import { openDatabase } from '../../src/store/open';
import { openSqliteDatabase, type SqliteOptions } from '../../src/store/sqlite/database';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations';
import { sql } from '../../src/store/sql';

export type Dialect = 'sqlite' | 'postgres';

/** The admin URL of the PostgreSQL that answered at the start of the run (global-setup.js), or null. */
export function postgresAdminUrl(): string | null {
  const url = process.env.BRIDGE_TEST_POSTGRES;
  return url === undefined || url === '' ? null : url;
}

/** The databases the store contract runs on here: SQLite always, PostgreSQL when it answers. */
export const DIALECTS: Dialect[] = postgresAdminUrl() === null ? ['sqlite'] : ['sqlite', 'postgres'];

/** A database of its own for one test file: a temporary SQLite folder, or a PostgreSQL database made for it. */
export interface TestDatabase {
  dialect: Dialect;
  /** SQLite: the data folder; PostgreSQL: the connection URL. */
  location: string;
  /** BRIDGE_DATABASE_URL for a bridge on this database (undefined for SQLite). */
  databaseUrl: string | undefined;
  dataDir: string;
  /** BRIDGE_ENCRYPTION_KEY for a bridge on this database. */
  encryptionKey: string;
  secretBox: SecretBox;
  /** Opens (and migrates) a store on it; every store opened is closed by `drop`. */
  open(): Promise<BridgeStore>;
  /** Closes every store opened and removes the database. */
  drop(): Promise<void>;
}

export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `bridge-${dialect}-`));
  const encryptionKey = SecretBox.generateKey();
  const secretBox = SecretBox.fromKey(encryptionKey);
  const opened: BridgeStore[] = [];
  let databaseUrl: string | undefined;
  let name: string | null = null;
  const admin = postgresAdminUrl();
  if (dialect === 'postgres') {
    if (admin === null) throw new Error('PostgreSQL is not available');
    name = `bridge_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    await adminQuery(admin, `CREATE DATABASE ${name}`);
    const url = new URL(admin);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
  }
  return {
    dialect,
    location: databaseUrl ?? dataDir,
    databaseUrl,
    dataDir,
    encryptionKey,
    secretBox,
    async open() {
      const database = await openDatabase({ databaseUrl, dataDir });
      const store = bridgeStoreOn(database, secretBox);
      opened.push(store);
      return store;
    },
    async drop() {
      for (const store of opened) await store.close().catch(() => undefined);
      if (name !== null && admin !== null) await adminQuery(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

const TABLES = [
  'deliveries',
  'actions',
  'links',
  'salesforce_auths',
  'oauth_flows',
  'org_state',
  'api_calls',
  'leases',
  'console_sessions',
  'inbox_roles',
  'inboxes',
  'console_users',
  'login_failures',
  'link_audit',
  'webhook_secrets',
  'pending_links',
];

/** Empties every table, so that the tests of one file share a database without sharing rows. */
export async function emptyDatabase(database: Database): Promise<void> {
  await database.script(
    database.dialect === 'postgres'
      ? `TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY CASCADE`
      : TABLES.map((table) => `DELETE FROM ${table};`).join('\n'),
  );
}

/** Rows in a table. */
export async function countRows(database: Database, table: string): Promise<number> {
  const row = await database.one<{ count: number }>(sql`SELECT COUNT(*) AS count FROM ${sql.raw(table)}`);
  return Number(row?.count ?? 0);
}

/**
 * Runs `body` once per database of DIALECTS, each in a describe of its own with a fresh
 * database for the file and empty tables for every test.
 */
export function describeEachStore(
  title: string,
  body: (context: { store(): BridgeStore; database(): TestDatabase }) => void,
): void {
  describe.each(DIALECTS)(`${title} (%s)`, (dialect) => {
    let database: TestDatabase;
    let store: BridgeStore;
    beforeAll(async () => {
      database = await createTestDatabase(dialect);
      store = await database.open();
    });
    beforeEach(async () => {
      await emptyDatabase(store.database);
    });
    afterAll(async () => {
      await database?.drop();
    });
    body({ store: () => store, database: () => database });
  });
}

export function bodyHashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/** A SQLite store in a folder of its own, with the SQLite options a test needs (busy timeout, …). */
export async function openTempSqliteStore(
  options: Partial<SqliteOptions> = {},
): Promise<{ store: BridgeStore; file: string; dir: string; cleanup(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-sqlite-'));
  const file = path.join(dir, 'bridge.db');
  const database = await openSqliteDatabase({ file, ...options });
  await migrate(database, SQLITE_MIGRATIONS);
  const store = bridgeStoreOn(database, SecretBox.fromKey(SecretBox.generateKey()));
  return {
    store,
    file,
    dir,
    async cleanup() {
      await store.close().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
