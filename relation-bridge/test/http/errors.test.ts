import { completeAuthorization } from '../../local-org';
import { BridgeError, type FailureKind, type HttpReason, refused } from '../../src/core/errors';
import { httpFailureOf, renderFailurePage, STATUS_OF_REASON } from '../../src/http/errors';
import { LinkConflictError } from '../../src/links/links-repository';
import { startBridgeHarness, type BridgeHarness } from '../helpers/bridge-harness';

describe('the one error mapping', () => {
  it('gives every reason its status, and a failure without one the status of its kind', () => {
    const reasons = Object.keys(STATUS_OF_REASON) as HttpReason[];
    expect(Object.fromEntries(reasons.map((reason) => [reason, STATUS_OF_REASON[reason]]))).toEqual({
      bad_input: 400,
      unauthenticated: 401,
      forbidden: 403,
      not_found: 404,
      method_not_allowed: 405,
      request_timeout: 408,
      conflict: 409,
      payload_too_large: 413,
      unsupported_media_type: 415,
      too_many_requests: 429,
      internal: 500,
      unavailable: 503,
    });
    const byKind = (kind: FailureKind) => httpFailureOf(new BridgeError(kind, 'm', { code: 'c' })).status;
    expect(
      ['bad_input', 'needs_reauth', 'retryable', 'api_budget', 'permanent'].map((k) => byKind(k as FailureKind)),
    ).toEqual([400, 409, 503, 503, 500]);
  });

  it('never shows what failed inside: a permanent failure or a thrown Error is a bare internal_error', () => {
    for (const error of [
      new BridgeError('permanent', 'SELECT * FROM secrets failed', { code: 'store_statement' }),
      new Error('TypeError: cannot read x of undefined'),
      'a string',
    ]) {
      expect(httpFailureOf(error)).toEqual({
        status: 500,
        reason: 'internal',
        code: 'internal_error',
        message: 'The request failed inside the bridge; see its log.',
      });
    }
  });

  it('keeps a refusal’s code, message and details; a link conflict is a 409 like any other', () => {
    expect(httpFailureOf(refused('not_found', 'link_not_found', 'No link.', { id: 'x' }))).toEqual({
      status: 404,
      reason: 'not_found',
      code: 'link_not_found',
      message: 'No link.',
      details: { id: 'x' },
    });
    expect(httpFailureOf(new LinkConflictError('12'))).toMatchObject({
      status: 409,
      code: 'link_exists',
      details: { inboxId: '12' },
    });
    expect(httpFailureOf({ type: 'entity.parse.failed' })).toMatchObject({ status: 400, code: 'invalid_json' });
  });

  it('renders a page in Japanese and English', () => {
    const html = renderFailurePage(httpFailureOf(refused('forbidden', 'forbidden', 'Only an owner may do this.')));
    expect(html).toContain('<html lang="ja">');
    expect(html).toContain('あなたの権限では、これを行うことはできません。');
    expect(html).toContain('You may not do this.');
    expect(html).toContain('Only an owner may do this.');
  });
});

describe('errors over HTTP', () => {
  let h: BridgeHarness;

  beforeAll(async () => {
    h = await startBridgeHarness();
  });

  afterAll(async () => {
    await h.close();
  });

  it('a path nothing serves is a 404: JSON for an API client, a bilingual page for a browser', async () => {
    const json = await fetch(`${h.baseUrl}/no/such/path`, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(404);
    expect(await json.json()).toEqual({ error: 'not_found', message: 'No endpoint answers GET /no/such/path.' });

    const page = await fetch(`${h.baseUrl}/no/such/path`, { headers: { accept: 'text/html,*/*;q=0.8' } });
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const text = await page.text();
    expect(text).toContain('ページが見つかりません。');
    expect(text).toContain('This page does not exist.');

    const asset = await fetch(`${h.baseUrl}/console/assets/nothing-here.js`, {
      headers: { accept: 'application/json' },
    });
    expect(asset.status).toBe(404);
    expect(await asset.json()).toMatchObject({ error: 'not_found' });
  });

  it('the admin API and the intake answer their refusals in the same shape', async () => {
    const admin = await fetch(`${h.baseUrl}/api/v1/links/lnk_missing`, {
      headers: { authorization: 'Bearer wrong-token-0123456789' },
    });
    expect(admin.status).toBe(401);
    expect(admin.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await admin.json()).toEqual({ error: 'unauthorized', message: expect.any(String) });

    const missing = await h.admin('GET', '/links/lnk_missing');
    expect(missing).toEqual({
      status: 404,
      body: { error: 'link_not_found', message: 'No link has the id "lnk_missing".', details: { id: 'lnk_missing' } },
    });

    const webhook = await fetch(`${h.baseUrl}/webhooks/relation`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
    });
    expect(webhook.status).toBe(415);
    expect(await webhook.json()).toEqual({ error: 'unsupported_media_type', message: expect.any(String) });
  });

  it('the OAuth callback answers a link deleted during its re-authentication with 404, not 400', async () => {
    const link = await h.linkInbox({ inboxId: '404' });
    const started = await h.admin<{ authorizeUrl: string }>('POST', `/links/${link.id}/reauthorize`);
    expect(started.status).toBe(201);
    expect((await h.admin('DELETE', `/links/${link.id}`)).status).toBe(200);
    const user = h.seeded.authorizingUser;
    const callback = await completeAuthorization(started.body.authorizeUrl, {
      username: user.username,
      password: user.password,
    });
    const answer = await fetch(callback, { redirect: 'manual' });
    const text = await answer.text();
    expect({ status: answer.status, code: /\((\w+)\)<\/p>/.exec(text)?.[1] }).toEqual({
      status: 404,
      code: 'link_not_found',
    });
    expect(text).toContain('連携が見つかりません');
    expect(text).toContain('The link was not found');
  });
});
