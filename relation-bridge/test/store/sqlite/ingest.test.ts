import Database from 'better-sqlite3';
import { BridgeError } from '../../../src/core/errors';
import type { NewAction } from '../../../src/core/types';
import { newAction, openTempStore, type TempStore } from '../temp-store';

describe('SQLite store: ingesting actions', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(async () => {
    await temp.cleanup();
  });

  function countRows(table: 'actions' | 'deliveries'): number {
    const db = new Database(temp.file, { readonly: true });
    try {
      return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    } finally {
      db.close();
    }
  }

  it('accepts a new action and stores it as received, with its payload', async () => {
    const action = newAction();
    await expect(temp.store.ingestAction(action)).resolves.toEqual({ status: 'accepted', actionId: action.actionId });
    const stored = await temp.store.getAction(action.actionId);
    expect(stored).toMatchObject({
      actionId: action.actionId,
      webhookId: action.webhookId,
      inboxId: '12',
      inboxName: '営業窓口',
      state: 'received',
      reason: null,
      attempts: 0,
      writeAttemptedAt: null,
      occurredAt: action.occurredAt,
      receivedAt: action.receivedAt,
    });
    expect(stored?.payload).toEqual(action.payload);
  });

  it('when the same webhook-id arrives again, it answers duplicate and stores nothing new', async () => {
    const first = newAction();
    await temp.store.ingestAction(first);
    const retried = { ...first, receivedAt: first.receivedAt + 5_000 };
    await expect(temp.store.ingestAction(retried)).resolves.toEqual({ status: 'duplicate', actionId: first.actionId });
    expect(countRows('actions')).toBe(1);
    expect(countRows('deliveries')).toBe(1);
  });

  it('when a new webhook-id carries an action id seen before, it answers duplicate and remembers that delivery too', async () => {
    const first = newAction();
    await temp.store.ingestAction(first);
    const redelivered = { ...first, webhookId: 'msg_redelivered' };
    await expect(temp.store.ingestAction(redelivered)).resolves.toEqual({
      status: 'duplicate',
      actionId: first.actionId,
    });
    await expect(temp.store.ingestAction(redelivered)).resolves.toEqual({
      status: 'duplicate',
      actionId: first.actionId,
    });
    expect(countRows('actions')).toBe(1);
    expect(countRows('deliveries')).toBe(2);
    expect((await temp.store.getAction(first.actionId))?.webhookId).toBe(first.webhookId);
  });

  it('detects both kinds of duplicate inside one group commit', async () => {
    const original = newAction();
    const sameWebhook = { ...original };
    const sameAction = { ...original, webhookId: 'msg_other' };
    const unrelated = newAction();
    const results = await Promise.all(
      [original, sameWebhook, sameAction, unrelated].map((a) => temp.store.ingestAction(a)),
    );
    expect(results).toEqual([
      { status: 'accepted', actionId: original.actionId },
      { status: 'duplicate', actionId: original.actionId },
      { status: 'duplicate', actionId: original.actionId },
      { status: 'accepted', actionId: unrelated.actionId },
    ]);
    expect(temp.store.stats().commits).toBe(1);
    expect(countRows('actions')).toBe(2);
  });

  it('commits 500 concurrent ingests in one transaction, and every caller sees accepted', async () => {
    const actions = Array.from({ length: 500 }, () => newAction());
    const results = await Promise.all(actions.map((action) => temp.store.ingestAction(action)));
    expect(results.every((result) => result.status === 'accepted')).toBe(true);
    expect(temp.store.stats()).toEqual({ commits: 1, ingested: 500, largestGroup: 500 });
    expect(countRows('actions')).toBe(500);
  });

  it('commits a full group at once and the rest on the next turn', async () => {
    await temp.cleanup();
    temp = openTempStore({ maxGroupSize: 100 });
    const results = await Promise.all(Array.from({ length: 250 }, () => temp.store.ingestAction(newAction())));
    expect(results).toHaveLength(250);
    expect(temp.store.stats()).toEqual({ commits: 3, ingested: 250, largestGroup: 100 });
  });

  it('resolves each caller only after its group committed: a second connection sees the row at once', async () => {
    const action = newAction();
    await temp.store.ingestAction(action);
    const reader = new Database(temp.file, { readonly: true });
    try {
      expect(reader.prepare('SELECT state FROM actions WHERE action_id = ?').get(action.actionId)).toEqual({
        state: 'received',
      });
    } finally {
      reader.close();
    }
  });

  it('when the commit fails, every caller of the group gets the error and nothing of the group remains', async () => {
    const good = newAction();
    const broken = { ...newAction(), inboxId: null } as unknown as NewAction;
    const outcomes = await Promise.allSettled([temp.store.ingestAction(good), temp.store.ingestAction(broken)]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    for (const outcome of outcomes) {
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(BridgeError);
    }
    expect(countRows('actions')).toBe(0);
    expect(countRows('deliveries')).toBe(0);
    await expect(temp.store.ingestAction(good)).resolves.toEqual({ status: 'accepted', actionId: good.actionId });
  });

  it('when another process holds the write lock, the group fails as retryable and succeeds once the lock is gone', async () => {
    await temp.cleanup();
    temp = openTempStore({ busyTimeoutMs: 0 });
    const locker = new Database(temp.file);
    locker.prepare('BEGIN IMMEDIATE').run();
    const actions = [newAction(), newAction()];
    const outcomes = await Promise.allSettled(actions.map((action) => temp.store.ingestAction(action)));
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason as BridgeError;
      expect(reason.kind).toBe('retryable');
      expect(reason.code).toBe('store_unavailable');
    }
    locker.prepare('ROLLBACK').run();
    locker.close();
    expect(countRows('actions')).toBe(0);
    const retried = await Promise.all(actions.map((action) => temp.store.ingestAction(action)));
    expect(retried.map((result) => result.status)).toEqual(['accepted', 'accepted']);
  });

  it('after close, ingests are refused as retryable and queued ones were committed first', async () => {
    const queued = temp.store.ingestAction(newAction());
    await temp.store.close();
    await expect(queued).resolves.toMatchObject({ status: 'accepted' });
    await expect(temp.store.ingestAction(newAction())).rejects.toMatchObject({
      kind: 'retryable',
      code: 'store_unavailable',
    });
    await expect(temp.store.getAction('act_x')).rejects.toMatchObject({ code: 'store_unavailable' });
  });

  it('keeps committed actions across close and reopen', async () => {
    const actions = [newAction(), newAction()];
    await Promise.all(actions.map((action) => temp.store.ingestAction(action)));
    await temp.store.close();
    const reopened = temp.reopen();
    for (const action of actions) {
      expect((await reopened.getAction(action.actionId))?.payload).toEqual(action.payload);
    }
    await expect(reopened.ingestAction(actions[0] as NewAction)).resolves.toMatchObject({ status: 'duplicate' });
  });
});
