import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import express from 'express';
import { applyServerTimeouts } from '../../src/core/http-hardening';
import { createLogger } from '../../src/logging';
import { createIntakeRouter, WEBHOOK_PATH, type IntakeRouterOptions } from '../../src/intake/routes';
import { signWebhook } from '../../src/intake/signature';
import { GroupCommit } from '../../src/intake/group-commit';
import type { BridgeStore } from '../../src/repositories';
import type { SqliteOptions } from '../../src/store/sqlite/database';
import { samplePayload } from '../store/actions-fixtures';
import { openTempSqliteStore } from '../store/databases';

export const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * The intake router mounted on a minimal express app on port 0, over a real SQLite store
 * in a temporary folder, with a clock the test controls and the log captured.
 */
export interface IntakeServer {
  url: string;
  store: BridgeStore;
  /** The SQLite file, for a second connection. */
  dbFile: string;
  secrets: string[];
  /** ms since the epoch, as the bridge sees it. */
  clock: { now: number };
  accepted: { count: number };
  logLines: string[];
  /** How many actions the store holds, in any state. */
  storedActions(): Promise<number>;
  close(): Promise<void>;
}

export async function startIntakeServer(
  options: Partial<Pick<IntakeRouterOptions, 'maxBodyBytes' | 'toleranceSeconds' | 'syncedKinds'>> = {},
  storeOptions: Partial<SqliteOptions> = {},
): Promise<IntakeServer> {
  const temp = await openTempSqliteStore(storeOptions);
  const intake = new GroupCommit({ actions: temp.store.actions });
  const secrets = [newSecret()];
  const clock = { now: Date.parse('2026-11-28T01:20:00Z') };
  const accepted = { count: 0 };
  const logLines: string[] = [];
  const logSink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  const app = express();
  app.use(
    createIntakeRouter({
      ingest: (action) => intake.ingest(action),
      secrets: () => secrets,
      toleranceSeconds: options.toleranceSeconds ?? 300,
      maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
      ...(options.syncedKinds === undefined ? {} : { syncedKinds: options.syncedKinds }),
      now: () => clock.now,
      logger: createLogger('debug', logSink),
      onAccepted: () => {
        accepted.count += 1;
      },
    }),
  );
  const server: Server = app.listen(0, '127.0.0.1');
  applyServerTimeouts(server);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${WEBHOOK_PATH}`,
    store: temp.store,
    dbFile: temp.file,
    secrets,
    clock,
    accepted,
    logLines,
    async storedActions() {
      const counts = await temp.store.actions.countByState({});
      return Object.values(counts).reduce((sum, count) => sum + count, 0);
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
      await temp.cleanup();
    },
  };
}

export interface Delivery {
  body?: string | Buffer;
  webhookId?: string;
  /** Unix seconds; defaults to the server's clock. */
  timestamp?: number;
  secret?: string;
  contentType?: string | null;
  /** Replaces or removes (null) any header after signing. */
  headers?: Record<string, string | null>;
  method?: string;
}

let deliveries = 0;

/** Posts a body signed like a Standard Webhooks sender would, with overrides for bad cases. */
export async function deliver(
  server: IntakeServer,
  delivery: Delivery = {},
): Promise<{ status: number; json: unknown; text: string }> {
  deliveries += 1;
  const body = delivery.body ?? JSON.stringify(samplePayload());
  const signedHeaders = signWebhook({
    secret: delivery.secret ?? (server.secrets[0] as string),
    id: delivery.webhookId ?? `msg_${deliveries}_${randomBytes(4).toString('hex')}`,
    timestamp: delivery.timestamp ?? Math.floor(server.clock.now / 1000),
    body,
  });
  const headers: Record<string, string> = { ...signedHeaders };
  if (delivery.contentType !== null) headers['content-type'] = delivery.contentType ?? 'application/json';
  for (const [name, value] of Object.entries(delivery.headers ?? {})) {
    if (value === null) delete headers[name];
    else headers[name] = value;
  }
  const response = await fetch(server.url, {
    method: delivery.method ?? 'POST',
    headers,
    body: delivery.method === 'GET' ? null : body,
  });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, json, text };
}

/** The sample body, serialised, with a changed action id. */
export function bodyFor(
  actionId: string,
  change: (payload: ReturnType<typeof samplePayload>) => void = () => undefined,
): string {
  const payload = samplePayload({ actionId });
  change(payload);
  return JSON.stringify(payload);
}
