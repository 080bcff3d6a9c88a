/**
 * The bridge process with one fault: it kills itself (SIGKILL) right after the repository
 * call named in BRIDGE_TEST_CRASH_AFTER (e.g. `links.saveAuth`) ran inside a unit of work,
 * before the unit of work could commit. Used to show that a link is never half-made.
 */
import type { AddressInfo } from 'node:net';
import { createBridge } from '../../src/app';
import { loadConfig } from '../../src/config';
import { loadOrCreateKey, SecretBox } from '../../src/crypto/secret-box';
import { createLogger } from '../../src/logging';
import { bridgeStoreOn, type BridgeStore, type Repositories } from '../../src/repositories';
import { openDatabase } from '../../src/store/open';

function crashAfter(repositories: Repositories, target: string): Repositories {
  const [aggregate, method] = target.split('.') as [keyof Repositories, string];
  const repository = repositories[aggregate] as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const original = repository[method];
  if (original === undefined) throw new Error(`no repository call ${target}`);
  return {
    ...repositories,
    [aggregate]: {
      ...repository,
      [method]: async (...args: unknown[]) => {
        const result = await original(...args);
        process.kill(process.pid, 'SIGKILL');
        return result;
      },
    },
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const target = process.env.BRIDGE_TEST_CRASH_AFTER ?? '';
  const logger = createLogger(config.LOG_LEVEL);
  const secretBox = SecretBox.fromKey(loadOrCreateKey(config.BRIDGE_DATA_DIR, config.BRIDGE_ENCRYPTION_KEY));
  const database = await openDatabase({ databaseUrl: config.BRIDGE_DATABASE_URL, dataDir: config.BRIDGE_DATA_DIR });
  const healthy = bridgeStoreOn(database, secretBox);
  const store: BridgeStore = {
    ...healthy,
    transaction: (work) => healthy.transaction((tx) => work(crashAfter(tx, target))),
  };
  const bridge = await createBridge(config, { logger, store });
  const server = bridge.app.listen(config.BRIDGE_PORT, config.BRIDGE_HOST, () => {
    const { port } = server.address() as AddressInfo;
    process.send?.({ type: 'listening', port });
  });
}

void main();
