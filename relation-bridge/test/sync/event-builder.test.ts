import type { StoredAction } from '../../src/core/types';
import {
  buildDescription,
  buildEvent,
  buildSubject,
  DESCRIPTION_MAX,
  durationMinutes,
  packagedFieldNames,
  SUBJECT_MAX,
} from '../../src/sync/event-builder';

function action(overrides: Partial<StoredAction['payload']['action']> = {}, title = 'お見積りの件'): StoredAction {
  const payload: StoredAction['payload'] = {
    type: 'ticket.action.created',
    action: {
      id: 'act_1',
      kind: 'message_sent',
      occurred_at: '2026-11-28T10:15:00+09:00',
      channel: 'email',
      direction: 'outbound',
      body: '山田様\nお世話になっております。',
      ...overrides,
    },
    ticket: { id: '48213', title, url: 'https://example.relationapp.jp/tickets/48213' },
    inbox: { id: '12', name: '営業窓口' },
    customer: { emails: ['taro.yamada@example.com'] },
  };
  return {
    actionId: payload.action.id,
    webhookId: 'msg_1',
    inboxId: '12',
    inboxName: '営業窓口',
    kind: payload.action.kind,
    channel: payload.action.channel,
    occurredAt: Date.parse(payload.action.occurred_at),
    receivedAt: 0,
    payload,
    state: 'pending',
    reason: null,
    linkId: 'lnk_1',
    orgId: '00D000000000001AAA',
    attempts: 0,
    nextAttemptAt: 0,
    writeAttemptedAt: null,
    sfEventId: null,
    whoId: null,
    ownerId: null,
    match: null,
    errorCode: null,
    errorMessage: null,
    rematch: false,
    updatedAt: 0,
  };
}

describe('the Event built for an action', () => {
  it('carries the channel label, the ticket title, the time in UTC and every packaged field', () => {
    const record = buildEvent(action(), { whoId: '003A', ownerId: '005B' }, packagedFieldNames('inbx'), 'ja');
    expect(record).toMatchObject({
      attributes: { type: 'Event' },
      Subject: '[メール・送信] お見積りの件',
      Description: '山田様\nお世話になっております。',
      ActivityDateTime: '2026-11-28T01:15:00.000Z',
      DurationInMinutes: 0,
      ShowAs: 'Free',
      WhoId: '003A',
      OwnerId: '005B',
      inbx__Action_Id__c: 'act_1',
      inbx__Ticket_Id__c: '48213',
      inbx__Ticket_URL__c: 'https://example.relationapp.jp/tickets/48213',
      inbx__Inbox_Id__c: '12',
      inbx__Inbox_Name__c: '営業窓口',
      inbx__Channel__c: 'email',
      inbx__Action_Kind__c: 'message_sent',
      inbx__Direction__c: 'outbound',
    });
  });

  it('uses no prefix when the namespace is empty', () => {
    expect(packagedFieldNames('').actionId).toBe('Action_Id__c');
  });

  it('labels the subject in English when asked', () => {
    expect(buildSubject(action({ channel: 'chat_widget' }), 'en')).toBe('[Chat widget, sent] お見積りの件');
  });

  it('tells a received message from a sent one with the same title, in the language of the subject', () => {
    const received = action({ kind: 'message_received', direction: 'inbound' });
    const sent = action({ kind: 'message_sent', direction: 'outbound' });
    expect(buildSubject(received, 'ja')).toBe('[メール・受信] お見積りの件');
    expect(buildSubject(sent, 'ja')).toBe('[メール・送信] お見積りの件');
    expect(buildSubject(received, 'en')).toBe('[Email, received] お見積りの件');
    expect(buildSubject(sent, 'en')).toBe('[Email, sent] お見積りの件');
    expect(buildSubject(action({ channel: 'line', direction: 'inbound' }), 'ja')).toBe('[LINE・受信] お見積りの件');
  });

  it('says whether a call came in or went out, and gives memos without a direction none', () => {
    const call = (direction: 'inbound' | 'outbound') => action({ kind: 'call_memo', channel: 'call_memo', direction });
    expect(buildSubject(call('inbound'), 'ja')).toBe('[通話メモ・着信] お見積りの件');
    expect(buildSubject(call('outbound'), 'ja')).toBe('[通話メモ・発信] お見積りの件');
    expect(buildSubject(call('inbound'), 'en')).toBe('[Call memo, incoming] お見積りの件');
    const memo = action({ kind: 'response_memo', channel: 'response_memo', direction: 'internal' });
    expect(buildSubject(memo, 'ja')).toBe('[応対メモ] お見積りの件');
    expect(buildSubject(memo, 'en')).toBe('[Response memo] お見積りの件');
  });

  it('falls back to the ticket number when there is no title or subject', () => {
    expect(buildSubject(action({}, ''), 'ja')).toBe('[メール・送信] #48213');
  });

  it('keeps the direction when a long title is cut to 255 characters', () => {
    const subject = buildSubject(action({ direction: 'inbound' }, 'あ'.repeat(400)), 'en');
    expect(subject.startsWith('[Email, received] ')).toBe(true);
    expect(subject).toHaveLength(SUBJECT_MAX);
  });

  it('marks every Event Free, so that no message blocks its owner’s calendar, call memos with their length too', () => {
    const fields = packagedFieldNames('inbx');
    const target = { whoId: '003A', ownerId: '005B' };
    expect(buildEvent(action(), target, fields, 'ja').ShowAs).toBe('Free');
    const call = action({ kind: 'call_memo', channel: 'call_memo', call: { duration_seconds: 312 } });
    expect(buildEvent(call, target, fields, 'ja')).toMatchObject({ ShowAs: 'Free', DurationInMinutes: 6 });
  });

  it('cuts a long subject to 255 characters without splitting an emoji', () => {
    const subject = buildSubject(action({}, '😀'.repeat(300)), 'ja');
    expect(subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
    expect(subject.endsWith('…')).toBe(true);
    expect(subject).not.toMatch(/[\uD800-\uDBFF]…$/);
  });

  it('cuts a long body with a visible marker and the ticket URL, within 32,000 characters', () => {
    const description = buildDescription(action({ body: 'あ'.repeat(40_000) }));
    expect(description.length).toBeLessThanOrEqual(DESCRIPTION_MAX);
    expect(description).toContain('以下省略');
    expect(description.endsWith('https://example.relationapp.jp/tickets/48213')).toBe(true);
  });

  it('keeps a body of exactly 32,000 characters whole', () => {
    const body = 'a'.repeat(DESCRIPTION_MAX);
    expect(buildDescription(action({ body }))).toBe(body);
  });

  it('writes no text at all when the link policy captures no body', () => {
    const record = buildEvent(
      action({ body: '個人情報を含む本文' }),
      { whoId: '003A', ownerId: '005B' },
      packagedFieldNames('inbx'),
      'ja',
      { capture: 'none', maxChars: null },
    );
    expect(record.Description).toBe('');
    expect(record.Subject).toBe('[メール・送信] お見積りの件');
  });

  it('keeps the first N characters with the marker and the ticket URL, and a shorter body whole', () => {
    const marker = '\n\n…(以下省略 / truncated) 全文 / full text: https://example.relationapp.jp/tickets/48213';
    const firstN = (body: string, maxChars: number | null) =>
      buildDescription(action({ body }), { capture: 'first_n', maxChars });
    expect(firstN('あ'.repeat(150), 100)).toBe(`${'あ'.repeat(100)}${marker}`);
    expect(firstN('あ'.repeat(100), 100)).toBe('あ'.repeat(100));
    expect(firstN('😀'.repeat(10), 5)).toBe(`😀😀${marker}`);
    expect(firstN('本文', null)).toBe(marker);
    const huge = firstN('a'.repeat(40_000), 100_000);
    expect(huge.length).toBeLessThanOrEqual(DESCRIPTION_MAX);
    expect(huge.endsWith(marker)).toBe(true);
  });

  it('gives call memos their length in whole minutes, other actions 0', () => {
    expect(durationMinutes(action({ kind: 'call_memo', channel: 'call_memo', call: { duration_seconds: 312 } }))).toBe(
      6,
    );
    expect(
      durationMinutes(action({ kind: 'call_memo', channel: 'call_memo', call: { duration_seconds: 10 ** 9 } })),
    ).toBe(14 * 24 * 60);
    expect(durationMinutes(action())).toBe(0);
  });
});
