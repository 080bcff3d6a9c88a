import Database from 'better-sqlite3';
import { MIGRATIONS, migrate } from '../../../src/store/sqlite';
import { openTempStore, type TempStore } from '../temp-store';

describe('SQLite store: schema and migrations', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(async () => {
    await temp.cleanup();
  });

  const appliedVersions = () => {
    const db = new Database(temp.file, { readonly: true });
    try {
      return db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    } finally {
      db.close();
    }
  };

  it('records every migration once, numbered from 1 without gaps', () => {
    expect(MIGRATIONS.map((migration) => migration.version)).toEqual(MIGRATIONS.map((_, index) => index + 1));
    expect(appliedVersions()).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })));
  });

  it('applies nothing when the database is already current, however often it is opened', async () => {
    await temp.store.close();
    temp.reopen();
    await temp.store.close();
    temp.reopen();
    expect(appliedVersions()).toHaveLength(MIGRATIONS.length);

    const db = new Database(temp.file);
    try {
      expect(migrate(db)).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('refuses to open a database migrated by a newer bridge, with a clear error', async () => {
    await temp.store.close();
    const db = new Database(temp.file);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      MIGRATIONS.length + 1,
      'from_the_future',
      0,
    );
    db.close();
    expect(() => temp.reopen()).toThrow(/newer than this bridge knows/);
  });

  it('uses WAL journaling, which persists in the file', () => {
    const db = new Database(temp.file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('has indexes for the hot paths', () => {
    const db = new Database(temp.file, { readonly: true });
    try {
      const plan = (sql: string) =>
        JSON.stringify(db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ org: 'o', now: 0, inbox: 'i', webhook: 'w' }));
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
});
