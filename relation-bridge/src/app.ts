import { randomBytes } from 'node:crypto';
import os from 'node:os';
import express from 'express';
import { createAdminRouter } from './admin/routes';
import { ConsoleAccounts, hashSessionId } from './auth/accounts';
import { sessionIdFrom } from './auth/http';
import { publicUrl, salesforceProxy, unsetSettings, type Config } from './config';
import { ConsoleHousekeeping } from './console/housekeeping';
import { CONSOLE_PATH, createConsoleRouter } from './console/server';
import { BODY_DEADLINES_MS } from './core/http-hardening';
import { loadOrCreateKey, SecretBox } from './crypto/secret-box';
import { accessLog } from './http/access-log';
import { errorHandler, notFound } from './http/errors';
import { GroupCommit } from './intake/group-commit';
import { createWebhookHandler } from './intake/routes';
import { WebhookSecrets } from './intake/webhook-secrets';
import { createLinks, type Links } from './links';
import { createOAuthCallbackRouter } from './links/routes';
import type { Logger } from './logging';
import { BridgeMetrics } from './metrics/bridge-metrics';
import { createNotices, NOTICE_ROUND_MS, type Notices } from './notices';
import { smtpSettingsFrom } from './notices/mailer';
import { createMetricsApp, createMetricsRouter } from './metrics/routes';
import { type BridgeStore, openBridgeStore } from './repositories';
import { SalesforceHttp } from './salesforce/http';
import { OAuthClient } from './salesforce/oauth-client';
import { SyncEngine } from './sync/engine';
import { IntakePressure } from './sync/intake-pressure';
import { SalesforceSessions } from './sync/sessions';

export interface Bridge {
  app: express.Express;
  store: BridgeStore;
  engine: SyncEngine;
  /** The Salesforce sessions of the sync (and of linking), one per authorisation. */
  sessions: SalesforceSessions;
  links: Links;
  /** Commits webhooks in groups before they are answered. */
  intake: GroupCommit;
  /** The console's periodic chores (sessions, abandoned pending links, error log retention). */
  housekeeping: ConsoleHousekeeping;
  /** The link checks, and the e-mails to inboxes' admins about their links' problems. */
  notices: Notices;
  /** This instance's name in leases and logs. */
  instanceId: string;
  /** The Prometheus metrics, served at /metrics (and by metricsApp). */
  metrics: BridgeMetrics;
  /** Serves only GET /metrics, without a token: what BRIDGE_METRICS_PORT listens with. */
  metricsApp: express.Express;
  /** Starts the sync engine and the housekeeping; the server calls it once it listens. */
  start(): void;
  /** Stops the engine (committing the batch in flight), commits queued webhooks, and closes the store. */
  close(): Promise<void>;
}

export interface BridgeOptions {
  logger: Logger;
  now?: () => number;
  /** An open store to use instead of the configured one (tests). */
  store?: BridgeStore;
  /** How long request bodies may take to arrive (tests shorten them); default BODY_DEADLINES_MS. */
  bodyDeadlinesMs?: { api: number; webhook: number };
}

/** The composition root: builds every part of the bridge from the configuration. */
export async function createBridge(config: Config, options: BridgeOptions): Promise<Bridge> {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const instanceId = config.BRIDGE_INSTANCE_ID ?? `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const secretBox = SecretBox.fromKey(loadOrCreateKey(config.BRIDGE_DATA_DIR, config.BRIDGE_ENCRYPTION_KEY));
  const store =
    options.store ??
    (await openBridgeStore({
      databaseUrl: config.BRIDGE_DATABASE_URL,
      poolSize: config.BRIDGE_DATABASE_POOL_SIZE,
      dataDir: config.BRIDGE_DATA_DIR,
      secretBox,
      logger,
    }));

  const metrics = new BridgeMetrics({ store, budgetShare: config.SYNC_API_BUDGET_SHARE, logger, now });

  // One transport for every Salesforce call: no redirects followed, through HTTPS_PROXY unless NO_PROXY says not.
  const http = new SalesforceHttp({ proxy: salesforceProxy(config) });
  const oauth = new OAuthClient({
    http,
    loginUrls: [config.SF_LOGIN_URL_PRODUCTION, config.SF_LOGIN_URL_SANDBOX],
    clientId: config.SF_CLIENT_ID ?? '',
    clientSecret: config.SF_CLIENT_SECRET ?? '',
    redirectUri: `${publicUrl(config)}/oauth/callback`,
    scopes: config.SF_OAUTH_SCOPES,
    timeoutMs: config.SF_REQUEST_TIMEOUT_MS,
  });
  const sessions = new SalesforceSessions({
    store,
    oauth,
    logger,
    now,
    instanceId,
    events: metrics,
    settings: {
      apiVersion: config.SF_API_VERSION,
      timeoutMs: config.SF_REQUEST_TIMEOUT_MS,
      budgetShare: config.SYNC_API_BUDGET_SHARE,
      budgetPauseMs: config.SYNC_BUDGET_PAUSE_MS,
    },
  });
  const pressure = new IntakePressure();
  const engine = new SyncEngine({
    store,
    sessions,
    logger,
    now,
    workerId: instanceId,
    events: metrics,
    pressure,
    settings: {
      syncedKinds: config.SYNC_KINDS,
      pollMs: config.SYNC_POLL_MS,
      lingerMs: config.SYNC_LINGER_MS,
      batchSize: config.SYNC_BATCH_SIZE,
      leaseMs: config.SYNC_LEASE_MS,
      requestTimeoutMs: config.SF_REQUEST_TIMEOUT_MS,
      uncertainWaitMs: config.SYNC_UNCERTAIN_WAIT_MS,
      maxAttempts: config.SYNC_MAX_ATTEMPTS,
      backoffBaseMs: config.SYNC_BACKOFF_BASE_MS,
      backoffMaxMs: config.SYNC_BACKOFF_MAX_MS,
      budgetPauseMs: config.SYNC_BUDGET_PAUSE_MS,
      namespace: config.SF_NAMESPACE,
      language: config.SF_EVENT_LANGUAGE,
      matchCacheSize: config.MATCH_CACHE_SIZE,
      matchCacheTtlMs: config.MATCH_CACHE_TTL_MS,
      policyCacheMs: config.SF_POLICY_CACHE_MS,
      healthIntervalMs: config.SF_HEALTH_INTERVAL_MS,
      rematchIntervalMs: config.SYNC_REMATCH_INTERVAL_MS,
      rematchWindowMs: config.SYNC_REMATCH_WINDOW_DAYS * 24 * 60 * 60_000,
      rematchBatch: config.SYNC_REMATCH_BATCH,
    },
  });
  const links = createLinks({
    store,
    oauth,
    loginUrls: { production: config.SF_LOGIN_URL_PRODUCTION, sandbox: config.SF_LOGIN_URL_SANDBOX },
    apiVersion: config.SF_API_VERSION,
    namespace: config.SF_NAMESPACE,
    requestTimeoutMs: config.SF_REQUEST_TIMEOUT_MS,
    now,
    logger,
    onReauthorized: (authId: string) => {
      sessions.invalidate(authId);
      engine.kick();
    },
    salesforceFor: (auth) => sessions.clientFor(auth),
    augmentHealth: (health) => notices.augment(health),
  });
  const notices: Notices = createNotices({
    store,
    sessions,
    oauth,
    health: (inboxId) => links.health(inboxId),
    smtp: smtpSettingsFrom(config),
    consoleUrl: config.NOTICE_CONSOLE_URL ?? `${publicUrl(config)}${CONSOLE_PATH}`,
    checkIntervalMs: config.NOTICE_CHECK_INTERVAL_MS,
    expiryWarningMs: config.NOTICE_EXPIRY_WARNING_DAYS * 24 * 60 * 60_000,
    logger,
    now,
    instanceId,
  });
  const accounts = new ConsoleAccounts({
    store,
    logger,
    now,
    sessionIdleMs: config.CONSOLE_SESSION_IDLE_MINUTES * 60_000,
    sessionMaxMs: config.CONSOLE_SESSION_MAX_HOURS * 3_600_000,
  });
  const cookies = { secure: publicUrl(config).startsWith('https:') };
  const webhookSecrets = new WebhookSecrets({
    repository: store.webhookSecrets,
    configured: config.WEBHOOK_SECRETS,
    logger,
    now,
  });
  await webhookSecrets.load();
  for (const { setting, consequence } of unsetSettings(config)) {
    if (setting === 'WEBHOOK_SECRETS' && webhookSecrets.current().length > 0) continue;
    logger.warn({ setting }, `configuration: ${setting} is not set: ${consequence}`);
  }
  const housekeeping = new ConsoleHousekeeping({
    actions: store.actions,
    accounts,
    links,
    webhookSecrets,
    retentionDays: config.RETENTION_DAYS,
    logger,
    now,
  });
  const intake = new GroupCommit({ actions: store.actions, logger });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.BRIDGE_TRUST_PROXY);
  // Webhooks first, ahead of every middleware: the intake writes its own access-log line,
  // metrics and headers (intake/routes.ts), and answers thousands a second.
  const webhook = createWebhookHandler({
    ingest: (action) => intake.ingest(action),
    secrets: () => webhookSecrets.current(),
    toleranceSeconds: config.WEBHOOK_TOLERANCE_SECONDS,
    maxBodyBytes: config.WEBHOOK_MAX_BODY_BYTES,
    bodyDeadlineMs: (options.bodyDeadlinesMs ?? BODY_DEADLINES_MS).webhook,
    syncedKinds: config.SYNC_KINDS,
    now,
    logger,
    onAccepted: () => engine.kick(),
    onAnswered: (status, seconds) => {
      metrics.webhookAnswered(status, seconds);
      pressure.record(seconds);
    },
    accessLog: true,
  });
  app.use((req, res, next) => {
    if (webhook.handles(req)) webhook(req, res);
    else next();
  });
  app.use(accessLog(logger));
  // Readiness for load balancers and orchestrators: ready only while the store answers.
  app.get('/healthz', async (_req, res) => {
    try {
      await store.ping();
      res.json({ status: 'ok' });
    } catch (error) {
      logger.error({ err: error }, 'health check: the store does not answer');
      res.status(503).json({ status: 'unavailable' });
    }
  });
  app.use(
    createOAuthCallbackRouter({
      links,
      logger,
      returnToConsole: {
        basePath: CONSOLE_PATH,
        sessionHashOf: async (req) => {
          const sessionId = sessionIdFrom(req, cookies);
          return sessionId !== null && (await accounts.resume(sessionId)) !== null ? hashSessionId(sessionId) : null;
        },
      },
    }),
  );
  app.use(
    '/api/v1',
    createAdminRouter({
      links,
      store,
      adminToken: config.BRIDGE_ADMIN_TOKEN,
      now,
      logger,
      accounts,
      cookies,
      webhookSecrets,
      retentionDays: config.RETENTION_DAYS,
      bodyDeadlineMs: (options.bodyDeadlinesMs ?? BODY_DEADLINES_MS).api,
      syncedKinds: config.SYNC_KINDS,
      onRetried: () => engine.kick(),
    }),
  );
  app.use(createMetricsRouter({ metrics, adminToken: config.BRIDGE_ADMIN_TOKEN }));
  app.use(createConsoleRouter());
  app.use(notFound());
  app.use(errorHandler(logger, 'negotiate'));

  let started = false;
  return {
    app,
    store,
    engine,
    sessions,
    links,
    intake,
    housekeeping,
    notices,
    instanceId,
    metrics,
    metricsApp: createMetricsApp(metrics, logger),
    start() {
      if (started) return;
      started = true;
      engine.start();
      housekeeping.start(60_000);
      notices.start(NOTICE_ROUND_MS);
    },
    async close() {
      await engine.stop();
      await housekeeping.stop();
      await notices.stop();
      await intake.drain();
      await store.close();
    },
  };
}
