/** The admin API's JSON shapes the console reads (docs/openapi.yaml). */

export type Role = 'owner' | 'admin' | 'member';
export type LinkTarget = 'contact' | 'lead' | 'contact_then_lead';
export type Environment = 'production' | 'sandbox' | 'custom';
export type LinkStatus = 'active' | 'needs_reauth' | 'disabled' | 'deleted';

export interface SessionInfo {
  user: { id: string; email: string; name: string; isOwner: boolean; roles: Array<{ inboxId: string; role: Role }> };
  isOwner: boolean;
  csrfToken: string;
  expiresAt: string;
}

export interface LinkSummary {
  id: string;
  status: LinkStatus;
  target: LinkTarget;
  orgId: string;
}

export interface Inbox {
  inboxId: string;
  name: string;
  registeredAt: string;
  role: Role;
  link: LinkSummary | null;
}

export interface UnregisteredInbox {
  inboxId: string;
  inboxName: string | null;
  actions: number;
  lastSeenAt: string | null;
  link: LinkSummary | null;
}

export interface Link {
  id: string;
  inboxId: string;
  inboxName: string | null;
  orgId: string;
  instanceUrl: string;
  environment: Environment;
  authorizedUser: { id: string; username: string };
  target: LinkTarget;
  defaultOwnerId: string;
  status: LinkStatus;
  statusReason: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Health {
  inboxId: string;
  status: LinkStatus | 'not_linked';
  link: Link | null;
  counts: Record<'received' | 'pending' | 'synced' | 'skipped' | 'unmatched' | 'failed' | 'held', number>;
  org: {
    orgId: string;
    pausedUntil: string | null;
    pauseReason: string | null;
    apiUsage: { used: number; max: number; seenAt: string } | null;
    bridgeApiCallsLast24h: number;
  } | null;
  lastSyncAt: string | null;
  problems: Array<{ code: string; message: string }>;
}

export interface PendingLink {
  id: string;
  inboxId: string;
  orgId: string;
  environment: Environment;
  authorizedUser: { id: string; username: string; displayName: string | null };
  expiresAt: string;
}

export interface Authorization {
  id: string;
  orgId: string;
  environment: Environment;
  user: { id: string; username: string; displayName: string | null };
  usable: boolean;
  links: Array<{ id: string; inboxId: string; inboxName: string | null; status: LinkStatus }>;
}

export interface SalesforceUser {
  id: string;
  name: string;
  username: string;
  email: string | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: { kind: 'user' | 'token'; id: string | null; name: string };
  event: 'created' | 'changed' | 'reauthorized' | 'deleted';
  changes: Record<string, { from: unknown; to: unknown }>;
}

export interface Action {
  actionId: string;
  kind: string;
  channel: string;
  state: string;
  reason: string | null;
  error: { code: string | null; message: string | null } | null;
  occurredAt: string;
  updatedAt: string;
  ticket: { id: string; title: string | null; url: string };
  customer: { name: string | null; emails: string[]; phones: string[] };
}

export interface Member {
  userId: string;
  email: string | null;
  name: string | null;
  role: 'admin' | 'member';
}

export interface ConsoleUser {
  id: string;
  email: string;
  name: string;
  isOwner: boolean;
  roles: Array<{ inboxId: string; role: 'admin' | 'member' }>;
}

export interface WebhookSecret {
  id: string;
  label: string;
  fingerprint: string;
  source: 'config' | 'console';
  createdAt: string | null;
  createdBy: string | null;
}
