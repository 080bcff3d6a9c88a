import type { Migration } from '../../migrate';
import { sql as initial } from './003_initial';

/**
 * PostgreSQL's migrations, numbered like SQLite's: version 3 creates the schema that SQLite
 * reaches through versions 1 to 3. Every later change gets the next number in both lists.
 */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [{ version: 3, name: 'initial', sql: initial }];
