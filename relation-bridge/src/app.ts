import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import { createAdminRouter } from './admin/routes';
import { publicUrl, type Config } from './config';
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
      retentionDays: config.RETENTION_DAYS,
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
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use(
    createIntakeRouter({
      store,
      secrets: () => config.WEBHOOK_SECRETS,
      toleranceSeconds: config.WEBHOOK_TOLERANCE_SECONDS,
      maxBodyBytes: config.WEBHOOK_MAX_BODY_BYTES,
      syncedKinds: config.SYNC_KINDS,
      now,
      logger,
      onAccepted: () => engine.kick(),
    }),
  );
  app.use(createOAuthCallbackRouter({ links, logger }));
  app.use('/api/v1', createAdminRouter({ links, store, adminToken: config.BRIDGE_ADMIN_TOKEN, now, logger }));

  if (options.startEngine !== false) engine.start();

  return {
    app,
    store,
    engine,
    links,
    async close() {
      await engine.stop();
      await store.close();
    },
  };
}
