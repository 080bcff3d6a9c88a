import { CHANNEL_LABELS, isSyncableChannel } from '../core/channels';
import type { ActionPayload, BodyCapture, StoredAction } from '../core/types';
import type { NewRecord } from '../salesforce/types';
import { type ActivityFieldNames, packageApiNames } from '../salesforce/package-names';

export const SUBJECT_MAX = 255;
export const DESCRIPTION_MAX = 32_000;
/** Salesforce's limit on an Event's span. */
const MAX_DURATION_MINUTES = 14 * 24 * 60;
const TEXT_FIELD_MAX = 255;

export type EventFieldNames = ActivityFieldNames;

/** The packaged Activity fields under the configured namespace prefix ('' = none). */
export function packagedFieldNames(namespace: string): EventFieldNames {
  return packageApiNames(namespace).activity;
}

/** Cuts to at most `max` UTF-16 units without splitting a surrogate pair. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return text.slice(0, end);
}

function ellipsize(text: string, max: number): string {
  return text.length <= max ? text : `${cutText(text, max - 1)}…`;
}

/**
 * How the Event shows on its owner's calendar. A synced message is a record of what
 * happened, not an appointment: `Free` keeps it on the calendar, at its time, without marking
 * the operator busy for anyone scheduling a meeting (Salesforce's default is `Busy`).
 */
export const EVENT_SHOW_AS = 'Free';

type Direction = ActionPayload['action']['direction'];

/** The direction in the Subject: a message was received or sent; a call came in or went out; memos have none. */
const DIRECTION_LABELS: Record<
  'message' | 'call',
  Record<Exclude<Direction, 'internal'>, { ja: string; en: string }>
> = {
  message: { inbound: { ja: '受信', en: 'received' }, outbound: { ja: '送信', en: 'sent' } },
  call: { inbound: { ja: '着信', en: 'incoming' }, outbound: { ja: '発信', en: 'outgoing' } },
};

/** The Subject's bracket: the channel label, then the direction when there is one (`[メール・受信]`, `[Email, received]`). */
export function subjectLabel(action: StoredAction, language: 'ja' | 'en'): string {
  const channel = isSyncableChannel(action.channel) ? CHANNEL_LABELS[action.channel][language] : action.channel;
  const direction = action.payload.action.direction;
  if (direction !== 'inbound' && direction !== 'outbound') return channel;
  const isCall = action.kind === 'call_memo' || action.channel === 'call_memo';
  const label = DIRECTION_LABELS[isCall ? 'call' : 'message'][direction][language];
  return language === 'ja' ? `${channel}・${label}` : `${channel}, ${label}`;
}

export function buildSubject(action: StoredAction, language: 'ja' | 'en'): string {
  const { payload } = action;
  const title = [payload.ticket.title, payload.action.subject].find((t) => typeof t === 'string' && t.trim() !== '');
  const subject = `[${subjectLabel(action, language)}] ${title?.trim() ?? `#${payload.ticket.id}`}`;
  return ellipsize(subject.replace(/\s+/g, ' '), SUBJECT_MAX);
}

/** How much of the body the org's link policy lets into Salesforce; the whole body by default. */
export interface BodyPolicy {
  capture: BodyCapture;
  /** For `first_n`: characters kept before the marker. */
  maxChars: number | null;
}

export const FULL_BODY: BodyPolicy = { capture: 'full', maxChars: null };

/**
 * The message or memo text, as much of it as the policy allows: none at all, or text
 * longer than the limit (Salesforce's, or the policy's first N characters) cut with a
 * visible marker that points to the full ticket.
 */
export function buildDescription(action: StoredAction, policy: BodyPolicy = FULL_BODY): string {
  if (policy.capture === 'none') return '';
  const body = action.payload.action.body ?? '';
  const marker = `\n\n…(以下省略 / truncated) 全文 / full text: ${action.payload.ticket.url}`;
  const limit = DESCRIPTION_MAX - marker.length;
  const keep = policy.capture === 'first_n' ? Math.min(Math.max(0, policy.maxChars ?? 0), limit) : DESCRIPTION_MAX;
  if (body.length <= keep) return body;
  return cutText(body, Math.min(keep, limit)) + marker;
}

export function durationMinutes(action: StoredAction): number {
  if (action.kind !== 'call_memo' && action.channel !== 'call_memo') return 0;
  const seconds = action.payload.action.call?.duration_seconds;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) return 0;
  return Math.min(MAX_DURATION_MINUTES, Math.ceil(seconds / 60));
}

export interface EventTarget {
  whoId: string;
  ownerId: string;
}

/** The Event (行動) for one action, as docs/event-fields.md lays out. */
export function buildEvent(
  action: StoredAction,
  target: EventTarget,
  fields: EventFieldNames,
  language: 'ja' | 'en',
  body: BodyPolicy = FULL_BODY,
): NewRecord {
  const { payload } = action;
  return {
    attributes: { type: 'Event' },
    Subject: buildSubject(action, language),
    Description: buildDescription(action, body),
    ActivityDateTime: new Date(action.occurredAt).toISOString(),
    DurationInMinutes: durationMinutes(action),
    ShowAs: EVENT_SHOW_AS,
    WhoId: target.whoId,
    OwnerId: target.ownerId,
    [fields.actionId]: action.actionId,
    [fields.ticketId]: cutText(payload.ticket.id, TEXT_FIELD_MAX),
    [fields.ticketUrl]: cutText(payload.ticket.url, TEXT_FIELD_MAX),
    [fields.inboxId]: cutText(payload.inbox.id, TEXT_FIELD_MAX),
    [fields.inboxName]: cutText(payload.inbox.name ?? '', TEXT_FIELD_MAX),
    [fields.channel]: action.channel,
    [fields.actionKind]: action.kind,
    [fields.direction]: payload.action.direction,
  };
}
