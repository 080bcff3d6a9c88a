import { api, ApiError } from './api';
import { append, choice, field, h, notice, report } from './dom';
import { t } from './i18n';
import { errorKey } from './messages';
import { orgKindText, orgText, targetAndOwnerForm, ticketSyncStart } from './page-ticket-sync';
import { loadInbox } from './pages-inboxes';
import { canAdminister, failure, type Page, type PageContext, refusal, ticketSyncPath } from './page';
import type { Authorization, Health, Inbox, PendingLink, SalesforceUser } from './types';

/**
 * The link wizard, step by step as Re:lation's FAQ has it: [+] → Salesforce → 新しい認証を追加
 * (or an authentication the bridge holds) → サンドボックスを使用する はい/いいえ → 認証 →
 * Salesforce's login and allow pages → back here: [リード]/[取引先責任者] and the default
 * owner → 完了.
 */

type Step = 'service' | 'auth' | 'salesforce' | 'finish';
const STEPS: Step[] = ['service', 'auth', 'salesforce', 'finish'];

function stepList(current: Step): HTMLElement {
  return h(
    'ol',
    { class: 'steps', 'aria-label': t('wizard.steps') },
    ...STEPS.map((step) =>
      h(
        'li',
        { 'aria-current': step === current ? 'step' : null, class: step === current ? 'current' : null },
        t(`wizard.step.${step}`),
      ),
    ),
  );
}

/** The inbox, if the caller administers it and it has no link yet; otherwise the page says why. */
async function wizardInbox(context: PageContext, step: Step): Promise<Inbox | null> {
  let inbox: Inbox;
  let health: Health;
  try {
    inbox = await loadInbox(context.params.inboxId as string);
    if (!canAdminister(inbox)) throw new ApiError(403, 'forbidden', 'forbidden', null);
    health = await api<Health>('GET', `/inboxes/${encodeURIComponent(inbox.inboxId)}/health`);
  } catch (error) {
    refusal(context, error);
    return null;
  }
  ticketSyncStart(context, inbox, 'wizard.title', 'links');
  append(context.main, stepList(step));
  if (health.link !== null) {
    append(
      context.main,
      notice('alert', t('ticketSync.alreadyLinked')),
      h('p', {}, h('a', { href: ticketSyncPath(inbox.inboxId) }, t('common.back'))),
    );
    return null;
  }
  return inbox;
}

/** [+] → the service to link: Salesforce. Also where a failed or denied authorisation lands. */
export const wizardServicePage: Page = async (context) => {
  const inbox = await wizardInbox(context, 'service');
  if (inbox === null) return;
  const error = context.query.get('error');
  if (error !== null) {
    const key = errorKey(error);
    const said = context.query.get('salesforce');
    append(
      context.main,
      h(
        'div',
        { class: 'notice error', role: 'alert' },
        h('h2', {}, t('wizard.failed')),
        h(
          'p',
          {},
          key === null
            ? t('error.generic', { message: error })
            : t(key, { username: context.query.get('username') ?? '' }),
        ),
        said === null ? null : h('p', {}, t('wizard.salesforceSaid', { message: said })),
        h('p', {}, t('wizard.nothingSaved')),
      ),
      h('p', {}, h('a', { class: 'button primary', href: ticketSyncPath(inbox.inboxId, '/new') }, t('wizard.restart'))),
    );
    return;
  }
  append(
    context.main,
    h('p', {}, t('wizard.service.intro')),
    h(
      'ul',
      { class: 'service-list' },
      h(
        'li',
        {},
        h(
          'a',
          { class: 'button service', href: ticketSyncPath(inbox.inboxId, '/new/salesforce') },
          t('wizard.service.salesforce'),
        ),
      ),
    ),
  );
};

/** 新しい認証を追加 (then sandbox or not, or a My Domain, and 認証), or reuse an authentication. */
export const wizardAuthPage: Page = async (context) => {
  const inbox = await wizardInbox(context, 'auth');
  if (inbox === null) return;
  let authorizations: Authorization[] = [];
  try {
    authorizations = (await api<{ authorizations: Authorization[] }>('GET', '/salesforce-auths')).authorizations;
  } catch (error) {
    append(context.main, failure(error));
  }
  const authChoices = [
    choice('radio', 'authentication', 'new', t('wizard.auth.new')),
    ...authorizations.map((authorization) => {
      const label = `${t('wizard.auth.reuse', {
        user: authorization.user.username,
        org: orgText(authorization),
        environment: orgKindText(authorization),
      })}${authorization.usable ? '' : ` ${t('wizard.auth.reuseUnusable')}`}`;
      const option = choice('radio', 'authentication', authorization.id, label);
      option.input.disabled = !authorization.usable;
      return option;
    }),
  ];
  const sandboxNo = choice('radio', 'sandbox', 'no', t('common.no'), true);
  const sandboxYes = choice('radio', 'sandbox', 'yes', t('common.yes'));
  const useMyDomain = choice('checkbox', 'useMyDomain', 'yes', t('wizard.myDomain.use'));
  const myDomain = field({
    label: t('wizard.myDomain.label'),
    name: 'myDomain',
    hint: t('wizard.myDomain.hint'),
    autocomplete: 'off',
  });
  myDomain.wrapper.hidden = true;
  useMyDomain.input.addEventListener('change', () => {
    myDomain.wrapper.hidden = !useMyDomain.input.checked;
    myDomain.input.required = useMyDomain.input.checked;
  });
  // Whatever stops the authentication is said right here, by the button, and read out at once.
  const result = h('div', { class: 'live', id: 'authenticate-result' });
  const newAuthentication = h(
    'div',
    { class: 'reveal', hidden: true },
    h(
      'fieldset',
      {},
      h('legend', {}, t('wizard.sandbox.legend')),
      h('div', { class: 'inline-choices' }, sandboxYes.wrapper, sandboxNo.wrapper),
    ),
    useMyDomain.wrapper,
    myDomain.wrapper,
    result,
    h('p', { class: 'hint' }, t('wizard.authenticateHint')),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'button primary', name: 'authenticate' }, t('wizard.authenticate')),
    ),
  );
  const reuse = h(
    'div',
    { class: 'reveal', hidden: true },
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'button primary', name: 'next' }, t('common.next')),
    ),
  );
  const selected = () => authChoices.find((option) => option.input.checked)?.input.value ?? null;
  for (const option of authChoices) {
    option.input.addEventListener('change', () => {
      newAuthentication.hidden = selected() !== 'new';
      reuse.hidden = selected() === null || selected() === 'new';
    });
  }
  const form = h(
    'form',
    { class: 'card' },
    h('fieldset', {}, h('legend', {}, t('wizard.auth.legend')), ...authChoices.map((option) => option.wrapper)),
    newAuthentication,
    reuse,
    h('div', { class: 'actions' }, h('a', { href: ticketSyncPath(inbox.inboxId, '/new') }, t('common.back'))),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const authentication = selected();
    if (authentication === null) return;
    if (authentication !== 'new') {
      context.navigate(ticketSyncPath(inbox.inboxId, `/new/finish?auth=${encodeURIComponent(authentication)}`));
      return;
    }
    const custom = useMyDomain.input.checked;
    const body = custom
      ? { inboxId: inbox.inboxId, environment: 'custom', myDomain: myDomain.input.value.trim() }
      : { inboxId: inbox.inboxId, environment: sandboxYes.input.checked ? 'sandbox' : 'production' };
    myDomain.input.removeAttribute('aria-invalid');
    myDomain.input.setAttribute('aria-describedby', `${myDomain.input.id}-hint`);
    void (async () => {
      try {
        const started = await api<{ authorizeUrl: string }>('POST', '/pending-links', body);
        window.location.assign(started.authorizeUrl);
      } catch (error) {
        const domainError =
          error instanceof ApiError && (error.code === 'invalid_my_domain' || error.code === 'my_domain_unreachable');
        if (custom && domainError) {
          myDomain.input.setAttribute('aria-invalid', 'true');
          myDomain.input.setAttribute('aria-describedby', `${myDomain.input.id}-hint ${result.id}`);
        }
        report(result, failure(error));
      }
    })();
  });
  append(context.main, form);
};

/** Back from Salesforce (or from choosing an authentication): the target and the owner → 完了. */
export const wizardFinishPage: Page = async (context) => {
  const inbox = await wizardInbox(context, 'finish');
  if (inbox === null) return;
  const pendingId = context.query.get('pending');
  const authId = context.query.get('auth');
  const back = ticketSyncPath(inbox.inboxId);
  const notCreated = { kind: 'status' as const, text: t('ticketSync.notCreated') };
  try {
    if (pendingId !== null) {
      const pending = await api<PendingLink>('GET', `/pending-links/${encodeURIComponent(pendingId)}`);
      const path = `/pending-links/${encodeURIComponent(pending.id)}`;
      append(
        context.main,
        notice(
          'status',
          t('wizard.authorizedAs', {
            user: pending.authorizedUser.username,
            org: orgText(pending),
            environment: orgKindText(pending),
          }),
        ),
        await targetAndOwnerForm(
          null,
          { id: pending.authorizedUser.id, name: pending.authorizedUser.displayName, email: null },
          () => api<{ users: SalesforceUser[] }>('GET', `${path}/salesforce-users`),
          t('wizard.done'),
          async (chosen) => {
            await api('POST', `${path}/complete`, {
              target: chosen.target,
              ...(chosen.defaultOwnerId === '' ? {} : { defaultOwnerId: chosen.defaultOwnerId }),
            });
            context.navigate(back, { kind: 'status', text: t('ticketSync.linked') });
          },
          () => {
            void api('DELETE', path)
              .catch(() => undefined)
              .then(() => context.navigate(back, notCreated));
          },
          t('wizard.discard'),
        ),
      );
      return;
    }
    if (authId !== null) {
      const { authorizations } = await api<{ authorizations: Authorization[] }>('GET', '/salesforce-auths');
      const authorization = authorizations.find((candidate) => candidate.id === authId);
      if (authorization === undefined) throw new ApiError(404, 'auth_not_found', 'auth_not_found', null);
      append(
        context.main,
        notice(
          'status',
          t('wizard.authorizedAs', {
            user: authorization.user.username,
            org: orgText(authorization),
            environment: orgKindText(authorization),
          }),
        ),
        await targetAndOwnerForm(
          null,
          { id: authorization.user.id, name: authorization.user.displayName, email: null },
          () =>
            api<{ users: SalesforceUser[] }>(
              'GET',
              `/salesforce-auths/${encodeURIComponent(authorization.id)}/salesforce-users`,
            ),
          t('wizard.done'),
          async (chosen) => {
            await api('POST', '/links', {
              inboxId: inbox.inboxId,
              authId: authorization.id,
              target: chosen.target,
              ...(chosen.defaultOwnerId === '' ? {} : { defaultOwnerId: chosen.defaultOwnerId }),
            });
            context.navigate(back, { kind: 'status', text: t('ticketSync.linked') });
          },
          () => context.navigate(back, notCreated),
          t('wizard.discard'),
        ),
      );
      return;
    }
    throw new ApiError(404, 'pending_link_not_found', 'pending_link_not_found', null);
  } catch (error) {
    append(
      context.main,
      failure(error),
      h('p', {}, h('a', { class: 'button primary', href: ticketSyncPath(inbox.inboxId, '/new') }, t('wizard.restart'))),
    );
  }
};
