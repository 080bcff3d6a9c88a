import { api, ApiError } from './api';
import { append, button, choice, field, h, notice, table } from './dom';
import { formatDateTime, t } from './i18n';
import { failure, type Page, type PageContext, pageStart, refusal, roleText } from './page';
import type { ConsoleUser, WebhookSecret } from './types';

function ownerOnly(context: PageContext): boolean {
  if (context.session.isOwner) return true;
  refusal(context, new ApiError(403, 'forbidden', 'forbidden', null));
  return false;
}

/** ユーザー: console accounts (owners only). */
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
  append(
    context.main,
    result,
    table(
      t('users.caption'),
      [t('users.name'), t('users.email'), t('users.owner'), t('users.roles'), ''],
      users.map((user) => [
        user.name,
        user.email,
        user.isOwner ? t('common.yes') : t('common.no'),
        user.roles.map((role) => `${role.inboxId}: ${roleText(role.role)}`).join(', ') || '—',
        user.id === context.session.user.id
          ? ''
          : button(
              t('users.remove'),
              () => {
                void (async () => {
                  try {
                    await api('DELETE', `/users/${encodeURIComponent(user.id)}`);
                    context.refresh({ kind: 'status', text: t('users.removed') });
                  } catch (error) {
                    result.replaceChildren(failure(error));
                  }
                })();
              },
              { kind: 'danger', ariaLabel: t('users.removeLabel', { name: user.name }) },
            ),
      ]),
    ),
  );
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
        created.replaceChildren(message);
      } catch (error) {
        created.replaceChildren(failure(error));
      }
    })();
  });
  append(context.main, form);
};

/** Webhook シークレット: the intake's secrets, several active at once for rotation (owners only). */
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
  append(
    context.main,
    h('p', {}, t('secrets.intro')),
    result,
    table(
      t('secrets.caption'),
      [t('secrets.label'), t('secrets.fingerprint'), t('secrets.source'), t('secrets.createdAt'), ''],
      secrets.map((secret) => [
        secret.label,
        h('code', {}, secret.fingerprint),
        secret.source === 'config'
          ? t('secrets.sourceConfig')
          : `${t('secrets.sourceConsole')} (${secret.createdBy ?? ''})`,
        secret.createdAt === null ? '—' : formatDateTime(secret.createdAt),
        secret.source === 'config'
          ? ''
          : button(
              t('secrets.revoke'),
              () => {
                void (async () => {
                  try {
                    await api('DELETE', `/webhook-secrets/${encodeURIComponent(secret.id)}`);
                    context.refresh({ kind: 'status', text: t('secrets.revoked') });
                  } catch (error) {
                    result.replaceChildren(failure(error));
                  }
                })();
              },
              { kind: 'danger', ariaLabel: t('secrets.revokeLabel', { label: secret.label }) },
            ),
      ]),
    ),
  );
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
        if (answer.secret === null) {
          context.refresh({ kind: 'status', text: t('secrets.added') });
          return;
        }
        form.reset();
        added.replaceChildren(
          notice(
            'status',
            t('secrets.added'),
            h('p', {}, h('code', { class: 'secret' }, t('secrets.generated', { secret: answer.secret }))),
          ),
        );
      } catch (error) {
        added.replaceChildren(failure(error));
      }
    })();
  });
  append(context.main, form);
};
