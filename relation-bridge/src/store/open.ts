import path from 'node:path';
import type { Logger } from '../logging';
import type { Database } from './database';
import { migrate } from './migrate';
import { openPostgresDatabase } from './postgres/database';
import { POSTGRES_MIGRATIONS } from './postgres/migrations';
import { openSqliteDatabase } from './sqlite/database';
import { SQLITE_MIGRATIONS } from './sqlite/migrations';

export interface DatabaseSettings {
  /** `postgres://…` selects PostgreSQL; absent, the embedded SQLite file in `dataDir`. */
  databaseUrl?: string | undefined;
  /** PostgreSQL connections this instance keeps. */
  poolSize?: number;
  dataDir: string;
  logger?: Logger;
}

/** Opens the bridge's database and brings its schema up to date. */
export async function openDatabase(settings: DatabaseSettings): Promise<Database> {
  const { logger } = settings;
  const db =
    settings.databaseUrl === undefined
      ? await openSqliteDatabase({ file: path.join(settings.dataDir, 'bridge.db'), ...(logger ? { logger } : {}) })
      : await openPostgresDatabase({
          url: settings.databaseUrl,
          ...(settings.poolSize === undefined ? {} : { poolSize: settings.poolSize }),
          ...(logger ? { logger } : {}),
        });
  try {
    await migrate(db, db.dialect === 'sqlite' ? SQLITE_MIGRATIONS : POSTGRES_MIGRATIONS, logger);
  } catch (error) {
    await db.close();
    throw error;
  }
  logger?.info({ database: db.description }, 'store: open');
  return db;
}
