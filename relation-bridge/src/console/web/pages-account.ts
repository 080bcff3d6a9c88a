import { api } from './api';
import { append, field, h, notice, report } from './dom';
import { t } from './i18n';
import { errorKey } from './messages';
import { BASE, failure, type Page, pageStart } from './page';

/** アカウント: change one's own password (other sessions end). */
export const accountPage: Page = async (context) => {
  pageStart(context, 'account.title');
  append(
    context.main,
    h('p', {}, t('nav.signedInAs', { name: `${context.session.user.name} <${context.session.user.email}>` })),
  );
  const current = field({
    label: t('account.current'),
    name: 'currentPassword',
    type: 'password',
    required: true,
    autocomplete: 'current-password',
  });
  const next = field({
    label: t('account.new'),
    name: 'newPassword',
    type: 'password',
    required: true,
    autocomplete: 'new-password',
  });
  const result = h('div', { class: 'live' });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'password-title' },
    h('h2', { id: 'password-title' }, t('account.password')),
    current.wrapper,
    next.wrapper,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary' }, t('common.save'))),
    result,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      try {
        await api('PUT', '/session/password', { currentPassword: current.input.value, newPassword: next.input.value });
        form.reset();
        report(result, notice('status', t('account.changed')));
      } catch (error) {
        report(result, failure(error));
      }
    })();
  });
  append(context.main, form);
};

/** Where the OAuth callback sends the console when it cannot tell which inbox a flow was for. */
export const linkResultPage: Page = async (context) => {
  pageStart(context, 'result.title');
  const code = context.query.get('error') ?? 'internal_error';
  const key = errorKey(code);
  const said = context.query.get('salesforce');
  append(
    context.main,
    h(
      'div',
      { class: 'notice error', role: 'alert' },
      h('h2', {}, t('wizard.failed')),
      h('p', {}, key === null ? t('error.generic', { message: code }) : t(key)),
      said === null ? null : h('p', {}, t('wizard.salesforceSaid', { message: said })),
      h('p', {}, t('wizard.nothingSaved')),
    ),
    h('p', {}, h('a', { href: `${BASE}/` }, t('common.backToInboxes'))),
  );
};
