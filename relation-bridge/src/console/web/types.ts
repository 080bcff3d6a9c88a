/**
 * The admin API's answers the console reads, under the names its pages use: the types
 * generated from docs/openapi.json (api-types.ts), which is generated from the API's own
 * schemas (relation-bridge/src/admin/contract.ts).
 */
import type {
  ConsoleUser,
  InboxHealth,
  LinkStatus as ApiLinkStatus,
  SalesforceAuthorization,
  Session,
  Target,
} from './api-types';

export type {
  Action,
  ActionWithPayload,
  AuditEntry,
  ConsoleUser,
  Environment,
  Inbox,
  Link,
  LinkSummary,
  Member,
  PendingLink,
  Role,
  SalesforceUser,
  UnregisteredInbox,
  WebhookSecret,
} from './api-types';

export type LinkTarget = Target;
export type LinkStatus = ApiLinkStatus;
export type Health = InboxHealth;
export type Authorization = SalesforceAuthorization;

/** The session of a signed-in console user (the console never holds the admin token). */
export type SessionInfo = Session & { user: ConsoleUser; csrfToken: string };
