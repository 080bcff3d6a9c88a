import type { Link, StoredAction } from '../core/types';
import type { HeldAuthorization } from '../links/authorization-reuse';
import type { InboxHealth } from '../links/link-health';
import type { LinkAuditEntry } from '../links/audit-repository';
import type { PendingLink } from '../links/pending-links-repository';
import type { WebhookSecretSummary } from '../intake/webhook-secrets';
import type {
  ActionView,
  ActionWithPayloadView,
  AuditEntryView,
  InboxHealthView,
  LinkView,
  PendingLinkView,
  SalesforceAuthorizationView,
  WebhookSecretView,
} from './contract';

/**
 * The admin API's answers, made from the domain: each is typed by its schema in
 * contract.ts (docs/openapi.json). Times are ISO 8601 in UTC. Tokens never leave the store,
 * so none of these shapes can carry one.
 */

function iso(ms: number): string;
function iso(ms: number | null): string | null;
function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function linkView(link: Link): LinkView {
  return {
    id: link.id,
    inboxId: link.inboxId,
    inboxName: link.inboxName,
    orgId: link.orgId,
    orgName: link.orgName,
    orgIsSandbox: link.orgIsSandbox,
    instanceUrl: link.instanceUrl,
    environment: link.environment,
    authorizedUser: { id: link.authorizedUserId, username: link.authorizedUsername },
    target: link.target,
    defaultOwnerId: link.defaultOwnerId,
    defaultOwnerName: link.defaultOwnerName,
    defaultOwnerEmail: link.defaultOwnerEmail,
    version: link.version,
    status: link.status,
    statusReason: link.statusReason,
    statusChangedAt: iso(link.statusChangedAt),
    createdAt: iso(link.createdAt),
    updatedAt: iso(link.updatedAt),
    deletedAt: iso(link.deletedAt),
  };
}

/** The record page of a synced Event, on the org's My Domain (Salesforce takes it to Lightning). */
export function eventUrl(instanceUrl: string, eventId: string): string {
  return `${instanceUrl.replace(/\/+$/, '')}/lightning/r/Event/${encodeURIComponent(eventId)}/view`;
}

/**
 * An action as the error/audit log shows it; with its link's instance (`detail`), the full
 * webhook body and the synced Event's page too.
 */
export function actionView(action: StoredAction): ActionView;
export function actionView(action: StoredAction, detail: { instanceUrl: string | null }): ActionWithPayloadView;
export function actionView(
  action: StoredAction,
  detail?: { instanceUrl: string | null },
): ActionView | ActionWithPayloadView {
  const { payload } = action;
  const view: ActionView = {
    actionId: action.actionId,
    webhookId: action.webhookId,
    inboxId: action.inboxId,
    inboxName: action.inboxName,
    kind: action.kind,
    channel: action.channel,
    direction: payload.action.direction,
    occurredAt: iso(action.occurredAt),
    receivedAt: iso(action.receivedAt),
    state: action.state,
    reason: action.reason,
    error:
      action.errorCode === null && action.errorMessage === null
        ? null
        : { code: action.errorCode, message: action.errorMessage },
    linkId: action.linkId,
    orgId: action.orgId,
    attempts: action.attempts,
    nextAttemptAt: action.state === 'pending' ? iso(action.nextAttemptAt) : null,
    sfEventId: action.sfEventId,
    whoId: action.whoId,
    ownerId: action.ownerId,
    match: action.match,
    ticket: { id: payload.ticket.id, title: payload.ticket.title ?? null, url: payload.ticket.url },
    customer: {
      id: payload.customer.id ?? null,
      name: payload.customer.name ?? null,
      emails: payload.customer.emails ?? [],
      phones: payload.customer.phones ?? [],
    },
    updatedAt: iso(action.updatedAt),
  };
  if (detail === undefined) return view;
  return {
    ...view,
    payload,
    eventUrl:
      action.sfEventId === null || detail.instanceUrl === null ? null : eventUrl(detail.instanceUrl, action.sfEventId),
  };
}

export function healthView(health: InboxHealth): InboxHealthView {
  return {
    inboxId: health.inboxId,
    status: health.status,
    link: health.link === null ? null : linkView(health.link),
    window: { since: iso(health.window.since), until: iso(health.window.until) },
    counts: health.counts,
    org:
      health.org === null
        ? null
        : {
            orgId: health.org.orgId,
            pausedUntil: iso(health.org.pausedUntil),
            pauseReason: health.org.pauseReason,
            apiUsage:
              health.org.apiUsed === null || health.org.apiMax === null
                ? null
                : { used: health.org.apiUsed, max: health.org.apiMax, seenAt: iso(health.org.apiSeenAt) },
            bridgeApiCallsLast24h: health.org.bridgeApiCallsLast24h,
          },
    lastSyncAt: iso(health.lastSyncAt),
    problems: health.problems.map(({ notifiedAt, ...problem }) =>
      notifiedAt === undefined ? problem : { ...problem, notifiedAt: iso(notifiedAt) },
    ),
    checks:
      health.checks == null ? null : { checkedAt: iso(health.checks.checkedAt), notVisible: health.checks.notVisible },
  };
}

/** A pending link without its tokens. */
export function pendingLinkView(pending: PendingLink): PendingLinkView {
  return {
    id: pending.id,
    inboxId: pending.inboxId,
    inboxName: pending.inboxName,
    orgId: pending.orgId,
    orgName: pending.orgName,
    orgIsSandbox: pending.orgIsSandbox,
    instanceUrl: pending.instanceUrl,
    environment: pending.environment,
    authorizedUser: { id: pending.userId, username: pending.username, displayName: pending.displayName },
    createdBy: pending.createdBy.name,
    createdAt: iso(pending.createdAt),
    expiresAt: iso(pending.expiresAt),
  };
}

export function authorizationView(held: HeldAuthorization): SalesforceAuthorizationView {
  const { auth } = held;
  return {
    id: auth.id,
    orgId: auth.orgId,
    orgName: auth.orgName,
    orgIsSandbox: auth.orgIsSandbox,
    instanceUrl: auth.instanceUrl,
    environment: auth.environment,
    user: { id: auth.userId, username: auth.username, displayName: auth.displayName },
    usable: held.usable,
    links: held.links.map((link) => ({
      id: link.id,
      inboxId: link.inboxId,
      inboxName: link.inboxName,
      status: link.status,
    })),
    createdAt: iso(auth.createdAt),
    updatedAt: iso(auth.updatedAt),
  };
}

export function auditView(entry: LinkAuditEntry): AuditEntryView {
  return {
    id: entry.id,
    inboxId: entry.inboxId,
    linkId: entry.linkId,
    at: iso(entry.at),
    actor: entry.actor,
    event: entry.event,
    changes: entry.changes,
  };
}

export function webhookSecretView(summary: WebhookSecretSummary): WebhookSecretView {
  return { ...summary, createdAt: iso(summary.createdAt) };
}
