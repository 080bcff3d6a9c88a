import type { AddressInfo } from 'node:net';
import { createBridge } from './app';
import { ConfigError, loadConfig, publicUrl } from './config';
import { createLogger } from './logging';

/** The bridge process: configuration, listening, and a graceful stop on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.LOG_LEVEL);
  const bridge = createBridge(config, { logger });
  const server = bridge.app.listen(config.BRIDGE_PORT, config.BRIDGE_HOST);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  logger.info({ port, publicUrl: publicUrl(config) }, 'relation-bridge listening');
  process.send?.({ type: 'listening', port });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: no new requests, finishing the batch in flight');
    server.close();
    server.closeIdleConnections();
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

void main();
