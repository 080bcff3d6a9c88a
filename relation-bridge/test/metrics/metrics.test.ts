import { randomUUID } from 'node:crypto';
import type { ActionPayload, Link } from '../../src/core/types';
import { HARNESS_ADMIN_TOKEN, startBridgeHarness, type BridgeHarness } from '../helpers/bridge-harness';
import { actionPayload, sendWebhook } from '../helpers/payloads';
import { classifyActions, ingestActions } from '../helpers/store-actions';

/** The value of one sample of the text exposition, or null when it is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .sort();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const present = (match[2] ?? '').split(/,(?=[a-zA-Z_]\w*=")/).filter((pair) => pair !== '');
    if (wanted.every((pair) => present.includes(pair))) return Number(match[3]);
  }
  return null;
}

async function scrape(h: BridgeHarness): Promise<string> {
  const response = await fetch(`${h.baseUrl}/metrics`, { headers: { authorization: `Bearer ${HARNESS_ADMIN_TOKEN}` } });
  expect(response.status).toBe(200);
  return response.text();
}

describe('GET /metrics', () => {
  let h: BridgeHarness;
  let clock: number;

  beforeEach(async () => {
    clock = Date.now();
    h = await startBridgeHarness({ now: () => clock });
  });

  afterEach(async () => {
    await h.close();
  });

  it('is for the admin token only, in the Prometheus text format', async () => {
    const anonymous = await fetch(`${h.baseUrl}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: 'unauthorized' });
    const wrong = await fetch(`${h.baseUrl}/metrics`, { headers: { authorization: 'Bearer not-the-admin-token' } });
    expect(wrong.status).toBe(401);

    const response = await fetch(`${h.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${HARNESS_ADMIN_TOKEN}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(text).toContain('# TYPE relation_bridge_webhooks_total counter');
    expect(text).toContain('# TYPE relation_bridge_webhook_ack_seconds histogram');
    expect(sample(text, 'relation_bridge_store_up')).toBe(1);
    expect(sample(text, 'relation_bridge_process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('counts webhooks by the status they were answered with, and times each answer', async () => {
    const payload = actionPayload();
    const webhookId = `msg_${randomUUID()}`;
    expect((await sendWebhook(h.baseUrl, payload, { webhookId })).status).toBe(202);
    expect((await sendWebhook(h.baseUrl, payload, { webhookId })).status).toBe(200);
    const forged = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    expect((await sendWebhook(h.baseUrl, actionPayload(), { secret: forged })).status).toBe(401);

    const text = await scrape(h);
    expect(sample(text, 'relation_bridge_webhooks_total', { status: '202' })).toBe(1);
    expect(sample(text, 'relation_bridge_webhooks_total', { status: '200' })).toBe(1);
    expect(sample(text, 'relation_bridge_webhooks_total', { status: '401' })).toBe(1);
    expect(sample(text, 'relation_bridge_webhook_ack_seconds_count', { status: '202' })).toBe(1);
    expect(sample(text, 'relation_bridge_webhook_ack_seconds_bucket', { status: '202', le: '+Inf' })).toBe(1);
  });

  it("reads actions by state and reason, the backlog's age, the links and each org's API calls from the store", async () => {
    const link = await h.linkInbox();
    clock += 1_000;
    expect((await sendWebhook(h.baseUrl, actionPayload({ occurredAt: new Date(clock) }))).status).toBe(202);
    expect((await sendWebhook(h.baseUrl, actionPayload({ channel: 'fax', occurredAt: new Date(clock) }))).status).toBe(
      202,
    );
    clock += 90_000;
    const waiting = await scrape(h);
    expect(sample(waiting, 'relation_bridge_backlog_age_seconds')).toBe(90);
    expect(sample(waiting, 'relation_bridge_actions', { state: 'received', reason: 'none' })).toBe(2);
    expect(sample(waiting, 'relation_bridge_links', { status: 'active' })).toBe(1);

    await h.bridge.engine.runUntilIdle();
    const done = await scrape(h);
    expect(sample(done, 'relation_bridge_backlog_age_seconds')).toBe(0);
    expect(sample(done, 'relation_bridge_actions', { state: 'synced', reason: 'none' })).toBe(1);
    expect(sample(done, 'relation_bridge_actions', { state: 'skipped', reason: 'channel_not_supported' })).toBe(1);
    expect(sample(done, 'relation_bridge_actions', { state: 'received', reason: 'none' })).toBeNull();

    const calls = await h.bridge.store.orgs.countApiCalls(link.orgId, clock - 24 * 3_600_000);
    const state = await h.bridge.store.orgs.getState(link.orgId);
    expect(calls).toBeGreaterThan(0);
    expect(sample(done, 'relation_bridge_salesforce_api_calls_24h', { org_id: link.orgId })).toBe(calls);
    expect(sample(done, 'relation_bridge_salesforce_api_budget_used_ratio', { org_id: link.orgId })).toBeCloseTo(
      calls / Math.floor((state.apiMax as number) * 0.1),
      10,
    );
    expect(sample(done, 'relation_bridge_salesforce_org_paused', { org_id: link.orgId })).toBe(0);
  });

  it('counts reclaimed leases, token refreshes and re-authentication incidents as they happen', async () => {
    const link: Link = await h.linkInbox();
    const { store } = h.bridge;
    // As intake would commit them, on the bridge's clock (a signed webhook carries the real time).
    const receive = (payload: ActionPayload) =>
      ingestActions(store, [
        {
          actionId: payload.action.id,
          webhookId: `msg_${randomUUID()}`,
          inboxId: payload.inbox.id,
          inboxName: payload.inbox.name ?? null,
          kind: payload.action.kind,
          channel: payload.action.channel,
          occurredAt: Date.parse(payload.action.occurred_at),
          receivedAt: clock,
          payload,
        },
      ]);

    // An instance died mid-send: its claim, with the write-attempted mark, runs out.
    clock += 1_000;
    const payload = actionPayload({ occurredAt: new Date(clock) });
    await receive(payload);
    await classifyActions(
      store,
      [{ actionId: payload.action.id, state: 'pending', reason: null, linkId: link.id, orgId: link.orgId }],
      clock,
    );
    const claimed = await store.actions.claimDue({
      orgId: link.orgId,
      limit: 10,
      leaseOwner: 'an-instance-that-died',
      leaseMs: 1_000,
      now: clock,
    });
    expect(claimed).toHaveLength(1);
    await store.actions.markWriteAttempted([payload.action.id], 'an-instance-that-died', clock, clock + 1_000);
    clock += 11 * 60_000;
    await h.bridge.engine.runUntilIdle();
    expect((await store.actions.get(payload.action.id))?.state).toBe('synced');
    const reclaimed = await scrape(h);
    expect(sample(reclaimed, 'relation_bridge_lease_reclaims_total')).toBe(1);
    const refreshedBefore = sample(reclaimed, 'relation_bridge_token_refreshes_total', { outcome: 'refreshed' }) ?? 0;

    // Salesforce ends the session: one refresh.
    h.org.expireAccessTokens();
    await receive(actionPayload({ occurredAt: new Date(clock) }));
    await h.bridge.engine.runUntilIdle();
    const refreshed = await scrape(h);
    expect(sample(refreshed, 'relation_bridge_token_refreshes_total', { outcome: 'refreshed' })).toBe(
      refreshedBefore + 1,
    );
    expect(sample(refreshed, 'relation_bridge_reauth_incidents_total')).toBe(0);

    // Then the refresh token is revoked: the refresh fails and the link needs re-authentication.
    h.org.revokeRefreshTokens();
    h.org.expireAccessTokens();
    await receive(actionPayload({ occurredAt: new Date(clock) }));
    await h.bridge.engine.runUntilIdle();
    const refused = await scrape(h);
    expect((await store.links.getLink(link.id))?.status).toBe('needs_reauth');
    expect(sample(refused, 'relation_bridge_token_refreshes_total', { outcome: 'failed' })).toBeGreaterThanOrEqual(1);
    expect(sample(refused, 'relation_bridge_reauth_incidents_total')).toBe(1);
    expect(sample(refused, 'relation_bridge_links', { status: 'needs_reauth' })).toBe(1);
    expect(sample(refused, 'relation_bridge_actions', { state: 'held', reason: 'needs_reauth' })).toBe(1);
  });
});
