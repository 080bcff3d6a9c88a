import type { InboxHealth } from '../links/link-health';
import type { Logger } from '../logging';
import type { OAuthClient } from '../salesforce/oauth-client';
import type { SalesforceSessions } from '../sync/sessions';
import { LinkChecker, type CheckerStore } from './link-checker';
import { createSmtpMailer, type SmtpSettings } from './mailer';
import { Notices, type NoticesStore } from './notices';

export { Notices } from './notices';
export type { NoticeRound } from './notices';

/** How often each instance runs a round: due link checks, incidents, due e-mails. */
export const NOTICE_ROUND_MS = 30_000;

export interface NoticesOptions {
  store: NoticesStore & CheckerStore;
  sessions: SalesforceSessions;
  oauth: OAuthClient;
  /** An inbox's health as the console sees it (the links feature's, with this feature's additions). */
  health: (inboxId: string) => Promise<InboxHealth>;
  /** null: notices are not e-mailed (no NOTICE_SMTP_HOST). */
  smtp: SmtpSettings | null;
  consoleUrl: string;
  checkIntervalMs: number;
  expiryWarningMs: number;
  logger: Logger;
  now: () => number;
  instanceId: string;
}

/** The notices feature: the link checks, the incidents, the e-mails (see notices.ts). */
export function createNotices(options: NoticesOptions): Notices {
  const checker = new LinkChecker({
    store: options.store,
    sessions: options.sessions,
    oauth: options.oauth,
    intervalMs: options.checkIntervalMs,
    logger: options.logger,
    now: options.now,
    instanceId: options.instanceId,
  });
  const mailer = options.smtp === null ? null : createSmtpMailer(options.smtp);
  return new Notices({
    store: options.store,
    health: options.health,
    checker,
    mailer,
    consoleUrl: options.consoleUrl.replace(/\/+$/, ''),
    expiryWarningMs: options.expiryWarningMs,
    logger: options.logger,
    now: options.now,
    instanceId: options.instanceId,
  });
}
