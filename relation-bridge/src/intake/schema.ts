import { z } from 'zod';
import { DIRECTIONS, KNOWN_ACTION_KINDS, SYNCABLE_CHANNELS } from '../core/channels';
import type { ActionPayload } from '../core/types';

/**
 * The webhook body, contract v1 (docs/webhook-contract.md, docs/webhook.schema.json: a
 * test keeps the three in agreement). Unknown properties are accepted and dropped, so a
 * sender may add fields without breaking; unknown kinds and channels are accepted and
 * classified later as not synced.
 */

/** Bounds for free text; the Event cuts Subject and Description further. */
export const LIMITS = {
  id: 255,
  name: 255,
  /** kind, channel, ticket status: machine words. */
  keyword: 64,
  subject: 1_000,
  body: 1_000_000,
  url: 2_048,
  email: 320,
  phone: 64,
  listItems: 50,
  callSeconds: 7 * 24 * 3_600,
} as const;

/**
 * Text the bridge can store and give back exactly as sent: well-formed Unicode (a lone
 * surrogate such as `\ud800` has no UTF-8 form) and no U+0000 (PostgreSQL cannot hold it
 * in text, and no helpdesk field needs it). Anything else is refused with the field's path.
 */
const isWellFormed = (value: string) => value.isWellFormed();
const WELL_FORMED = { error: 'must be well-formed Unicode text (it holds a lone surrogate)' };
const hasNoNul = (value: string) => !value.includes('\u0000');
const NO_NUL = { error: 'must not contain the character U+0000' };
const text = () => z.string().refine(isWellFormed, WELL_FORMED).refine(hasNoNul, NO_NUL);

const id = text().min(1).max(LIMITS.id);
const optionalText = (max: number) => text().max(max).nullish();
const identifierList = (itemMax: number) => z.array(text().max(itemMax)).max(LIMITS.listItems).nullish();

/** RFC 3339 with a `Z` or `±hh:mm` offset; a naive local time is ambiguous and refused. */
const timestampWithOffset = z.iso.datetime({
  offset: true,
  local: false,
  error: 'must be an RFC 3339 date-time with an offset, e.g. 2026-11-28T10:15:00+09:00',
});

export const webhookBodySchema = z
  .object({
    type: z.literal('ticket.action.created').meta({ description: 'The event type; the only one in v1.' }),
    action: z.object({
      id: id.meta({
        description:
          "The action's idempotency key: a retried delivery may carry a new webhook-id but the same action.id.",
      }),
      kind: text()
        .min(1)
        .max(LIMITS.keyword)
        .meta({
          description: `${KNOWN_ACTION_KINDS.join(', ')}; any other kind is accepted and not synced.`,
          examples: [...KNOWN_ACTION_KINDS],
        }),
      occurred_at: timestampWithOffset.meta({
        description:
          'When the action happened: RFC 3339 with a Z or ±hh:mm offset (a time without an offset is refused).',
      }),
      channel: text()
        .min(1)
        .max(LIMITS.keyword)
        .meta({
          description: `The ${SYNCABLE_CHANNELS.length} channels that sync: ${SYNCABLE_CHANNELS.join(', ')}. Any other channel is accepted and recorded as channel_not_supported.`,
          examples: [...SYNCABLE_CHANNELS],
        }),
      direction: z.enum(DIRECTIONS),
      subject: optionalText(LIMITS.subject),
      body: optionalText(LIMITS.body).meta({ description: 'The message or memo text, any Unicode.' }),
      operator: z
        .object({
          id: optionalText(LIMITS.id),
          name: optionalText(LIMITS.name),
          email: optionalText(LIMITS.email),
        })
        .nullish()
        .meta({ description: 'The helpdesk user who took the action; their email chooses the Event owner.' }),
      call: z
        .object({
          duration_seconds: z.number().int().min(0).max(LIMITS.callSeconds).nullish(),
          phone: optionalText(LIMITS.phone),
        })
        .nullish()
        .meta({ description: 'Present on call_memo actions.' }),
    }),
    ticket: z.object({
      id,
      title: optionalText(LIMITS.subject),
      status: optionalText(LIMITS.keyword),
      // A URL parser takes a lone surrogate too (as %EF%BF%BD): checked like any text.
      url: z
        .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
        .max(LIMITS.url)
        .refine(isWellFormed, WELL_FORMED)
        .refine(hasNoNul, NO_NUL)
        // The protocol check, as JSON Schema can say it.
        .meta({ description: 'An http(s) link to the ticket in the helpdesk.', pattern: '^https?://' }),
    }),
    inbox: z.object({
      id,
      name: optionalText(LIMITS.name),
    }),
    customer: z
      .object({
        id: optionalText(LIMITS.id),
        name: optionalText(LIMITS.name),
        code: optionalText(LIMITS.id),
        emails: identifierList(LIMITS.email),
        phones: identifierList(LIMITS.phone),
      })
      .meta({ description: 'Who the action concerns; matched to a Contact or Lead by email, then phone.' }),
  })
  .meta({
    title: 'relation-bridge helpdesk action webhook, v1',
    description:
      'Body of POST /webhooks/relation (docs/webhook-contract.md). Properties not listed here are accepted and ignored, so senders may extend the body. Unknown action kinds and channels are accepted and recorded as not synced. Every text must be well-formed Unicode without U+0000, which JSON Schema cannot say.',
  });

export interface PayloadIssue {
  /** Dot path into the body, array indexes as segments (`customer.emails.0`); empty for the body itself. */
  path: string;
  message: string;
}

export type PayloadParse = { ok: true; payload: ActionPayload } | { ok: false; issues: PayloadIssue[] };

export function parseWebhookBody(body: unknown): PayloadParse {
  const parsed = webhookBodySchema.safeParse(body);
  // Typed as ActionPayload: the compiler proves the schema matches the domain type.
  if (parsed.success) return { ok: true, payload: parsed.data };
  return {
    ok: false,
    issues: parsed.error.issues.map((issue) => ({
      path: issue.path.map((segment) => String(segment)).join('.'),
      message: issue.message,
    })),
  };
}
