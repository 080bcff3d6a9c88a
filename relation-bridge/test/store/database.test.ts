import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Database } from '../../src/store/database';
import { migrate } from '../../src/store/migrate';
import { openSqliteDatabase } from '../../src/store/sqlite/database';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations';
import { sql } from '../../src/store/sql';
import { createTestDatabase, DIALECTS, type TestDatabase } from './databases';

/** A query that keeps the database busy for a while: counting through a few million rows. */
const BUSY = sql`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT COUNT(*) AS n FROM c`;

describe('Store: the SQL layer on both databases', () => {
  describe.each(DIALECTS)('on %s', (dialect) => {
    let database: TestDatabase;
    let db: Database;
    beforeAll(async () => {
      database = await createTestDatabase(dialect);
      db = (await database.open()).database;
    });
    afterAll(async () => {
      await database.drop();
    });
    beforeEach(async () => {
      await db.run(sql`DELETE FROM inboxes`);
    });

    const inboxCount = async () => Number((await db.one<{ n: number }>(sql`SELECT COUNT(*) AS n FROM inboxes`))?.n);
    const insert = (tx: Pick<Database, 'run'>, id: string) =>
      tx.run(sql`INSERT INTO inboxes (inbox_id, name, registered_at) VALUES (${id}, ${'受信箱'}, ${1})`);

    it('commits every statement of a unit of work together', async () => {
      await db.transaction(async (tx) => {
        await insert(tx, 'a');
        await insert(tx, 'b');
      });
      expect(await inboxCount()).toBe(2);
    });

    it('rolls the whole unit of work back when it fails part way, and says why', async () => {
      await expect(
        db.transaction(async (tx) => {
          await insert(tx, 'a');
          await insert(tx, 'a');
        }),
      ).rejects.toMatchObject({ code: 'store_constraint', details: { constraint: 'unique' } });
      await expect(
        db.transaction(async (tx) => {
          await insert(tx, 'b');
          throw new Error('the caller changed its mind');
        }),
      ).rejects.toThrow('the caller changed its mind');
      expect(await inboxCount()).toBe(0);
    });

    it('lets a call on the database made inside a unit of work join it instead of waiting for it', async () => {
      await db.transaction(async () => {
        await insert(db, 'joined');
        expect(await inboxCount()).toBe(1);
      });
      expect(await inboxCount()).toBe(1);
    });

    it('isolates an open unit of work: a query outside it reads what was committed, without waiting', async () => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const work = db.transaction(async (tx) => {
        await insert(tx, 'inside');
        await held;
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      try {
        // PostgreSQL: another connection of the pool. SQLite: the reader's connection, on a
        // WAL snapshot, while the writer's thread is held by the open transaction.
        expect(await inboxCount()).toBe(0);
      } finally {
        release();
        await work;
      }
      expect(await inboxCount()).toBe(1);
    });

    it('runs a batch as one transaction', async () => {
      await expect(
        db.batch([
          sql`INSERT INTO inboxes (inbox_id, name, registered_at) VALUES ('x', 'x', 1)`,
          sql`INSERT INTO inboxes (inbox_id, name, registered_at) VALUES ('x', 'x', 1)`,
        ]),
      ).rejects.toMatchObject({ code: 'store_constraint' });
      expect(await inboxCount()).toBe(0);
    });

    it('does not hold the event loop while the database works', async () => {
      let turns = 0;
      let counting = true;
      const tick = () => {
        turns += 1;
        if (counting) setImmediate(tick);
      };
      setImmediate(tick);
      const result = await db.one<{ n: number }>(BUSY);
      counting = false;
      expect(Number(result?.n)).toBe(3_000_000);
      // The query ran elsewhere (SQLite's own thread, or PostgreSQL's process) while this
      // thread went on turning its event loop.
      expect(turns).toBeGreaterThan(10);
    });
  });

  describe('SQLite: its connection thread', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-sqlite-'));
    });
    afterEach(() => {
      fs.rmSync(dir, { recursive: true, force: true });
    });

    /** A migrated database in the test's folder, closed after `work`. */
    const withDatabase = async (options: { txTimeoutMs?: number }, work: (db: Database) => Promise<void>) => {
      const db = await openSqliteDatabase({ file: path.join(dir, 'bridge.db'), ...options });
      try {
        await migrate(db, SQLITE_MIGRATIONS);
        await work(db);
      } finally {
        await db.close();
      }
    };

    it('rolls back a unit of work left open too long, and serves everyone else afterwards', async () => {
      await withDatabase({ txTimeoutMs: 200 }, async (db) => {
        const abandoned = db.transaction(async (tx) => {
          await tx.run(sql`INSERT INTO inboxes (inbox_id, name, registered_at) VALUES ('lost', 'x', 1)`);
          await new Promise((resolve) => setTimeout(resolve, 600));
          await tx.run(sql`INSERT INTO inboxes (inbox_id, name, registered_at) VALUES ('late', 'x', 1)`);
        });
        const meanwhile = db.run(sql`INSERT INTO inboxes (inbox_id, name, registered_at) VALUES ('other', 'x', 1)`);
        await expect(meanwhile).resolves.toBe(1);
        await expect(abandoned).rejects.toMatchObject({ kind: 'retryable', code: 'store_unavailable' });
        expect(await db.all(sql`SELECT inbox_id FROM inboxes ORDER BY inbox_id`)).toEqual([{ inbox_id: 'other' }]);
      });
    });

    it('answers queries on a reader of its own, so that a long one never holds back a commit', async () => {
      await withDatabase({}, async (db) => {
        const order: string[] = [];
        const query = db.one(BUSY).then(() => order.push('query'));
        await new Promise((resolve) => setTimeout(resolve, 20));
        await db.run(sql`INSERT INTO inboxes (inbox_id, name, registered_at) VALUES ('quick', 'x', 1)`);
        order.push('write');
        await query;
        expect(order).toEqual(['write', 'query']);
        // A query made after the commit reads it.
        expect(await db.all(sql`SELECT inbox_id FROM inboxes`)).toEqual([{ inbox_id: 'quick' }]);
      });
    });

    it('makes a write outside a unit of work wait for it (SQLite has one writer), then applies it', async () => {
      await withDatabase({}, async (db) => {
        let release!: () => void;
        const held = new Promise<void>((resolve) => {
          release = resolve;
        });
        const work = db.transaction(async (tx) => {
          await tx.run(sql`INSERT INTO inboxes (inbox_id, name, registered_at) VALUES ('first', 'x', 1)`);
          await held;
        });
        await new Promise((resolve) => setTimeout(resolve, 20));
        let answered = false;
        const outside = db
          .run(sql`INSERT INTO inboxes (inbox_id, name, registered_at) VALUES ('second', 'x', 1)`)
          .then((changes) => {
            answered = true;
            return changes;
          });
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(answered).toBe(false);
        release();
        await work;
        await expect(outside).resolves.toBe(1);
        expect(await db.all(sql`SELECT inbox_id FROM inboxes ORDER BY inbox_id`)).toHaveLength(2);
      });
    });

    it('answers every call with a retryable error once closed, instead of hanging', async () => {
      const db = await openSqliteDatabase({ file: path.join(dir, 'bridge.db') });
      await db.close();
      await expect(db.one(sql`SELECT 1 AS ok`)).rejects.toMatchObject({ kind: 'retryable', code: 'store_unavailable' });
      await expect(db.ping()).rejects.toMatchObject({ code: 'store_unavailable' });
    });
  });
});
