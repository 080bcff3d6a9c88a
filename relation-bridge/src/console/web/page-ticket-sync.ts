import { api, ApiError } from './api';
import {
  append,
  breakable,
  button,
  choice,
  confirmDialog,
  definitionList,
  h,
  notice,
  report,
  selectField,
  table,
  uid,
  field,
} from './dom';
import { formatDateTime, formatNumber, language, t } from './i18n';
import { errorKey, hasMessage, type MessageKey } from './messages';
import { loadInbox, statusBadge } from './pages-inboxes';
import {
  BASE,
  canAdminister,
  type Flash,
  failure,
  inboxPath,
  type Page,
  type PageContext,
  pageStart,
  refusal,
  ticketSyncPath,
} from './page';
import type { AuditEntry, Health, Inbox, Link, LinkTarget, PendingLink, SalesforceUser } from './types';

export function targetText(target: LinkTarget): string {
  return t(`target.${target}` as MessageKey);
}

export function environmentText(environment: string): string {
  return t(`environment.${environment}` as MessageKey);
}

/** What an org is called for people: its name when Salesforce told it, else its id. */
export function orgText(org: { orgId: string; orgName?: string | null }): string {
  return org.orgName ?? org.orgId;
}

/** Production or sandbox, as Salesforce said; else how it was signed in to. */
export function orgKindText(org: { environment: string; orgIsSandbox?: boolean | null }): string {
  if (org.orgIsSandbox === true) return t('environment.sandbox');
  if (org.orgIsSandbox === false) return t('environment.production');
  return environmentText(org.environment);
}

/** A Salesforce user for people: `name <email>`, or whichever is known, else the id. */
export function userText(user: { id: string; name: string | null; email: string | null }): string {
  if (user.name !== null && user.email !== null) return `${user.name} <${user.email}>`;
  return user.name ?? user.email ?? user.id;
}

/** The trail and the tabs shared by the link, error log and history pages. */
export function ticketSyncStart(
  context: PageContext,
  inbox: Inbox,
  titleKey: MessageKey,
  current: 'links' | 'log' | 'history',
): void {
  pageStart(context, titleKey, [
    { label: t('nav.inboxes'), href: `${BASE}/` },
    { label: t('settings.title'), href: inboxPath(inbox.inboxId, '/settings?section=message') },
  ]);
  const tab = (key: MessageKey, href: string, name: typeof current) =>
    h('li', {}, h('a', { href, 'aria-current': name === current ? 'page' : null }, t(key)));
  context.main
    .querySelector('h1')
    ?.after(h('p', { class: 'lead' }, t('settings.of', { name: inbox.name, id: inbox.inboxId })));
  append(
    context.main,
    h(
      'nav',
      { class: 'tabs', 'aria-label': t('ticketSync.tabs') },
      h(
        'ul',
        {},
        tab('ticketSync.tabLinks', ticketSyncPath(inbox.inboxId), 'links'),
        tab('ticketSync.tabLog', ticketSyncPath(inbox.inboxId, '/log'), 'log'),
        tab('ticketSync.tabHistory', ticketSyncPath(inbox.inboxId, '/history'), 'history'),
      ),
    ),
  );
}

/** The outcome the OAuth callback (or the wizard) put in the query, as a message. */
export function outcomeFromQuery(query: URLSearchParams): Flash | null {
  const error = query.get('error');
  if (error !== null) {
    const key = errorKey(error);
    const said = query.get('salesforce');
    return {
      kind: 'alert',
      text: [
        key === null ? t('error.generic', { message: error }) : t(key, { username: query.get('username') ?? '' }),
        said === null ? '' : t('wizard.salesforceSaid', { message: said }),
      ]
        .filter(Boolean)
        .join(' '),
    };
  }
  if (query.get('linked') !== null) return { kind: 'status', text: t('ticketSync.linked') };
  const resumed = query.get('reauthorized');
  if (resumed !== null) return { kind: 'status', text: t('ticketSync.reauthorized', { count: Number(resumed) || 0 }) };
  return null;
}

async function startReauth(link: Link, result: HTMLElement): Promise<void> {
  try {
    const started = await api<{ authorizeUrl: string }>('POST', `/links/${encodeURIComponent(link.id)}/reauthorize`);
    window.location.assign(started.authorizeUrl);
  } catch (error) {
    result.replaceChildren(failure(error));
  }
}

function healthSection(health: Health, admin: boolean, result: HTMLElement): HTMLElement {
  const section = h(
    'section',
    { class: 'card', 'aria-labelledby': 'health-title' },
    h('h2', { id: 'health-title' }, t('health.title')),
  );
  const paused = health.org?.pausedUntil != null && Date.parse(health.org.pausedUntil) > Date.now();
  const statusKey: MessageKey =
    health.status === 'active'
      ? paused
        ? 'health.paused'
        : 'health.active'
      : (`health.${health.status}` as MessageKey);
  const status = h('p', { class: `health-status ${paused ? 'paused' : health.status}` }, h('strong', {}, t(statusKey)));
  append(section, status);
  if (health.status === 'needs_reauth' && health.link !== null) {
    const link = health.link;
    append(
      section,
      h('p', {}, t('health.needsReauthText')),
      admin ? button(t('health.reauthButton'), () => void startReauth(link, result), { kind: 'primary' }) : null,
    );
  }
  if (paused && health.org !== null) {
    append(
      section,
      h(
        'p',
        {},
        t('health.pausedText', { until: formatDateTime(health.org.pausedUntil), reason: health.org.pauseReason ?? '' }),
      ),
    );
  }
  const counts = health.counts;
  const usage = health.org?.apiUsage ?? null;
  const usageValue =
    usage === null
      ? t('health.apiUnknown')
      : h(
          'span',
          {},
          h('meter', { min: 0, max: usage.max, value: usage.used, 'aria-hidden': 'true' }),
          ' ',
          t('health.apiUsageValue', {
            used: formatNumber(usage.used),
            max: formatNumber(usage.max),
            percent: Math.round((usage.used / Math.max(usage.max, 1)) * 100),
          }),
        );
  append(
    section,
    h('h3', {}, t('health.counts')),
    h(
      'ul',
      { class: 'counts' },
      ...(
        [
          ['health.synced', counts.synced],
          ['health.pending', counts.pending + counts.received],
          ['health.held', counts.held],
          ['health.failed', counts.failed],
          ['health.unmatched', counts.unmatched],
        ] as Array<[MessageKey, number]>
      ).map(([key, count]) => h('li', {}, h('span', { class: 'count' }, formatNumber(count)), ' ', t(key))),
    ),
    definitionList([
      [
        t('health.lastSync'),
        h('span', {}, formatDateTime(health.lastSyncAt), h('span', { class: 'hint block' }, t('health.lastSyncHint'))),
      ],
      [t('health.apiUsage'), usageValue],
      [
        t('health.bridgeCalls'),
        t('health.bridgeCallsValue', { count: formatNumber(health.org?.bridgeApiCallsLast24h ?? 0) }),
      ],
    ]),
  );
  const problems = health.problems.filter((problem) => problem.code !== 'not_linked' || health.status === 'not_linked');
  if (problems.length > 0) {
    append(
      section,
      h(
        'ul',
        { class: 'problems' },
        ...problems.map((problem) => {
          const key = problemKey(problem);
          const values = { username: health.link?.authorizedUser.username ?? '', ...detailValues(problem.details) };
          return h(
            'li',
            {},
            hasMessage(key) ? t(key, values) : t('problem.other', { message: problem.message }),
            problem.notifiedAt == null
              ? null
              : h('span', { class: 'hint block' }, t('problem.notified', { at: formatDateTime(problem.notifiedAt) })),
          );
        }),
      ),
    );
  }
  if (health.checks != null) {
    const unseen = health.checks.notVisible.map((fact) => t(`check.${fact}`));
    append(
      section,
      h(
        'p',
        { class: 'hint' },
        t('health.checked', { at: formatDateTime(health.checks.checkedAt) }),
        unseen.length === 0
          ? null
          : h(
              'span',
              { class: 'block' },
              t('health.notVisible', {
                username: health.link?.authorizedUser.username ?? '',
                items: unseen.join(language() === 'ja' ? '、' : ', '),
              }),
            ),
      ),
    );
  }
  return section;
}

type Problem = Health['problems'][number];

/** A problem's text: its code, or a variant its details call for (the cause, a token already ended, this link's approval). */
function problemKey(problem: Problem): string {
  const details = problem.details ?? {};
  if (problem.code === 'needs_reauth' && (details.cause === 'user_inactive' || details.cause === 'api_disabled')) {
    return `problem.needs_reauth.${details.cause}`;
  }
  if (problem.code === 'token_expiring' && details.expiresAt == null) return 'problem.token_expiring.ended';
  if (problem.code === 'approval_limit' && details.oursIsOldest === true) return 'problem.approval_limit.ours';
  return `problem.${problem.code}`;
}

/** A problem's details as its text reads them: times (`…At`) and counts in the reader's language. */
function detailValues(details: Problem['details']): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(details ?? {})) {
    if (typeof value === 'number') values[name] = formatNumber(value);
    else if (typeof value === 'string') values[name] = name.endsWith('At') ? formatDateTime(value) : value;
  }
  return values;
}

function linkMenu(context: PageContext, link: Link, result: HTMLElement): HTMLElement {
  const menuId = uid('link-menu');
  const trigger = h(
    'button',
    {
      type: 'button',
      class: 'button secondary kebab',
      'aria-expanded': 'false',
      'aria-controls': menuId,
      'aria-label': t('ticketSync.menuLabel'),
    },
    '…',
  );
  const close = () => {
    menu.hidden = true;
    trigger.setAttribute('aria-expanded', 'false');
  };
  const menu = h(
    'ul',
    { id: menuId, class: 'popup-menu', hidden: true },
    h(
      'li',
      {},
      button(t('ticketSync.change'), () =>
        context.navigate(ticketSyncPath(link.inboxId, `/${encodeURIComponent(link.id)}/edit`)),
      ),
    ),
    h(
      'li',
      {},
      button(t('ticketSync.reauth'), () => void startReauth(link, result)),
    ),
    h(
      'li',
      {},
      button(
        t('ticketSync.delete'),
        () => {
          close();
          void (async () => {
            const yes = await confirmDialog(
              t('ticketSync.deleteTitle'),
              t('ticketSync.deleteConfirm'),
              t('common.yes'),
              t('common.no'),
            );
            if (!yes) {
              trigger.focus();
              return;
            }
            try {
              const deleted = await api<{ revoked: boolean; revokeSkipped: string | null }>(
                'DELETE',
                `/links/${encodeURIComponent(link.id)}`,
              );
              const detail = deleted.revoked
                ? t('ticketSync.revoked')
                : deleted.revokeSkipped === 'auth_shared'
                  ? t('ticketSync.revokeShared')
                  : t('ticketSync.revokeFailed');
              context.refresh({ kind: 'status', text: t('ticketSync.deleted', { detail }) });
            } catch (error) {
              result.replaceChildren(failure(error));
            }
          })();
        },
        { kind: 'danger' },
      ),
    ),
  );
  trigger.addEventListener('click', () => {
    const opening = menu.hidden;
    menu.hidden = !opening;
    trigger.setAttribute('aria-expanded', String(opening));
    if (opening) (menu.querySelector('button') as HTMLButtonElement).focus();
  });
  menu.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      close();
      trigger.focus();
    }
  });
  const holder = h('div', { class: 'menu-holder' }, trigger, menu);
  // A click anywhere else closes it, as menus do; the listener goes with the page.
  const outside = (event: Event) => {
    if (!holder.isConnected) document.removeEventListener('click', outside);
    else if (!menu.hidden && !holder.contains(event.target as Node)) close();
  };
  document.addEventListener('click', outside);
  return holder;
}

/** チケット同期連携設定: the inbox's link, its health, [+] and the […] menu. */
export const ticketSyncPage: Page = async (context) => {
  const inboxId = context.params.inboxId as string;
  let inbox: Inbox;
  let health: Health;
  try {
    inbox = await loadInbox(inboxId);
    health = await api<Health>('GET', `/inboxes/${encodeURIComponent(inboxId)}/health`);
  } catch (error) {
    refusal(context, error);
    return;
  }
  const admin = canAdminister(inbox);
  const outcome = outcomeFromQuery(context.query);
  ticketSyncStart(context, inbox, 'ticketSync.title', 'links');
  if (outcome !== null) append(context.main, notice(outcome.kind, outcome.text));
  const result = h('div', { class: 'live' });

  const link = health.link;
  if (admin) {
    // The API drops drafts whose inbox is linked (revoking them); and a draft listed just before a
    // link was made is not offered next to it either: one link per inbox, it could never complete.
    const listed = (
      await api<{ pendingLinks: PendingLink[] }>('GET', `/pending-links?inboxId=${encodeURIComponent(inboxId)}`)
    ).pendingLinks;
    const pending = link === null ? listed : [];
    for (const unfinished of pending) {
      append(
        context.main,
        h(
          'section',
          { class: 'notice warn', 'aria-labelledby': `pending-${unfinished.id}` },
          h('h2', { id: `pending-${unfinished.id}` }, t('ticketSync.pendingTitle')),
          h(
            'p',
            {},
            t('ticketSync.pendingText', {
              user: unfinished.authorizedUser.username,
              org: orgText(unfinished),
              expires: formatDateTime(unfinished.expiresAt),
            }),
          ),
          h(
            'div',
            { class: 'actions' },
            h(
              'a',
              {
                class: 'button primary',
                href: ticketSyncPath(inboxId, `/new/finish?pending=${encodeURIComponent(unfinished.id)}`),
              },
              t('ticketSync.pendingContinue'),
            ),
            button(t('ticketSync.pendingDiscard'), () => {
              void (async () => {
                try {
                  await api('DELETE', `/pending-links/${encodeURIComponent(unfinished.id)}`);
                  context.refresh({ kind: 'status', text: t('ticketSync.pendingDiscarded') });
                } catch (error) {
                  result.replaceChildren(failure(error));
                }
              })();
            }),
          ),
        ),
      );
    }
  }

  const heading = h('div', { class: 'section-head' }, h('h2', {}, t('ticketSync.caption')));
  if (admin) {
    append(
      heading,
      h(
        'button',
        {
          type: 'button',
          class: 'button primary add',
          'aria-label': t('ticketSync.add'),
          onclick: (() => {
            if (link !== null) result.replaceChildren(notice('alert', t('ticketSync.alreadyLinked')));
            else context.navigate(ticketSyncPath(inboxId, '/new'));
          }) as EventListener,
        },
        '+',
      ),
    );
  }
  append(context.main, heading, result);
  if (!admin) append(context.main, h('p', { class: 'hint' }, t('ticketSync.onlyAdmins')));
  if (link === null) {
    append(context.main, h('p', {}, t('ticketSync.empty')));
  } else {
    const headers = [
      t('ticketSync.service'),
      t('ticketSync.org'),
      t('ticketSync.user'),
      t('ticketSync.target'),
      t('ticketSync.owner'),
      t('ticketSync.status'),
    ];
    const row: Array<Node | string> = [
      'Salesforce',
      h(
        'div',
        { class: 'org' },
        h('strong', { class: 'org-name' }, breakable(orgText(link))),
        h('span', { class: 'org-kind' }, orgKindText(link)),
        h(
          'span',
          { class: 'hint' },
          breakable(t('ticketSync.myDomain', { host: link.instanceUrl.replace(/^https?:\/\//, '') })),
        ),
        link.orgName === null ? null : h('span', { class: 'hint' }, t('ticketSync.orgId', { id: link.orgId })),
      ),
      breakable(link.authorizedUser.username),
      targetText(link.target),
      breakable(userText({ id: link.defaultOwnerId, name: link.defaultOwnerName, email: link.defaultOwnerEmail })),
      statusBadge(link),
    ];
    if (admin) {
      headers.push(t('ticketSync.menu'));
      row.push(linkMenu(context, link, result));
    }
    append(context.main, table(t('ticketSync.caption'), headers, [row], { hideCaption: true }));
  }
  append(context.main, healthSection(health, admin, result));
};

/** Change in place: the target and the default owner, kept in the history. */
export const editLinkPage: Page = async (context) => {
  const inboxId = context.params.inboxId as string;
  let inbox: Inbox;
  let link: Link;
  try {
    inbox = await loadInbox(inboxId);
    link = await api<Link>('GET', `/links/${encodeURIComponent(context.params.linkId as string)}`);
    if (!canAdminister(inbox)) throw new ApiError(403, 'forbidden', 'forbidden', null);
  } catch (error) {
    refusal(context, error);
    return;
  }
  ticketSyncStart(context, inbox, 'edit.title', 'links');
  append(context.main, h('p', {}, t('edit.intro')));
  const form = targetAndOwnerForm(
    link.target,
    { id: link.defaultOwnerId, name: link.defaultOwnerName, email: link.defaultOwnerEmail },
    () => api<{ users: SalesforceUser[] }>('GET', `/links/${encodeURIComponent(link.id)}/salesforce-users`),
    t('common.save'),
    async (choice) => {
      // The version this page showed: a link changed since (another tab, another admin) is not overwritten.
      await api('PATCH', `/links/${encodeURIComponent(link.id)}`, {
        target: choice.target,
        ...(choice.defaultOwnerId === '' ? {} : { defaultOwnerId: choice.defaultOwnerId }),
        version: link.version,
      });
      context.navigate(ticketSyncPath(inboxId), { kind: 'status', text: t('ticketSync.changed') });
    },
    () => context.navigate(ticketSyncPath(inboxId)),
    t('common.cancel'),
    (error) =>
      error instanceof ApiError && error.code === 'link_changed'
        ? h(
            'div',
            { class: 'notice error', role: 'alert' },
            h('h2', {}, t('edit.changedElsewhereTitle')),
            h('p', {}, error.describe()),
            h(
              'div',
              { class: 'actions' },
              button(t('common.reload'), () => context.refresh(), { kind: 'primary' }),
            ),
          )
        : null,
  );
  append(context.main, await form);
};

/**
 * [リード] and/or [取引先責任者] (both: Contact first) and the default owner, chosen among the
 * org's active users (or typed as an id when the list cannot be read).
 */
export async function targetAndOwnerForm(
  target: LinkTarget | null,
  currentOwner: { id: string; name: string | null; email: string | null },
  loadUsers: () => Promise<{ users: SalesforceUser[] }>,
  submitLabel: string,
  submit: (choice: { target: LinkTarget; defaultOwnerId: string }) => Promise<void>,
  cancel: () => void,
  cancelLabel = t('common.cancel'),
  /** A failure the caller says its own way (null: the usual message). */
  explain: (error: unknown) => HTMLElement | null = () => null,
): Promise<HTMLElement> {
  const ownerId = currentOwner.id;
  const lead = choice(
    'checkbox',
    'target',
    'lead',
    t('target.lead'),
    target === 'lead' || target === 'contact_then_lead',
  );
  const contact = choice(
    'checkbox',
    'target',
    'contact',
    t('target.contact'),
    target === 'contact' || target === 'contact_then_lead',
  );
  const result = h('div', { class: 'live' });
  let owner: HTMLInputElement | HTMLSelectElement;
  let ownerField: HTMLElement;
  try {
    const { users } = await loadUsers();
    const listed = users.some((user) => user.id.slice(0, 15) === ownerId.slice(0, 15));
    const options = users.map((user) => ({
      value: user.id,
      label: t('wizard.owner.option', { name: user.name, username: user.username }),
    }));
    if (!listed) options.unshift({ value: ownerId, label: userText(currentOwner) });
    const selected = users.find((user) => user.id.slice(0, 15) === ownerId.slice(0, 15))?.id ?? ownerId;
    const select = selectField(t('wizard.owner.label'), 'defaultOwnerId', options, selected);
    owner = select.select;
    ownerField = select.wrapper;
  } catch {
    const typed = field({
      label: t('wizard.owner.label'),
      name: 'defaultOwnerId',
      value: ownerId,
      hint: t('wizard.owner.manual'),
      autocomplete: 'off',
    });
    owner = typed.input;
    ownerField = typed.wrapper;
  }
  const form = h(
    'form',
    { class: 'card' },
    h(
      'fieldset',
      {},
      h('legend', {}, t('wizard.target.legend')),
      h('p', { class: 'hint' }, t('wizard.target.note')),
      lead.wrapper,
      contact.wrapper,
    ),
    ownerField,
    h('p', { class: 'hint' }, t('wizard.owner.hint')),
    result,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'button primary' }, submitLabel),
      button(cancelLabel, cancel),
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen: LinkTarget | null =
      lead.input.checked && contact.input.checked
        ? 'contact_then_lead'
        : contact.input.checked
          ? 'contact'
          : lead.input.checked
            ? 'lead'
            : null;
    if (chosen === null) {
      result.replaceChildren(notice('alert', t('wizard.target.missing')));
      lead.input.focus();
      return;
    }
    void (async () => {
      try {
        await submit({ target: chosen, defaultOwnerId: owner.value.trim() });
      } catch (error) {
        report(result, explain(error) ?? failure(error));
      }
    })();
  });
  return form;
}

function auditValue(field: string, value: unknown, label?: string | null): string {
  if (value === null || value === undefined) return '—';
  if (typeof label === 'string' && label !== '') return label;
  if (field === 'target' && typeof value === 'string') return targetText(value as LinkTarget);
  if (field === 'environment' && typeof value === 'string') return environmentText(value);
  if (field === 'status' && typeof value === 'string' && hasMessage(`status.${value}`))
    return t(`status.${value}` as MessageKey);
  return String(value);
}

/** 変更履歴: who created, changed, re-authenticated or deleted the link, when, from what to what. */
export const historyPage: Page = async (context) => {
  const inboxId = context.params.inboxId as string;
  let inbox: Inbox;
  let entries: AuditEntry[];
  try {
    inbox = await loadInbox(inboxId);
    entries = (await api<{ entries: AuditEntry[] }>('GET', `/inboxes/${encodeURIComponent(inboxId)}/audit`)).entries;
  } catch (error) {
    refusal(context, error);
    return;
  }
  ticketSyncStart(context, inbox, 'history.title', 'history');
  if (entries.length === 0) {
    append(context.main, h('p', {}, t('history.empty')));
    return;
  }
  append(
    context.main,
    table(
      t('history.caption'),
      [t('history.at'), t('history.who'), t('history.event'), t('history.changes')],
      entries.map((entry) => [
        formatDateTime(entry.at),
        entry.actor.name,
        t(`history.${entry.event}` as MessageKey),
        h(
          'ul',
          { class: 'changes' },
          ...Object.entries(entry.changes).map(([name, change]) =>
            h(
              'li',
              {},
              h(
                'span',
                { class: 'change-field' },
                hasMessage(`history.field.${name}`) ? t(`history.field.${name}` as MessageKey) : name,
              ),
              // Before and after, each named: no arrow that a value (or a reader) could take the wrong way.
              h(
                'dl',
                { class: 'change' },
                h('dt', {}, t('history.from')),
                h('dd', {}, breakable(auditValue(name, change.from, change.fromLabel))),
                h('dt', {}, t('history.to')),
                h('dd', {}, breakable(auditValue(name, change.to, change.toLabel))),
              ),
            ),
          ),
        ),
      ]),
    ),
  );
};
