import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  completeAuthorization,
  seedDemoOrg,
  startLocalSalesforce,
  type LocalOrg,
  type LocalSalesforce,
  type SeededOrg,
} from '../../local-org';
import { createBridge, type Bridge } from '../../src/app';
import { loadConfig } from '../../src/config';
import { applyServerTimeouts } from '../../src/core/http-hardening';
import type { Link, LinkTarget } from '../../src/core/types';
import { createLogger } from '../../src/logging';
import { TEST_SECRET } from './payloads';

export const HARNESS_ADMIN_TOKEN = 'harness-admin-token-0123456789';

export interface BridgeHarness {
  baseUrl: string;
  bridge: Bridge;
  local: LocalSalesforce;
  org: LocalOrg;
  seeded: SeededOrg;
  dataDir: string;
  /** Links an inbox through the real OAuth web-server flow (login page, allow page). */
  linkInbox(options?: {
    inboxId?: string;
    inboxName?: string;
    target?: LinkTarget;
    environment?: 'production' | 'sandbox';
  }): Promise<Link>;
  /** Re-authenticates a link through the OAuth flow again. */
  reauthorize(linkId: string): Promise<void>;
  admin<T = any>(method: string, route: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Events in the org that carry this action id. */
  eventsFor(actionId: string): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * The whole bridge (createBridge: intake, store, engine, links, admin API) on port 0, next
 * to a local Salesforce-compatible org seeded with the Japanese demo data.
 */
export async function startBridgeHarness(
  options: {
    env?: Record<string, string>;
    startEngine?: boolean;
    orgOptions?: { dailyApiMax?: number; sandbox?: boolean; linkPolicyAndHealth?: boolean; packageInstalled?: boolean };
    /** The bridge's clock (ms epoch); the local org keeps real time. */
    now?: () => number;
    /** Shorter body deadlines than the bridge's (tests of slow clients). */
    bodyDeadlinesMs?: { api: number; webhook: number };
  } = {},
): Promise<BridgeHarness> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'relation-bridge-it-'));
  const local = await startLocalSalesforce();
  const org = local.createOrg({ name: 'Yamato Trading', ...options.orgOptions });
  const seeded = seedDemoOrg(org);

  const server: Server = createServer();
  applyServerTimeouts(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  local.app.callbackUrls.push(`${baseUrl}/oauth/callback`);

  const config = loadConfig({
    BRIDGE_PUBLIC_URL: baseUrl,
    BRIDGE_DATA_DIR: dataDir,
    BRIDGE_ADMIN_TOKEN: HARNESS_ADMIN_TOKEN,
    WEBHOOK_SECRETS: TEST_SECRET,
    SF_CLIENT_ID: local.app.clientId,
    SF_CLIENT_SECRET: local.app.clientSecret,
    SF_LOGIN_URL_PRODUCTION: local.productionLoginUrl,
    SF_LOGIN_URL_SANDBOX: local.sandboxLoginUrl,
    SF_REQUEST_TIMEOUT_MS: '5000',
    SYNC_UNCERTAIN_WAIT_MS: '0',
    SYNC_BACKOFF_BASE_MS: '20',
    SYNC_BACKOFF_MAX_MS: '200',
    SYNC_LINGER_MS: '50',
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const logger = createLogger(config.LOG_LEVEL);
  const bridge = await createBridge(config, {
    logger,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.bodyDeadlinesMs === undefined ? {} : { bodyDeadlinesMs: options.bodyDeadlinesMs }),
  });
  server.on('request', bridge.app);
  if (options.startEngine === true) bridge.start();

  const admin = async <T>(method: string, route: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${baseUrl}/api/v1${route}`, {
      method,
      headers: {
        authorization: `Bearer ${HARNESS_ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? null : JSON.parse(text)) as T };
  };

  const browse = async (authorizeUrl: string): Promise<void> => {
    const user = seeded.authorizingUser;
    const callback = await completeAuthorization(authorizeUrl, { username: user.username, password: user.password });
    const response = await fetch(callback, { redirect: 'manual' });
    if (response.status !== 200)
      throw new Error(`OAuth callback answered ${response.status}: ${await response.text()}`);
  };

  return {
    baseUrl,
    bridge,
    local,
    org,
    seeded,
    dataDir,
    admin,
    async linkInbox(link = {}) {
      const inboxId = link.inboxId ?? '12';
      const started = await admin<{ authorizeUrl: string }>('POST', '/links/authorize', {
        inboxId,
        inboxName: link.inboxName ?? '営業窓口',
        environment: link.environment ?? 'production',
        target: link.target ?? 'contact_then_lead',
      });
      if (started.status !== 201)
        throw new Error(`authorize answered ${started.status}: ${JSON.stringify(started.body)}`);
      await browse(started.body.authorizeUrl);
      const created = await bridge.store.links.getLinkForInbox(inboxId);
      if (created === null) throw new Error('the link was not created');
      return created;
    },
    async reauthorize(linkId) {
      const started = await admin<{ authorizeUrl: string }>('POST', `/links/${linkId}/reauthorize`);
      if (started.status !== 201 && started.status !== 200) {
        throw new Error(`reauthorize answered ${started.status}: ${JSON.stringify(started.body)}`);
      }
      await browse(started.body.authorizeUrl);
    },
    eventsFor(actionId) {
      return org.records('Event').filter((event) => event[`${org.namespace}__Action_Id__c`] === actionId);
    },
    async close() {
      await bridge.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await local.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
