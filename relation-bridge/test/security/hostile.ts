import { randomUUID } from 'node:crypto';
import type { ActionPayload } from '../../src/core/types';
import { signWebhook } from '../../src/intake/signature';
import { TEST_SECRET } from '../helpers/payloads';

/** Shared pieces of the hostile-input tests: full payloads, field paths, signed raw posts, bounded concurrency. */

/** Every text field of the webhook body (contract v1), as the 400's `details[].path` names it. */
export const TEXT_FIELDS = [
  'action.id',
  'action.kind',
  'action.channel',
  'action.subject',
  'action.body',
  'action.operator.id',
  'action.operator.name',
  'action.operator.email',
  'action.call.phone',
  'ticket.id',
  'ticket.title',
  'ticket.status',
  'ticket.url',
  'inbox.id',
  'inbox.name',
  'customer.id',
  'customer.name',
  'customer.code',
  'customer.emails.0',
  'customer.phones.0',
] as const;

/** A valid body with every optional field present, so that any field can be spoiled. */
export function fullPayload(actionId = `act_${randomUUID()}`, inboxId = '12'): ActionPayload {
  return {
    type: 'ticket.action.created',
    action: {
      id: actionId,
      kind: 'call_memo',
      occurred_at: new Date().toISOString(),
      channel: 'call_memo',
      direction: 'inbound',
      subject: 'お見積りの件',
      body: '山田様\nお世話になっております。',
      operator: { id: 'u_9', name: '佐藤 花子', email: 'sato@example.co.jp' },
      call: { duration_seconds: 312, phone: '03-1234-5678' },
    },
    ticket: { id: '48213', title: 'お見積りの件', status: 'open', url: 'https://example.relationapp.jp/tickets/48213' },
    inbox: { id: inboxId, name: '営業窓口' },
    customer: {
      id: 'c_77',
      name: '山田 太郎',
      code: 'CUST-001',
      emails: ['taro.yamada@example.com'],
      phones: ['090-1234-5678'],
    },
  };
}

/** Replaces the value at a dot path (array indexes as segments). */
export function setPath(target: unknown, dotPath: string, value: unknown): void {
  const keys = dotPath.split('.');
  let node = target as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys.at(-1) as string] = value;
}

export interface RawAnswer {
  status: number;
  text: string;
  headers: Headers;
  json: any;
}

/** POSTs bytes to the webhook, signed (or not) as a sender would, with header overrides. */
export async function postWebhook(
  baseUrl: string,
  body: string | Buffer,
  options: {
    webhookId?: string;
    secret?: string;
    signed?: boolean;
    headers?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<RawAnswer> {
  const signed =
    options.signed === false
      ? {}
      : signWebhook({
          secret: options.secret ?? TEST_SECRET,
          id: options.webhookId ?? `msg_${randomUUID()}`,
          timestamp: Math.floor(Date.now() / 1000),
          body,
        });
  const response = await fetch(`${baseUrl}/webhooks/relation`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signed, ...options.headers },
    body,
    signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
  });
  return answerOf(response);
}

export async function answerOf(response: Response): Promise<RawAnswer> {
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, text, headers: response.headers, json };
}

/** Runs `task` over every item with at most `concurrency` at once; results in item order. */
export async function inParallel<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** Polls a URL until `done()` says stop; every answer's status and how long it took. */
export async function pollWhile(
  url: string,
  done: () => boolean,
  timeoutMs: number,
): Promise<Array<{ status: number; ms: number }>> {
  const polls: Array<{ status: number; ms: number }> = [];
  while (!done()) {
    const started = performance.now();
    let status: number;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      await response.arrayBuffer();
      status = response.status;
    } catch {
      status = 0;
    }
    polls.push({ status, ms: performance.now() - started });
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return polls;
}
