import type { SecretBox } from '../../crypto/secret-box';
import type {
  ActionPayload,
  ActionReason,
  ActionState,
  Link,
  LinkStatus,
  LinkTarget,
  MatchRecord,
  OAuthPending,
  OAuthPurpose,
  OrgState,
  SalesforceAuth,
  SfEnvironment,
  StoredAction,
} from '../../core/types';

/** Rows as SQLite returns them; only this folder sees them. */
export interface ActionRow {
  action_id: string;
  webhook_id: string;
  inbox_id: string;
  inbox_name: string | null;
  kind: string;
  channel: string;
  occurred_at: number;
  received_at: number;
  payload: string;
  state: ActionState;
  reason: ActionReason | null;
  link_id: string | null;
  org_id: string | null;
  attempts: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  write_attempted_at: number | null;
  sf_event_id: string | null;
  who_id: string | null;
  owner_id: string | null;
  match_record: string | null;
  error_code: string | null;
  error_message: string | null;
  updated_at: number;
}

export interface AuthRow {
  id: string;
  org_id: string;
  user_id: string;
  username: string;
  display_name: string | null;
  instance_url: string;
  login_url: string;
  environment: SfEnvironment;
  access_token_enc: string | null;
  refresh_token_enc: string;
  scope: string;
  issued_at: number;
  created_at: number;
  updated_at: number;
}

export interface LinkRow {
  id: string;
  inbox_id: string;
  inbox_name: string | null;
  auth_id: string;
  org_id: string;
  instance_url: string;
  environment: SfEnvironment;
  authorized_user_id: string;
  authorized_username: string;
  target: LinkTarget;
  default_owner_id: string;
  status: LinkStatus;
  status_reason: string | null;
  status_changed_at: number;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface OAuthPendingRow {
  state: string;
  code_verifier_enc: string;
  purpose: OAuthPurpose;
  inbox_id: string;
  inbox_name: string | null;
  environment: SfEnvironment;
  login_url: string;
  target: LinkTarget;
  default_owner_id: string | null;
  link_id: string | null;
  created_at: number;
  expires_at: number;
}

export interface OrgStateRow {
  org_id: string;
  paused_until: number | null;
  pause_reason: string | null;
  api_used: number | null;
  api_max: number | null;
  api_seen_at: number | null;
  last_sync_at: number | null;
}

export function toStoredAction(row: ActionRow): StoredAction {
  return {
    actionId: row.action_id,
    webhookId: row.webhook_id,
    inboxId: row.inbox_id,
    inboxName: row.inbox_name,
    kind: row.kind,
    channel: row.channel,
    occurredAt: row.occurred_at,
    receivedAt: row.received_at,
    payload: JSON.parse(row.payload) as ActionPayload,
    state: row.state,
    reason: row.reason,
    linkId: row.link_id,
    orgId: row.org_id,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    writeAttemptedAt: row.write_attempted_at,
    sfEventId: row.sf_event_id,
    whoId: row.who_id,
    ownerId: row.owner_id,
    match: row.match_record === null ? null : (JSON.parse(row.match_record) as MatchRecord),
    errorCode: row.error_code,
    errorMessage: row.error_message,
    updatedAt: row.updated_at,
  };
}

export function toSalesforceAuth(row: AuthRow, secretBox: SecretBox): SalesforceAuth {
  return {
    id: row.id,
    orgId: row.org_id,
    userId: row.user_id,
    username: row.username,
    displayName: row.display_name,
    instanceUrl: row.instance_url,
    loginUrl: row.login_url,
    environment: row.environment,
    accessToken: row.access_token_enc === null ? null : secretBox.decrypt(row.access_token_enc),
    refreshToken: secretBox.decrypt(row.refresh_token_enc),
    scope: row.scope,
    issuedAt: row.issued_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toLink(row: LinkRow): Link {
  return {
    id: row.id,
    inboxId: row.inbox_id,
    inboxName: row.inbox_name,
    authId: row.auth_id,
    orgId: row.org_id,
    instanceUrl: row.instance_url,
    environment: row.environment,
    authorizedUserId: row.authorized_user_id,
    authorizedUsername: row.authorized_username,
    target: row.target,
    defaultOwnerId: row.default_owner_id,
    status: row.status,
    statusReason: row.status_reason,
    statusChangedAt: row.status_changed_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
  };
}

export function toOAuthPending(row: OAuthPendingRow, secretBox: SecretBox): OAuthPending {
  return {
    state: row.state,
    codeVerifier: secretBox.decrypt(row.code_verifier_enc),
    purpose: row.purpose,
    inboxId: row.inbox_id,
    inboxName: row.inbox_name,
    environment: row.environment,
    loginUrl: row.login_url,
    target: row.target,
    defaultOwnerId: row.default_owner_id,
    linkId: row.link_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

export function toOrgState(orgId: string, row: OrgStateRow | undefined): OrgState {
  return {
    orgId,
    pausedUntil: row?.paused_until ?? null,
    pauseReason: row?.pause_reason ?? null,
    apiUsed: row?.api_used ?? null,
    apiMax: row?.api_max ?? null,
    apiSeenAt: row?.api_seen_at ?? null,
    lastSyncAt: row?.last_sync_at ?? null,
  };
}
