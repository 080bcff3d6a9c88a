import { api, ApiError, setCsrfToken, whenSignedOut } from './api';
import { append, field, h, notice } from './dom';
import { adoptLanguage, hasChosenLanguage, language, setLanguage, t } from './i18n';
import type { MessageKey } from './messages';
import { actionPage, errorLogPage } from './page-log';
import { editLinkPage, historyPage, ticketSyncPage } from './page-ticket-sync';
import { wizardAuthPage, wizardFinishPage, wizardServicePage } from './page-wizard';
import { accountPage, linkResultPage } from './pages-account';
import { inboxesPage, membersPage, settingsPage } from './pages-inboxes';
import { secretsPage, userEditPage, usersPage } from './pages-owner';
import { BASE, failure, type Flash, type Page, type PageContext } from './page';
import type { SessionInfo } from './types';

/**
 * The console: one page that routes on the URL path under /console, talks only to the JSON
 * admin API, and re-renders in Japanese or English. Links are real links (the router only
 * intercepts them), so the keyboard, the back button and a reload all work.
 */

interface Route {
  pattern: RegExp;
  names: string[];
  page: Page;
  ownerOnly?: boolean;
}

const SEGMENT = '([^/]+)';

function route(path: string, page: Page): Route {
  const names: string[] = [];
  const pattern = new RegExp(
    `^${path.replace(/:(\w+)/g, (_whole, name: string) => {
      names.push(name);
      return SEGMENT;
    })}/?$`,
  );
  return { pattern, names, page };
}

const ROUTES: Route[] = [
  route('', inboxesPage),
  route('/inboxes/:inboxId/settings', settingsPage),
  route('/inboxes/:inboxId/settings/members', membersPage),
  route('/inboxes/:inboxId/settings/ticket-sync', ticketSyncPage),
  route('/inboxes/:inboxId/settings/ticket-sync/log', errorLogPage),
  route('/inboxes/:inboxId/settings/ticket-sync/log/:actionId', actionPage),
  route('/inboxes/:inboxId/settings/ticket-sync/history', historyPage),
  route('/inboxes/:inboxId/settings/ticket-sync/new', wizardServicePage),
  route('/inboxes/:inboxId/settings/ticket-sync/new/salesforce', wizardAuthPage),
  route('/inboxes/:inboxId/settings/ticket-sync/new/finish', wizardFinishPage),
  route('/inboxes/:inboxId/settings/ticket-sync/:linkId/edit', editLinkPage),
  route('/users', usersPage),
  route('/users/:userId', userEditPage),
  route('/webhook-secrets', secretsPage),
  route('/account', accountPage),
  route('/link-result', linkResultPage),
];

const SIGN_IN = `${BASE}/sign-in`;

let session: SessionInfo | null = null;
let pendingFlash: Flash | null = null;
let rendering = 0;

const root = document.getElementById('app') as HTMLElement;

function relativePath(pathname: string): string {
  return pathname.startsWith(BASE) ? pathname.slice(BASE.length).replace(/\/$/, '') : pathname;
}

function navigate(path: string, flash?: Flash, replace = false): void {
  pendingFlash = flash ?? null;
  if (replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  void render(true);
}

function languageButton(): HTMLButtonElement {
  const next = language() === 'ja' ? 'en' : 'ja';
  return h(
    'button',
    {
      type: 'button',
      id: 'language-switch',
      class: 'button link',
      lang: next,
      'aria-label': t('app.switchLanguageLabel'),
      onclick: (() => {
        setLanguage(next);
        // Also the language of the user's notice e-mails (and of the console when they sign in elsewhere).
        if (session?.user != null) void api('PUT', '/session/language', { language: next }).catch(() => undefined);
        void render(false).then(() => document.getElementById('language-switch')?.focus());
      }) as EventListener,
    },
    t('app.switchLanguage'),
  );
}

function layout(signedIn: SessionInfo | null): HTMLElement {
  const path = window.location.pathname.replace(/\/$/, '');
  const item = (key: MessageKey, href: string) => {
    const current = href === `${BASE}/` ? path === BASE : path.startsWith(href);
    return h('li', {}, h('a', { href, 'aria-current': current ? 'page' : null }, t(key)));
  };
  const nav =
    signedIn === null
      ? null
      : h(
          'nav',
          { class: 'main-nav', 'aria-label': t('nav.label') },
          h(
            'ul',
            {},
            item('nav.inboxes', `${BASE}/`),
            signedIn.isOwner ? item('nav.users', `${BASE}/users`) : null,
            signedIn.isOwner ? item('nav.secrets', `${BASE}/webhook-secrets`) : null,
            item('nav.account', `${BASE}/account`),
          ),
        );
  const tools = h(
    'div',
    { class: 'tools' },
    languageButton(),
    signedIn === null
      ? null
      : h(
          'button',
          {
            type: 'button',
            class: 'button link',
            onclick: (() => {
              void api('DELETE', '/session')
                .catch(() => undefined)
                .then(() => {
                  session = null;
                  setCsrfToken(null);
                  navigate(SIGN_IN, { kind: 'status', text: t('signIn.signedOut') });
                });
            }) as EventListener,
          },
          t('nav.signOut'),
        ),
  );
  return h('header', { class: 'top' }, h('a', { class: 'brand', href: `${BASE}/` }, t('app.title')), nav, tools);
}

function shell(signedIn: SessionInfo | null): HTMLElement {
  const main = h('main', { id: 'main', tabindex: -1 });
  root.replaceChildren(h('a', { class: 'skip', href: '#main' }, t('app.skip')), layout(signedIn), main);
  return main;
}

async function loadSession(): Promise<SessionInfo | null> {
  try {
    const info = await api<SessionInfo>('GET', '/session');
    setCsrfToken(info.csrfToken);
    if (!hasChosenLanguage() && info.user != null && info.user.language !== language())
      adoptLanguage(info.user.language);
    return info;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

function signInPage(main: HTMLElement, flash: Flash | null): void {
  document.title = `${t('signIn.title')} | ${t('app.title')}`;
  const email = field({
    label: t('signIn.email'),
    name: 'email',
    type: 'email',
    required: true,
    autocomplete: 'username',
  });
  const password = field({
    label: t('signIn.password'),
    name: 'password',
    type: 'password',
    required: true,
    autocomplete: 'current-password',
  });
  const result = h('div', { class: 'live' });
  const form = h(
    'form',
    { class: 'card narrow' },
    email.wrapper,
    password.wrapper,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary' }, t('signIn.submit'))),
    result,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      try {
        const answer = await api<{ csrfToken: string }>('POST', '/session', {
          email: email.input.value,
          password: password.input.value,
        });
        setCsrfToken(answer.csrfToken);
        session = await loadSession();
        const back = new URLSearchParams(window.location.search).get('next');
        navigate(back !== null && back.startsWith(`${BASE}/`) ? back : `${BASE}/`, undefined, true);
      } catch (error) {
        password.input.value = '';
        result.replaceChildren(failure(error));
        password.input.focus();
      }
    })();
  });
  append(
    main,
    h('h1', { tabindex: -1 }, t('signIn.title')),
    flash === null ? null : notice(flash.kind, flash.text),
    h('p', {}, t('signIn.intro')),
    form,
  );
}

async function render(moveFocus: boolean): Promise<void> {
  const ticket = ++rendering;
  document.documentElement.lang = language();
  const flash = pendingFlash;
  pendingFlash = null;
  const path = relativePath(window.location.pathname);
  if (session === null && path !== '/sign-in') session = await loadSession().catch(() => null);
  if (ticket !== rendering) return;
  if (path === '/sign-in' || session === null) {
    if (path !== '/sign-in') {
      const next = `${window.location.pathname}${window.location.search}`;
      window.history.replaceState(null, '', `${SIGN_IN}?next=${encodeURIComponent(next)}`);
    }
    if (path === '/sign-in' && session !== null) {
      navigate(`${BASE}/`, undefined, true);
      return;
    }
    const main = shell(null);
    signInPage(main, flash);
    if (moveFocus) (main.querySelector('h1') as HTMLElement).focus();
    return;
  }
  const main = shell(session);
  const match = ROUTES.map((candidate) => ({ candidate, found: candidate.pattern.exec(path) })).find(
    (entry) => entry.found !== null,
  );
  const params: Record<string, string> = {};
  if (match !== undefined) {
    match.candidate.names.forEach((name, index) => {
      params[name] = decodeURIComponent((match.found as RegExpExecArray)[index + 1] as string);
    });
  }
  const context: PageContext = {
    session,
    params,
    query: new URLSearchParams(window.location.search),
    main,
    flash,
    navigate: (to, carried) => navigate(to, carried),
    refresh: (carried) => {
      pendingFlash = carried ?? null;
      void render(true);
    },
  };
  main.append(h('p', { class: 'loading', role: 'status' }, t('app.loading')));
  if (match === undefined) {
    main.replaceChildren(
      h('h1', { tabindex: -1 }, t('common.notFound')),
      h('p', {}, h('a', { href: `${BASE}/` }, t('common.backToInboxes'))),
    );
  } else {
    await match.candidate.page(context);
  }
  if (ticket !== rendering) return;
  if (moveFocus) (main.querySelector('h1') as HTMLElement | null)?.focus();
}

/** Same-origin links into the console are routed here; everything else behaves as a link does. */
document.addEventListener('click', (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
    return;
  const anchor = (event.target as Element).closest('a');
  if (anchor === null || anchor.target !== '' || anchor.hasAttribute('download')) return;
  const url = new URL(anchor.href, window.location.href);
  if (url.origin !== window.location.origin || !url.pathname.startsWith(BASE) || url.hash !== '') return;
  event.preventDefault();
  navigate(`${url.pathname}${url.search}`);
});

window.addEventListener('popstate', () => void render(true));

whenSignedOut(() => {
  session = null;
  setCsrfToken(null);
  navigate(SIGN_IN, { kind: 'alert', text: t('signIn.expired') }, true);
});

setLanguage(language());
void render(false);
