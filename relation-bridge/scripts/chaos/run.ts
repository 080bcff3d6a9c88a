/**
 * The chaos run: three bridges on one PostgreSQL database and one on SQLite, each its own
 * process, under continuous signed load against the local org with random faults (5xx,
 * hangs, answers held after a commit, UNABLE_TO_LOCK_ROW, expired sessions). One bridge at a
 * time is SIGKILLed at random moments and started again. The load generator retries a
 * webhook that got no 2xx, as the helpdesk does, until one bridge of its group accepts it.
 * At the end every webhook that got a 2xx is compared with the Events in the local org.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import {
  completeAuthorization,
  seedDemoOrg,
  startLocalSalesforce,
  type LocalOrg,
  type LocalSalesforce,
  type SeededOrg,
} from '../../local-org';
import type { ActionPayload } from '../../src/core/types';
import { signWebhook } from '../../src/intake/signature';

export interface ChaosOptions {
  /** How many times a bridge is killed before the load stops. */
  kills: number;
  /** Webhooks per second, over both groups. */
  rate?: number;
  /** Random pause between kills, ms. */
  killEveryMs?: [number, number];
  /** PostgreSQL to make the shared database in (an admin URL); null: skip the PostgreSQL group. */
  postgresAdminUrl?: string | null;
  /** How long the bridges may take to sync everything after the load stops. */
  settleTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface GroupResult {
  group: string;
  /** For lost actions: what the bridge says about them (state/reason: count). */
  lostStates?: Record<string, number>;
  bridges: number;
  acked: number;
  events: number;
  lost: number;
  duplicated: number;
  unexpected: number;
}

export interface ChaosResult {
  kills: number;
  faults: Record<string, number>;
  groups: GroupResult[];
  lost: number;
  duplicated: number;
  unexpected: number;
  retriedDeliveries: number;
  durationMs: number;
}

const BRIDGE_ROOT = path.resolve(__dirname, '../..');
const ADMIN_TOKEN = `chaos-admin-${randomBytes(12).toString('hex')}`;
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

interface Bridge {
  name: string;
  port: number;
  env: Record<string, string>;
  child: ChildProcess | null;
  starting: Promise<void> | null;
}

interface Group {
  name: string;
  inboxId: string;
  org: LocalOrg;
  seeded: SeededOrg;
  bridges: Bridge[];
  /** Action ids that got a 2xx. */
  acked: Set<string>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = ([low, high]: [number, number]) => low + Math.random() * (high - low);
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;

function startProcess(bridge: Bridge): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: BRIDGE_ROOT,
    env: { PATH: process.env.PATH ?? '', ...bridge.env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  bridge.child = child;
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const started = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${bridge.name} did not start: ${stderr}`)), 30_000);
    child.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${bridge.name} exited (${signal ?? code}) while starting: ${stderr}`));
    });
  });
  bridge.starting = started.finally(() => {
    bridge.starting = null;
  });
  return bridge.starting;
}

function kill(bridge: Bridge): Promise<void> {
  const child = bridge.child;
  bridge.child = null;
  if (child === null || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function link(group: Group, bridge: Bridge): Promise<void> {
  const base = `http://127.0.0.1:${bridge.port}`;
  const started = await fetch(`${base}/api/v1/links/authorize`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ inboxId: group.inboxId, environment: 'production', target: 'contact_then_lead' }),
  });
  if (started.status !== 201) throw new Error(`authorize answered ${started.status}: ${await started.text()}`);
  const { authorizeUrl } = (await started.json()) as { authorizeUrl: string };
  const callback = await completeAuthorization(authorizeUrl, {
    username: group.seeded.authorizingUser.username,
    password: group.seeded.authorizingUser.password,
  });
  const answer = await fetch(callback);
  if (answer.status !== 200) throw new Error(`the OAuth callback answered ${answer.status}`);
}

let sequence = 0;

function payloadFor(group: Group): ActionPayload {
  sequence += 1;
  const reachable = group.seeded.contacts.filter(
    (contact) => typeof contact.email === 'string' && contact.email !== '',
  );
  const customer = reachable[sequence % reachable.length];
  const id = `chaos_${group.name}_${sequence}_${randomBytes(3).toString('hex')}`;
  return {
    type: 'ticket.action.created',
    action: {
      id,
      kind: 'message_received',
      occurred_at: new Date().toISOString(),
      channel: pick(['email', 'sms', 'line', 'chat_widget']),
      direction: 'inbound',
      subject: 'お問い合わせ',
      body: `本文 ${id}`,
    },
    ticket: { id: `T-${sequence}`, title: 'お問い合わせ', url: `https://example.relationapp.jp/tickets/T-${sequence}` },
    inbox: { id: group.inboxId, name: group.name },
    customer: { emails: [customer?.email ?? 'unknown@example.jp'] },
  };
}

/** Delivers one webhook to the group until a bridge answers 2xx, as the helpdesk retries. */
async function deliver(group: Group, payload: ActionPayload, retried: { count: number }): Promise<void> {
  const body = JSON.stringify(payload);
  const webhookId = `msg_${payload.action.id}`;
  for (let attempt = 0; attempt < 400; attempt += 1) {
    const bridge = pick(group.bridges.filter((candidate) => candidate.child !== null && candidate.starting === null));
    if (bridge !== undefined) {
      const headers = signWebhook({
        secret: WEBHOOK_SECRET,
        id: webhookId,
        timestamp: Math.floor(Date.now() / 1000),
        body,
      });
      try {
        const response = await fetch(`http://127.0.0.1:${bridge.port}/webhooks/relation`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(5_000),
        });
        await response.arrayBuffer();
        if (response.status >= 200 && response.status < 300) {
          group.acked.add(payload.action.id);
          return;
        }
      } catch {
        // Connection refused or reset: the bridge died, or is starting. Retry elsewhere.
      }
    }
    retried.count += 1;
    await sleep(50 + Math.random() * 150);
  }
  throw new Error(`no bridge of ${group.name} accepted ${payload.action.id}`);
}

function injectFault(local: LocalSalesforce, faults: Record<string, number>, hangs: Array<{ release(): void }>): void {
  const rest = /\/services\/data\//;
  const kind = pick(['5xx', 'hang', 'held_answer', 'lock', 'expired_session'] as const);
  faults[kind] = (faults[kind] ?? 0) + 1;
  switch (kind) {
    case '5xx':
      local.faults.serverError({ path: rest, status: pick([500, 502, 503] as const), count: 2 });
      return;
    case 'hang': {
      const hang = local.faults.hangNext({ path: rest });
      hangs.push(hang);
      setTimeout(() => hang.release(), 3_000).unref();
      return;
    }
    case 'held_answer': {
      const hold = local.faults.holdAfterCommit({ path: '/composite', method: 'POST' });
      hangs.push(hold);
      setTimeout(() => hold.release(), 3_000).unref();
      return;
    }
    case 'lock':
      local.faults.lockRecords({ count: 3, objectType: 'Event' });
      return;
    case 'expired_session':
      for (const org of local.orgs()) org.expireAccessTokens();
  }
}

function compare(group: Group): GroupResult {
  const events = group.org.records('Event');
  const perAction = new Map<string, number>();
  for (const event of events) {
    const id = String(event[`${group.org.namespace}__Action_Id__c`] ?? '');
    perAction.set(id, (perAction.get(id) ?? 0) + 1);
  }
  let lost = 0;
  let duplicated = 0;
  for (const id of group.acked) {
    const count = perAction.get(id) ?? 0;
    if (count === 0) lost += 1;
    if (count > 1) duplicated += count - 1;
  }
  const unexpected = [...perAction.keys()].filter((id) => !group.acked.has(id)).length;
  return {
    group: group.name,
    bridges: group.bridges.length,
    acked: group.acked.size,
    events: events.length,
    lost,
    duplicated,
    unexpected,
  };
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const rate = options.rate ?? 40;
  const killEvery = options.killEveryMs ?? [800, 2_000];
  const postgresAdmin =
    options.postgresAdminUrl === undefined ? 'postgres://postgres@127.0.0.1:5432/postgres' : options.postgresAdminUrl;
  const local = await startLocalSalesforce();
  const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'relation-bridge-chaos-'));
  const encryptionKey = randomBytes(32).toString('base64');
  const databaseName = `bridge_chaos_${process.pid}_${randomBytes(3).toString('hex')}`;
  let databaseUrl: string | null = null;
  const groups: Group[] = [];
  const faults: Record<string, number> = {};
  const hangs: Array<{ release(): void }> = [];
  const retried = { count: 0 };
  let kills = 0;

  const commonEnv = (port: number, name: string) => ({
    BRIDGE_PORT: String(port),
    BRIDGE_PUBLIC_URL: `http://127.0.0.1:${port}`,
    BRIDGE_INSTANCE_ID: name,
    BRIDGE_ENCRYPTION_KEY: encryptionKey,
    BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
    BRIDGE_STOP_TIMEOUT_MS: '2000',
    WEBHOOK_SECRETS: WEBHOOK_SECRET,
    SF_CLIENT_ID: local.app.clientId,
    SF_CLIENT_SECRET: local.app.clientSecret,
    SF_LOGIN_URL_PRODUCTION: local.productionLoginUrl,
    SF_LOGIN_URL_SANDBOX: local.sandboxLoginUrl,
    SF_REQUEST_TIMEOUT_MS: '2000',
    // Hung requests are let go after 3 s (injectFault): a send is not repeated before then.
    SYNC_UNCERTAIN_WAIT_MS: '4000',
    SF_HEALTH_INTERVAL_MS: '2000',
    SYNC_LEASE_MS: '3000',
    SYNC_LINGER_MS: '50',
    SYNC_POLL_MS: '200',
    SYNC_BACKOFF_BASE_MS: '100',
    SYNC_BACKOFF_MAX_MS: '1500',
    SYNC_MAX_ATTEMPTS: '1000',
    LOG_LEVEL: 'error',
  });

  const makeBridge = async (name: string, env: Record<string, string>): Promise<Bridge> => {
    const port = await freePort();
    local.app.callbackUrls.push(`http://127.0.0.1:${port}/oauth/callback`);
    return { name, port, env: { ...commonEnv(port, name), ...env }, child: null, starting: null };
  };

  try {
    if (postgresAdmin !== null) {
      await adminQuery(postgresAdmin, `CREATE DATABASE ${databaseName}`);
      const url = new URL(postgresAdmin);
      url.pathname = `/${databaseName}`;
      databaseUrl = url.toString();
      const org = local.createOrg({ name: 'Chaos PostgreSQL' });
      const bridges = [];
      for (const name of ['pg-1', 'pg-2', 'pg-3']) {
        bridges.push(
          await makeBridge(name, { BRIDGE_DATABASE_URL: databaseUrl, BRIDGE_DATA_DIR: path.join(dataRoot, name) }),
        );
      }
      groups.push({ name: 'postgres', inboxId: '12', org, seeded: seedDemoOrg(org), bridges, acked: new Set() });
    }
    const sqliteOrg = local.createOrg({ name: 'Chaos SQLite' });
    groups.push({
      name: 'sqlite',
      inboxId: '34',
      org: sqliteOrg,
      seeded: seedDemoOrg(sqliteOrg),
      bridges: [await makeBridge('sqlite-1', { BRIDGE_DATA_DIR: path.join(dataRoot, 'sqlite-1') })],
      acked: new Set(),
    });
    const bridges = groups.flatMap((group) => group.bridges);
    // The first start migrates the shared database; the others then start together.
    for (const group of groups) await startProcess(group.bridges[0] as Bridge);
    await Promise.all(bridges.filter((bridge) => bridge.child === null).map(startProcess));
    for (const group of groups) await link(group, group.bridges[0] as Bridge);
    log(`chaos: ${bridges.length} bridges up (${groups.map((g) => `${g.name}: ${g.bridges.length}`).join(', ')})`);

    let loading = true;
    const inFlight = new Set<Promise<void>>();
    const load = (async () => {
      let due = Date.now();
      while (loading) {
        due += 1_000 / rate;
        const group = groups[sequence % groups.length] as Group;
        const delivery = deliver(group, payloadFor(group), retried).finally(() => inFlight.delete(delivery));
        inFlight.add(delivery);
        await sleep(Math.max(0, due - Date.now()));
      }
    })();
    const faulting = (async () => {
      while (loading) {
        injectFault(local, faults, hangs);
        await sleep(between([300, 900]));
      }
    })();

    while (kills < options.kills) {
      await sleep(between(killEvery));
      const victim = pick(bridges.filter((bridge) => bridge.child !== null && bridge.starting === null));
      if (victim === undefined) continue;
      await kill(victim);
      kills += 1;
      log(`chaos: kill ${kills}/${options.kills}: ${victim.name}`);
      await sleep(between([100, 600]));
      await startProcess(victim);
    }

    loading = false;
    await Promise.all([load, faulting]);
    await Promise.all([...inFlight]);
    local.faults.clear();
    for (const hang of hangs) hang.release();
    log(`chaos: load stopped; waiting for every acknowledged webhook to become an Event`);

    const deadline = Date.now() + (options.settleTimeoutMs ?? 90_000);
    const settled = () => groups.every((group) => compare(group).lost === 0);
    while (!settled() && Date.now() < deadline) await sleep(250);
    // A little longer, so that a duplicate written late would be seen too.
    await sleep(1_500);

    const results = groups.map(compare);
    for (const [index, result] of results.entries()) {
      if (result.lost > 0) result.lostStates = await lostStates(groups[index] as Group);
    }
    return {
      kills,
      faults,
      groups: results,
      lost: results.reduce((sum, result) => sum + result.lost, 0),
      duplicated: results.reduce((sum, result) => sum + result.duplicated, 0),
      unexpected: results.reduce((sum, result) => sum + result.unexpected, 0),
      retriedDeliveries: retried.count,
      durationMs: Date.now() - started,
    };
  } finally {
    await Promise.all(groups.flatMap((group) => group.bridges).map(kill));
    local.faults.clear();
    for (const hang of hangs) hang.release();
    await local.close();
    if (databaseUrl !== null && postgresAdmin !== null) {
      await adminQuery(postgresAdmin, `DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`).catch(() => undefined);
    }
    fs.rmSync(dataRoot, { recursive: true, force: true });
  }
}

/** What a live bridge of the group says about the actions that have no Event. */
async function lostStates(group: Group): Promise<Record<string, number>> {
  const bridge = group.bridges.find((candidate) => candidate.child !== null);
  const counts: Record<string, number> = {};
  if (bridge === undefined) return { 'no bridge running': 1 };
  const events = new Set(
    group.org.records('Event').map((event) => String(event[`${group.org.namespace}__Action_Id__c`])),
  );
  for (const id of [...group.acked].filter((actionId) => !events.has(actionId)).slice(0, 200)) {
    const response = await fetch(`http://127.0.0.1:${bridge.port}/api/v1/actions/${encodeURIComponent(id)}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const body = (await response.json()) as { state?: string; reason?: string | null; errorCode?: string | null };
    const key =
      response.status === 200
        ? `${body.state}/${body.reason ?? '-'}/${body.errorCode ?? '-'}`
        : `http ${response.status}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** The result as a plain table. */
export function chaosTable(result: ChaosResult): string {
  const rows = [
    ['group', 'bridges', 'acked (2xx)', 'Events', 'lost', 'duplicated', 'unexpected'],
    ...result.groups.map((group) => [
      group.group,
      String(group.bridges),
      String(group.acked),
      String(group.events),
      String(group.lost),
      String(group.duplicated),
      String(group.unexpected),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  return [
    line(rows[0]!),
    `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
    '',
    `kills: ${result.kills}; faults: ${Object.entries(result.faults)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(
        ', ',
      )}; deliveries retried by the sender: ${result.retriedDeliveries}; ${Math.round(result.durationMs / 1000)} s`,
    `lost ${result.lost}, duplicated ${result.duplicated}, unexpected ${result.unexpected}`,
    ...result.groups
      .filter((group) => group.lostStates !== undefined)
      .map((group) => `${group.group}: lost actions as the bridge sees them: ${JSON.stringify(group.lostStates)}`),
  ].join('\n');
}
