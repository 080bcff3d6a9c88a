import { LIMITS, parseWebhookBody } from '../../src/intake/schema';
import { samplePayload } from '../store/actions-fixtures';

type Json = Record<string, unknown>;

/** The sample payload with one change at a dot path; `undefined` deletes the property. */
function withChange(path: string, value: unknown): Json {
  const body = structuredClone(samplePayload()) as unknown as Json;
  const keys = path.split('.');
  const last = keys.pop() as string;
  const parent = keys.reduce<Json>((node, key) => node[key] as Json, body);
  if (value === undefined) delete parent[last];
  else parent[last] = value;
  return body;
}

function issuesOf(body: unknown) {
  const parsed = parseWebhookBody(body);
  return parsed.ok ? [] : parsed.issues;
}

describe('webhook body schema', () => {
  it('accepts the sample payload and returns it unchanged', () => {
    expect(parseWebhookBody(samplePayload())).toEqual({ ok: true, payload: samplePayload() });
  });

  it.each([
    'type',
    'action',
    'action.id',
    'action.kind',
    'action.occurred_at',
    'action.channel',
    'action.direction',
    'ticket',
    'ticket.id',
    'ticket.url',
    'inbox',
    'inbox.id',
    'customer',
  ])('refuses a body without %s, naming that path', (path) => {
    expect(issuesOf(withChange(path, undefined)).map((issue) => issue.path)).toEqual([path]);
  });

  it.each<[string, unknown]>([
    ['action.subject', ''],
    ['action.body', ''],
    ['action.operator', {}],
    ['action.call', {}],
    ['ticket.title', ''],
    ['ticket.status', ''],
    ['inbox.name', ''],
    ['customer.id', ''],
    ['customer.name', ''],
    ['customer.code', ''],
    ['customer.emails', []],
    ['customer.phones', []],
  ])('accepts a body where %s is absent, null or empty', (path, empty) => {
    expect(issuesOf(withChange(path, undefined))).toEqual([]);
    expect(issuesOf(withChange(path, null))).toEqual([]);
    expect(issuesOf(withChange(path, empty))).toEqual([]);
  });

  it('accepts operator and call objects with every field absent or null', () => {
    expect(issuesOf(withChange('action.operator', { id: null, name: null, email: null }))).toEqual([]);
    expect(issuesOf(withChange('action.call', { duration_seconds: null, phone: null }))).toEqual([]);
    expect(issuesOf(withChange('action.call', { duration_seconds: 312, phone: '03-1234-5678' }))).toEqual([]);
  });

  it('accepts unknown kinds and channels (they are recorded as not synced later)', () => {
    expect(issuesOf(withChange('action.kind', 'ticket_merged'))).toEqual([]);
    expect(issuesOf(withChange('action.channel', 'fax'))).toEqual([]);
  });

  it('refuses a wrong type and an unknown direction', () => {
    expect(issuesOf(withChange('type', 'ticket.created')).map((issue) => issue.path)).toEqual(['type']);
    expect(issuesOf(withChange('action.direction', 'sideways')).map((issue) => issue.path)).toEqual([
      'action.direction',
    ]);
  });

  it.each([
    '2026-11-28T10:15:00+09:00',
    '2026-11-28T01:15:00Z',
    '2026-11-28T01:15:00.123456Z',
    '2026-11-27T20:15:00-05:00',
    '2028-02-29T00:00:00+09:00',
  ])('accepts the RFC 3339 time %s', (value) => {
    expect(issuesOf(withChange('action.occurred_at', value))).toEqual([]);
  });

  it.each([
    '2026-11-28T10:15:00',
    '2026-11-28 10:15:00+09:00',
    '2026-11-28T10:15:00+0900',
    '2026-02-30T10:15:00Z',
    '2026-11-28',
    '1764292500',
    'yesterday',
  ])('refuses %s as occurred_at: an RFC 3339 time with an offset is required', (value) => {
    const issues = issuesOf(withChange('action.occurred_at', value));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: 'action.occurred_at', message: expect.stringMatching(/offset/) });
  });

  it('refuses empty identifiers', () => {
    for (const path of ['action.id', 'action.kind', 'action.channel', 'ticket.id', 'inbox.id']) {
      expect(issuesOf(withChange(path, '')).map((issue) => issue.path)).toEqual([path]);
    }
  });

  it('refuses a ticket URL that is not http(s)', () => {
    for (const url of ['javascript:alert(1)', 'not a url', 'ftp://example.com/t/1']) {
      expect(issuesOf(withChange('ticket.url', url)).map((issue) => issue.path)).toEqual(['ticket.url']);
    }
  });

  it('bounds text lengths and list sizes, naming the offending element', () => {
    expect(issuesOf(withChange('action.id', 'a'.repeat(LIMITS.id + 1))).map((i) => i.path)).toEqual(['action.id']);
    expect(issuesOf(withChange('action.subject', '件'.repeat(LIMITS.subject + 1))).map((i) => i.path)).toEqual([
      'action.subject',
    ]);
    expect(issuesOf(withChange('action.subject', '件'.repeat(LIMITS.subject)))).toEqual([]);
    const tooMany = Array.from({ length: LIMITS.listItems + 1 }, (_, index) => `c${index}@example.com`);
    expect(issuesOf(withChange('customer.emails', tooMany)).map((i) => i.path)).toEqual(['customer.emails']);
    expect(issuesOf(withChange('customer.emails', ['ok@example.com', 42])).map((i) => i.path)).toEqual([
      'customer.emails.1',
    ]);
    expect(issuesOf(withChange('customer.phones', ['0'.repeat(LIMITS.phone + 1)])).map((i) => i.path)).toEqual([
      'customer.phones.0',
    ]);
  });

  it('refuses a negative or fractional call duration', () => {
    expect(issuesOf(withChange('action.call', { duration_seconds: -1 })).map((i) => i.path)).toEqual([
      'action.call.duration_seconds',
    ]);
    expect(issuesOf(withChange('action.call', { duration_seconds: 1.5 })).map((i) => i.path)).toEqual([
      'action.call.duration_seconds',
    ]);
  });

  it('drops unknown properties, so senders can extend the body compatibly', () => {
    const extended = { ...withChange('action.subject', '件名'), relay: { version: 2 } };
    const parsed = parseWebhookBody(extended);
    expect(parsed.ok).toBe(true);
    expect(parsed.ok && 'relay' in parsed.payload).toBe(false);
  });

  it('reports a body that is not an object at the empty path', () => {
    for (const body of [null, [], 'text', 42]) {
      expect(issuesOf(body).map((issue) => issue.path)).toEqual(['']);
    }
  });

  it('keeps Japanese, emoji and full-width digits intact', () => {
    const text = '山田様 🙇‍♂️ お電話番号は０９０－１２３４－５６７８です';
    const parsed = parseWebhookBody(withChange('action.body', text));
    expect(parsed.ok && parsed.payload.action.body).toBe(text);
  });

  it.each([
    ['action.id', 'act_\ud800'],
    ['action.kind', 'message_\udc00sent'],
    ['action.subject', '件名\ud83d'],
    ['action.body', 'lone \udfff low'],
    ['ticket.id', '\ud800'],
    ['inbox.name', '営業\ud800窓口'],
    ['customer.name', 'a\u0000b'],
    ['action.body', 'NUL \u0000 inside'],
    ['ticket.url', 'https://example.relationapp.jp/tickets/\ud800'],
    ['ticket.url', 'https://example.relationapp.jp/tickets/1\u0000'],
  ])('refuses %s holding text that cannot be stored as sent, naming the field', (path, value) => {
    expect(issuesOf(withChange(path, value))).toEqual([{ path, message: expect.stringMatching(/Unicode|U\+0000/) }]);
  });

  it('refuses such text inside lists too, naming the element', () => {
    expect(issuesOf(withChange('customer.emails', ['ok@example.jp', 'x\ud800@example.jp']))).toEqual([
      { path: 'customer.emails.1', message: expect.stringMatching(/Unicode/) },
    ]);
  });

  it('accepts text with surrogate pairs that are whole (emoji outside the BMP)', () => {
    expect(parseWebhookBody(withChange('action.body', '𠮷野家 🍣')).ok).toBe(true);
  });
});
