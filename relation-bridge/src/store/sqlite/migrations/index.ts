import { sql as initial } from './001_initial';
import { sql as consoleSchema } from './002_console';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Applied in order, each in its own transaction, and recorded in `schema_migrations`.
 * Embedded as TypeScript so that every way of running the bridge (tsx, ts-jest, tsc
 * output) ships them. Never edit an applied migration: add the next number.
 */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', sql: initial },
  { version: 2, name: 'console', sql: consoleSchema },
];
