import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBridge, type Bridge } from '../../src/app';
import { loadConfig } from '../../src/config';
import type { Link } from '../../src/core/types';
import { createLogger } from '../../src/logging';
import { actionPayload, sendWebhook, TEST_SECRET } from '../helpers/payloads';
import { classifyActions } from '../helpers/store-actions';

/**
 * The bridge's sync path against a real Salesforce org (the scratch-org pipeline exports its
 * instance URL and an access token). Everything it creates there is deleted afterwards.
 */
const instanceUrl = process.env.SF_REAL_INSTANCE_URL?.replace(/\/+$/, '');
const accessToken = process.env.SF_REAL_ACCESS_TOKEN;
const namespace = process.env.SF_REAL_NAMESPACE ?? 'inbx';
const apiVersion = process.env.SF_REAL_API_VERSION ?? '66.0';
const configured = instanceUrl !== undefined && instanceUrl !== '' && accessToken !== undefined && accessToken !== '';

if (!configured) {
  process.stdout.write(
    'skipped: no real org configured (set SF_REAL_INSTANCE_URL/SF_REAL_ACCESS_TOKEN, npm run scratch-org exports them from a scratch org)\n',
  );
}

const describeRealOrg = configured ? describe : describe.skip;
const TIMEOUT = 180_000;
const ns = namespace === '' ? '' : `${namespace}__`;
const ACTION_ID = `${ns}Action_Id__c`;

interface QueryAnswer {
  records: Array<Record<string, unknown> & { Id: string }>;
}

/** One REST call to the real org, outside the bridge; throws with Salesforce's answer. */
async function salesforce<T = unknown>(method: string, resource: string, body?: unknown): Promise<T> {
  const response = await fetch(`${instanceUrl}/services/data/v${apiVersion}${resource}`, {
    method,
    headers: {
      Authorization: `Bearer ${accessToken}`,
      Accept: 'application/json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${resource} answered ${response.status}: ${text}`);
  return (text === '' ? null : JSON.parse(text)) as T;
}

async function query(soql: string): Promise<QueryAnswer['records']> {
  return (await salesforce<QueryAnswer>('GET', `/query?q=${encodeURIComponent(soql)}`)).records;
}

describeRealOrg('the bridge against a real Salesforce org', () => {
  const run = randomBytes(4).toString('hex');
  const inboxId = `bridge-it-${run}`;
  const inboxName = `Bridge IT ${run}`;
  const email = `bridge-it-${run}@example.com`;
  const toDelete: Array<{ type: string; id: string }> = [];
  let bridge: Bridge;
  let server: Server;
  let baseUrl: string;
  let dataDir: string;
  let link: Link;
  let contactId: string;

  const eventsFor = (actionIds: string[]) =>
    query(
      `SELECT Id, WhoId, ${ACTION_ID} FROM Event WHERE ${ACTION_ID} IN (${actionIds.map((id) => `'${id}'`).join(', ')})`,
    );

  beforeAll(async () => {
    const contact = await salesforce<{ id: string }>('POST', '/sobjects/Contact', {
      LastName: inboxName,
      Email: email,
    });
    contactId = contact.id;
    toDelete.push({ type: 'Contact', id: contactId });
    // The Contact was created by the token's user, who then owns the Events as the link's default owner.
    const [created] = await query(`SELECT CreatedById FROM Contact WHERE Id = '${contactId}'`);
    const [organization] = await query('SELECT Id FROM Organization');
    if (created === undefined || organization === undefined) throw new Error('the org did not answer who we are');

    dataDir = mkdtempSync(path.join(tmpdir(), 'relation-bridge-real-'));
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const config = loadConfig({
      BRIDGE_PUBLIC_URL: baseUrl,
      BRIDGE_DATA_DIR: dataDir,
      WEBHOOK_SECRETS: TEST_SECRET,
      SF_NAMESPACE: namespace,
      SF_API_VERSION: apiVersion,
      SYNC_UNCERTAIN_WAIT_MS: '0',
      SF_HEALTH_INTERVAL_MS: '100',
      SYNC_BACKOFF_BASE_MS: '200',
      SYNC_BACKOFF_MAX_MS: '2000',
      LOG_LEVEL: 'silent',
    });
    bridge = await createBridge(config, { logger: createLogger(config.LOG_LEVEL) });
    server.on('request', bridge.app);

    const now = Date.now();
    const auth = await bridge.store.links.saveAuth(
      {
        orgId: organization.Id,
        userId: String(created.CreatedById),
        username: `real-org-test-${run}`,
        displayName: null,
        instanceUrl: instanceUrl as string,
        loginUrl: instanceUrl as string,
        environment: 'custom',
        accessToken: accessToken as string,
        // The test only holds an access token; a refresh would end the link in needs re-authentication.
        refreshToken: 'no-refresh-token-in-this-test',
        scope: 'api',
        issuedAt: now,
      },
      { kind: 'token', id: null, name: 'real-org test' },
      now,
    );
    link = await bridge.store.links.createLink({
      inboxId,
      inboxName,
      authId: auth.id,
      target: 'contact',
      defaultOwnerId: String(created.CreatedById),
      createdAt: now - 60_000,
    });
  }, TIMEOUT);

  afterAll(async () => {
    const failures: string[] = [];
    for (const record of toDelete.reverse()) {
      await salesforce('DELETE', `/sobjects/${record.type}/${record.id}`).catch((error: unknown) =>
        failures.push(String(error)),
      );
    }
    await bridge?.close();
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    if (failures.length > 0) throw new Error(`could not clean up the org: ${failures.join('; ')}`);
  }, TIMEOUT);

  it(
    'writes one Event per action on the Contact, also after a duplicate delivery',
    async () => {
      const payloads = [0, 1].map(() =>
        actionPayload({ inboxId, inboxName, emails: [email.toUpperCase()], operatorEmail: null }),
      );
      for (const payload of payloads) expect((await sendWebhook(baseUrl, payload)).status).toBe(202);
      // The helpdesk delivers the first action again under a new webhook id.
      expect((await sendWebhook(baseUrl, payloads[0]!)).body).toMatchObject({ status: 'duplicate' });
      await bridge.engine.runUntilIdle();
      await sendWebhook(baseUrl, payloads[1]!);
      await bridge.engine.runUntilIdle();

      const ids = payloads.map((p) => p.action.id);
      const events = await eventsFor(ids);
      toDelete.push(...events.map((event) => ({ type: 'Event', id: event.Id })));
      for (const id of ids) {
        const action = await bridge.store.actions.get(id);
        expect([action?.state, action?.errorMessage]).toEqual(['synced', null]);
        const mine = events.filter((event) => event[ACTION_ID] === id);
        expect(mine).toHaveLength(1);
        expect(mine[0]?.WhoId).toBe(contactId);
        expect(mine[0]?.Id).toBe(action?.sfEventId);
      }
    },
    TIMEOUT,
  );

  it(
    'finds the Event of a send whose answer was lost and writes no second one',
    async () => {
      const payload = actionPayload({ inboxId, inboxName, emails: [email], operatorEmail: null });
      expect((await sendWebhook(baseUrl, payload)).status).toBe(202);
      const { store } = bridge;
      // A worker classified and claimed the action, marked it write-attempted, sent it, and died.
      await classifyActions(
        store,
        [{ actionId: payload.action.id, state: 'pending', reason: null, linkId: link.id, orgId: link.orgId }],
        Date.now(),
      );
      const claimed = await store.actions.claimDue({
        orgId: link.orgId,
        limit: 10,
        leaseOwner: 'worker-that-died',
        leaseMs: 1,
        now: Date.now(),
      });
      expect(claimed.map((a) => a.actionId)).toEqual([payload.action.id]);
      // Marked a minute ago: that send cannot still be waiting for its answer (SF_REQUEST_TIMEOUT_MS).
      const markedAt = Date.now() - 60_000;
      await store.actions.markWriteAttempted([payload.action.id], 'worker-that-died', markedAt, markedAt);
      const sent = await salesforce<{ id: string }>('POST', '/sobjects/Event', {
        Subject: '[メール] お問い合わせ',
        ActivityDateTime: payload.action.occurred_at,
        DurationInMinutes: 0,
        WhoId: contactId,
        [ACTION_ID]: payload.action.id,
      });
      toDelete.push({ type: 'Event', id: sent.id });
      await new Promise((resolve) => setTimeout(resolve, 10));

      await bridge.engine.runUntilIdle();
      const action = await store.actions.get(payload.action.id);
      expect([action?.state, action?.sfEventId]).toEqual(['synced', sent.id]);
      const events = await eventsFor([payload.action.id]);
      toDelete.push(...events.filter((e) => e.Id !== sent.id).map((event) => ({ type: 'Event', id: event.Id })));
      expect(events.map((event) => event.Id)).toEqual([sent.id]);
    },
    TIMEOUT,
  );

  it(
    'keeps the inbox’s sync health record, where the org has the package’s health object',
    async () => {
      const object = `${ns}Inbox_Sync_Health__c`;
      const records = await query(
        `SELECT Id, ${ns}Link_State__c, ${ns}Synced_24h__c FROM ${object} WHERE ${ns}Inbox_Id__c = '${inboxId}'`,
      ).catch((error: unknown) => {
        if (String(error).includes('INVALID_TYPE')) return null;
        throw error;
      });
      if (records === null) {
        process.stdout.write(`skipped: the org has no ${object} (package without the health object)\n`);
        return;
      }
      toDelete.push(...records.map((record) => ({ type: object, id: record.Id })));
      expect(records).toHaveLength(1);
      expect(records[0]?.[`${ns}Link_State__c`]).toBe('Active');
      expect(Number(records[0]?.[`${ns}Synced_24h__c`])).toBeGreaterThanOrEqual(2);
    },
    TIMEOUT,
  );
});
