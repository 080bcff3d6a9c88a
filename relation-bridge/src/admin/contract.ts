import { z } from 'zod';
import { webhookBodySchema } from '../intake/schema';
import { ACTION_REASONS, ACTION_STATES } from './schemas';

/**
 * The admin API's answers, each written once as a zod schema: the views (views.ts) are typed
 * by them, the OpenAPI document (openapi.ts → docs/openapi.json) is generated from them, and
 * the CLI's client and the console's types come from them. Times are ISO 8601 in UTC.
 * Tokens never leave the store, so none of these shapes can carry one.
 */

const time = () => z.iso.datetime();
/**
 * A named schema or null. (zod-to-openapi loses the null of `.nullable()` on a named schema,
 * or marks the named schema itself nullable; a union says it right.)
 */
const orNull = <T extends z.ZodType>(schema: T) => z.union([schema, z.null()]);
const nullableTime = () => z.iso.datetime().nullable();

export const Target = z.enum(['contact', 'lead', 'contact_then_lead']).meta({
  id: 'Target',
  description: 'Where Events are created; contact_then_lead looks for a Contact first, then a Lead.',
});

export const Environment = z.enum(['production', 'sandbox', 'custom']).meta({
  id: 'Environment',
  description: 'production → SF_LOGIN_URL_PRODUCTION, sandbox → SF_LOGIN_URL_SANDBOX, custom → myDomain.',
});

export const LinkStatus = z.enum(['active', 'needs_reauth', 'disabled', 'deleted']).meta({
  id: 'LinkStatus',
  description: 'needs_reauth: Salesforce refused the refresh token; actions are held until re-authorisation.',
});

export const Role = z.enum(['owner', 'admin', 'member']).meta({ id: 'Role' });
export const InboxRole = z.enum(['admin', 'member']).meta({ id: 'InboxRole' });

export const ActionState = z.enum(ACTION_STATES).meta({ id: 'ActionState' });
export const ActionReason = z.enum(ACTION_REASONS).meta({ id: 'ActionReason' });

export const ErrorBody = z
  .object({
    error: z.string().meta({ description: 'A stable machine-readable code.' }),
    message: z.string().meta({ description: 'What went wrong, in English.' }),
    details: z.unknown().optional().meta({
      description: 'Structured details; for invalid_request, an array of { path, message }.',
    }),
  })
  .meta({ id: 'Error', description: 'Every refusal and failure: one code, one message.' });

/** What people read of an org instead of its id, as Salesforce said when it was authorised. */
const orgFacts = () => ({
  orgName: z.string().nullable().meta({ description: "The org's name (null: authorised before it was kept)." }),
  orgIsSandbox: z.boolean().nullable().meta({ description: 'Whether the org is a sandbox (null: not known).' }),
});

export const Link = z
  .object({
    id: z.string(),
    inboxId: z.string(),
    inboxName: z.string().nullable(),
    orgId: z.string().meta({ description: '18-character Salesforce organisation id.' }),
    ...orgFacts(),
    instanceUrl: z
      .string()
      .meta({ description: "The org's My Domain (where its users sign in and the API is called)." }),
    environment: Environment,
    authorizedUser: z.object({ id: z.string(), username: z.string() }),
    target: Target,
    defaultOwnerId: z.string(),
    defaultOwnerName: z.string().nullable().meta({
      description: "The default owner's name, as Salesforce said when they were chosen (null: not known then).",
    }),
    defaultOwnerEmail: z.string().nullable(),
    version: z.number().int().min(1).meta({
      description:
        'Grows with every change of the link. Send it back with PATCH /links/{id}: a change made on an older version is refused (409 link_changed).',
    }),
    status: LinkStatus,
    statusReason: z.string().nullable(),
    statusChangedAt: time(),
    createdAt: time().meta({ description: 'Only actions that occurred after this are synced.' }),
    updatedAt: time(),
    deletedAt: nullableTime(),
  })
  .meta({ id: 'Link' });

export const AuthorizationStarted = z
  .object({
    authorizeUrl: z.string().meta({ description: 'Open in a browser.' }),
    state: z.string().meta({ description: 'The OAuth state of this flow (single use).' }),
    expiresAt: time(),
  })
  .meta({ id: 'AuthorizationStarted', description: 'An OAuth flow waiting for the admin in Salesforce (10 minutes).' });

export const DeleteResult = z
  .object({
    deleted: z.literal(true),
    revoked: z.boolean().meta({ description: 'Whether this deletion revoked the refresh token at Salesforce.' }),
    revokeSkipped: z.enum(['already_deleted', 'auth_shared', 'revoke_failed']).nullable(),
    message: z.string(),
    link: Link,
  })
  .meta({ id: 'DeleteResult' });

const counts = Object.fromEntries(ACTION_STATES.map((state) => [state, z.number().int().min(0)])) as Record<
  (typeof ACTION_STATES)[number],
  z.ZodNumber
>;
export const ActionCounts = z.object(counts).meta({ id: 'ActionCounts' });

export const InboxHealth = z
  .object({
    inboxId: z.string(),
    status: z.enum(['active', 'needs_reauth', 'disabled', 'deleted', 'not_linked']),
    link: orNull(Link),
    window: z.object({ since: time(), until: time() }),
    /** The inbox's actions that changed in the window, by state. */
    counts: ActionCounts,
    org: z
      .object({
        orgId: z.string(),
        pausedUntil: nullableTime(),
        pauseReason: z.string().nullable(),
        apiUsage: z
          .object({ used: z.number().int(), max: z.number().int(), seenAt: nullableTime() })
          .nullable()
          .meta({ description: 'The org-wide daily API usage Salesforce last reported (Sforce-Limit-Info).' }),
        bridgeApiCallsLast24h: z.number().int().meta({ description: 'Calls this bridge made to the org.' }),
      })
      .nullable(),
    lastSyncAt: nullableTime().meta({
      description:
        "When this inbox's newest synced action was synced, through this link or an earlier one (null: none kept).",
    }),
    problems: z.array(
      z.object({
        code: z.string().meta({
          description:
            'not_linked, needs_reauth, link_disabled, org_paused, package_missing, field_access_missing, failed_actions, ' +
            'unmatched_actions; the link check’s warnings user_inactive, user_frozen, token_expiring, approval_limit; ' +
            'or another one later (links/link-health.ts LinkProblemCode).',
        }),
        message: z.string(),
        details: z
          .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
          .optional()
          .meta({
            description:
              'What the problem says beside its code: e.g. `username`; `expiresAt` (ISO 8601, null: ended already) of ' +
              'token_expiring; `count`, `oldestAt` and `oursIsOldest` of approval_limit; `cause` of needs_reauth ' +
              '(user_inactive, api_disabled, token_refused); `pausedUntil` and `budget` of org_paused.',
          }),
        notifiedAt: nullableTime().optional().meta({
          description:
            'For the problems the inbox’s admins are e-mailed about: when they were (null: not yet, or notices are off).',
        }),
      }),
    ),
    checks: z
      .object({
        checkedAt: time(),
        notVisible: z.array(z.enum(['user_frozen', 'approvals', 'token_expiry'])).meta({
          description:
            'What Salesforce does not show the authorising user, so that the check could not see it: whether the user ' +
            'is frozen (needs Manage Users), their approvals of the app, when the refresh token ends (introspection).',
        }),
      })
      .nullable()
      .meta({ description: "The last check of the link's authorisation for what would break it (null: none yet)." }),
  })
  .meta({ id: 'InboxHealth' });

export const MatchCandidate = z
  .object({
    id: z.string(),
    object: z.enum(['Contact', 'Lead']),
    via: z.enum(['email', 'phone']),
    value: z.string(),
    createdDate: z.string(),
    convertedFromLeadId: z.string().optional().meta({
      description: "Set when a converted Lead led to its Contact: the Lead's Id.",
    }),
  })
  .meta({ id: 'MatchCandidate' });

export const AppliedPolicy = z
  .object({
    source: z.enum(['helpdesk', 'salesforce']),
    record: z.string().nullable(),
    target: Target,
    bodyCapture: z.enum(['full', 'first_n', 'none']),
    bodyMaxChars: z.number().int().nullable(),
    defaultOwnerId: z.string(),
    note: z.string().nullable(),
  })
  .meta({
    id: 'AppliedPolicy',
    description: "The link settings the action was synced with (the org's policy, if any).",
  });

export const Action = z
  .object({
    actionId: z.string(),
    webhookId: z.string(),
    inboxId: z.string(),
    inboxName: z.string().nullable(),
    kind: z.string(),
    channel: z.string(),
    direction: z.enum(['inbound', 'outbound', 'internal']),
    occurredAt: time(),
    receivedAt: time(),
    state: ActionState,
    reason: orNull(ActionReason),
    error: z
      .object({ code: z.string().nullable(), message: z.string().nullable() })
      .nullable()
      .meta({ description: "Salesforce's (or the bridge's) error for this action, kept for the error log." }),
    linkId: z.string().nullable(),
    orgId: z.string().nullable(),
    attempts: z.number().int(),
    nextAttemptAt: nullableTime().meta({ description: 'Set while pending.' }),
    sfEventId: z.string().nullable().meta({ description: 'The Salesforce Event created for this action.' }),
    whoId: z.string().nullable(),
    ownerId: z.string().nullable(),
    match: z
      .object({
        rule: z.string(),
        chosen: orNull(MatchCandidate),
        candidates: z.array(MatchCandidate),
        policy: AppliedPolicy.optional(),
      })
      .nullable()
      .meta({ description: 'How the customer was matched (rule, chosen record, candidates).' }),
    ticket: z.object({ id: z.string(), title: z.string().nullable(), url: z.string() }),
    customer: z.object({
      id: z.string().nullable(),
      name: z.string().nullable(),
      emails: z.array(z.string()),
      phones: z.array(z.string()),
    }),
    updatedAt: time(),
  })
  .meta({ id: 'Action' });

export const ActionWithPayload = Action.extend({
  payload: webhookBodySchema.meta({ description: 'The webhook body it arrived with (docs/webhook-contract.md).' }),
  eventUrl: z.string().nullable().meta({
    description: "The synced Event in Salesforce (its record page on the org's My Domain); null until synced.",
  }),
}).meta({ id: 'ActionWithPayload' });

export const ActionsPage = z
  .object({
    retentionDays: z.number().int().meta({
      description: 'RETENTION_DAYS; finished, failed and unmatched actions older than this are purged.',
    }),
    actions: z.array(Action),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass as `before` for the next page; null on the last page.' }),
  })
  .meta({ id: 'ActionsPage' });

export const ConsoleUser = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    isOwner: z.boolean(),
    language: z
      .enum(['ja', 'en'])
      .meta({ description: 'The language of their notice e-mails, and of the console when they sign in.' }),
    roles: z.array(z.object({ inboxId: z.string(), role: InboxRole })),
    createdAt: time(),
    passwordChangedAt: time(),
  })
  .meta({ id: 'ConsoleUser' });

export const Session = z
  .object({
    user: orNull(ConsoleUser).meta({ description: 'null for the admin token.' }),
    isOwner: z.boolean(),
    csrfToken: z.string().nullable().meta({ description: 'Send as X-CSRF-Token on every request that is not GET.' }),
    expiresAt: nullableTime().meta({ description: "The session's absolute end." }),
    idleTimeoutSeconds: z.number().int().nullable(),
  })
  .meta({ id: 'Session' });

export const CreatedUser = z
  .object({ user: ConsoleUser, generatedPassword: z.string().nullable() })
  .meta({ id: 'CreatedUser', description: 'The generated password is returned this once.' });

export const LinkSummary = z
  .object({ id: z.string(), status: LinkStatus, target: Target, orgId: z.string() })
  .meta({ id: 'LinkSummary' });

export const Inbox = z
  .object({
    inboxId: z.string(),
    name: z.string(),
    registeredAt: time(),
    // The caller's role.
    role: Role,
    link: orNull(LinkSummary),
  })
  .meta({ id: 'Inbox' });

export const UnregisteredInbox = z
  .object({
    inboxId: z.string(),
    inboxName: z.string().nullable(),
    actions: z.number().int(),
    lastSeenAt: nullableTime(),
    link: orNull(LinkSummary),
  })
  .meta({ id: 'UnregisteredInbox', description: 'An inbox id found in actions or links without a registration.' });

export const Member = z
  .object({
    userId: z.string(),
    email: z.string().nullable(),
    name: z.string().nullable(),
    role: InboxRole,
    grantedAt: nullableTime(),
  })
  .meta({ id: 'Member' });

export const AuditEntry = z
  .object({
    id: z.number().int(),
    inboxId: z.string(),
    linkId: z.string(),
    at: time(),
    actor: z.object({
      kind: z.enum(['user', 'token']),
      id: z.string().nullable(),
      name: z.string().meta({ description: 'The console user (name <email>), or BRIDGE_ADMIN_TOKEN.' }),
    }),
    event: z.enum(['created', 'changed', 'reauthorized', 'deleted']),
    changes: z
      .record(
        z.string(),
        z.object({
          from: z.unknown(),
          to: z.unknown(),
          fromLabel: z.string().nullable().optional(),
          toLabel: z.string().nullable().optional(),
        }),
      )
      .meta({
        description:
          "Per field (target, defaultOwnerId, status, …), the value before and after; an id (a user's, an org's) with how it reads (`name <email>`, the org's name) when the bridge knew it then.",
      }),
  })
  .meta({ id: 'AuditEntry' });

const salesforceUser = z.object({ id: z.string(), username: z.string(), displayName: z.string().nullable() });

export const PendingLink = z
  .object({
    id: z.string(),
    inboxId: z.string(),
    inboxName: z.string().nullable(),
    orgId: z.string(),
    ...orgFacts(),
    instanceUrl: z.string(),
    environment: Environment,
    authorizedUser: salesforceUser,
    createdBy: z.string(),
    createdAt: time(),
    expiresAt: time().meta({ description: 'Then it is revoked at Salesforce and removed.' }),
  })
  .meta({ id: 'PendingLink' });

export const SalesforceAuthorization = z
  .object({
    id: z.string(),
    orgId: z.string(),
    ...orgFacts(),
    instanceUrl: z.string(),
    environment: Environment,
    user: salesforceUser,
    usable: z.boolean().meta({ description: 'False while a link of it needs re-authentication.' }),
    links: z.array(
      z.object({ id: z.string(), inboxId: z.string(), inboxName: z.string().nullable(), status: LinkStatus }),
    ),
    createdAt: time(),
    updatedAt: time(),
  })
  .meta({ id: 'SalesforceAuthorization' });

export const SalesforceUser = z
  .object({ id: z.string(), name: z.string(), username: z.string(), email: z.string().nullable() })
  .meta({ id: 'SalesforceUser' });

export const WebhookSecret = z
  .object({
    id: z.string().meta({ description: '`config-<n>` for those from WEBHOOK_SECRETS.' }),
    label: z.string(),
    fingerprint: z.string().meta({ description: "The first 12 hex digits of the secret's SHA-256." }),
    source: z.enum(['config', 'console']),
    createdAt: nullableTime(),
    createdBy: z.string().nullable(),
  })
  .meta({ id: 'WebhookSecret' });

export const AddedWebhookSecret = WebhookSecret.extend({
  secret: z.string().nullable().meta({ description: 'The generated secret, shown once (null when one was given).' }),
}).meta({ id: 'AddedWebhookSecret' });

export type LinkView = z.output<typeof Link>;
export type DeleteResultView = z.output<typeof DeleteResult>;
export type InboxHealthView = z.output<typeof InboxHealth>;
export type ActionView = z.output<typeof Action>;
export type ActionWithPayloadView = z.output<typeof ActionWithPayload>;
export type ActionsPageView = z.output<typeof ActionsPage>;
export type AuthorizationStartedView = z.output<typeof AuthorizationStarted>;
export type ConsoleUserView = z.output<typeof ConsoleUser>;
export type CreatedUserView = z.output<typeof CreatedUser>;
export type SessionView = z.output<typeof Session>;
export type InboxView = z.output<typeof Inbox>;
export type LinkSummaryView = z.output<typeof LinkSummary>;
export type UnregisteredInboxView = z.output<typeof UnregisteredInbox>;
export type MemberView = z.output<typeof Member>;
export type AuditEntryView = z.output<typeof AuditEntry>;
export type PendingLinkView = z.output<typeof PendingLink>;
export type SalesforceAuthorizationView = z.output<typeof SalesforceAuthorization>;
export type SalesforceUserView = z.output<typeof SalesforceUser>;
export type WebhookSecretView = z.output<typeof WebhookSecret>;
export type RetryResultView = z.output<typeof RetryResult>;
export type AddedWebhookSecretView = z.output<typeof AddedWebhookSecret>;

/** The lists, as each endpoint wraps them. */
export const LinkList = z.object({ links: z.array(Link) }).meta({ id: 'LinkList' });
export const UserList = z.object({ users: z.array(ConsoleUser) }).meta({ id: 'UserList' });
export const InboxList = z
  .object({
    inboxes: z.array(Inbox),
    unregistered: z.array(UnregisteredInbox).meta({ description: 'Empty for anyone but an owner.' }),
  })
  .meta({ id: 'InboxList' });
export const MemberList = z.object({ members: z.array(Member) }).meta({ id: 'MemberList' });
export const AuditLog = z.object({ entries: z.array(AuditEntry) }).meta({ id: 'AuditLog' });
export const PendingLinkList = z.object({ pendingLinks: z.array(PendingLink) }).meta({ id: 'PendingLinkList' });
export const AuthorizationList = z
  .object({ authorizations: z.array(SalesforceAuthorization) })
  .meta({ id: 'AuthorizationList' });
export const SalesforceUserList = z
  .object({ users: z.array(SalesforceUser) })
  .meta({ id: 'SalesforceUserList', description: 'Active users of the org, by name (at most 500).' });
export const WebhookSecretList = z.object({ secrets: z.array(WebhookSecret) }).meta({ id: 'WebhookSecretList' });
const reasonCounts = z.record(z.string(), z.number().int().min(0));
export const RetryResult = z
  .object({
    retried: z.number().int().min(0).meta({ description: 'How many actions were classified again.' }),
    willSync: z
      .number()
      .int()
      .min(0)
      .meta({ description: 'Of those, due to sync now, their customer matched afresh (past the match cache).' }),
    held: reasonCounts.meta({
      description: 'Of those, waiting by reason (the link needs re-authentication, or is disabled).',
    }),
    skipped: reasonCounts.meta({
      description: 'Of those, not synced by reason (`before_link`: it happened before the current link; `no_link`).',
    }),
    waitingForLink: z
      .number()
      .int()
      .min(0)
      .meta({ description: "Held for a deleted link with no link yet: left waiting for the inbox's next link." }),
    notRetryable: z
      .number()
      .int()
      .min(0)
      .meta({ description: 'Ids that were not failed, held or unmatched (synced, skipped, pending, or unknown).' }),
  })
  .meta({ id: 'RetryResult', description: 'What the retry will do, decided when it is made.' });
export const DiscardResult = z
  .object({ discarded: z.literal(true), revoked: z.boolean() })
  .meta({ id: 'DiscardResult' });
