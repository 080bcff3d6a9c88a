import http from 'node:http';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { signWebhook } from '../../src/intake/signature';
import { samplePayload } from '../store/actions-fixtures';
import { bodyFor, deliver, newSecret, startIntakeServer, type IntakeServer } from './intake-server';

describe('POST /webhooks/relation', () => {
  let server: IntakeServer;
  beforeEach(async () => {
    server = await startIntakeServer();
  });
  afterEach(async () => {
    await server.close();
  });

  describe('a valid delivery', () => {
    it('answers 202 accepted with the action id only once the action is committed, and wakes the sync engine', async () => {
      const response = await deliver(server, { body: bodyFor('act_202') });
      expect(response).toMatchObject({ status: 202, json: { status: 'accepted', action_id: 'act_202' } });
      const reader = new Database(server.dbFile, { readonly: true });
      const row = reader
        .prepare('SELECT state, inbox_id, kind, channel FROM actions WHERE action_id = ?')
        .get('act_202');
      reader.close();
      expect(row).toEqual({ state: 'received', inbox_id: '12', kind: 'message_sent', channel: 'email' });
      expect(server.accepted.count).toBe(1);
    });

    it('stores the action with its times, delivery id and payload', async () => {
      await deliver(server, { body: bodyFor('act_times'), webhookId: 'msg_times' });
      expect(await server.store.actions.get('act_times')).toMatchObject({
        webhookId: 'msg_times',
        inboxId: '12',
        inboxName: '営業窓口',
        occurredAt: Date.parse('2026-11-28T01:15:00Z'),
        receivedAt: server.clock.now,
        payload: samplePayload({ actionId: 'act_times' }),
      });
    });

    it('keeps Japanese and emoji text byte for byte', async () => {
      const text = '山田様\nお世話になっております。🙇‍♀️ ０９０－１２３４';
      await deliver(server, { body: bodyFor('act_ja', (p) => (p.action.body = text)) });
      expect((await server.store.actions.get('act_ja'))?.payload.action.body).toBe(text);
    });

    it('accepts application/json with a UTF-8 charset', async () => {
      const response = await deliver(server, {
        body: bodyFor('act_charset'),
        contentType: 'Application/JSON; charset="UTF-8"',
      });
      expect(response.status).toBe(202);
    });

    it('accepts unknown kinds and channels but does not wake the sync engine for them', async () => {
      await server.close();
      server = await startIntakeServer({ syncedKinds: ['message_sent'] });
      const fax = await deliver(server, { body: bodyFor('act_fax', (p) => (p.action.channel = 'fax')) });
      const comment = await deliver(server, { body: bodyFor('act_comment', (p) => (p.action.kind = 'comment')) });
      expect([fax.status, comment.status]).toEqual([202, 202]);
      expect(server.accepted.count).toBe(0);
      await deliver(server, { body: bodyFor('act_mail') });
      expect(server.accepted.count).toBe(1);
    });
  });

  describe('duplicates', () => {
    it('when the same webhook-id is delivered twice, it stores one action and answers 200 duplicate', async () => {
      const body = bodyFor('act_dup');
      expect((await deliver(server, { body, webhookId: 'msg_same' })).status).toBe(202);
      const again = await deliver(server, { body, webhookId: 'msg_same' });
      expect(again).toMatchObject({ status: 200, json: { status: 'duplicate', action_id: 'act_dup' } });
      expect(await server.storedActions()).toBe(1);
      expect(server.accepted.count).toBe(1);
    });

    it('when a new webhook-id carries the same action.id, it answers 200 duplicate', async () => {
      const body = bodyFor('act_dup2');
      await deliver(server, { body, webhookId: 'msg_first' });
      const again = await deliver(server, { body, webhookId: 'msg_second' });
      expect(again).toMatchObject({ status: 200, json: { status: 'duplicate', action_id: 'act_dup2' } });
      expect(await server.storedActions()).toBe(1);
    });

    it('answers every one of many concurrent deliveries of one action, exactly one of them accepted', async () => {
      const body = bodyFor('act_burst');
      const responses = await Promise.all(Array.from({ length: 20 }, () => deliver(server, { body })));
      expect(responses.filter((r) => r.status === 202)).toHaveLength(1);
      expect(responses.filter((r) => r.status === 200)).toHaveLength(19);
      expect(await server.storedActions()).toBe(1);
    });
  });

  describe('each bad request gets its status from the contract and stores nothing', () => {
    const cases: Array<[string, number, unknown, (s: IntakeServer) => Parameters<typeof deliver>[1]]> = [
      ['content type text/plain', 415, { error: 'unsupported_media_type' }, () => ({ contentType: 'text/plain' })],
      ['no content type', 415, { error: 'unsupported_media_type' }, () => ({ contentType: null })],
      [
        'a non-UTF-8 charset',
        415,
        { error: 'unsupported_media_type' },
        () => ({ contentType: 'application/json; charset=shift_jis' }),
      ],
      [
        'a JSON-like media type',
        415,
        { error: 'unsupported_media_type' },
        () => ({ contentType: 'application/jsonp' }),
      ],
      [
        'a gzip-encoded body',
        415,
        { error: 'unsupported_media_type' },
        () => ({
          body: gzipSync(bodyFor('act_gzip')),
          headers: { 'content-encoding': 'gzip' },
        }),
      ],
      ['no webhook-signature', 401, { error: 'invalid_signature' }, () => ({ headers: { 'webhook-signature': null } })],
      ['no webhook-id', 401, { error: 'invalid_signature' }, () => ({ headers: { 'webhook-id': null } })],
      ['no webhook-timestamp', 401, { error: 'invalid_signature' }, () => ({ headers: { 'webhook-timestamp': null } })],
      ['a signature from an unknown secret', 401, { error: 'invalid_signature' }, () => ({ secret: newSecret() })],
      [
        'a signature over another body',
        401,
        { error: 'invalid_signature' },
        (s) => ({
          headers: {
            'webhook-signature': `v1,${Buffer.alloc(32, 1).toString('base64')}`,
            'webhook-id': 'msg_forged',
            'webhook-timestamp': String(Math.floor(s.clock.now / 1000)),
          },
        }),
      ],
      [
        'a timestamp 301 s in the past',
        401,
        { error: 'invalid_signature' },
        (s) => ({ timestamp: Math.floor(s.clock.now / 1000) - 301 }),
      ],
      [
        'a timestamp 301 s in the future',
        401,
        { error: 'invalid_signature' },
        (s) => ({ timestamp: Math.floor(s.clock.now / 1000) + 301 }),
      ],
      ['a timestamp in milliseconds', 401, { error: 'invalid_signature' }, (s) => ({ timestamp: s.clock.now })],
      [
        'malformed JSON',
        400,
        { error: 'invalid_payload', details: [{ path: '', message: 'the body is not valid JSON' }] },
        () => ({
          body: '{"type": "ticket.action.created",',
        }),
      ],
      [
        'bytes that are not UTF-8',
        400,
        { error: 'invalid_payload', details: [{ path: '', message: 'the body is not valid UTF-8' }] },
        () => ({
          body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
        }),
      ],
      [
        'an empty body',
        400,
        { error: 'invalid_payload', details: [{ path: '', message: 'the body is not valid JSON' }] },
        () => ({ body: '' }),
      ],
      [
        'a missing action.kind',
        400,
        { error: 'invalid_payload', details: [{ path: 'action.kind', message: expect.any(String) }] },
        () => ({
          body: bodyFor('act_nokind', (p) => delete (p.action as { kind?: string }).kind),
        }),
      ],
      [
        'a naive occurred_at',
        400,
        {
          error: 'invalid_payload',
          details: [{ path: 'action.occurred_at', message: expect.stringMatching(/offset/) }],
        },
        () => ({
          body: bodyFor('act_naive', (p) => (p.action.occurred_at = '2026-11-28T10:15:00')),
        }),
      ],
      [
        'a non-string email',
        400,
        { error: 'invalid_payload', details: [{ path: 'customer.emails.0', message: expect.any(String) }] },
        () => ({
          body: bodyFor('act_email', (p) => ((p.customer as { emails: unknown[] }).emails = [7])),
        }),
      ],
      [
        'a webhook-id longer than 255 characters',
        400,
        { error: 'invalid_payload', details: [{ path: 'headers.webhook-id', message: expect.any(String) }] },
        () => ({
          webhookId: 'm'.repeat(256),
        }),
      ],
    ];

    it.each(cases)('%s → %i', async (_name, status, body, delivery) => {
      const response = await deliver(server, delivery(server));
      expect(response.status).toBe(status);
      // The one error shape: a code, an English message, and details where there are some.
      expect(response.json).toEqual({ message: expect.any(String), ...(body as object) });
      expect(await server.storedActions()).toBe(0);
      expect(server.accepted.count).toBe(0);
    });

    it('reports every schema violation with its dot path', async () => {
      const body = bodyFor('act_many', (p) => {
        (p.action as { direction: string }).direction = 'sideways';
        delete (p.ticket as { url?: string }).url;
        (p.customer as { phones: unknown[] }).phones = ['03-1234-5678', null];
      });
      const response = await deliver(server, { body });
      expect(response.status).toBe(400);
      const paths = (response.json as { details: Array<{ path: string }> }).details.map((detail) => detail.path).sort();
      expect(paths).toEqual(['action.direction', 'customer.phones.1', 'ticket.url']);
    });

    it('answers 405 to other methods', async () => {
      const response = await deliver(server, { method: 'GET' });
      expect(response).toMatchObject({ status: 405, json: { error: 'method_not_allowed' } });
    });
  });

  describe('signature rules', () => {
    it('accepts a timestamp exactly at the tolerance on both sides', async () => {
      const nowSeconds = Math.floor(server.clock.now / 1000);
      expect((await deliver(server, { body: bodyFor('act_past'), timestamp: nowSeconds - 300 })).status).toBe(202);
      expect((await deliver(server, { body: bodyFor('act_future'), timestamp: nowSeconds + 300 })).status).toBe(202);
    });

    it('accepts either of two active secrets, and refuses a secret once it is rotated out', async () => {
      const [oldSecret] = server.secrets as [string];
      const nextSecret = newSecret();
      server.secrets.push(nextSecret);
      expect((await deliver(server, { body: bodyFor('act_old'), secret: oldSecret })).status).toBe(202);
      expect((await deliver(server, { body: bodyFor('act_next'), secret: nextSecret })).status).toBe(202);
      server.secrets.splice(0, 1);
      expect((await deliver(server, { body: bodyFor('act_retired'), secret: oldSecret })).status).toBe(401);
      expect((await deliver(server, { body: bodyFor('act_current'), secret: nextSecret })).status).toBe(202);
    });

    it('accepts a header with several signature entries when one of them is valid', async () => {
      const body = bodyFor('act_multi');
      const signed = signWebhook({
        secret: server.secrets[0] as string,
        id: 'msg_multi',
        timestamp: Math.floor(server.clock.now / 1000),
        body,
      });
      const header = `v1,${Buffer.alloc(32, 9).toString('base64')} ${signed['webhook-signature']} v1,${Buffer.alloc(32, 3).toString('base64')}`;
      const response = await deliver(server, {
        body,
        webhookId: 'msg_multi',
        headers: { 'webhook-signature': header },
      });
      expect(response.status).toBe(202);
    });

    it('answers 401 to everything while no secret is configured', async () => {
      server.secrets.splice(0, server.secrets.length);
      const response = await deliver(server, { body: bodyFor('act_nosecret'), secret: newSecret() });
      expect(response.status).toBe(401);
      expect(await server.storedActions()).toBe(0);
    });

    it('never logs the signature or the secret', async () => {
      const signature = 'v1,' + Buffer.alloc(32, 5).toString('base64');
      await deliver(server, { body: bodyFor('act_log1'), headers: { 'webhook-signature': signature } });
      await deliver(server, { body: bodyFor('act_log2') });
      const log = server.logLines.join('');
      expect(log).toContain('intake: webhook signature rejected');
      expect(log).not.toContain(Buffer.alloc(32, 5).toString('base64'));
      expect(log).not.toContain((server.secrets[0] as string).slice('whsec_'.length));
    });
  });

  describe('body size', () => {
    async function startWithLimit(limit: number): Promise<void> {
      await server.close();
      server = await startIntakeServer({ maxBodyBytes: limit });
    }

    /** A valid body of exactly `bytes` bytes, padded with three-byte Japanese characters and ASCII. */
    function bodyOfSize(bytes: number, actionId: string): string {
      const base = bodyFor(actionId, (p) => (p.action.body = ''));
      const missing = bytes - Buffer.byteLength(base);
      const padding = 'あ'.repeat(Math.floor(missing / 3)) + 'a'.repeat(missing % 3);
      const body = bodyFor(actionId, (p) => (p.action.body = padding));
      expect(Buffer.byteLength(body)).toBe(bytes);
      return body;
    }

    it('accepts a body exactly at the limit and answers 413 to one byte more', async () => {
      await startWithLimit(4096);
      expect((await deliver(server, { body: bodyOfSize(4096, 'act_at_limit') })).status).toBe(202);
      const over = await deliver(server, { body: bodyOfSize(4097, 'act_over_limit') });
      expect(over).toMatchObject({ status: 413, json: { error: 'payload_too_large' } });
      expect(await server.store.actions.get('act_over_limit')).toBeNull();
    });

    it('answers 413 to a chunked body (no Content-Length) that grows past the limit', async () => {
      await startWithLimit(4096);
      const body = bodyOfSize(6000, 'act_chunked');
      const headers = {
        'content-type': 'application/json',
        ...signWebhook({
          secret: server.secrets[0] as string,
          id: 'msg_chunked',
          timestamp: Math.floor(server.clock.now / 1000),
          body,
        }),
      };
      const status = await new Promise<number>((resolve, reject) => {
        const request = http.request(server.url, { method: 'POST', headers }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        request.on('error', reject);
        request.write(body.slice(0, 3000));
        request.end(body.slice(3000));
      });
      expect(status).toBe(413);
      expect(await server.storedActions()).toBe(0);
    });
  });

  describe('when the store cannot commit', () => {
    it('answers 503 unavailable while another process holds the database lock, and 202 to the retry', async () => {
      await server.close();
      server = await startIntakeServer({}, { busyTimeoutMs: 0 });
      const locker = new Database(server.dbFile);
      locker.prepare('BEGIN IMMEDIATE').run();
      const body = bodyFor('act_locked');
      const refused = await deliver(server, { body, webhookId: 'msg_locked' });
      expect(refused).toMatchObject({ status: 503, json: { error: 'unavailable' } });
      expect(await server.storedActions()).toBe(0);
      locker.prepare('ROLLBACK').run();
      locker.close();
      const retried = await deliver(server, { body, webhookId: 'msg_locked' });
      expect(retried).toMatchObject({ status: 202, json: { status: 'accepted', action_id: 'act_locked' } });
    });

    it('answers 503 when the store is closed', async () => {
      await server.store.close();
      const response = await deliver(server, { body: bodyFor('act_closed') });
      expect(response).toMatchObject({ status: 503, json: { error: 'unavailable' } });
      expect(server.accepted.count).toBe(0);
    });
  });
});
