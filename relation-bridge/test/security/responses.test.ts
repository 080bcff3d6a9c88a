import { createHash } from 'node:crypto';
import type { IncomingAction } from '../../src/sync/actions-repository';
import { bodyFor, deliver, type IntakeServer, startIntakeServer } from '../intake/intake-server';
import { callAs, signInOverHttp } from '../auth/session-client';
import { type BridgeHarness, HARNESS_ADMIN_TOKEN, startBridgeHarness } from '../helpers/bridge-harness';
import { actionPayload } from '../helpers/payloads';
import { postWebhook } from './hostile';

/**
 * Two smaller findings of the outside review: JSON answers carried no Cache-Control:
 * no-store and no nosniff; and a webhook-id reused for another body was answered
 * 200 duplicate and the body dropped silently.
 */

describe('every JSON answer of the admin API and the intake says no-store and nosniff', () => {
  let harness: BridgeHarness;
  beforeAll(async () => {
    harness = await startBridgeHarness();
    await harness.admin('POST', '/users', {
      email: 'owner@relation-demo.example.jp',
      name: '大和 太郎',
      isOwner: true,
      password: 'owner-password-1',
    });
  });
  afterAll(async () => {
    await harness.close();
  });

  const privateJson = (what: string, status: number, headers: Headers) => ({
    what,
    status,
    cacheControl: headers.get('cache-control'),
    nosniff: headers.get('x-content-type-options'),
  });

  it('on success and on every kind of refusal', async () => {
    const url = (route: string) => `${harness.baseUrl}/api/v1${route}`;
    const token = { authorization: `Bearer ${HARNESS_ADMIN_TOKEN}` };
    const json = { ...token, 'content-type': 'application/json' };
    const payload = actionPayload();
    const accepted = await postWebhook(harness.baseUrl, JSON.stringify(payload), { webhookId: 'msg_headers' });
    const session = await signInOverHttp(harness.baseUrl, 'owner@relation-demo.example.jp', 'owner-password-1');
    const answers: Array<[string, number, Headers]> = [];
    const record = async (what: string, response: Promise<Response>) => {
      const answer = await response;
      await answer.arrayBuffer();
      answers.push([what, answer.status, answer.headers]);
    };
    answers.push(['webhook accepted', accepted.status, accepted.headers]);
    const duplicate = await postWebhook(harness.baseUrl, JSON.stringify(payload), { webhookId: 'msg_headers' });
    answers.push(['webhook duplicate', duplicate.status, duplicate.headers]);
    const invalid = await postWebhook(harness.baseUrl, '{"type":"nope"}');
    answers.push(['webhook invalid', invalid.status, invalid.headers]);
    const unsigned = await postWebhook(harness.baseUrl, '{}', { signed: false });
    answers.push(['webhook unsigned', unsigned.status, unsigned.headers]);
    const notJson = await postWebhook(harness.baseUrl, 'a=b', { headers: { 'content-type': 'text/plain' } });
    answers.push(['webhook not JSON', notJson.status, notJson.headers]);
    const large = await postWebhook(harness.baseUrl, `{"x":"${'a'.repeat(1_100_000)}"}`);
    answers.push(['webhook too large', large.status, large.headers]);
    await record('webhook GET', fetch(`${harness.baseUrl}/webhooks/relation`));

    await record('admin list', fetch(url('/links'), { headers: token }));
    await record('admin without credentials', fetch(url('/links')));
    await record('admin unknown route', fetch(url('/nothing-here'), { headers: token }));
    await record('admin broken JSON', fetch(url('/inboxes'), { method: 'POST', headers: json, body: '{"inboxId":' }));
    await record(
      'admin body too large',
      fetch(url('/inboxes'), { method: 'POST', headers: json, body: JSON.stringify({ name: 'x'.repeat(70_000) }) }),
    );
    await record('admin invalid body', fetch(url('/inboxes'), { method: 'POST', headers: json, body: '{}' }));
    await record(
      'sign-in refused',
      fetch(url('/session'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'owner@relation-demo.example.jp', password: 'not-the-password' }),
      }),
    );
    const forbidden = await callAs(
      harness.baseUrl,
      session,
      'POST',
      '/inboxes',
      { inboxId: '1', name: 'x' },
      { csrfToken: null },
    );
    answers.push(['CSRF refused', forbidden.status, forbidden.headers]);
    const mine = await callAs(harness.baseUrl, session, 'GET', '/session');
    answers.push(['own session', mine.status, mine.headers]);
    const out = await callAs(harness.baseUrl, session, 'DELETE', '/session');
    answers.push(['sign-out', out.status, out.headers]);

    expect(answers.map(([what, status]) => [what, status])).toEqual([
      ['webhook accepted', 202],
      ['webhook duplicate', 200],
      ['webhook invalid', 400],
      ['webhook unsigned', 401],
      ['webhook not JSON', 415],
      ['webhook too large', 413],
      ['webhook GET', 405],
      ['admin list', 200],
      ['admin without credentials', 401],
      ['admin unknown route', 404],
      ['admin broken JSON', 400],
      ['admin body too large', 413],
      ['admin invalid body', 400],
      ['sign-in refused', 401],
      ['CSRF refused', 403],
      ['own session', 200],
      ['sign-out', 204],
    ]);
    for (const [what, status, headers] of answers) {
      expect(privateJson(what, status, headers)).toEqual({
        what,
        status,
        cacheControl: 'no-store',
        nosniff: 'nosniff',
      });
      if (status !== 204)
        expect({ what, type: headers.get('content-type') }).toEqual({
          what,
          type: expect.stringMatching(/^application\/json/),
        });
    }
  });
});

describe('a webhook-id reused with another body', () => {
  let server: IntakeServer;
  beforeAll(async () => {
    server = await startIntakeServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('the same id with the same body is 200 duplicate; with another body it is 409, nothing is stored, and it is logged', async () => {
    const first = await deliver(server, { body: bodyFor('act_first'), webhookId: 'msg_reused' });
    expect(first).toMatchObject({ status: 202, json: { status: 'accepted', action_id: 'act_first' } });
    const again = await deliver(server, { body: bodyFor('act_first'), webhookId: 'msg_reused' });
    expect(again).toMatchObject({ status: 200, json: { status: 'duplicate', action_id: 'act_first' } });

    const otherAction = await deliver(server, { body: bodyFor('act_second'), webhookId: 'msg_reused' });
    expect(otherAction).toMatchObject({ status: 409, json: { error: 'webhook_id_reused' } });
    const sameActionOtherText = await deliver(server, {
      body: bodyFor('act_first', (payload) => (payload.action.body = '別の本文')),
      webhookId: 'msg_reused',
    });
    expect(sameActionOtherText).toMatchObject({ status: 409, json: { error: 'webhook_id_reused' } });

    expect(await server.storedActions()).toBe(1);
    expect(await server.store.actions.get('act_second')).toBeNull();
    expect((await server.store.actions.get('act_first'))?.payload.action.body).not.toBe('別の本文');
    const warnings = server.logLines
      .map((line) => JSON.parse(line) as { level: number; msg: string; webhookId?: string })
      .filter((entry) => entry.msg.includes('webhook-id reused'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatchObject({ level: 40, webhookId: 'msg_reused' });
  });

  it('a replay committed in one group with a reuse of its id is still a duplicate, and the reuse a conflict, in either order', async () => {
    // Found by the fuzz suite: the group commit compared later deliveries with the first in
    // the group instead of the stored one, and answered a plain replay 409.
    const body = bodyFor('act_grouped');
    expect((await deliver(server, { body, webhookId: 'msg_grouped' })).status).toBe(202);
    const incoming = (text: string): IncomingAction => {
      const payload = JSON.parse(text) as IncomingAction['payload'];
      return {
        actionId: payload.action.id,
        webhookId: 'msg_grouped',
        inboxId: payload.inbox.id,
        inboxName: payload.inbox.name ?? null,
        kind: payload.action.kind,
        channel: payload.action.channel,
        occurredAt: Date.parse(payload.action.occurred_at),
        receivedAt: server.clock.now,
        payload,
        bodyHash: createHash('sha256').update(text).digest('hex'),
      };
    };
    const replay = incoming(body);
    const reuse = incoming(bodyFor('act_other_grouped'));
    expect((await server.store.actions.ingest([reuse, replay])).map((result) => result.status)).toEqual([
      'conflict',
      'duplicate',
    ]);
    expect((await server.store.actions.ingest([replay, reuse])).map((result) => result.status)).toEqual([
      'duplicate',
      'conflict',
    ]);
    expect(await server.store.actions.get('act_other_grouped')).toBeNull();
  });
});
