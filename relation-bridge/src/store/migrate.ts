import { BridgeError } from '../core/errors';
import type { Logger } from '../logging';
import type { Database } from './database';
import { sql } from './sql';

/**
 * One numbered schema change. The same number means the same logical schema on SQLite and
 * PostgreSQL; PostgreSQL support begins at version 3, whose migration creates everything.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Brings the database to the newest schema this code knows. Each migration runs in its own
 * transaction that first takes the migration lock (SQLite's write lock; a PostgreSQL
 * advisory lock) and re-reads the applied versions, so bridges starting together on one
 * database never apply a migration twice.
 *
 * @returns the versions applied by this call (empty when the schema was current).
 * @throws BridgeError `schema_too_new` when the database was migrated by a newer bridge.
 */
export async function migrate(db: Database, migrations: readonly Migration[], logger?: Logger): Promise<number[]> {
  const newestKnown = migrations.reduce((newest, migration) => Math.max(newest, migration.version), 0);
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  const applied: number[] = [];
  for (const migration of ordered) {
    const didApply = await db.transaction(async (tx) => {
      await tx.run(sql.dialect({ sqlite: 'SELECT 1', postgres: 'SELECT pg_advisory_xact_lock(72110551)' }));
      await db.script(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
           version    INTEGER PRIMARY KEY,
           name       TEXT    NOT NULL,
           applied_at BIGINT  NOT NULL
         )`,
        tx,
      );
      const row = await tx.one<{ version: number | null }>(sql`SELECT MAX(version) AS version FROM schema_migrations`);
      const current = row?.version ?? 0;
      if (current > newestKnown) {
        throw new BridgeError(
          'permanent',
          `the database is at schema version ${current}, newer than this bridge knows (${newestKnown}): run a bridge at least as new as the one that last migrated it`,
          { code: 'schema_too_new' },
        );
      }
      if (migration.version <= current) return false;
      await db.script(migration.sql, tx);
      await tx.run(
        sql`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${migration.version}, ${migration.name}, ${Date.now()})`,
      );
      return true;
    });
    if (didApply) {
      applied.push(migration.version);
      logger?.info({ version: migration.version, name: migration.name }, 'store: applied migration');
    }
  }
  return applied;
}

/** The schema version of a database (0 when none was applied). */
export async function schemaVersion(db: Database): Promise<number> {
  try {
    return (
      (await db.one<{ version: number | null }>(sql`SELECT MAX(version) AS version FROM schema_migrations`))?.version ??
      0
    );
  } catch {
    return 0;
  }
}
