import type Database from 'better-sqlite3';
import { BridgeError } from '../../core/errors';
import type { Logger } from '../../logging';
import { MIGRATIONS, type Migration } from './migrations';

/**
 * Brings the database to the newest schema this code knows. Each migration runs in its
 * own IMMEDIATE transaction that re-reads the applied versions first, so two processes
 * starting on one file never apply a migration twice.
 *
 * @returns the versions applied by this call (empty when the schema was current).
 * @throws BridgeError `schema_too_new` when the database was migrated by a newer bridge.
 */
export function migrate(db: Database.Database, logger?: Logger): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const newestKnown = MIGRATIONS.reduce((newest, migration) => Math.max(newest, migration.version), 0);
  const currentVersion = db.prepare<[], { version: number | null }>(
    'SELECT MAX(version) AS version FROM schema_migrations',
  );
  const record = db.prepare<[number, string, number]>(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );

  const applyIfNeeded = db.transaction((migration: Migration): boolean => {
    const current = currentVersion.get()?.version ?? 0;
    if (current > newestKnown) {
      throw new BridgeError(
        'permanent',
        `the database is at schema version ${current}, newer than this bridge knows (${newestKnown}): run a bridge at least as new as the one that last opened it`,
        { code: 'schema_too_new' },
      );
    }
    if (migration.version <= current) return false;
    db.exec(migration.sql);
    record.run(migration.version, migration.name, Date.now());
    return true;
  });

  const applied: number[] = [];
  const ordered = [...MIGRATIONS].sort((a, b) => a.version - b.version);
  for (const migration of ordered) {
    if (applyIfNeeded.immediate(migration)) {
      applied.push(migration.version);
      logger?.info({ version: migration.version, name: migration.name }, 'store: applied migration');
    }
  }
  return applied;
}
