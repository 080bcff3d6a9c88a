import type { Link } from '../core/types';
import type { InboxHealth, LinkCheckSummary, LinkProblem, UncheckedFact } from '../links/link-health';
import { sameSalesforceId } from '../links/salesforce-ids';
import type { LinkCheck } from './link-checks-repository';
import type { NoticeCode, NoticeDetails } from './link-notices-repository';
import { APPROVALS_PER_USER_AND_APP, noticeSummary } from './notice-texts';

/** Pauses for the API budget (the engine's codes), as against short pauses for an outage. */
const BUDGET_PAUSES = ['org_budget_exhausted', 'bridge_share_exhausted', 'REQUEST_LIMIT_EXCEEDED'];

export function isBudgetPause(reason: string | null): boolean {
  return reason !== null && BUDGET_PAUSES.some((code) => reason.startsWith(code));
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The link check's warnings for an active link: its user deactivated or frozen (as the newest
 * check of any authorisation of the org saw them), its refresh token ended or ending within
 * `expiryWarningMs`, or its user at the limit of approvals. `checks`: the org's, newest first.
 */
export function checkWarnings(
  link: Link,
  checks: readonly LinkCheck[],
  now: number,
  expiryWarningMs: number,
): LinkProblem[] {
  if (link.status !== 'active') return [];
  const username = link.authorizedUsername;
  const inbox = link.inboxName ?? link.inboxId;
  const problems: LinkProblem[] = [];
  const warn = (code: NoticeCode & LinkProblem['code'], details: NoticeDetails) =>
    problems.push({ code, message: noticeSummary(code, details, inbox), details });

  const seen = checks
    .flatMap((check) => check.findings.users)
    .find((user) => sameSalesforceId(user.userId, link.authorizedUserId));
  if (seen?.active === false) warn('user_inactive', { username });
  else if (seen?.frozen === true) warn('user_frozen', { username });

  const own = checks.find((check) => check.authId === link.authId)?.findings;
  if (own?.token != null) {
    if (!own.token.active) warn('token_expiring', { username, expiresAt: null });
    else if (own.token.expiresAt !== null && own.token.expiresAt - now <= expiryWarningMs) {
      warn('token_expiring', { username, expiresAt: iso(own.token.expiresAt) });
    }
  }
  const approvals = own?.approvals;
  if (approvals?.visible === true && approvals.count >= APPROVALS_PER_USER_AND_APP) {
    warn('approval_limit', {
      username,
      count: approvals.count,
      oldestAt: iso(approvals.oldestAt),
      oursIsOldest: approvals.oursIsOldest,
    });
  } else if (approvals?.visible === false && approvals.heldByBridge >= APPROVALS_PER_USER_AND_APP) {
    warn('approval_limit', { username, count: approvals.heldByBridge, oldestAt: null, oursIsOldest: null });
  }
  return problems;
}

/** When the link's authorisation was last checked, and what Salesforce did not show that user. */
export function checkSummary(link: Link, checks: readonly LinkCheck[]): LinkCheckSummary | null {
  const own = checks.find((check) => check.authId === link.authId);
  if (own === undefined) return null;
  const notVisible: UncheckedFact[] = [];
  const self = own.findings.users.find((user) => sameSalesforceId(user.userId, link.authorizedUserId));
  if (self === undefined || self.frozen === null) notVisible.push('user_frozen');
  if (!own.findings.approvals.visible) notVisible.push('approvals');
  if (own.findings.token === null) notVisible.push('token_expiry');
  return { checkedAt: own.checkedAt, notVisible };
}

/** How Salesforce refused a link now needing re-authentication, from the reason the sync recorded. */
export function reauthCause(statusReason: string | null): 'user_inactive' | 'api_disabled' | 'token_refused' {
  const reason = statusReason ?? '';
  if (/inactive[_ ]user/i.test(reason)) return 'user_inactive';
  if (/API_DISABLED_FOR_ORG|API_CURRENTLY_DISABLED/.test(reason)) return 'api_disabled';
  return 'token_refused';
}

/** The details the link's own problems carry for the console's and the e-mails' texts. */
export function detailsOf(problem: LinkProblem, health: InboxHealth): NoticeDetails | undefined {
  const link = health.link;
  if (link === null) return problem.details;
  switch (problem.code) {
    case 'needs_reauth':
      return { username: link.authorizedUsername, cause: reauthCause(link.statusReason), reason: link.statusReason };
    case 'org_paused':
      return {
        pausedUntil: iso(health.org?.pausedUntil ?? null),
        reason: health.org?.pauseReason ?? null,
        apiUsed: health.org?.apiUsed ?? null,
        apiMax: health.org?.apiMax ?? null,
        budget: isBudgetPause(health.org?.pauseReason ?? null),
      };
    case 'package_missing':
    case 'field_access_missing':
      return { username: link.authorizedUsername };
    default:
      return problem.details;
  }
}
