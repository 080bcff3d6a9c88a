import { ApiError } from './api';
import { append, h, notice } from './dom';
import { t } from './i18n';
import type { MessageKey } from './messages';
import type { Inbox, SessionInfo } from './types';

/** What a page gets: the signed-in session, its route's parts, and a way to move on. */
export interface PageContext {
  session: SessionInfo;
  params: Record<string, string>;
  query: URLSearchParams;
  main: HTMLElement;
  /** A one-time message carried over from the page that navigated here. */
  flash: Flash | null;
  navigate(path: string, flash?: Flash): void;
  /** Renders the current page again (after a change). */
  refresh(flash?: Flash): void;
}

export interface Flash {
  kind: 'status' | 'alert';
  text: string;
}

export type Page = (context: PageContext) => Promise<void>;

export const BASE = '/console';

export function inboxPath(inboxId: string, rest = ''): string {
  return `${BASE}/inboxes/${encodeURIComponent(inboxId)}${rest}`;
}

export function ticketSyncPath(inboxId: string, rest = ''): string {
  return inboxPath(inboxId, `/settings/ticket-sync${rest}`);
}

/** The page's title (also the document's) and a trail back, focusable so that navigation lands on it. */
export function pageStart(
  context: PageContext,
  titleKey: MessageKey,
  trail: Array<{ label: string; href: string }> = [],
  titleText?: string,
): void {
  const title = titleText ?? t(titleKey);
  document.title = `${title} | ${t('app.title')}`;
  context.main.replaceChildren();
  if (trail.length > 0) {
    append(
      context.main,
      h(
        'nav',
        { class: 'trail', 'aria-label': t('nav.breadcrumb') },
        h(
          'ol',
          {},
          ...trail.map((step) => h('li', {}, h('a', { href: step.href }, step.label))),
          h('li', { 'aria-current': 'page' }, title),
        ),
      ),
    );
  }
  append(context.main, h('h1', { tabindex: -1 }, title));
  if (context.flash !== null) append(context.main, notice(context.flash.kind, context.flash.text));
}

export function roleText(role: string): string {
  return role === 'owner' ? t('role.owner') : role === 'admin' ? t('role.admin') : t('role.member');
}

export function canAdminister(inbox: Inbox): boolean {
  return inbox.role === 'owner' || inbox.role === 'admin';
}

/** Shows an API failure where the page is (or anything else as a generic error). */
export function failure(error: unknown): HTMLElement {
  return notice('alert', error instanceof ApiError ? error.describe() : t('error.generic', { message: String(error) }));
}

/** A page the caller may not see, or that does not exist. */
export function refusal(context: PageContext, error: unknown): void {
  const forbidden = error instanceof ApiError && error.status === 403;
  const missing = error instanceof ApiError && error.status === 404;
  pageStart(context, forbidden ? 'common.forbidden' : missing ? 'common.notFound' : 'error.internal_error');
  append(context.main, failure(error), h('p', {}, h('a', { href: `${BASE}/` }, t('common.backToInboxes'))));
}
