/**
 * `npm run bench`: webhook intake throughput with durable commits (WAL, synchronous=FULL).
 * Sends signed webhooks over keep-alive connections at several concurrencies and reports
 * requests per second and how many actions shared each commit (group commit). Client and
 * server share the machine's cores: compare the rows with each other, not with other machines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBridge } from '../src/app';
import { loadConfig } from '../src/config';
import { signWebhook } from '../src/intake/signature';
import { createLogger } from '../src/logging';
import type { SqliteStore } from '../src/store/sqlite';

const SECRET = `whsec_${Buffer.from('bench-secret-bench-secret-bench!').toString('base64')}`;
const PER_ROUND = Number(process.argv[2] ?? 4000);

function post(agent: Agent, port: number, index: number, round: number): Promise<number> {
  const body = JSON.stringify({
    type: 'ticket.action.created',
    action: {
      id: `act_bench_${round}_${index}`,
      kind: 'message_received',
      occurred_at: new Date().toISOString(),
      channel: 'email',
      direction: 'inbound',
      subject: 'お見積りの件',
      body: '山田様\nお世話になっております。'.repeat(10),
    },
    ticket: { id: String(index), title: 'お見積りの件', url: `https://example.relationapp.jp/tickets/${index}` },
    inbox: { id: 'bench', name: 'ベンチ' },
    customer: { emails: [`customer${index}@example.jp`] },
  });
  const headers = signWebhook({
    secret: SECRET,
    id: `msg_${round}_${index}`,
    timestamp: Math.floor(Date.now() / 1000),
    body,
  });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        port,
        host: '127.0.0.1',
        method: 'POST',
        path: '/webhooks/relation',
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'relation-bridge-bench-'));
  const config = loadConfig({ BRIDGE_DATA_DIR: dataDir, WEBHOOK_SECRETS: SECRET, LOG_LEVEL: 'silent' });
  const bridge = createBridge(config, { logger: createLogger('silent'), startEngine: false });
  const server = createServer(bridge.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const store = bridge.store as SqliteStore;

  process.stdout.write(`intake: ${PER_ROUND} signed webhooks per row, WAL + synchronous=FULL\n`);
  process.stdout.write('concurrency  req/s   actions per commit\n');
  let round = 0;
  for (const concurrency of [1, 8, 32, 128]) {
    round += 1;
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    const before = store.stats();
    let next = 0;
    let failures = 0;
    const start = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < PER_ROUND) {
          const status = await post(agent, port, next++, round);
          if (status !== 202) failures += 1;
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const after = store.stats();
    const commits = after.commits - before.commits;
    agent.destroy();
    process.stdout.write(
      `${String(concurrency).padStart(11)}  ${String(Math.round(PER_ROUND / seconds)).padStart(5)}   ${(PER_ROUND / Math.max(1, commits)).toFixed(1)}${failures > 0 ? `  (${failures} not accepted!)` : ''}\n`,
    );
  }
  server.close();
  await bridge.close();
  rmSync(dataDir, { recursive: true, force: true });
}

void main();
