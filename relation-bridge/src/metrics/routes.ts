import express, { type RequestHandler } from 'express';
import { authenticate } from '../auth/http';
import { errorHandler, notFound } from '../http/errors';
import type { Logger } from '../logging';
import type { BridgeMetrics } from './bridge-metrics';

export const METRICS_PATH = '/metrics';

function serve(metrics: BridgeMetrics): RequestHandler {
  return async (_req, res) => {
    const text = await metrics.exposition();
    res.set('Cache-Control', 'no-store').type(metrics.contentType).send(text);
  };
}

/** `GET /metrics` on the main port, for BRIDGE_ADMIN_TOKEN only (as the admin API). */
export function createMetricsRouter(options: {
  metrics: BridgeMetrics;
  adminToken: string | undefined;
}): express.Router {
  const router = express.Router();
  router.get(
    METRICS_PATH,
    authenticate({ adminToken: options.adminToken, cookies: { secure: false } }),
    serve(options.metrics),
  );
  return router;
}

/**
 * BRIDGE_METRICS_PORT: an application that serves only `GET /metrics`, without a token, on
 * an interface only the monitoring reaches.
 */
export function createMetricsApp(metrics: BridgeMetrics, logger: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get(METRICS_PATH, serve(metrics));
  app.use(notFound());
  app.use(errorHandler(logger, 'json'));
  return app;
}
