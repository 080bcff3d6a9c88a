import { randomUUID } from 'node:crypto';
import type { ActionPayload } from '../../src/core/types';
import { signWebhook } from '../../src/intake/signature';

export const TEST_SECRET = `whsec_${Buffer.from('relation-bridge-test-secret-32bytes!').toString('base64')}`;

let sequence = 0;

export interface PayloadOptions {
  actionId?: string;
  kind?: string;
  channel?: string;
  direction?: 'inbound' | 'outbound' | 'internal';
  occurredAt?: Date;
  inboxId?: string;
  inboxName?: string;
  emails?: string[];
  phones?: string[];
  operatorEmail?: string | null;
  title?: string;
  body?: string;
  callSeconds?: number;
}

/** A valid webhook body (contract v1); occurred now unless told otherwise. */
export function actionPayload(options: PayloadOptions = {}): ActionPayload {
  sequence += 1;
  const actionId = options.actionId ?? `act_${sequence}_${randomUUID().slice(0, 8)}`;
  const channel = options.channel ?? 'email';
  return {
    type: 'ticket.action.created',
    action: {
      id: actionId,
      kind: options.kind ?? 'message_received',
      occurred_at: (options.occurredAt ?? new Date()).toISOString(),
      channel,
      direction: options.direction ?? 'inbound',
      subject: options.title ?? 'お問い合わせ',
      body: options.body ?? `本文 ${actionId}`,
      ...(options.operatorEmail === null
        ? {}
        : {
            operator: {
              id: 'u_9',
              name: '佐藤 花子',
              email: options.operatorEmail ?? 'hanako.sato@relation-demo.example.jp',
            },
          }),
      ...(options.callSeconds === undefined
        ? {}
        : { call: { duration_seconds: options.callSeconds, phone: options.phones?.[0] ?? null } }),
    },
    ticket: {
      id: `T-${sequence}`,
      title: options.title ?? 'お問い合わせ',
      status: 'open',
      url: `https://example.relationapp.jp/tickets/T-${sequence}`,
    },
    inbox: { id: options.inboxId ?? '12', name: options.inboxName ?? '営業窓口' },
    customer: {
      id: `c_${sequence}`,
      name: '山田 太郎',
      emails: options.emails ?? ['taro.yamada@example.co.jp'],
      phones: options.phones ?? [],
    },
  };
}

/** POSTs a signed webhook as a helpdesk would. */
export async function sendWebhook(
  baseUrl: string,
  payload: ActionPayload,
  options: { webhookId?: string; secret?: string } = {},
): Promise<{ status: number; body: any }> {
  const body = JSON.stringify(payload);
  const headers = signWebhook({
    secret: options.secret ?? TEST_SECRET,
    id: options.webhookId ?? `msg_${randomUUID()}`,
    timestamp: Math.floor(Date.now() / 1000),
    body,
  });
  const response = await fetch(`${baseUrl}/webhooks/relation`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: response.status, body: await response.json() };
}

/** Sends many webhooks with bounded concurrency; every one must be accepted. */
export async function sendAll(baseUrl: string, payloads: ActionPayload[], concurrency = 16): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < payloads.length) {
      const payload = payloads[next++] as ActionPayload;
      const answer = await sendWebhook(baseUrl, payload);
      if (answer.status !== 202) throw new Error(`webhook answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
