import type { Database, SqlExecutor } from './database';

/**
 * Repositories with a unit of work. Read and change through the repositories directly
 * (each call atomic on its own), or run several calls as one transaction:
 *
 *   await store.transaction(async (tx) => {
 *     const auth = await tx.links.saveAuth(…);
 *     await tx.links.createLink({ authId: auth.id, … });
 *     await tx.audit.add(…);
 *   });
 *
 * A feature declares the repositories it uses (`Store<{ links: LinksRepository }>`); the
 * bridge's store, which has them all, can be given wherever a narrower one is asked for.
 */
export type Store<R> = R & {
  transaction<T>(work: (tx: R) => Promise<T>): Promise<T>;
  /**
   * Whether an open transaction holds back every other write (SQLite: one writer, the
   * webhooks' commits waiting behind it) rather than only the rows it locked (PostgreSQL).
   */
  readonly transactionsHoldAllWrites: boolean;
};

export function createStore<R extends object>(db: Database, build: (executor: SqlExecutor) => R): Store<R> {
  const repositories = build(db);
  return {
    ...repositories,
    transaction: <T>(work: (tx: R) => Promise<T>) => db.transaction((tx) => work(build(tx))),
    transactionsHoldAllWrites: db.dialect === 'sqlite',
  };
}
