import type { InboxesRepository } from '../admin/inboxes-repository';
import type { AccountsRepository, ConsoleUser } from '../auth/accounts-repository';
import { isBridgeError } from '../core/errors';
import type { Link } from '../core/types';
import type { InboxHealth, LinkProblem } from '../links/link-health';
import type { LinksRepository } from '../links/links-repository';
import type { Logger } from '../logging';
import type { Store } from '../store/store';
import type { LinkChecker } from './link-checker';
import type { LinkChecksRepository } from './link-checks-repository';
import { type Incident, type LinkNoticesRepository, NOTICE_CODES, type NoticeCode } from './link-notices-repository';
import type { NoticeMailer } from './mailer';
import { noticeMessage } from './notice-texts';
import { checkSummary, checkWarnings, detailsOf } from './warnings';

export type NoticesStore = Store<{
  links: LinksRepository;
  linkNotices: LinkNoticesRepository;
  linkChecks: LinkChecksRepository;
  accounts: AccountsRepository;
  inboxes: InboxesRepository;
}>;

export interface NoticesDeps {
  store: NoticesStore;
  /** An inbox's health, as the console shows it (with this feature's additions). */
  health: (inboxId: string) => Promise<InboxHealth>;
  checker: LinkChecker;
  /** null: no SMTP settings, so no e-mail (incidents are still recorded and shown). */
  mailer: NoticeMailer | null;
  /** The console's base URL, for the links in the e-mails. */
  consoleUrl: string;
  /** NOTICE_EXPIRY_WARNING_DAYS, in ms. */
  expiryWarningMs: number;
  logger: Logger;
  now: () => number;
  instanceId: string;
}

/**
 * A budget pause ends and comes back while the usage hovers at the limit: the incident it is
 * part of ends only once the org has synced unpaused this long, so that one exhausted budget
 * is one e-mail, not one every SYNC_BUDGET_PAUSE_MS.
 */
const PAUSE_QUIET_MS = 60 * 60_000;
/** How long an instance may take to send one notice before another may take it over. */
const SEND_LEASE_MS = 2 * 60_000;
const RETRY_FIRST_MS = 60_000;
const RETRY_MAX_MS = 60 * 60_000;
/** Notices sent per round at most (the rest wait for the next). */
const SENDS_PER_ROUND = 50;

export interface NoticeRound {
  checked: number;
  opened: number;
  resolved: number;
  sent: number;
}

/** Whether a problem is one the inbox's admins are e-mailed about: it stops, or will stop, the sync. */
export function isNotifiable(problem: LinkProblem): problem is LinkProblem & { code: NoticeCode } {
  if (!(NOTICE_CODES as readonly string[]).includes(problem.code)) return false;
  // An outage pauses the org for seconds to minutes; only the API budget is news.
  return problem.code !== 'org_paused' || problem.details?.budget === true;
}

/**
 * No silent disconnection: an inbox's admins are e-mailed, once per incident and in their
 * language, when its link needs re-authentication, is paused for the API budget, lacks the
 * package or its field access, or, before it breaks, when the link check warns (the user
 * deactivated or frozen, the token ending, the approvals at their limit).
 *
 * Every round (on each instance): the link checks that are due; then each live link's
 * problems are compared with its open incidents in the store (a new problem opens one, a
 * problem gone resolves it); then each open incident not yet notified is claimed by one
 * instance and mailed to the inbox's admins (its owners when it has none), recipient by
 * recipient, recorded as each is sent. A restart or a second instance finds the record and
 * does not send again; only a crash between an SMTP server's acceptance and that record sends
 * one recipient a second copy.
 */
export class Notices {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<NoticeRound> | null = null;

  constructor(private readonly deps: NoticesDeps) {}

  /** The inbox's health with the link check's warnings, its summary, and when each problem was mailed. */
  async augment(health: InboxHealth): Promise<InboxHealth> {
    const { store, now, expiryWarningMs } = this.deps;
    const link = health.link;
    if (link === null) return { ...health, checks: null };
    const checks = await this.checksOfOrg(link);
    const open = await store.linkNotices.open([link.id]);
    const problems = [
      ...health.problems.map((problem) => ({ ...problem, details: detailsOf(problem, health) })),
      ...checkWarnings(link, checks, now(), expiryWarningMs),
    ].map((problem) => {
      const { details, ...rest } = problem;
      const withDetails = details === undefined ? rest : { ...rest, details };
      if (!isNotifiable(withDetails)) return withDetails;
      return { ...withDetails, notifiedAt: open.find((incident) => incident.code === problem.code)?.sentAt ?? null };
    });
    return { ...health, problems, checks: checkSummary(link, checks) };
  }

  /** One round: due checks, incidents brought up to date, due notices sent. Never throws. */
  runOnce(): Promise<NoticeRound> {
    this.running ??= this.round().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  start(intervalMs: number): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => void this.runOnce(), intervalMs);
    this.timer.unref();
    void this.runOnce();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    this.deps.mailer?.close();
  }

  private async round(): Promise<NoticeRound> {
    const round: NoticeRound = { checked: 0, opened: 0, resolved: 0, sent: 0 };
    try {
      round.checked = await this.deps.checker.checkDue();
      Object.assign(round, await this.reconcile());
      round.sent = await this.sendDue();
    } catch (error) {
      this.deps.logger.error({ err: error }, 'notices: the round failed; trying again at the next');
    }
    return round;
  }

  /** Opens an incident for each notifiable problem a live link has, and resolves those it no longer has. */
  private async reconcile(): Promise<{ opened: number; resolved: number }> {
    const { store, now, logger } = this.deps;
    const links = await store.links.listLinks();
    const open = await store.linkNotices.open();
    let opened = 0;
    let resolved = 0;
    for (const link of links) {
      const health = await this.deps.health(link.inboxId);
      if (health.link?.id !== link.id) continue;
      const present = health.problems.filter(isNotifiable);
      for (const problem of present) {
        const at = now();
        if (
          await store.linkNotices.observe(
            { linkId: link.id, inboxId: link.inboxId, code: problem.code, details: problem.details ?? {} },
            at,
          )
        ) {
          opened += 1;
          logger.info({ linkId: link.id, inboxId: link.inboxId, code: problem.code }, 'notices: incident opened');
        }
      }
      const codes = new Set(present.map((problem) => problem.code));
      for (const incident of open.filter((each) => each.linkId === link.id && !codes.has(each.code))) {
        const quiet = incident.code === 'org_paused' ? PAUSE_QUIET_MS : 0;
        if (now() - incident.lastSeenAt >= quiet && (await store.linkNotices.resolve(incident.id, now()))) {
          resolved += 1;
          logger.info({ linkId: link.id, code: incident.code }, 'notices: incident resolved');
        }
      }
    }
    const live = new Set(links.map((link) => link.id));
    for (const incident of open.filter((each) => !live.has(each.linkId))) {
      if (await store.linkNotices.resolve(incident.id, now())) resolved += 1;
    }
    return { opened, resolved };
  }

  private async sendDue(): Promise<number> {
    if (this.deps.mailer === null) return 0;
    let sent = 0;
    for (let n = 0; n < SENDS_PER_ROUND; n += 1) {
      const incident = await this.deps.store.linkNotices.claimDue(this.deps.instanceId, this.deps.now(), SEND_LEASE_MS);
      if (incident === null) break;
      if (await this.deliver(incident, this.deps.mailer)) sent += 1;
    }
    return sent;
  }

  /** Mails the incident's notice to every recipient who does not have it yet; true when all do. */
  private async deliver(incident: Incident, mailer: NoticeMailer): Promise<boolean> {
    const { store, logger, now, instanceId } = this.deps;
    const link = await store.links.getLink(incident.linkId);
    if (link === null) {
      await store.linkNotices.resolve(incident.id, now());
      return false;
    }
    const recipients = await this.recipientsOf(link.inboxId);
    const inboxName = (await store.inboxes.get(link.inboxId))?.name ?? link.inboxName ?? link.inboxId;
    // Each recipient on their own: one the server refuses waits for the next attempt, the others have theirs.
    let failure: string | null = null;
    for (const recipient of recipients.filter((user) => !incident.sentTo.includes(user.id))) {
      const message = noticeMessage({
        code: incident.code,
        details: incident.details,
        language: recipient.language,
        recipientName: recipient.name,
        inbox: { id: link.inboxId, name: inboxName },
        link: { instanceUrl: link.instanceUrl, orgId: link.orgId, username: link.authorizedUsername },
        consoleUrl: `${this.deps.consoleUrl}/inboxes/${encodeURIComponent(link.inboxId)}/settings/ticket-sync`,
      });
      try {
        await mailer.send({
          to: { name: recipient.name, address: recipient.email },
          language: recipient.language,
          ...message,
        });
      } catch (error) {
        failure = isBridgeError(error) ? error.message : 'the notice e-mail could not be sent';
        continue;
      }
      await store.linkNotices.addRecipient(incident.id, instanceId, recipient.id);
    }
    if (failure !== null) {
      const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** incident.attempts);
      await store.linkNotices.release(incident.id, instanceId, now() + delay, failure);
      logger.warn(
        { incidentId: incident.id, linkId: link.id, code: incident.code, retryInMs: delay, message: failure },
        'notices: an e-mail was not sent; trying again later',
      );
      return false;
    }
    await store.linkNotices.markSent(incident.id, instanceId, now());
    logger.info(
      {
        incidentId: incident.id,
        linkId: link.id,
        inboxId: link.inboxId,
        code: incident.code,
        recipients: recipients.length,
      },
      recipients.length === 0 ? 'notices: nobody to notify (no console user)' : 'notices: e-mail sent',
    );
    return true;
  }

  /** The inbox's admins; the owners when it has none (an inbox that is not registered, or whose admins left). */
  private async recipientsOf(inboxId: string): Promise<ConsoleUser[]> {
    const { store } = this.deps;
    const admins: ConsoleUser[] = [];
    for (const member of await store.inboxes.listMembers(inboxId)) {
      if (member.role !== 'admin') continue;
      const user = await store.accounts.getUser(member.userId);
      if (user !== null) admins.push(user);
    }
    if (admins.length > 0) return admins;
    return (await store.accounts.listUsers()).filter((user) => user.isOwner);
  }

  private async checksOfOrg(link: Link) {
    const { store } = this.deps;
    const auths = (await store.links.listAuths()).filter((auth) => auth.orgId === link.orgId).map((auth) => auth.id);
    return store.linkChecks.listOf(auths);
  }
}
