export { createSqliteStore, type SqliteStore, type SqliteStoreOptions, type SqliteStoreStats } from './sqlite-store';
export { migrate } from './migrate';
export { MIGRATIONS, type Migration } from './migrations';
