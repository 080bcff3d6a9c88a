import Database from 'better-sqlite3';
import type { SqlExecutor } from '../../src/store/database';
import type { SqlFragment } from '../../src/store/sql';
import { createActionsRepository, type ActionsRepository } from '../../src/sync/actions-repository';
import { newAction } from './actions-fixtures';
import { openTempSqliteStore } from './databases';

/**
 * The statements the sync runs for every batch, against SQLite's query planner. A plan that
 * walks the whole backlog (or sorts it) for a page of it makes each statement cost more as the
 * backlog grows, holding SQLite's one writer, and the webhooks waiting on it, for that long:
 * with a 100k backlog, a page of classifications took half a second that way. Each statement
 * here must find its rows by key or read them in the order of an index.
 */
describe('Store: the sync’s statements on SQLite read only the rows they touch', () => {
  let plans: Map<string, string[]>;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const temp = await openTempSqliteStore();
    cleanup = temp.cleanup;
    await temp.store.close();
    const db = new Database(temp.file, { readonly: true });
    plans = new Map();
    let current = '';
    const capture = (query: SqlFragment) => {
      const { text, values } = query.render('sqlite');
      const rows = db.prepare(`EXPLAIN QUERY PLAN ${text}`).all(values) as Array<{ detail: string }>;
      plans.set(current, [...(plans.get(current) ?? []), ...rows.map((row) => row.detail)]);
    };
    const executor: SqlExecutor = {
      dialect: 'sqlite',
      all: async (query) => {
        capture(query);
        return [];
      },
      one: async (query) => {
        capture(query);
        return null;
      },
      run: async (query) => {
        capture(query);
        return 0;
      },
      batch: async (queries) => {
        queries.forEach(capture);
        return queries.map(() => ({ rows: [], changes: 0 }));
      },
      atomic: (work) => work(executor),
    };
    const actions = createActionsRepository(executor);
    const plan = async (name: string, call: (repository: ActionsRepository) => Promise<unknown>) => {
      current = name;
      await call(actions);
    };
    const ids = ['act_1', 'act_2'];
    await plan('ingest', (repo) => repo.ingest([newAction(), newAction()]));
    await plan('lockReceived', (repo) => repo.lockReceived({ receivedAt: 1, rowKey: 1 }, 200));
    await plan('applyClassifications', (repo) =>
      repo.applyClassifications(
        [{ rowKey: 1, state: 'pending', reason: null, linkId: 'lnk_1', orgId: 'org', seenLink: 'lnk_1:active' }],
        1,
      ),
    );
    await plan('orgsWithDueActions', (repo) => repo.orgsWithDueActions(1));
    await plan('claimDue', (repo) =>
      repo.claimDue({ orgId: 'org', limit: 100, leaseOwner: 'w', leaseMs: 60_000, now: 1 }),
    );
    await plan('extendLeases', (repo) => repo.extendLeases(ids, 'w', 2, 1));
    await plan('markWriteAttempted', (repo) => repo.markWriteAttempted(ids, 'w', 1, 2));
    await plan('complete', (repo) =>
      repo.complete(
        ids.map((actionId) => ({ actionId, state: 'synced' as const, reason: null })),
        'w',
        1,
      ),
    );
    await plan('purge', (repo) => repo.purge(['synced', 'failed'], 1, 500));
    db.close();
  });

  afterAll(async () => {
    await cleanup();
  });

  const planOf = (name: string) => {
    const plan = plans.get(name);
    if (plan === undefined) throw new Error(`no statement captured for ${name}`);
    return plan;
  };

  it.each(
    Object.entries({
      ingest: 'deliveries',
      lockReceived: 'actions',
      applyClassifications: 'actions',
      orgsWithDueActions: 'actions',
      claimDue: 'actions',
      extendLeases: 'actions',
      markWriteAttempted: 'actions',
      complete: 'actions',
      purge: 'actions',
    }),
  )('%s never sorts rows in a temporary B-tree, nor scans %s whole', (name, table) => {
    const plan = planOf(name);
    expect(plan.filter((step) => step.includes('TEMP B-TREE'))).toEqual([]);
    // A SCAN of the table without an index reads every row of it.
    expect(plan.filter((step) => new RegExp(`^SCAN ${table}$`).test(step))).toEqual([]);
  });

  it('reads received actions in arrival order from the index that holds only them', () => {
    expect(planOf('lockReceived')).toContain('SCAN actions USING INDEX actions_received');
  });

  it('applies a page of classifications row by row key, walking the page, not the backlog', () => {
    const plan = planOf('applyClassifications');
    expect(plan[0]).toMatch(/^SCAN json_each/);
    expect(plan).toContain('SEARCH actions USING INTEGER PRIMARY KEY (rowid=?)');
    expect(plan.some((step) => step.startsWith('SEARCH l USING INDEX links_one_per_inbox'))).toBe(true);
  });

  it.each(['extendLeases', 'markWriteAttempted', 'complete'])('%s finds its actions by id', (name) => {
    const plan = planOf(name);
    expect(
      plan.some((step) =>
        /^SEARCH actions USING (COVERING )?INDEX sqlite_autoindex_actions_1 \(action_id=\?\)/.test(step),
      ),
    ).toBe(true);
    expect(plan.some((step) => step.includes('actions_due'))).toBe(false);
  });

  it('claims due actions in the order of the index on due actions, reading only those it takes', () => {
    expect(planOf('claimDue')).toContain(
      'SEARCH actions USING INDEX actions_due (state=? AND org_id=? AND next_attempt_at<?)',
    );
  });

  it('purges by age from the index on updated_at, not by walking every finished action', () => {
    // Finished actions are most of the table; those old enough to purge are few, or none.
    expect(planOf('purge')).toContain('SEARCH actions USING INDEX actions_updated (updated_at<?)');
  });

  it('finds the orgs with due actions one index seek per org', () => {
    const plan = planOf('orgsWithDueActions');
    expect(plan.filter((step) => step.includes('actions') && !step.includes('USING'))).toEqual([]);
    expect(plan.some((step) => step.includes('COVERING INDEX actions_due (state=? AND org_id>?)'))).toBe(true);
  });
});
