import { z } from 'zod';
import { BridgeError } from '../core/errors';
import { checkWebhookSecret } from '../intake/signature';
import type { ActionReason, ActionState } from '../core/types';

/** Request shapes of the admin API: they validate requests and make the OpenAPI document (openapi.ts). */

export const ACTION_STATES = [
  'received',
  'pending',
  'synced',
  'skipped',
  'unmatched',
  'failed',
  'held',
] as const satisfies readonly ActionState[];
/** Every reason once: the compiler refuses a reason of the domain that is missing here. */
const REASONS = {
  no_link: true,
  before_link: true,
  channel_not_supported: true,
  kind_not_synced: true,
  needs_reauth: true,
  link_disabled: true,
  disabled_in_salesforce: true,
  link_deleted: true,
  package_missing: true,
  field_access_missing: true,
  salesforce_rejected: true,
  retries_exhausted: true,
  invalid_for_salesforce: true,
  unreadable_action: true,
  matched_record_deleted: true,
  no_customer_identifier: true,
  no_matching_record: true,
} as const satisfies Record<ActionReason, true>;
export const ACTION_REASONS = Object.keys(REASONS) as [ActionReason, ...ActionReason[]];

const target = z.enum(['contact', 'lead', 'contact_then_lead']);
const environment = z.enum(['production', 'sandbox', 'custom']);
const inboxId = z.string().trim().min(1).max(200);
const userId = z
  .string()
  .trim()
  .regex(
    /^005[a-zA-Z0-9]{12}(?:[a-zA-Z0-9]{3})?$/,
    'must be a 15- or 18-character Salesforce User id starting with 005',
  );

const inboxName = z.string().trim().min(1).max(255);

function myDomainOnlyWhenCustom(
  body: { environment: string; myDomain?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (body.environment === 'custom' && body.myDomain === undefined) {
    ctx.addIssue({ code: 'custom', path: ['myDomain'], message: 'required when environment is custom' });
  }
  if (body.environment !== 'custom' && body.myDomain !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['myDomain'], message: 'only allowed when environment is custom' });
  }
}

export const authorizeLinkBody = z
  .strictObject({
    inboxId,
    inboxName: inboxName.nullish(),
    environment,
    myDomain: z.string().trim().min(1).max(255).optional(),
    target,
    defaultOwnerId: userId.optional(),
  })
  .superRefine(myDomainOnlyWhenCustom);

export const startPendingLinkBody = z
  .strictObject({ inboxId, environment, myDomain: z.string().trim().min(1).max(255).optional() })
  .superRefine(myDomainOnlyWhenCustom);

export const completePendingLinkBody = z.strictObject({ target, defaultOwnerId: userId.optional() });

export const createLinkBody = z.strictObject({
  inboxId,
  inboxName: inboxName.nullish(),
  authId: z.string().trim().min(1).max(200),
  target,
  defaultOwnerId: userId.optional(),
});

export const registerInboxBody = z.strictObject({ inboxId, name: inboxName });
export const renameInboxBody = z.strictObject({ name: inboxName });
export const memberBody = z.strictObject({ role: z.enum(['admin', 'member']) });
export const inboxQuery = z.strictObject({ inboxId: inboxId.optional() });
export const auditQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(200) });

/** Standard Webhooks secrets, by the intake's one rule (checkWebhookSecret). */
export const webhookSecretBody = z.strictObject({
  label: z.string().trim().min(1).max(100),
  secret: z
    .string()
    .trim()
    .superRefine((value, ctx) => {
      const check = checkWebhookSecret(value);
      if (!check.ok) ctx.addIssue({ code: 'custom', message: check.message, params: { code: 'weak_webhook_secret' } });
    })
    .optional(),
});

export const updateLinkBody = z
  .strictObject({
    target: target.optional(),
    defaultOwnerId: userId.optional(),
    version: z.number().int().min(1).optional().meta({
      description:
        "The link's `version` the change was made on: a link changed since is not overwritten (409 link_changed). Without it, the change applies to whatever the link is now.",
    }),
  })
  .refine((body) => body.target !== undefined || body.defaultOwnerId !== undefined, {
    message: 'give target, defaultOwnerId or both',
  });

export const listLinksQuery = z.strictObject({
  inboxId: inboxId.optional(),
  includeDeleted: z.enum(['true', 'false']).optional(),
});

export const retryActionsBody = z.strictObject({
  actionIds: z.array(z.string().trim().min(1).max(200)).min(1).max(1000),
});

/** `state=failed,held` and `state=failed&state=held` both mean "failed or held". */
function listOf<T extends string>(values: readonly [T, ...T[]]) {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((raw) =>
      (Array.isArray(raw) ? raw : [raw])
        .flatMap((item) => item.split(','))
        .map((item) => item.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(values)).min(1))
    .meta({ description: `One or more of ${values.join(', ')}: comma-separated, or the parameter repeated.` });
}

export interface ActionsCursor {
  updatedAt: number;
  actionId: string;
}

export function encodeCursor(cursor: ActionsCursor): string {
  return Buffer.from(JSON.stringify([cursor.updatedAt, cursor.actionId])).toString('base64url');
}

const cursor = z.string().transform((raw, ctx): ActionsCursor => {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && Number.isSafeInteger(decoded[0]) && typeof decoded[1] === 'string') {
      return { updatedAt: decoded[0] as number, actionId: decoded[1] };
    }
  } catch {
    // reported below
  }
  ctx.addIssue({ code: 'custom', message: 'not a cursor returned by this API (use nextCursor as given)' });
  return z.NEVER;
});

export const listActionsQuery = z
  .strictObject({
    inboxId: inboxId.optional(),
    linkId: z.string().trim().min(1).max(200).optional(),
    state: listOf([...ACTION_STATES]).optional(),
    reason: listOf([...ACTION_REASONS]).optional(),
    since: z.iso
      .datetime({ offset: true })
      .transform((value) => Date.parse(value))
      .optional(),
    until: z.iso
      .datetime({ offset: true })
      .transform((value) => Date.parse(value))
      .optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    before: cursor.optional(),
  })
  .refine((query) => query.since === undefined || query.until === undefined || query.since < query.until, {
    path: ['until'],
    message: 'must be after since',
    params: { code: 'reversed_range' },
  });

/**
 * What a reader needs to say a rule in their language: zod's issue code with its limit
 * (`too_small` with `minimum`, `too_big` with `maximum`, `invalid_format` with `format`).
 */
function issueLimits(issue: z.core.$ZodIssue): { minimum?: number; maximum?: number; format?: string } {
  if (issue.code === 'too_small' && typeof issue.minimum === 'number') return { minimum: issue.minimum };
  if (issue.code === 'too_big' && typeof issue.maximum === 'number') return { maximum: issue.maximum };
  if (issue.code === 'invalid_format') return { format: issue.format };
  return {};
}

/** A 400 whose details say which field is wrong and why. */
export function parseOrThrow<T extends z.ZodType>(schema: T, input: unknown, where: 'body' | 'query'): z.output<T> {
  const parsed = schema.safeParse(input ?? (where === 'body' ? undefined : {}));
  if (parsed.success) return parsed.data;
  // A rule with a code of its own (e.g. `common_password`) passes it on, so that the console
  // can say it in the reader's language; zod's messages are English.
  const details = parsed.error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
    ...(issue.code === 'custom'
      ? typeof issue.params?.code === 'string'
        ? { code: issue.params.code }
        : {}
      : { issue: issue.code, ...issueLimits(issue) }),
  }));
  throw new BridgeError(
    'bad_input',
    `The request ${where} is not valid: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`,
    {
      code: 'invalid_request',
      reason: 'bad_input',
      details,
    },
  );
}
