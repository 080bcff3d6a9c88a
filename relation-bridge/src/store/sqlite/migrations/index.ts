import type { Migration } from '../../migrate';
import { sql as initial } from './001_initial';
import { sql as consoleSchema } from './002_console';
import { sql as storeV2 } from './003_store_v2';

/**
 * Applied in order, each in its own transaction, and recorded in `schema_migrations`.
 * Embedded as TypeScript so that every way of running the bridge (tsx, ts-jest, tsc
 * output) ships them. Never edit an applied migration: add the next number, here and in
 * `postgres/migrations` alike.
 */
export const SQLITE_MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', sql: initial },
  { version: 2, name: 'console', sql: consoleSchema },
  { version: 3, name: 'store_v2', sql: storeV2 },
];
