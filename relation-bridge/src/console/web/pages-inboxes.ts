import { api } from './api';
import { append, breakable, button, field, h, report, selectField, table } from './dom';
import { formatDateTime, formatNumber, t } from './i18n';
import { BASE, failure, inboxPath, type Page, pageStart, refusal, roleText, ticketSyncPath } from './page';
import type { ConsoleUser, Inbox, LinkSummary, Member, UnregisteredInbox } from './types';

const GEAR_PATH =
  'M19.4 13a7.6 7.6 0 0 0 0-2l2.1-1.6-2-3.5-2.5 1a7.3 7.3 0 0 0-1.7-1L15 3.2h-4l-.4 2.7a7.3 7.3 0 0 0-1.7 1l-2.5-1-2 3.5L6.6 11a7.6 7.6 0 0 0 0 2l-2.1 1.6 2 3.5 2.5-1a7.3 7.3 0 0 0 1.7 1l.4 2.7h4l.4-2.7a7.3 7.3 0 0 0 1.7-1l2.5 1 2-3.5Zm-6.4 2.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7Z';

function gearIcon(): SVGElement {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', 'icon');
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', GEAR_PATH);
  svg.append(path);
  return svg;
}

export function linkStatusText(link: LinkSummary | null): string {
  if (link === null) return t('health.not_linked');
  return t(`status.${link.status}` as 'status.active');
}

export function statusBadge(link: LinkSummary | null): HTMLElement {
  const status = link?.status ?? 'not_linked';
  return h('span', { class: `badge ${status}` }, linkStatusText(link));
}

/** 受信箱: the inboxes the user holds a role on; owners also register inboxes. */
export const inboxesPage: Page = async (context) => {
  pageStart(context, 'inboxes.title');
  let listing: { inboxes: Inbox[]; unregistered: UnregisteredInbox[] };
  try {
    listing = await api('GET', '/inboxes');
  } catch (error) {
    append(context.main, failure(error));
    return;
  }
  append(context.main, h('p', {}, t('inboxes.intro')));
  if (listing.inboxes.length === 0) {
    append(context.main, h('p', {}, t('inboxes.empty')));
  } else {
    append(
      context.main,
      table(
        t('inboxes.caption'),
        [t('inboxes.name'), t('inboxes.id'), t('inboxes.role'), t('inboxes.link'), t('inboxes.settings')],
        listing.inboxes.map((inbox) => [
          inbox.name,
          inbox.inboxId,
          roleText(inbox.role),
          statusBadge(inbox.link),
          h(
            'a',
            {
              href: inboxPath(inbox.inboxId, '/settings'),
              class: 'icon-link',
              'aria-label': t('inboxes.settingsOf', { name: inbox.name }),
            },
            gearIcon(),
          ),
        ]),
      ),
    );
  }
  if (!context.session.isOwner) return;

  const id = field({ label: t('inboxes.register.id'), name: 'inboxId', required: true, autocomplete: 'off' });
  const name = field({ label: t('inboxes.register.name'), name: 'name', required: true, autocomplete: 'off' });
  const result = h('div', {});
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'register-title' },
    h('h2', { id: 'register-title' }, t('inboxes.register.title')),
    h('p', {}, t('inboxes.register.intro')),
    id.wrapper,
    name.wrapper,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'button primary' }, t('inboxes.register.submit')),
    ),
    result,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      try {
        await api('POST', '/inboxes', { inboxId: id.input.value.trim(), name: name.input.value.trim() });
        context.refresh({ kind: 'status', text: t('inboxes.register.done', { name: name.input.value.trim() }) });
      } catch (error) {
        result.replaceChildren(failure(error));
      }
    })();
  });

  const unregistered = h(
    'section',
    { 'aria-labelledby': 'unregistered-title' },
    h('h2', { id: 'unregistered-title' }, t('inboxes.unregistered.title')),
    h('p', {}, t('inboxes.unregistered.intro')),
  );
  if (listing.unregistered.length === 0) {
    append(unregistered, h('p', {}, t('inboxes.unregistered.empty')));
  } else {
    append(
      unregistered,
      table(
        t('inboxes.unregistered.caption'),
        [
          t('inboxes.id'),
          t('inboxes.name'),
          t('inboxes.unregistered.actions'),
          t('inboxes.unregistered.lastSeen'),
          t('inboxes.link'),
          '',
        ],
        listing.unregistered.map((seen) => [
          seen.inboxId,
          seen.inboxName ?? '',
          formatNumber(seen.actions),
          formatDateTime(seen.lastSeenAt),
          statusBadge(seen.link),
          button(
            t('inboxes.unregistered.register'),
            () => {
              id.input.value = seen.inboxId;
              name.input.value = seen.inboxName ?? '';
              name.input.focus();
            },
            { ariaLabel: t('inboxes.unregistered.registerLabel', { id: seen.inboxId }) },
          ),
        ]),
      ),
    );
  }
  append(context.main, form, unregistered);
};

export async function loadInbox(inboxId: string): Promise<Inbox> {
  return api<Inbox>('GET', `/inboxes/${encodeURIComponent(inboxId)}`);
}

/** 受信箱の設定 (the gear): the settings menu, with メッセージ環境 › チケット同期連携設定. */
export const settingsPage: Page = async (context) => {
  let inbox: Inbox;
  try {
    inbox = await loadInbox(context.params.inboxId as string);
  } catch (error) {
    refusal(context, error);
    return;
  }
  pageStart(context, 'settings.title', [{ label: t('nav.inboxes'), href: `${BASE}/` }]);
  append(context.main, h('p', { class: 'lead' }, t('settings.of', { name: inbox.name, id: inbox.inboxId })));

  const messageItems = h(
    'ul',
    { id: 'message-environment-items', class: 'menu-items', hidden: context.query.get('section') !== 'message' },
    h('li', {}, h('a', { href: ticketSyncPath(inbox.inboxId) }, t('settings.ticketSync'))),
  );
  const toggle = h(
    'button',
    {
      type: 'button',
      class: 'section-toggle',
      'aria-expanded': String(!messageItems.hidden),
      'aria-controls': 'message-environment-items',
    },
    t('settings.messageEnvironment'),
  );
  toggle.addEventListener('click', () => {
    messageItems.hidden = !messageItems.hidden;
    toggle.setAttribute('aria-expanded', String(!messageItems.hidden));
  });
  append(
    context.main,
    h(
      'nav',
      { class: 'settings-menu', 'aria-label': t('settings.sections') },
      h(
        'ul',
        {},
        h(
          'li',
          {},
          h('span', { class: 'section-name' }, t('settings.basic')),
          h('p', { class: 'hint' }, t('settings.basicInfo', { id: inbox.inboxId, name: inbox.name })),
        ),
        h('li', {}, toggle, messageItems),
        h('li', {}, h('a', { href: inboxPath(inbox.inboxId, '/settings/members') }, t('settings.members'))),
      ),
    ),
  );
};

/** メンバーと権限: who is admin or member of the inbox; owners change it. */
export const membersPage: Page = async (context) => {
  const inboxId = context.params.inboxId as string;
  let inbox: Inbox;
  let members: Member[];
  try {
    inbox = await loadInbox(inboxId);
    members = (await api<{ members: Member[] }>('GET', `/inboxes/${encodeURIComponent(inboxId)}/members`)).members;
  } catch (error) {
    refusal(context, error);
    return;
  }
  pageStart(context, 'members.title', [
    { label: t('nav.inboxes'), href: `${BASE}/` },
    { label: t('settings.title'), href: inboxPath(inboxId, '/settings') },
  ]);
  append(
    context.main,
    h('p', { class: 'lead' }, t('settings.of', { name: inbox.name, id: inbox.inboxId })),
    h('p', {}, t('members.intro')),
  );
  const owner = context.session.isOwner;
  const result = h('div', {});
  const roleOptions = [
    { value: 'admin', label: t('role.admin') },
    { value: 'member', label: t('role.member') },
  ];
  const memberPath = (userId: string) =>
    `/inboxes/${encodeURIComponent(inboxId)}/members/${encodeURIComponent(userId)}`;
  const act = (work: () => Promise<unknown>, done: string) => {
    void (async () => {
      try {
        await work();
        context.refresh({ kind: 'status', text: done });
      } catch (error) {
        report(result, failure(error));
      }
    })();
  };

  if (members.length === 0) {
    append(context.main, h('p', {}, t('members.empty')));
  } else {
    append(
      context.main,
      table(
        t('members.caption'),
        owner ? [t('members.user'), t('members.role'), ''] : [t('members.user'), t('members.role')],
        members.map((member) => {
          const who = breakable(member.name === null ? member.userId : `${member.name} <${member.email ?? ''}>`);
          if (!owner) return [who, roleText(member.role)];
          const role = selectField(
            t('members.roleOf', { name: member.name ?? member.userId }),
            'role',
            roleOptions,
            member.role,
          );
          role.wrapper.classList.add('inline');
          role.select.addEventListener('change', () =>
            act(() => api('PUT', memberPath(member.userId), { role: role.select.value }), t('members.saved')),
          );
          return [
            who,
            role.wrapper,
            button(t('members.remove'), () => act(() => api('DELETE', memberPath(member.userId)), t('members.saved')), {
              ariaLabel: t('members.removeLabel', { name: member.name ?? member.userId }),
            }),
          ];
        }),
      ),
    );
  }
  append(context.main, result);
  if (!owner) {
    append(context.main, h('p', { class: 'hint' }, t('members.askOwner')));
    return;
  }

  let users: ConsoleUser[];
  try {
    users = (await api<{ users: ConsoleUser[] }>('GET', '/users')).users;
  } catch (error) {
    append(context.main, failure(error));
    return;
  }
  const candidates = users.filter((user) => !user.isOwner && !members.some((member) => member.userId === user.id));
  if (candidates.length === 0) {
    // Roles go to users: with none to give one to, the way on is to add a user first.
    append(
      context.main,
      h(
        'div',
        { class: 'notice warn' },
        h('p', {}, t('members.noCandidates')),
        h('p', {}, h('a', { class: 'button primary', href: `${BASE}/users` }, t('members.toUsers'))),
      ),
    );
    return;
  }
  const user = selectField(
    t('members.addUser'),
    'userId',
    candidates.map((candidate) => ({ value: candidate.id, label: `${candidate.name} <${candidate.email}>` })),
  );
  const role = selectField(t('members.addRole'), 'role', roleOptions, 'member');
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'add-member-title' },
    h('h2', { id: 'add-member-title' }, t('members.add')),
    user.wrapper,
    role.wrapper,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary' }, t('common.add'))),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(() => api('PUT', memberPath(user.select.value), { role: role.select.value }), t('members.saved'));
  });
  append(context.main, form);
};
