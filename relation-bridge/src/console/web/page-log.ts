import { api, query } from './api';
import { append, button, field, h, selectField, table } from './dom';
import { formatDateTime, t } from './i18n';
import { hasMessage, type MessageKey, REASON_CODES } from './messages';
import { ticketSyncStart } from './page-ticket-sync';
import { loadInbox } from './pages-inboxes';
import { canAdminister, failure, type Page, refusal, ticketSyncPath } from './page';
import type { Action, Inbox } from './types';

const PROBLEM_STATES = ['skipped', 'failed', 'held', 'unmatched'] as const;
const RETRYABLE = new Set(['failed', 'held']);
const PAGE_SIZE = 50;

function reasonText(reason: string | null): string {
  if (reason === null) return t('reason.none');
  const key = `reason.${reason}`;
  return hasMessage(key) ? t(key) : reason;
}

function stateText(state: string): string {
  const key = `state.${state}`;
  return hasMessage(key) ? t(key as MessageKey) : state;
}

/** A date picked in the browser's time zone, as the start of that day (or of the next). */
function dayStart(date: string, plusDays = 0): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const start = new Date(`${date}T00:00:00`);
  start.setDate(start.getDate() + plusDays);
  return start.toISOString();
}

/** エラーログ: every action of the inbox that did not sync, why, and a retry for failed and held ones. */
export const errorLogPage: Page = async (context) => {
  const inboxId = context.params.inboxId as string;
  let inbox: Inbox;
  try {
    inbox = await loadInbox(inboxId);
  } catch (error) {
    refusal(context, error);
    return;
  }
  ticketSyncStart(context, inbox, 'log.title', 'log');
  const admin = canAdminister(inbox);
  const reason = context.query.get('reason') ?? '';
  const state = context.query.get('state') ?? '';
  const from = context.query.get('from') ?? '';
  const to = context.query.get('to') ?? '';

  const intro = h('p', {});
  const reasonSelect = selectField(
    t('log.reason'),
    'reason',
    [
      { value: '', label: t('log.allReasons') },
      ...REASON_CODES.map((code) => ({ value: code, label: reasonText(code) })),
    ],
    reason,
  );
  const stateSelect = selectField(
    t('log.state'),
    'state',
    [
      { value: '', label: t('log.allProblems') },
      ...PROBLEM_STATES.map((value) => ({ value, label: stateText(value) })),
    ],
    state,
  );
  const fromField = field({ label: t('log.from'), name: 'from', type: 'date', value: from });
  const toField = field({ label: t('log.to'), name: 'to', type: 'date', value: to });
  const filters = h(
    'form',
    { class: 'card filters', 'aria-labelledby': 'filters-title' },
    h('h2', { id: 'filters-title' }, t('log.filters')),
    h('div', { class: 'filter-grid' }, reasonSelect.wrapper, stateSelect.wrapper, fromField.wrapper, toField.wrapper),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary' }, t('log.apply'))),
  );
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    context.navigate(
      ticketSyncPath(
        inboxId,
        `/log${query({
          reason: reasonSelect.select.value,
          state: stateSelect.select.value,
          from: fromField.input.value,
          to: toField.input.value,
        })}`,
      ),
    );
  });
  const result = h('div', { class: 'live' });
  const listing = h('div', {});
  append(context.main, intro, filters, result, listing);

  const rows: Action[] = [];
  let cursor: string | null = null;
  const render = () => {
    listing.replaceChildren();
    if (rows.length === 0) {
      append(listing, h('p', {}, t('log.empty')));
      return;
    }
    const headers = [
      t('log.at'),
      t('log.state'),
      t('log.reason'),
      t('log.ticket'),
      t('log.customer'),
      t('log.salesforce'),
    ];
    if (admin) headers.push(t('log.retry'));
    append(
      listing,
      table(
        t('log.caption'),
        headers,
        rows.map((action) => {
          const cells: Array<Node | string> = [
            formatDateTime(action.updatedAt),
            h('span', { class: `badge ${action.state}` }, stateText(action.state)),
            reasonText(action.reason),
            h(
              'a',
              { href: action.ticket.url, target: '_blank', rel: 'noopener noreferrer' },
              action.ticket.title === null
                ? t('log.ticketLink', { id: action.ticket.id })
                : `${t('log.ticketLink', { id: action.ticket.id })}: ${action.ticket.title}`,
            ),
            [action.customer.name, ...action.customer.emails, ...action.customer.phones].filter(Boolean).join(', '),
            action.error === null
              ? '—'
              : h(
                  'span',
                  { class: 'salesforce-message' },
                  [action.error.code, action.error.message].filter(Boolean).join(': '),
                ),
          ];
          if (admin) {
            cells.push(
              RETRYABLE.has(action.state)
                ? button(
                    t('log.retry'),
                    () => {
                      void (async () => {
                        try {
                          const report = await api<RetryReport>('POST', '/actions/retry', {
                            actionIds: [action.actionId],
                          });
                          context.refresh({ kind: 'status', text: t(retryMessage(report)) });
                        } catch (error) {
                          result.replaceChildren(failure(error));
                        }
                      })();
                    },
                    { ariaLabel: t('log.retryLabel', { ticket: action.ticket.id }) },
                  )
                : '',
            );
          }
          return cells;
        }),
      ),
    );
    if (cursor !== null)
      append(
        listing,
        h(
          'div',
          { class: 'actions' },
          button(t('common.more'), () => void load()),
        ),
      );
  };
  const load = async () => {
    try {
      const page = await api<{ actions: Action[]; nextCursor: string | null; retentionDays: number }>(
        'GET',
        `/actions${query({
          inboxId,
          state: state === '' ? PROBLEM_STATES.join(',') : state,
          reason: reason === '' ? undefined : reason,
          since: dayStart(from),
          until: dayStart(to, 1),
          limit: String(PAGE_SIZE),
          before: cursor ?? undefined,
        })}`,
      );
      intro.textContent = t('log.intro', { days: page.retentionDays });
      rows.push(...page.actions);
      cursor = page.nextCursor;
      render();
    } catch (error) {
      result.replaceChildren(failure(error));
    }
  };
  await load();
};

/** What a retry reported for one action, as the admin reads it: what will happen, truthfully. */
interface RetryReport {
  willSync: number;
  held: Record<string, number>;
  skipped: Record<string, number>;
  waitingForLink: number;
}

function retryMessage(report: RetryReport): MessageKey {
  if (report.willSync > 0) return 'log.retried';
  if ((report.skipped.before_link ?? 0) > 0) return 'log.retriedBeforeLink';
  if ((report.skipped.no_link ?? 0) > 0) return 'log.retriedNoLink';
  if (Object.keys(report.held).length > 0) return 'log.retriedHeld';
  if (report.waitingForLink > 0) return 'log.retriedWaiting';
  return 'log.retriedNothing';
}
