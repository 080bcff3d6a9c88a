import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import { createAdminRouter } from './admin/routes';
import { WebhookSecrets } from './admin/webhook-secrets';
import { ConsoleAccounts, hashSessionId } from './auth/accounts';
import { sessionIdFrom } from './auth/http';
import { publicUrl, type Config } from './config';
import { ConsoleHousekeeping } from './console/housekeeping';
import { CONSOLE_PATH, createConsoleRouter } from './console/server';
import { loadOrCreateKey, SecretBox } from './crypto/secret-box';
import { createIntakeRouter } from './intake/routes';
import { createOAuthCallbackRouter } from './links/routes';
import { LinksService } from './links/service';
import type { Logger } from './logging';
import { OAuthClient } from './salesforce/oauth-client';
import { createSqliteStore } from './store/sqlite';
import type { Store } from './store/store';
import { SyncEngine } from './sync/engine';
import { SalesforceSessions } from './sync/sessions';

export interface Bridge {
  app: express.Express;
  store: Store;
  engine: SyncEngine;
  links: LinksService;
  /** The console's periodic chores (sessions, abandoned pending links, error log retention). */
  housekeeping: ConsoleHousekeeping;
  /** Stops the engine (committing the batch in flight) and closes the store. */
  close(): Promise<void>;
}

export interface BridgeOptions {
  logger: Logger;
  now?: () => number;
  /** Start the sync engine's timers (tests may drive it by hand). */
  startEngine?: boolean;
}

/** The composition root: builds every part of the bridge from the configuration. */
export function createBridge(config: Config, options: BridgeOptions): Bridge {
  const { logger } = options;
  const now = options.now ?? Date.now;
  fs.mkdirSync(config.BRIDGE_DATA_DIR, { recursive: true });
  const secretBox = SecretBox.fromKey(loadOrCreateKey(config.BRIDGE_DATA_DIR, config.BRIDGE_ENCRYPTION_KEY));
  const store = createSqliteStore({ file: path.join(config.BRIDGE_DATA_DIR, 'bridge.db'), secretBox, logger });

  const oauth = new OAuthClient({
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
    settings: {
      apiVersion: config.SF_API_VERSION,
      timeoutMs: config.SF_REQUEST_TIMEOUT_MS,
      budgetShare: config.SYNC_API_BUDGET_SHARE,
      budgetPauseMs: config.SYNC_BUDGET_PAUSE_MS,
    },
  });
  const engine = new SyncEngine({
    store,
    sessions,
    logger,
    now,
    settings: {
      syncedKinds: config.SYNC_KINDS,
      pollMs: config.SYNC_POLL_MS,
      lingerMs: config.SYNC_LINGER_MS,
      batchSize: config.SYNC_BATCH_SIZE,
      leaseMs: config.SYNC_LEASE_MS,
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
    },
  });
  const links = new LinksService({
    store,
    oauth,
    loginUrls: { production: config.SF_LOGIN_URL_PRODUCTION, sandbox: config.SF_LOGIN_URL_SANDBOX },
    apiVersion: config.SF_API_VERSION,
    now,
    logger,
    onReauthorized: (authId: string) => {
      sessions.invalidate(authId);
      engine.kick();
    },
    salesforceFor: (auth) => sessions.clientFor(auth),
  });
  const accounts = new ConsoleAccounts({
    store,
    logger,
    now,
    sessionIdleMs: config.CONSOLE_SESSION_IDLE_MINUTES * 60_000,
    sessionMaxMs: config.CONSOLE_SESSION_MAX_HOURS * 3_600_000,
  });
  const cookies = { secure: publicUrl(config).startsWith('https:') };
  const webhookSecrets = new WebhookSecrets({ store, configured: config.WEBHOOK_SECRETS, logger, now });
  void webhookSecrets
    .load()
    .catch((error: unknown) => logger.error({ err: error }, 'webhook secrets could not be read'));
  const housekeeping = new ConsoleHousekeeping({
    store,
    accounts,
    links,
    webhookSecrets,
    retentionDays: config.RETENTION_DAYS,
    logger,
    now,
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.BRIDGE_TRUST_PROXY);
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
    createIntakeRouter({
      store,
      secrets: () => webhookSecrets.current(),
      toleranceSeconds: config.WEBHOOK_TOLERANCE_SECONDS,
      maxBodyBytes: config.WEBHOOK_MAX_BODY_BYTES,
      syncedKinds: config.SYNC_KINDS,
      now,
      logger,
      onAccepted: () => engine.kick(),
    }),
  );
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
    }),
  );
  app.use(createConsoleRouter());

  if (options.startEngine !== false) {
    engine.start();
    housekeeping.start(60_000);
  }

  return {
    app,
    store,
    engine,
    links,
    housekeeping,
    async close() {
      await engine.stop();
      await housekeeping.stop();
      await store.close();
    },
  };
}
