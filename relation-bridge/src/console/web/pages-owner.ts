import { api, ApiError } from './api';
import { append, breakable, button, choice, field, h, notice, report, table } from './dom';
import { formatDateTime, t } from './i18n';
import { BASE, failure, type Page, type PageContext, pageStart, refusal, roleText } from './page';
import type { ConsoleUser, WebhookSecret } from './types';

function ownerOnly(context: PageContext): boolean {
  if (context.session.isOwner) return true;
  refusal(context, new ApiError(403, 'forbidden', 'forbidden', null));
  return false;
}

/** A password for someone else to receive: 18 random characters from the browser's cryptographic source. */
function generatedPassword(): string {
  const bytes = new Uint8Array(14);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}

/** ユーザー: console accounts (owners only). The list follows every change without a reload. */
export const usersPage: Page = async (context) => {
  if (!ownerOnly(context)) return;
  let users: ConsoleUser[];
  try {
    users = (await api<{ users: ConsoleUser[] }>('GET', '/users')).users;
  } catch (error) {
    refusal(context, error);
    return;
  }
  pageStart(context, 'users.title');
  const result = h('div', { class: 'live' });
  const listing = h('div', {});
  const showUsers = () => {
    listing.replaceChildren(
      table(
        t('users.caption'),
        [t('users.name'), t('users.email'), t('users.owner'), t('users.roles'), ''],
        users.map((user) => {
          const self = user.id === context.session.user.id;
          return [
            self ? `${user.name} ${t('users.you')}` : user.name,
            breakable(user.email),
            user.isOwner ? t('common.yes') : t('common.no'),
            user.roles.map((role) => `${role.inboxId}: ${roleText(role.role)}`).join(', ') || '—',
            h(
              'div',
              { class: 'row-actions' },
              h(
                'a',
                {
                  class: 'button secondary',
                  href: `${BASE}/users/${encodeURIComponent(user.id)}`,
                  'aria-label': t('users.editLabel', { name: user.name }),
                },
                t('users.edit'),
              ),
              self
                ? null
                : button(
                    t('users.remove'),
                    () => {
                      void (async () => {
                        try {
                          await api('DELETE', `/users/${encodeURIComponent(user.id)}`);
                          context.refresh({ kind: 'status', text: t('users.removed') });
                        } catch (error) {
                          report(result, failure(error));
                        }
                      })();
                    },
                    { kind: 'danger', ariaLabel: t('users.removeLabel', { name: user.name }) },
                  ),
            ),
          ];
        }),
      ),
    );
  };
  showUsers();
  append(context.main, result, listing);
  const name = field({ label: t('users.name'), name: 'name', required: true, autocomplete: 'off' });
  const email = field({ label: t('users.email'), name: 'email', type: 'email', required: true, autocomplete: 'off' });
  const password = field({
    label: t('users.password'),
    name: 'password',
    type: 'password',
    hint: t('users.passwordHint'),
    autocomplete: 'new-password',
  });
  const owner = choice('checkbox', 'isOwner', 'yes', t('users.isOwner'));
  const created = h('div', { class: 'live' });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'create-user-title' },
    h('h2', { id: 'create-user-title' }, t('users.create')),
    name.wrapper,
    email.wrapper,
    password.wrapper,
    owner.wrapper,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary' }, t('common.add'))),
    created,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      try {
        const answer = await api<{ user: ConsoleUser; generatedPassword: string | null }>('POST', '/users', {
          name: name.input.value.trim(),
          email: email.input.value.trim(),
          isOwner: owner.input.checked,
          ...(password.input.value === '' ? {} : { password: password.input.value }),
        });
        const text = t('users.created', { email: answer.user.email });
        const message =
          answer.generatedPassword === null
            ? notice('status', text)
            : notice(
                'status',
                text,
                h(
                  'p',
                  {},
                  h('code', { class: 'secret' }, t('users.generated', { password: answer.generatedPassword })),
                ),
              );
        form.reset();
        // The list shows the new user at once; the password stays on screen to be passed on.
        users = (await api<{ users: ConsoleUser[] }>('GET', '/users')).users;
        showUsers();
        report(created, message);
      } catch (error) {
        report(created, failure(error));
      }
    })();
  });
  append(context.main, form);
};

/** One console user: rename, make or unmake an owner, reset the password (owners only). */
export const userEditPage: Page = async (context) => {
  if (!ownerOnly(context)) return;
  const userId = context.params.userId as string;
  let user: ConsoleUser | undefined;
  try {
    user = (await api<{ users: ConsoleUser[] }>('GET', '/users')).users.find((candidate) => candidate.id === userId);
    if (user === undefined) throw new ApiError(404, 'user_not_found', 'user_not_found', null);
  } catch (error) {
    refusal(context, error);
    return;
  }
  const editing = user;
  pageStart(
    context,
    'userEdit.title',
    [{ label: t('users.title'), href: `${BASE}/users` }],
    `${t('userEdit.title')}: ${editing.name}`,
  );
  const self = editing.id === context.session.user.id;
  let currentName = editing.name;
  const lead = h('p', { class: 'lead' }, breakable(`${editing.name} <${editing.email}>`));
  append(context.main, lead);

  const name = field({
    label: t('users.name'),
    name: 'name',
    required: true,
    value: editing.name,
    autocomplete: 'off',
  });
  const owner = choice('checkbox', 'isOwner', 'yes', t('users.isOwner'), editing.isOwner);
  const saved = h('div', { class: 'live' });
  const profile = h(
    'form',
    { class: 'card', 'aria-labelledby': 'user-profile-title' },
    h('h2', { id: 'user-profile-title' }, t('userEdit.profile')),
    name.wrapper,
    owner.wrapper,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary' }, t('common.save'))),
    saved,
  );
  profile.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      try {
        const changed = await api<ConsoleUser>('PATCH', `/users/${encodeURIComponent(editing.id)}`, {
          name: name.input.value.trim(),
          isOwner: owner.input.checked,
        });
        currentName = changed.name;
        lead.replaceChildren(breakable(`${changed.name} <${changed.email}>`));
        report(saved, notice('status', t('userEdit.saved', { name: changed.name })));
      } catch (error) {
        owner.input.checked = editing.isOwner;
        report(saved, failure(error));
      }
    })();
  });
  append(context.main, profile);

  if (self) {
    append(context.main, h('p', {}, t('userEdit.self'), ' ', h('a', { href: `${BASE}/account` }, t('nav.account'))));
  } else {
    const password = field({
      label: t('userEdit.newPassword'),
      name: 'newPassword',
      type: 'password',
      hint: t('userEdit.newPasswordHint'),
      autocomplete: 'new-password',
    });
    const reset = h('div', { class: 'live' });
    const passwordForm = h(
      'form',
      { class: 'card', 'aria-labelledby': 'user-password-title' },
      h('h2', { id: 'user-password-title' }, t('userEdit.password')),
      h('p', {}, t('userEdit.passwordIntro')),
      password.wrapper,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button danger' }, t('userEdit.reset'))),
      reset,
    );
    passwordForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const chosen = password.input.value;
      const next = chosen === '' ? generatedPassword() : chosen;
      void (async () => {
        try {
          await api('PATCH', `/users/${encodeURIComponent(editing.id)}`, { password: next });
          passwordForm.reset();
          report(
            reset,
            notice(
              'status',
              t('userEdit.resetDone', { name: currentName }),
              chosen === ''
                ? h('p', {}, h('code', { class: 'secret' }, t('userEdit.generated', { password: next })))
                : null,
            ),
          );
        } catch (error) {
          report(reset, failure(error));
        }
      })();
    });
    append(context.main, passwordForm);
  }
  append(context.main, h('p', {}, h('a', { href: `${BASE}/users` }, t('userEdit.back'))));
};

/**
 * Webhook シークレット: the intake's secrets, several active at once for rotation (owners only).
 * The list follows every change, so that a new secret can be seen and the old one revoked at once.
 */
export const secretsPage: Page = async (context) => {
  if (!ownerOnly(context)) return;
  let secrets: WebhookSecret[];
  try {
    secrets = (await api<{ secrets: WebhookSecret[] }>('GET', '/webhook-secrets')).secrets;
  } catch (error) {
    refusal(context, error);
    return;
  }
  pageStart(context, 'secrets.title');
  const result = h('div', { class: 'live' });
  const listing = h('div', {});
  const reload = async () => {
    secrets = (await api<{ secrets: WebhookSecret[] }>('GET', '/webhook-secrets')).secrets;
    showSecrets();
  };
  const showSecrets = () => {
    listing.replaceChildren(
      table(
        t('secrets.caption'),
        [t('secrets.label'), t('secrets.fingerprint'), t('secrets.source'), t('secrets.createdAt'), ''],
        secrets.map((secret) => [
          secret.label,
          h('code', {}, secret.fingerprint),
          secret.source === 'config'
            ? t('secrets.sourceConfig')
            : h('span', {}, `${t('secrets.sourceConsole')} `, breakable(`(${secret.createdBy ?? ''})`)),
          secret.createdAt === null ? '—' : formatDateTime(secret.createdAt),
          secret.source === 'config'
            ? ''
            : button(
                t('secrets.revoke'),
                () => {
                  void (async () => {
                    try {
                      await api('DELETE', `/webhook-secrets/${encodeURIComponent(secret.id)}`);
                      await reload();
                      report(result, notice('status', t('secrets.revoked')));
                    } catch (error) {
                      report(result, failure(error));
                    }
                  })();
                },
                { kind: 'danger', ariaLabel: t('secrets.revokeLabel', { label: secret.label }) },
              ),
        ]),
      ),
    );
  };
  showSecrets();
  append(context.main, h('p', {}, t('secrets.intro')), result, listing);
  const label = field({ label: t('secrets.label'), name: 'label', required: true, autocomplete: 'off' });
  const value = field({ label: t('secrets.value'), name: 'secret', hint: t('secrets.valueHint'), autocomplete: 'off' });
  const added = h('div', { class: 'live' });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'add-secret-title' },
    h('h2', { id: 'add-secret-title' }, t('secrets.add')),
    label.wrapper,
    value.wrapper,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary' }, t('common.add'))),
    added,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      try {
        const answer = await api<WebhookSecret & { secret: string | null }>('POST', '/webhook-secrets', {
          label: label.input.value.trim(),
          ...(value.input.value.trim() === '' ? {} : { secret: value.input.value.trim() }),
        });
        form.reset();
        await reload();
        report(
          added,
          notice(
            'status',
            t('secrets.added'),
            answer.secret === null
              ? null
              : h('p', {}, h('code', { class: 'secret' }, t('secrets.generated', { secret: answer.secret }))),
            h('p', {}, t('secrets.rotateHint')),
          ),
        );
      } catch (error) {
        report(added, failure(error));
      }
    })();
  });
  append(context.main, form);
};
