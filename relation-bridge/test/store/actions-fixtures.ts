import type { ActionPayload } from '../../src/core/types';
import type { IncomingAction } from '../../src/sync/actions-repository';
import { bodyHashOf } from './databases';

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

/** A new action with unique ids unless given, as intake commits it; times are ms since the epoch. */
export function newAction(
  overrides: Partial<Pick<IncomingAction, 'actionId' | 'webhookId' | 'inboxId' | 'occurredAt' | 'receivedAt'>> = {},
): IncomingAction {
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
    bodyHash: bodyHashOf(actionId),
  };
}
