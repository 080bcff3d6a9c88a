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
 *
 * It shares the machine's cores with what it measures, so it is kept cheap: requests are
 * written as bytes on keep-alive sockets (HTTP/1.1, one request in flight per connection)
 * and their answers read by status line and Content-Length, instead of node:http's client,
 * which cost about three times the CPU per request; an open loop's requests are built and
 * signed before its clock starts.
 */
import { createHmac, randomBytes } from 'node:crypto';
import net from 'node:net';

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

const REQUEST_TIMEOUT_MS = 30_000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

interface Target {
  host: string;
  port: number;
}

interface Prepared {
  target: Target;
  bytes: Buffer;
}

/** Builds and signs webhooks: the same shape as the helpdesk's, one customer of `emails` each. */
class Requests {
  private sequence = 0;
  private readonly key: Buffer;
  private readonly targets: Target[];

  constructor(private readonly config: LoadConfig) {
    this.key = Buffer.from(config.secret.slice('whsec_'.length), 'base64');
    this.targets = config.targets.map((target) => {
      const url = new URL(target);
      return { host: url.hostname, port: Number(url.port) };
    });
  }

  /** `occurredAt`: the Event's ActivityDateTime, from which freshness is measured (the due time). */
  next(occurredAt: number): Prepared {
    this.sequence += 1;
    const sequence = this.sequence;
    const { config } = this;
    const target = this.targets[sequence % this.targets.length] as Target;
    const actionId = `${config.idPrefix}_${sequence}_${randomBytes(3).toString('hex')}`;
    const body = JSON.stringify({
      type: 'ticket.action.created',
      action: {
        id: actionId,
        kind: 'message_received',
        occurred_at: new Date(occurredAt).toISOString(),
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
    const signature = createHmac('sha256', this.key).update(`${webhookId}.${timestamp}.${body}`).digest('base64');
    const payload = Buffer.from(body);
    const head =
      `POST /webhooks/relation HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${payload.length}\r\n` +
      `webhook-id: ${webhookId}\r\nwebhook-timestamp: ${timestamp}\r\nwebhook-signature: v1,${signature}\r\n\r\n`;
    return { target, bytes: Buffer.concat([Buffer.from(head, 'latin1'), payload]) };
  }
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** One keep-alive connection with at most one request in flight. */
class Connection {
  private readonly socket: net.Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: ((outcome: number | 'error') => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  closed = false;

  constructor(target: Target) {
    this.socket = net.connect(target.port, target.host);
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', () => this.close());
    this.socket.on('close', () => this.close());
  }

  send(bytes: Buffer): Promise<number | 'error'> {
    // A socket already closed would take the write silently and never answer.
    if (this.closed) return Promise.resolve('error');
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.timer = setTimeout(() => this.close(), REQUEST_TIMEOUT_MS);
      this.socket.write(bytes);
    });
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const headEnd = this.buffered.indexOf(HEAD_END);
    if (headEnd < 0) return;
    const head = this.buffered.subarray(0, headEnd).toString('latin1');
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    let end: number;
    if (length !== null) end = headEnd + 4 + Number(length[1]);
    else {
      // Chunked: the answer ends with the last chunk (the bridge and the baseline send lengths).
      const last = this.buffered.indexOf('\r\n0\r\n\r\n', headEnd);
      if (last < 0) return;
      end = last + 7;
    }
    if (this.buffered.length < end) return;
    this.buffered = this.buffered.subarray(end);
    const closing = /\r\nconnection:\s*close/i.test(head);
    this.settle(status);
    if (closing) this.close();
  }

  private settle(outcome: number | 'error'): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.(outcome);
  }

  close(): void {
    if (!this.closed) {
      this.closed = true;
      this.socket.destroy();
    }
    this.settle('error');
  }

  end(): void {
    this.closed = true;
    this.socket.end();
  }
}

/** Idle connections per target, opened when none is free. */
class Pool {
  private readonly idle = new Map<Target, Connection[]>();
  private readonly all = new Set<Connection>();

  async send(prepared: Prepared): Promise<number | 'error'> {
    const free = this.idle.get(prepared.target) ?? [];
    this.idle.set(prepared.target, free);
    // The server closes a connection left idle past its keep-alive timeout: skip those.
    let connection = free.pop();
    while (connection?.closed === true) {
      this.all.delete(connection);
      connection = free.pop();
    }
    connection ??= new Connection(prepared.target);
    this.all.add(connection);
    const outcome = await connection.send(prepared.bytes);
    if (connection.closed) this.all.delete(connection);
    else free.push(connection);
    return outcome;
  }

  /** Opens `count` connections to each target before the clock starts. */
  warm(targets: Target[], count: number): void {
    for (const target of targets) {
      const free = this.idle.get(target) ?? [];
      this.idle.set(target, free);
      for (let index = 0; index < count; index += 1) {
        const connection = new Connection(target);
        this.all.add(connection);
        free.push(connection);
      }
    }
  }

  close(): void {
    for (const connection of this.all) connection.end();
  }
}

async function run(config: LoadConfig): Promise<LoadResult> {
  const requests = new Requests(config);
  const pool = new Pool();
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let sent = 0;
  const record = (due: number) => (outcome: number | 'error') => {
    latencies.push(Date.now() - due);
    if (outcome === 'error') errors += 1;
    else statuses[outcome] = (statuses[outcome] ?? 0) + 1;
  };
  let started: number;
  if (config.mode === 'open') {
    const rate = config.rate ?? 100;
    const total = Math.round((rate * config.durationMs) / 1000);
    // Built and signed before the clock starts, each with the time it is due.
    const lead = 200 + total / 20;
    started = Date.now() + lead;
    const prepared = Array.from({ length: total }, (_, index) => requests.next(started + (index * 1000) / rate));
    const targets = [...new Set(prepared.slice(0, config.targets.length).map((request) => request.target))];
    pool.warm(targets, Math.min(64, Math.ceil(rate / 20)));
    const inFlight = new Set<Promise<void>>();
    for (let index = 0; index < total; index += 1) {
      const due = started + (index * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      sent += 1;
      const done = pool
        .send(prepared[index] as Prepared)
        .then(record(due))
        .finally(() => inFlight.delete(done));
      inFlight.add(done);
    }
    await Promise.all([...inFlight]);
  } else {
    started = Date.now();
    const deadline = started + config.durationMs;
    const limit = config.count ?? Infinity;
    const sender = async () => {
      while (Date.now() < deadline && sent < limit) {
        sent += 1;
        const due = Date.now();
        record(due)(await pool.send(requests.next(due)));
      }
    };
    await Promise.all(Array.from({ length: config.concurrency ?? 64 }, sender));
  }
  pool.close();
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
