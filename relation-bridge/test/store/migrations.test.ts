import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { SecretBox } from '../../src/crypto/secret-box';
import { bridgeStoreOn } from '../../src/repositories';
import { migrate } from '../../src/store/migrate';
import { openDatabase } from '../../src/store/open';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/migrations';
import { openPostgresDatabase } from '../../src/store/postgres/database';
import { openSqliteDatabase } from '../../src/store/sqlite/database';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations';
import { sql } from '../../src/store/sql';
import { createTestDatabase, DIALECTS, type TestDatabase } from './databases';

const NEWEST = Math.max(...SQLITE_MIGRATIONS.map((migration) => migration.version));

describe('Store: schema and migrations', () => {
  it('numbers the migrations alike on both databases: SQLite from 1 without gaps, PostgreSQL up to the same newest', () => {
    expect(SQLITE_MIGRATIONS.map((migration) => migration.version)).toEqual(
      SQLITE_MIGRATIONS.map((_, index) => index + 1),
    );
    expect(Math.max(...POSTGRES_MIGRATIONS.map((migration) => migration.version))).toBe(NEWEST);
  });

  describe.each(DIALECTS)('on %s', (dialect) => {
    let database: TestDatabase;
    beforeEach(async () => {
      database = await createTestDatabase(dialect);
    });
    afterEach(async () => {
      await database.drop();
    });

    const versions = async (store: Awaited<ReturnType<TestDatabase['open']>>) =>
      (await store.database.all<{ version: number }>(sql`SELECT version FROM schema_migrations ORDER BY version`)).map(
        (row) => row.version,
      );

    it('applies nothing when the database is already current, however often it is opened', async () => {
      const first = await database.open();
      const applied = await versions(first);
      expect(applied.at(-1)).toBe(NEWEST);
      await database.open();
      const third = await database.open();
      expect(await versions(third)).toEqual(applied);
      expect(await migrate(third.database, dialect === 'sqlite' ? SQLITE_MIGRATIONS : POSTGRES_MIGRATIONS)).toEqual([]);
    });

    it('applies each migration once when several bridges start on the database together', async () => {
      const opened = await Promise.all(Array.from({ length: 4 }, () => database.open()));
      const applied = await versions(opened[0] as Awaited<ReturnType<TestDatabase['open']>>);
      expect(new Set(applied).size).toBe(applied.length);
      expect(applied.at(-1)).toBe(NEWEST);
    });

    it('refuses to open a database migrated by a newer bridge, with a clear error', async () => {
      const store = await database.open();
      await store.database.run(
        sql`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${NEWEST + 1}, 'from_the_future', 0)`,
      );
      await expect(openDatabase({ databaseUrl: database.databaseUrl, dataDir: database.dataDir })).rejects.toThrow(
        /newer than this bridge knows/,
      );
    });
  });

  describe('SQLite specifics', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-migrate-'));
    });
    afterEach(() => {
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('upgrades a database of the first release (schema 2), keeping its links and authorisations', async () => {
      const file = path.join(dir, 'bridge.db');
      const old = await openSqliteDatabase({ file });
      await migrate(old, SQLITE_MIGRATIONS.slice(0, 2));
      const secretBox = SecretBox.fromKey(SecretBox.generateKey());
      await old.script(`
        INSERT INTO salesforce_auths (id, org_id, user_id, username, display_name, instance_url, login_url, environment,
                                      access_token_enc, refresh_token_enc, scope, issued_at, created_at, updated_at)
        VALUES ('auth_old', '00D1', '0051', 'admin@example.co.jp', NULL, 'https://x.my.salesforce.com',
                'https://login.salesforce.com', 'production', NULL, '${secretBox.encrypt('refresh')}', 'api', 1, 1, 1);
        INSERT INTO links (id, inbox_id, inbox_name, auth_id, org_id, instance_url, environment, authorized_user_id,
                           authorized_username, target, default_owner_id, status, status_reason, status_changed_at,
                           created_at, updated_at, deleted_at)
        VALUES ('lnk_old', '12', '営業窓口', 'auth_old', '00D1', 'https://x.my.salesforce.com', 'production', '0051',
                'admin@example.co.jp', 'contact', '0051', 'active', NULL, 1, 1, 1, NULL);
        INSERT INTO oauth_pending (state, code_verifier_enc, purpose, inbox_id, environment, login_url, target,
                                   created_at, expires_at)
        VALUES ('in-flight', 'x', 'link', '12', 'production', 'https://login.salesforce.com', 'contact', 1, 2);
      `);
      await old.close();

      const upgraded = bridgeStoreOn(await openDatabase({ dataDir: dir }), secretBox);
      try {
        expect(await upgraded.links.getLink('lnk_old')).toMatchObject({ inboxId: '12', version: 1, status: 'active' });
        expect(await upgraded.links.getAuth('auth_old')).toMatchObject({ refreshToken: 'refresh', createdBy: null });
        expect(await upgraded.oauthFlows.peek('in-flight', 0)).toBeNull();
        expect(
          (await upgraded.database.all<{ version: number }>(sql`SELECT version FROM schema_migrations`)).length,
        ).toBe(NEWEST);
      } finally {
        await upgraded.close();
      }
    });

    it('uses WAL journaling, which persists in the file, and indexes the hot paths', async () => {
      const database = await openDatabase({ dataDir: dir });
      await database.close();
      const db = new Sqlite(path.join(dir, 'bridge.db'), { readonly: true });
      try {
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
        const plan = (text: string) =>
          JSON.stringify(db.prepare(`EXPLAIN QUERY PLAN ${text}`).all({ org: 'o', now: 0, inbox: 'i', webhook: 'w' }));
        expect(
          plan("SELECT action_id FROM actions WHERE state = 'pending' AND org_id = @org AND next_attempt_at <= @now"),
        ).toMatch(/actions_due/);
        expect(plan('SELECT * FROM actions WHERE inbox_id = @inbox ORDER BY updated_at DESC')).toMatch(
          /actions_inbox_updated/,
        );
        expect(plan('SELECT action_id FROM deliveries WHERE webhook_id = @webhook')).toMatch(
          /PRIMARY KEY|sqlite_autoindex_deliveries/,
        );
      } finally {
        db.close();
      }
    });

    it('keeps the data private whatever the umask: the folder 0700, the database and its WAL files 0600', async () => {
      const folder = path.join(dir, 'data');
      const previous = process.umask(0o022);
      try {
        const database = await openDatabase({ dataDir: folder });
        await database.run(sql`INSERT INTO inboxes (inbox_id, name, registered_at) VALUES ('12', 'x', 1)`);
        expect(fs.statSync(folder).mode & 0o777).toBe(0o700);
        for (const name of ['bridge.db', 'bridge.db-wal', 'bridge.db-shm']) {
          expect({ name, mode: (fs.statSync(path.join(folder, name)).mode & 0o777).toString(8) }).toEqual({
            name,
            mode: '600',
          });
        }
        await database.close();
      } finally {
        process.umask(previous);
      }
    });

    it('makes an existing world-readable data folder and database private', async () => {
      const folder = path.join(dir, 'open');
      fs.mkdirSync(folder, { mode: 0o755 });
      fs.chmodSync(folder, 0o755);
      fs.writeFileSync(path.join(folder, 'bridge.db'), '');
      fs.chmodSync(path.join(folder, 'bridge.db'), 0o644);
      const database = await openDatabase({ dataDir: folder });
      await database.close();
      expect(fs.statSync(folder).mode & 0o777).toBe(0o700);
      expect(fs.statSync(path.join(folder, 'bridge.db')).mode & 0o777).toBe(0o600);
    });
  });

  const postgres = DIALECTS.includes('postgres') ? it : it.skip;
  postgres('PostgreSQL: refuses a URL it cannot reach with a retryable store error', async () => {
    await expect(openPostgresDatabase({ url: 'postgres://postgres@127.0.0.1:1/nowhere' })).rejects.toMatchObject({
      kind: 'retryable',
      code: 'store_unavailable',
    });
  });
});
