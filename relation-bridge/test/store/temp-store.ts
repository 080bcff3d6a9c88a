import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ActionPayload, NewAction } from '../../src/core/types';
import { SecretBox } from '../../src/crypto/secret-box';
import { createSqliteStore, type SqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite';

/** A real SQLite store in its own temporary folder; `cleanup` closes it and removes the folder. */
export interface TempStore {
  store: SqliteStore;
  dir: string;
  file: string;
  secretBox: SecretBox;
  reopen(options?: Partial<SqliteStoreOptions>): SqliteStore;
  cleanup(): Promise<void>;
}

export function openTempStore(options: Partial<SqliteStoreOptions> = {}): TempStore {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-store-'));
  const file = path.join(dir, 'bridge.db');
  const secretBox = options.secretBox ?? SecretBox.fromKey(SecretBox.generateKey());
  const opened: SqliteStore[] = [];
  const open = (extra: Partial<SqliteStoreOptions> = {}) => {
    const store = createSqliteStore({ file, secretBox, ...options, ...extra });
    opened.push(store);
    return store;
  };
  const temp: TempStore = {
    store: open(),
    dir,
    file,
    secretBox,
    reopen: (extra) => {
      temp.store = open(extra);
      return temp.store;
    },
    cleanup: async () => {
      for (const store of opened) await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return temp;
}

export function samplePayload(
  overrides: { actionId?: string; inboxId?: string; occurredAt?: string } = {},
): ActionPayload {
  return {
    type: 'ticket.action.created',
    action: {
      id: overrides.actionId ?? 'act_01J9Z8Q6',
      kind: 'message_sent',
      occurred_at: overrides.occurredAt ?? '2026-11-28T10:15:00+09:00',
      channel: 'email',
      direction: 'outbound',
      subject: 'お見積りの件',
      body: '山田様\nお世話になっております。🙇',
      operator: { id: 'u_9', name: '佐藤 花子', email: 'sato@example.co.jp' },
    },
    ticket: { id: '48213', title: 'お見積りの件', status: 'open', url: 'https://example.relationapp.jp/tickets/48213' },
    inbox: { id: overrides.inboxId ?? '12', name: '営業窓口' },
    customer: { id: 'c_77', name: '山田 太郎', emails: ['taro.yamada@example.com'], phones: ['090-1234-5678'] },
  };
}

let sequence = 0;

/** A new action with unique ids unless given; times are ms since the epoch. */
export function newAction(
  overrides: Partial<Pick<NewAction, 'actionId' | 'webhookId' | 'inboxId' | 'occurredAt' | 'receivedAt'>> = {},
): NewAction {
  sequence += 1;
  const actionId = overrides.actionId ?? `act_${sequence}`;
  const occurredAt = overrides.occurredAt ?? Date.parse('2026-11-28T01:15:00Z') + sequence;
  const inboxId = overrides.inboxId ?? '12';
  return {
    actionId,
    webhookId: overrides.webhookId ?? `msg_${sequence}`,
    inboxId,
    inboxName: '営業窓口',
    kind: 'message_sent',
    channel: 'email',
    occurredAt,
    receivedAt: overrides.receivedAt ?? occurredAt + 1_000,
    payload: samplePayload({ actionId, inboxId, occurredAt: new Date(occurredAt).toISOString() }),
  };
}
