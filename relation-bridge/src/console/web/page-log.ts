import { api, ApiError, query } from './api';
import { append, breakable, button, definitionList, field, h, notice, report, selectField, table } from './dom';
import { formatDateTime, formatNumber, t } from './i18n';
import { hasMessage, type MessageKey, REASON_CODES } from './messages';
import { ticketSyncStart } from './page-ticket-sync';
import { loadInbox } from './pages-inboxes';
import { canAdminister, failure, type Page, refusal, ticketSyncPath } from './page';
import type { Action, ActionWithPayload, Inbox } from './types';

const PROBLEM_STATES = ['skipped', 'failed', 'held', 'unmatched'] as const;
/** What a retry takes (the API's rule): an unmatched action is matched afresh, so a Lead made since is found. */
const RETRYABLE = new Set(['failed', 'held', 'unmatched']);
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

/** The channel by its name in Re:lation; one that does not sync, as it came and said so. */
function channelText(channel: string): string {
  const key = `channel.${channel}`;
  return hasMessage(key) ? t(key) : t('channel.other', { channel });
}

function kindText(kind: string): string {
  const key = `kind.${kind}`;
  return hasMessage(key) ? t(key) : kind;
}

function directionText(direction: string): string {
  const key = `direction.${direction}`;
  return hasMessage(key) ? t(key) : direction;
}

/** メール・受信, and the kind below it. */
function actionCell(action: Action): HTMLElement {
  return h(
    'span',
    {},
    t('log.channelDirection', { channel: channelText(action.channel), direction: directionText(action.direction) }),
    h('span', { class: 'hint block' }, kindText(action.kind)),
  );
}

function ticketText(action: Action): string {
  return action.ticket.title === null
    ? t('log.ticketLink', { id: action.ticket.id })
    : `${t('log.ticketLink', { id: action.ticket.id })}: ${action.ticket.title}`;
}

function actionPath(inboxId: string, actionId: string): string {
  return ticketSyncPath(inboxId, `/log/${encodeURIComponent(actionId)}`);
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
  const filterResult = h('div', { class: 'live' });
  append(filters, filterResult);
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    toField.input.removeAttribute('aria-invalid');
    // ISO dates compare as text; a range that ends before it starts would silently show nothing.
    if (fromField.input.value !== '' && toField.input.value !== '' && toField.input.value < fromField.input.value) {
      toField.input.setAttribute('aria-invalid', 'true');
      report(filterResult, notice('alert', t('error.reversed_range')));
      return;
    }
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
      t('log.action'),
      t('log.ticket'),
      t('log.customer'),
      t('log.salesforce'),
      t('common.details'),
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
            actionCell(action),
            h('a', { href: action.ticket.url, target: '_blank', rel: 'noopener noreferrer' }, ticketText(action)),
            breakable(
              [action.customer.name, ...action.customer.emails, ...action.customer.phones].filter(Boolean).join(', '),
            ),
            action.error === null
              ? '—'
              : h(
                  'span',
                  { class: 'salesforce-message' },
                  breakable([action.error.code, action.error.message].filter(Boolean).join(': ')),
                ),
            h(
              'a',
              {
                href: actionPath(inboxId, action.actionId),
                'aria-label': t('log.detailsLabel', { ticket: action.ticket.id }),
              },
              t('common.details'),
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
                          report(result, failure(error));
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

/** How the customer was matched: the tier that decided (when one did) and the stated rule, in the reader's language. */
function matchRule(rule: string): { decidedBy: string | null; rule: string } {
  const tiered = /^([a-z_]+): ([\s\S]*)$/.exec(rule);
  const tierKey = tiered === null ? null : `match.tier.${tiered[1] as string}`;
  const decidedBy = tierKey !== null && hasMessage(tierKey) ? t(tierKey) : null;
  const body = decidedBy === null ? rule : (tiered?.[2] ?? rule);
  return { decidedBy, rule: body.startsWith('first tier with a candidate') ? t('match.rule') : body };
}

function candidateRows(action: ActionWithPayload): Array<Array<Node | string>> {
  const match = action.match;
  if (match === null) return [];
  return match.candidates.map((candidate) => {
    const chosen = match.chosen !== null && match.chosen.id === candidate.id;
    return [
      t(`object.${candidate.object}`),
      h(
        'span',
        {},
        breakable(candidate.id),
        candidate.convertedFromLeadId === undefined
          ? null
          : h('span', { class: 'hint block' }, t('action.convertedFrom', { id: candidate.convertedFromLeadId })),
      ),
      breakable(t(candidate.via === 'email' ? 'action.via.email' : 'action.via.phone', { value: candidate.value })),
      formatDateTime(candidate.createdDate),
      chosen ? h('strong', {}, t('action.candidate.chosen')) : '',
    ];
  });
}

/** One action of the error log in full: what it was, what happened, how its customer was matched, and its Event. */
export const actionPage: Page = async (context) => {
  const inboxId = context.params.inboxId as string;
  const actionId = context.params.actionId as string;
  let inbox: Inbox;
  let action: ActionWithPayload;
  try {
    inbox = await loadInbox(inboxId);
    action = await api<ActionWithPayload>('GET', `/actions/${encodeURIComponent(actionId)}`);
    if (action.inboxId !== inboxId) throw new ApiError(404, 'action_not_found', 'action_not_found', null);
  } catch (error) {
    refusal(context, error);
    return;
  }
  ticketSyncStart(context, inbox, 'action.title', 'log');
  const operator = action.payload.action.operator;
  const operatorText =
    operator == null
      ? t('action.none')
      : [operator.name, operator.email === null || operator.email === undefined ? null : `<${operator.email}>`]
          .filter(Boolean)
          .join(' ') || t('action.none');
  append(
    context.main,
    h('p', {}, h('a', { href: ticketSyncPath(inboxId, '/log') }, t('action.back'))),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'action-summary' },
      h('h2', { id: 'action-summary' }, t('action.summary')),
      definitionList([
        [t('log.state'), h('span', { class: `badge ${action.state}` }, stateText(action.state))],
        [t('log.reason'), reasonText(action.reason)],
        [t('action.channel'), channelText(action.channel)],
        [t('action.kind'), kindText(action.kind)],
        [t('action.direction'), directionText(action.direction)],
        [t('action.occurredAt'), formatDateTime(action.occurredAt)],
        [t('action.receivedAt'), formatDateTime(action.receivedAt)],
        [t('action.updatedAt'), formatDateTime(action.updatedAt)],
        [
          t('log.ticket'),
          h('a', { href: action.ticket.url, target: '_blank', rel: 'noopener noreferrer' }, ticketText(action)),
        ],
        [
          t('log.customer'),
          breakable(
            [action.customer.name, ...action.customer.emails, ...action.customer.phones].filter(Boolean).join(', ') ||
              t('action.none'),
          ),
        ],
        [t('action.operator'), breakable(operatorText)],
        [t('action.attempts'), formatNumber(action.attempts)],
        ...(action.nextAttemptAt === null
          ? []
          : ([[t('action.nextAttempt'), formatDateTime(action.nextAttemptAt)]] as Array<[string, string]>)),
        [
          t('action.salesforceMessage'),
          action.error === null
            ? t('action.none')
            : h(
                'span',
                { class: 'salesforce-message' },
                breakable([action.error.code, action.error.message].filter(Boolean).join(': ')),
              ),
        ],
      ]),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'action-event' },
      h('h2', { id: 'action-event' }, t('action.event')),
      action.sfEventId === null
        ? h('p', {}, t('action.notSynced'))
        : definitionList([
            [
              t('action.event'),
              action.eventUrl === null
                ? breakable(action.sfEventId)
                : h(
                    'a',
                    { href: action.eventUrl, target: '_blank', rel: 'noopener noreferrer' },
                    t('action.openEvent', { id: action.sfEventId }),
                  ),
            ],
            [t('action.who'), breakable(action.whoId ?? t('action.none'))],
            [t('action.owner'), breakable(action.ownerId ?? t('action.none'))],
          ]),
    ),
  );
  const matching = h(
    'section',
    { class: 'card', 'aria-labelledby': 'action-match' },
    h('h2', { id: 'action-match' }, t('action.match')),
  );
  if (action.match === null) {
    append(matching, h('p', {}, t('action.notMatched')));
  } else {
    const { decidedBy, rule } = matchRule(action.match.rule);
    const chosen = action.match.chosen;
    append(
      matching,
      definitionList([
        [t('action.matchRule'), rule],
        ...(decidedBy === null ? [] : ([[t('action.matchDecidedBy'), decidedBy]] as Array<[string, string]>)),
        [
          t('action.matchChosen'),
          chosen === null
            ? t('action.matchNone')
            : h('span', {}, `${t(`object.${chosen.object}`)} `, breakable(chosen.id)),
        ],
      ]),
    );
    if (action.match.candidates.length > 0) {
      append(
        matching,
        h('h3', {}, t('action.candidates')),
        table(
          t('action.candidatesCaption'),
          [
            t('action.candidate.object'),
            t('action.candidate.id'),
            t('action.candidate.via'),
            t('action.candidate.created'),
            t('action.candidate.chosen'),
          ],
          candidateRows(action),
          { hideCaption: true },
        ),
      );
    }
  }
  append(context.main, matching);
};
