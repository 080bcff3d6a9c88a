/**
 * The load generator, in a process of its own so that it does not share an event loop
 * with what it measures. Given a JSON configuration (argv[2]), it sends signed webhooks and
 * prints one JSON result line.
 *
 * - open: requests are due at a fixed rate whatever the answers do (an open loop); each
 *   latency counts from when the request was due, so a stall delays every request behind
 *   it instead of hiding them (no coordinated omission).
 * - closed: `concurrency` senders, each sending its next request when its last is answered;
 *   the throughput at saturation.
 */
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';

export interface LoadConfig {
  targets: string[];
  secret: string;
  mode: 'open' | 'closed';
  /** open: requests per second. */
  rate?: number;
  /** closed: concurrent senders. */
  concurrency?: number;
  durationMs: number;
  /** closed: stop after this many requests (instead of the duration). */
  count?: number;
  inboxId: string;
  emails: string[];
  idPrefix: string;
}

export interface LoadResult {
  sent: number;
  accepted: number;
  statuses: Record<string, number>;
  errors: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number; mean: number };
  perSecond: number;
  durationMs: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

function sign(secret: string, id: string, timestamp: string, body: string): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

let sequence = 0;

function post(config: LoadConfig, due: number): Promise<number | 'error'> {
  sequence += 1;
  const target = config.targets[sequence % config.targets.length] as string;
  const actionId = `${config.idPrefix}_${sequence}_${randomBytes(3).toString('hex')}`;
  const body = JSON.stringify({
    type: 'ticket.action.created',
    action: {
      id: actionId,
      kind: 'message_received',
      // The due time: the Event's ActivityDateTime, from which freshness is measured.
      occurred_at: new Date(due).toISOString(),
      channel: 'email',
      direction: 'inbound',
      subject: 'お見積りのお願い',
      body: `お世話になっております。見積書の件でご連絡いたしました。${actionId}`,
      operator: { id: 'u_9', name: '佐藤 花子', email: 'hanako.sato@relation-demo.example.jp' },
    },
    ticket: {
      id: `T-${sequence}`,
      title: 'お見積りのお願い',
      url: `https://example.relationapp.jp/tickets/T-${sequence}`,
    },
    inbox: { id: config.inboxId, name: '営業窓口' },
    customer: { emails: [config.emails[sequence % config.emails.length]] },
  });
  const webhookId = `msg_${actionId}`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const url = new URL('/webhooks/relation', target);
  return new Promise((resolve) => {
    const request = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'webhook-id': webhookId,
          'webhook-timestamp': timestamp,
          'webhook-signature': sign(config.secret, webhookId, timestamp, body),
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.setTimeout(30_000, () => request.destroy(new Error('timeout')));
    request.on('error', () => resolve('error'));
    request.end(body);
  });
}

async function run(config: LoadConfig): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let sent = 0;
  const started = Date.now();
  const record = (due: number) => (outcome: number | 'error') => {
    latencies.push(Date.now() - due);
    if (outcome === 'error') errors += 1;
    else statuses[outcome] = (statuses[outcome] ?? 0) + 1;
  };
  const inFlight = new Set<Promise<void>>();
  if (config.mode === 'open') {
    const rate = config.rate ?? 100;
    const total = Math.round((rate * config.durationMs) / 1000);
    for (let index = 0; index < total; index += 1) {
      const due = started + (index * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      sent += 1;
      const done = post(config, due)
        .then(record(due))
        .finally(() => inFlight.delete(done));
      inFlight.add(done);
    }
  } else {
    const deadline = started + config.durationMs;
    const limit = config.count ?? Infinity;
    const sender = async () => {
      while (Date.now() < deadline && sent < limit) {
        sent += 1;
        const due = Date.now();
        record(due)(await post(config, due));
      }
    };
    await Promise.all(Array.from({ length: config.concurrency ?? 64 }, sender));
  }
  await Promise.all([...inFlight]);
  const durationMs = Date.now() - started;
  latencies.sort((a, b) => a - b);
  const accepted = Object.entries(statuses)
    .filter(([status]) => status.startsWith('2'))
    .reduce((sum, [, count]) => sum + count, 0);
  return {
    sent,
    accepted,
    statuses,
    errors,
    latencyMs: {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      max: latencies[latencies.length - 1] ?? 0,
      mean: latencies.reduce((sum, value) => sum + value, 0) / Math.max(1, latencies.length),
    },
    perSecond: (accepted * 1000) / durationMs,
    durationMs,
  };
}

if (require.main === module) {
  run(JSON.parse(process.argv[2] ?? '{}') as LoadConfig)
    .then((result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    })
    .catch((error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    });
}
