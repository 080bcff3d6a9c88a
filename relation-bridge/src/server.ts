import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBridge } from './app';
import { applyServerTimeouts } from './core/http-hardening';
import { type Config, ConfigError, loadConfig, loadEnvFile, publicUrl } from './config';
import { createLogger, type Logger } from './logging';

/**
 * The bridge process: configuration, listening, then the sync engine, and a stop on
 * SIGTERM/SIGINT that always ends the process: the batch in flight gets
 * BRIDGE_STOP_TIMEOUT_MS to commit, after which the process exits anyway (its leases
 * expire and another instance, or the next start, takes its work over).
 */
async function main(): Promise<void> {
  let config;
  let envFile;
  try {
    envFile = loadEnvFile();
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.LOG_LEVEL);
  handleProcessFailures(logger);
  logger.info(
    { envFile },
    envFile === null ? 'configuration: from the environment' : 'configuration: read the settings file',
  );
  const bridge = await createBridge(config, { logger });
  const server = bridge.app.listen(config.BRIDGE_PORT, config.BRIDGE_HOST);
  applyServerTimeouts(server);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const metricsServer = await listenForMetrics(bridge.metricsApp, config, logger);
  // Webhooks are answered from here on, whatever the sync has to catch up with.
  bridge.start();
  logger.info({ port, publicUrl: publicUrl(config), instanceId: bridge.instanceId }, 'relation-bridge listening');
  process.send?.({ type: 'listening', port, metricsPort: metricsServer === null ? null : portOf(metricsServer) });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: no new requests, finishing the batch in flight');
    const deadline = setTimeout(() => {
      logger.warn({ timeoutMs: config.BRIDGE_STOP_TIMEOUT_MS }, 'stop deadline passed: exiting now');
      process.exit(1);
    }, config.BRIDGE_STOP_TIMEOUT_MS);
    deadline.unref();
    server.close();
    server.closeIdleConnections();
    metricsServer?.close();
    metricsServer?.closeAllConnections();
    bridge
      .close()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/** BRIDGE_METRICS_PORT: /metrics without a token, on its own interface and port. */
async function listenForMetrics(app: RequestListener, config: Config, logger: Logger): Promise<Server | null> {
  if (config.BRIDGE_METRICS_PORT === undefined) return null;
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.BRIDGE_METRICS_PORT, config.BRIDGE_METRICS_HOST, resolve);
  });
  logger.info({ host: config.BRIDGE_METRICS_HOST, port: portOf(server) }, 'metrics listening');
  return server;
}

/**
 * An error nothing caught leaves the process in an unknown state: log it and exit, and let
 * the supervisor (systemd, the orchestrator) start a clean one. Every 2xx was committed
 * before it was sent, so nothing acknowledged is lost.
 */
function handleProcessFailures(logger: Logger): void {
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception: exiting');
    process.exit(70);
  });
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'unhandled promise rejection: exiting');
    process.exit(70);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`relation-bridge could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
