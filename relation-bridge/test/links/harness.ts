import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { completeAuthorization, type LocalOrg, type LocalSalesforce, startLocalSalesforce } from '../../local-org';
import { createBridge } from '../../src/app';
import { loadConfig } from '../../src/config';
import { applyServerTimeouts } from '../../src/core/http-hardening';
import type { NewAction } from '../../src/core/types';
import type { Links } from '../../src/links';
import { createLogger } from '../../src/logging';
import type { BridgeStore } from '../../src/repositories';
import { OAuthClient } from '../../src/salesforce/oauth-client';
import { openTempSqliteStore } from '../store/databases';

/**
 * The bridge as createBridge makes it (the links service, admin API and OAuth callback
 * among the rest; the sync engine not started) over a real SQLite store, listening on port 0,
 * next to a local Salesforce-compatible org.
 */
export interface LinkHarness {
  baseUrl: string;
  adminToken: string | undefined;
  store: BridgeStore;
  links: Links;
  oauth: OAuthClient;
  local: LocalSalesforce;
  dbFile: string;
  /** Every log line the bridge wrote (JSON), to check that no secret is logged. */
  logLines: string[];
  close(): Promise<void>;
}

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const API_VERSION = '66.0';

export interface LinkHarnessOptions {
  /** null: no admin token configured (the API is disabled). */
  adminToken?: string | null;
  /** Told when the links feature asks the sync to forget an authorisation's session (after re-authentication). */
  onReauthorized?: (authId: string) => void;
  /** More settings for the bridge (environment variable names, as in production). */
  env?: Record<string, string>;
}

export async function startLinkHarness(options: LinkHarnessOptions = {}): Promise<LinkHarness> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'relation-bridge-links-'));
  const local = await startLocalSalesforce();
  const temp = await openTempSqliteStore();
  const { store, file: dbFile } = temp;
  const logLines: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void logLines.push(line) });

  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  applyServerTimeouts(server);
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  local.app.callbackUrls.push(`${baseUrl}/oauth/callback`);

  // The bridge as the composition root builds it: the links feature gets its settings
  // (SF_REQUEST_TIMEOUT_MS among them) from the configuration, as in production.
  const adminToken = options.adminToken === null ? undefined : (options.adminToken ?? ADMIN_TOKEN);
  const config = loadConfig({
    BRIDGE_PUBLIC_URL: baseUrl,
    BRIDGE_DATA_DIR: dataDir,
    ...(adminToken === undefined ? {} : { BRIDGE_ADMIN_TOKEN: adminToken }),
    SF_CLIENT_ID: local.app.clientId,
    SF_CLIENT_SECRET: local.app.clientSecret,
    SF_LOGIN_URL_PRODUCTION: local.productionLoginUrl,
    SF_LOGIN_URL_SANDBOX: local.sandboxLoginUrl,
    SF_API_VERSION: API_VERSION,
    SF_REQUEST_TIMEOUT_MS: '10000',
    ...options.env,
  });
  const bridge = await createBridge(config, { logger, store });
  server.on('request', bridge.app);
  // Re-authentication tells the sync to forget the authorisation's cached session.
  const invalidate = bridge.sessions.invalidate.bind(bridge.sessions);
  bridge.sessions.invalidate = (authId: string) => {
    options.onReauthorized?.(authId);
    invalidate(authId);
  };
  // The tests' own client of the local org's OAuth endpoints (refreshing a stored token by hand).
  const oauth = new OAuthClient({
    clientId: local.app.clientId,
    clientSecret: local.app.clientSecret,
    redirectUri: `${baseUrl}/oauth/callback`,
    scopes: 'api refresh_token',
    timeoutMs: 10_000,
  });

  return {
    baseUrl,
    adminToken,
    store,
    links: bridge.links,
    oauth,
    local,
    dbFile,
    logLines,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await bridge.close();
      await local.close();
      await temp.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ApiAnswer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export async function api<T = any>(
  harness: Pick<LinkHarness, 'baseUrl' | 'adminToken'>,
  method: string,
  route: string,
  body?: unknown,
  token: string | null | undefined = harness.adminToken,
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${harness.baseUrl}/api/v1${route}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : JSON.parse(text), headers: response.headers };
}

export interface Credentials {
  username: string;
  password: string;
}

export interface CallbackAnswer {
  status: number;
  html: string;
  /** Where the org sent the browser: the bridge's callback with code/state or error. */
  callbackUrl: URL;
}

/** Plays the admin's browser: authorize page → login form → 許可/拒否 → the bridge's callback. */
export async function completeInBrowser(
  authorizeUrl: string,
  credentials: Credentials,
  decision: 'allow' | 'deny' = 'allow',
): Promise<CallbackAnswer> {
  const callbackUrl = await completeAuthorization(authorizeUrl, credentials, decision);
  const response = await fetch(callbackUrl, { redirect: 'manual' });
  return { status: response.status, html: await response.text(), callbackUrl };
}

export interface LinkRequest {
  inboxId: string;
  inboxName?: string;
  environment: 'production' | 'sandbox' | 'custom';
  myDomain?: string;
  target: 'contact' | 'lead' | 'contact_then_lead';
  defaultOwnerId?: string;
}

/** The whole flow an admin goes through: authorize via the API, then the browser. */
export async function linkInbox(
  harness: LinkHarness,
  request: LinkRequest,
  credentials: Credentials,
): Promise<CallbackAnswer> {
  const started = await api(harness, 'POST', '/links/authorize', request);
  if (started.status !== 201) throw new Error(`authorize answered ${started.status}: ${JSON.stringify(started.body)}`);
  return completeInBrowser(started.body.authorizeUrl, credentials);
}

export function addUser(
  org: LocalOrg,
  name: string,
  options: { apiEnabled?: boolean; isActive?: boolean } = {},
): Credentials & { id: string } {
  const username = `${name}@${org.slug}.example.com`;
  const user = org.addUser({ username, email: username, lastName: name, password: `${name}-password`, ...options });
  return { id: user.id, username, password: `${name}-password` };
}

let actionCounter = 0;

/** A webhook action as intake would store it. */
export function newAction(inboxId: string, overrides: Partial<NewAction> = {}): NewAction {
  actionCounter += 1;
  const actionId = overrides.actionId ?? `act_test_${actionCounter}_${Math.random().toString(36).slice(2, 8)}`;
  const occurredAt = overrides.occurredAt ?? Date.now();
  return {
    actionId,
    webhookId: `msg_${actionId}`,
    inboxId,
    inboxName: '営業窓口',
    kind: 'message_received',
    channel: 'email',
    occurredAt,
    receivedAt: occurredAt,
    payload: {
      type: 'ticket.action.created',
      action: {
        id: actionId,
        kind: 'message_received',
        occurred_at: new Date(occurredAt).toISOString(),
        channel: 'email',
        direction: 'inbound',
        subject: 'お見積りの件',
        body: 'お世話になっております。',
      },
      ticket: { id: '48213', title: 'お見積りの件', url: 'https://example.relationapp.jp/tickets/48213' },
      inbox: { id: inboxId, name: '営業窓口' },
      customer: { id: 'c_77', name: '山田 太郎', emails: ['taro.yamada@example.com'], phones: ['090-1234-5678'] },
    },
    ...overrides,
  };
}
