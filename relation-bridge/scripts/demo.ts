/**
 * `npm run demo`: the bridge's main job end to end on the embedded default.
 * Starts the local Salesforce-compatible org (Japanese sample data, a production org and its
 * sandbox) and the bridge (SQLite in data/demo), links inbox 12 through the real OAuth
 * web-server flow, sends signed sample webhooks over all twelve syncable channels plus some
 * that must not sync, prints what was synced, skipped and why, shows an unmatched customer
 * synced by itself once their Lead exists, and keeps running until Ctrl-C, with inbox 13 left
 * unlinked for the console's wizard (production, sandbox or My Domain).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { completeAuthorization, createDemoSandbox, seedDemoOrg, startLocalSalesforce } from '../local-org';
import { createBridge } from '../src/app';
import { CHANNEL_LABELS, SYNCABLE_CHANNELS, type SyncableChannel } from '../src/core/channels';
import type { ActionPayload, StoredAction } from '../src/core/types';
import { loadConfig } from '../src/config';
import { signWebhook } from '../src/intake/signature';
import { createLogger } from '../src/logging';

const DATA_DIR = path.resolve(__dirname, '../../data/demo');
const WEBHOOK_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const ADMIN_TOKEN = randomBytes(18).toString('hex');

const REASONS_JA: Record<string, string> = {
  no_link: '受信箱に連携設定がない',
  before_link: '連携設定より前の行動(さかのぼって同期しない)',
  channel_not_supported: '同期対象外のチャネル',
  kind_not_synced: '同期対象外の種類の行動',
  no_matching_record: '一致する取引先責任者・リードがない',
  no_customer_identifier: '顧客のメール・電話番号がない',
};

async function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

async function listenPreferring(server: Server, preferred: number): Promise<number> {
  try {
    return await listen(server, preferred);
  } catch {
    return listen(server, 0);
  }
}

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  const started = Date.now();
  rmSync(DATA_DIR, { recursive: true, force: true });

  const local = await startLocalSalesforce();
  const org = local.createOrg({ name: 'Yamato Trading' });
  const seeded = seedDemoOrg(org);
  // The wizard's サンドボックスを使用する「はい」 signs in here.
  const sandbox = createDemoSandbox(local, 'Yamato Trading');
  say(`ローカル Salesforce 互換組織 / local Salesforce-compatible org: ${local.baseUrl}`);
  say(
    `  ${seeded.users.length} users, ${seeded.contacts.length} contacts (取引先責任者), ${seeded.leads.length} leads (リード)`,
  );
  say(`  sandbox (サンドボックス) of the same company: ${sandbox.org.orgId}, the same sample data`);

  const server = createServer();
  const port = await listenPreferring(server, Number(process.env.DEMO_BRIDGE_PORT ?? 8080));
  const baseUrl = `http://127.0.0.1:${port}`;
  local.app.callbackUrls.push(`${baseUrl}/oauth/callback`);

  const config = loadConfig({
    BRIDGE_PORT: String(port),
    BRIDGE_PUBLIC_URL: baseUrl,
    BRIDGE_DATA_DIR: DATA_DIR,
    BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
    WEBHOOK_SECRETS: WEBHOOK_SECRET,
    SF_CLIENT_ID: local.app.clientId,
    SF_CLIENT_SECRET: local.app.clientSecret,
    SF_LOGIN_URL_PRODUCTION: local.productionLoginUrl,
    SF_LOGIN_URL_SANDBOX: local.sandboxLoginUrl,
    SYNC_LINGER_MS: '300',
    // Short, so that the policy part below takes seconds rather than minutes.
    SF_POLICY_CACHE_MS: '2000',
    SF_HEALTH_INTERVAL_MS: '1000',
    // Often, so that an unmatched customer whose Lead appears syncs within seconds here (15 min by default).
    SYNC_REMATCH_INTERVAL_MS: '1000',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  const bridge = await createBridge(config, { logger: createLogger(config.LOG_LEVEL) });
  server.on('request', bridge.app);
  bridge.start();
  say(`bridge: ${baseUrl}  (SQLite: ${path.join(DATA_DIR, 'bridge.db')})`);

  // An action taken before the link exists: it must not be backfilled.
  const earlier = new Date(Date.now() - 5 * 60_000);

  say();
  say('受信箱 12「営業窓口」を Salesforce に連携 / linking inbox 12 through the OAuth web-server flow…');
  const authorize = await fetch(`${baseUrl}/api/v1/links/authorize`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      inboxId: '12',
      inboxName: '営業窓口',
      environment: 'production',
      target: 'contact_then_lead',
    }),
  });
  const { authorizeUrl } = (await authorize.json()) as { authorizeUrl: string };
  say(`  1. 認証 → ${authorizeUrl.slice(0, 90)}…`);
  const user = seeded.authorizingUser;
  const callback = await completeAuthorization(authorizeUrl, { username: user.username, password: user.password });
  say(`  2. ログイン (${user.username}) → 許可 → ${callback.origin}${callback.pathname}`);
  const done = await fetch(callback);
  if (done.status !== 200) throw new Error(`the OAuth callback answered ${done.status}`);
  const link = await bridge.store.links.getLinkForInbox('12');
  if (link === null) throw new Error('the link was not created');
  say(
    `  3. 完了: org ${link.orgId}, user ${link.authorizedUsername}, 作成先 ${link.target} (取引先責任者とリード、取引先責任者を優先)`,
  );

  const contact = (i: number) => seeded.contacts[i] as (typeof seeded.contacts)[number];
  const lead = (i: number) => seeded.leads[i] as (typeof seeded.leads)[number];
  // Each channel from a different customer, identified the way people really write things.
  const customers: Record<SyncableChannel, { emails?: string[]; phones?: string[]; name: string }> = {
    email: { emails: [contact(0).email!.toUpperCase()], name: contact(0).name },
    sms: { phones: ['+81 90 1234 5678'], name: contact(2).name },
    response_memo: { emails: [contact(4).email!], name: contact(4).name },
    call_memo: { phones: ['03 3456 7890'], name: contact(7).name },
    line: { emails: [contact(8).email!], name: contact(8).name },
    r_messe: { emails: [lead(0).email!], name: lead(0).name },
    yahoo: { emails: [lead(1).email!.toLowerCase()], name: lead(1).name },
    chatplus: { phones: ['０６－１２１２－３４３４'], name: lead(9).name },
    chatwork: { emails: [contact(10).email!], name: contact(10).name },
    instagram_dm: { emails: [contact(11).email!], name: contact(11).name },
    messenger: { emails: [lead(5).email!], name: lead(5).name },
    chat_widget: { emails: [seeded.sharedEmail.email], name: '大和商事 (2 contacts share this email)' },
  };
  const operators = [
    'hanako.sato@relation-demo.example.jp',
    'ichiro.suzuki@relation-demo.example.jp',
    'ken.tanaka@relation-demo.example.jp',
  ];
  let n = 0;
  const payload = (
    channel: string,
    kind: string,
    customer: { emails?: string[]; phones?: string[]; name: string },
    extra: { inboxId?: string; occurredAt?: Date; body?: string; direction?: 'inbound' | 'outbound' | 'internal' } = {},
  ): ActionPayload => {
    n += 1;
    const ticket = String(48200 + n);
    const direction =
      extra.direction ?? (kind === 'message_received' ? 'inbound' : kind.endsWith('_memo') ? 'internal' : 'outbound');
    return {
      type: 'ticket.action.created',
      action: {
        id: `act_demo_${String(n).padStart(3, '0')}`,
        kind,
        occurred_at: (extra.occurredAt ?? new Date()).toISOString(),
        channel,
        direction,
        subject: `お見積りの件 (${channel})`,
        body: extra.body ?? `${customer.name} 様\nいつもお世話になっております。お見積りについてご連絡いたします。`,
        operator: { id: `u_${n % 3}`, name: '担当者', email: operators[n % operators.length] as string },
        ...(kind === 'call_memo' ? { call: { duration_seconds: 312, phone: customer.phones?.[0] ?? null } } : {}),
      },
      ticket: {
        id: ticket,
        title: 'お見積りの件',
        status: 'open',
        url: `https://example.relationapp.jp/tickets/${ticket}`,
      },
      inbox: { id: extra.inboxId ?? '12', name: extra.inboxId === undefined ? '営業窓口' : '未連携の受信箱' },
      customer: { name: customer.name, emails: customer.emails ?? [], phones: customer.phones ?? [] },
    };
  };

  const syncable = SYNCABLE_CHANNELS.map((channel) =>
    payload(
      channel,
      channel === 'call_memo'
        ? 'call_memo'
        : channel === 'response_memo'
          ? 'response_memo'
          : n % 2 === 0
            ? 'message_sent'
            : 'message_received',
      customers[channel],
    ),
  );
  const notSynced = [
    payload('facebook', 'message_received', customers.email),
    payload('email', 'comment', customers.email, { direction: 'internal' }),
    payload('email', 'status_changed', customers.email),
    payload('line', 'assignee_changed', customers.line),
    payload('email', 'message_received', customers.email, { occurredAt: earlier }),
    payload('email', 'message_received', customers.email, { inboxId: '99' }),
    payload('sms', 'message_received', { phones: ['090-0000-0000'], name: '新規のお客様' }),
    payload('email', 'message_sent', { name: '名無しのお客様' }),
  ];
  const long = payload('email', 'message_sent', customers.response_memo, { body: '長文のメールです。'.repeat(4000) });

  say();
  say(`署名付き webhook を送信 / sending ${syncable.length + notSynced.length + 1} signed webhooks…`);
  for (const body of [...syncable, long, ...notSynced]) {
    const raw = JSON.stringify(body);
    const headers = signWebhook({
      secret: WEBHOOK_SECRET,
      id: `msg_${body.action.id}`,
      timestamp: Math.floor(Date.now() / 1000),
      body: raw,
    });
    const response = await fetch(`${baseUrl}/webhooks/relation`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: raw,
    });
    if (response.status !== 202)
      throw new Error(`webhook ${body.action.id} answered ${response.status}: ${await response.text()}`);
  }

  const all = [...syncable, long, ...notSynced].map((p) => p.action.id);
  let actions: StoredAction[] = [];
  for (let round = 0; round < 300; round += 1) {
    actions = (await Promise.all(all.map((id) => bridge.store.actions.get(id)))).filter(
      (a): a is StoredAction => a !== null,
    );
    if (actions.every((a) => a.state !== 'received' && a.state !== 'pending')) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const stateOfAction = async (id: string) => {
    const action = await bridge.store.actions.get(id);
    return `${action?.state ?? 'missing'}${action?.reason ? `: ${action.reason}` : ''}`;
  };
  const waitForAction = async (id: string, state: StoredAction['state'], rounds: number) => {
    let action = await bridge.store.actions.get(id);
    for (let round = 0; round < rounds && action?.state !== state; round += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      action = await bridge.store.actions.get(id);
    }
    return action;
  };
  const nameOf = (id: string | null) => {
    if (id === null) return '';
    const record = org.record(id);
    return record === undefined ? id : `${String(record.LastName ?? '')} ${String(record.FirstName ?? '')}`.trim();
  };
  const label = (channel: string) =>
    channel in CHANNEL_LABELS ? CHANNEL_LABELS[channel as SyncableChannel].ja : channel;

  say();
  say('同期された行動 / synced Events:');
  for (const action of actions.filter((a) => a.state === 'synced')) {
    const event = action.sfEventId === null ? undefined : org.record(action.sfEventId);
    const who = action.match?.chosen;
    say(
      `  ✓ ${action.actionId}  ${label(action.channel).padEnd(12)} → Event ${action.sfEventId}  ${who?.object ?? ''} ${nameOf(action.whoId)} (${who?.via ?? ''})  owner ${nameOf(action.ownerId) || action.ownerId}  「${String(event?.Subject ?? '')}」`,
    );
  }
  say();
  say('同期しなかった行動と理由 / not synced, and why:');
  for (const action of actions.filter((a) => a.state !== 'synced')) {
    say(
      `  – ${action.actionId}  ${label(action.channel).padEnd(12)} ${action.kind.padEnd(17)} ${action.state}: ${action.reason ?? ''} (${REASONS_JA[action.reason ?? ''] ?? ''})`,
    );
  }
  const syncedChannels = new Set(actions.filter((a) => a.state === 'synced').map((a) => a.channel));
  const truncated = long.action.id;
  const longEvent = org.record((await bridge.store.actions.get(truncated))?.sfEventId ?? '');
  say();
  say(
    `12 チャネルすべて同期 / all twelve channels synced: ${SYNCABLE_CHANNELS.every((c) => syncedChannels.has(c)) ? 'yes' : 'NO'}`,
  );
  say(
    `長文は ${String(longEvent?.Description ?? '').length} 文字で切り詰め / the long body was cut to ${String(longEvent?.Description ?? '').length} characters with a marker`,
  );
  say(`API calls used (reported by the local org): ${org.apiCalls().total}`);

  // Unmatched is not final: a sales rep creates the Lead for the new customer, and the action
  // left unmatched syncs by itself at the next rematch round (SYNC_REMATCH_INTERVAL_MS), no retry needed.
  const newcomer = notSynced.find((body) => body.customer.name === '新規のお客様') as ActionPayload;
  const newcomerPhone = newcomer.customer.phones?.[0] as string;
  say();
  say('該当なしからの再照合 / an unmatched customer matched again by itself:');
  say(`  ${newcomer.action.id}: ${await stateOfAction(newcomer.action.id)} (${newcomerPhone})`);
  const leadId = org.addLead({
    LastName: '新規',
    FirstName: 'お客様',
    Company: '新規商事株式会社',
    Phone: newcomerPhone,
  });
  say(`  営業担当がリードを作成 / a sales rep creates the Lead: ${leadId} (新規 お客様, ${newcomerPhone})`);
  const rematched = await waitForAction(newcomer.action.id, 'synced', 150);
  say(
    rematched?.state === 'synced'
      ? `  → ${rematched.actionId} synced by itself: Event ${rematched.sfEventId} on ${rematched.match?.chosen?.object ?? ''} ${nameOf(rematched.whoId)} (${rematched.match?.chosen?.via ?? ''})`
      : `  → ${newcomer.action.id} is still ${rematched?.state ?? 'missing'}`,
  );

  say();
  say('Salesforce 側の連携ポリシー / the link policy in Salesforce (inbx__Inbox_Link__mdt):');
  const stateOf = async (id: string) => {
    const action = await bridge.store.actions.get(id);
    return `${action?.state ?? 'missing'}${action?.reason ? `: ${action.reason}` : ''}`;
  };
  const waitUntil = async (id: string, wanted: string) => {
    for (let round = 0; round < 100 && (await stateOf(id)) !== wanted; round += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return stateOf(id);
  };
  org.setCustomMetadata('Inbox_Link', 'Inbox_12', { Inbox_Id__c: '12', Active__c: false, Body_Capture__c: 'None' });
  // The policy read during the sync above is trusted for SF_POLICY_CACHE_MS.
  await new Promise((resolve) => setTimeout(resolve, 2100));
  const whileOff = payload('email', 'message_received', customers.email);
  const raw = JSON.stringify(whileOff);
  const signed = signWebhook({
    secret: WEBHOOK_SECRET,
    id: `msg_${whileOff.action.id}`,
    timestamp: Math.floor(Date.now() / 1000),
    body: raw,
  });
  await fetch(`${baseUrl}/webhooks/relation`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signed },
    body: raw,
  });
  say(
    `  Active__c = false → ${whileOff.action.id} ${await waitUntil(whileOff.action.id, 'held: disabled_in_salesforce')} (no Event)`,
  );
  org.setCustomMetadata('Inbox_Link', 'Inbox_12', { Active__c: true });
  const back = await waitUntil(whileOff.action.id, 'synced');
  const offEvent = org.record((await bridge.store.actions.get(whileOff.action.id))?.sfEventId ?? '');
  say(
    `  Active__c = true  → ${whileOff.action.id} ${back}, Body_Capture__c = None → 説明 / Description ${JSON.stringify(offEvent?.Description ?? '')}`,
  );
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await bridge.engine.tick();
  const health = org.records('inbx__Inbox_Sync_Health__c').find((record) => record.inbx__Inbox_Id__c === '12');
  say(
    `同期状況 / sync health (inbx__Inbox_Sync_Health__c): ${String(health?.inbx__Link_State__c)}, synced 24h ${String(health?.inbx__Synced_24h__c)}, unmatched 24h ${String(health?.inbx__Unmatched_24h__c)}, last success ${String(health?.inbx__Last_Success_At__c)}`,
  );
  say(`time: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  say();
  // The console's first run, as README.md describes it: an owner account (the CLI's
  // `users create-owner` makes the same call) and inbox 12 registered; inbox 99 stays
  // unregistered, seen only in the webhooks above.
  const consoleAdmin = async (route: string, body: unknown) => {
    const response = await fetch(`${baseUrl}/api/v1${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`POST ${route} answered ${response.status}: ${await response.text()}`);
    return response.json() as Promise<Record<string, unknown>>;
  };
  const demoOwner = await consoleAdmin('/users', {
    email: 'owner@relation-demo.example.jp',
    name: 'デモ オーナー',
    isOwner: true,
  });
  await consoleAdmin('/inboxes', { inboxId: '12', name: '営業窓口' });
  // Left unlinked for the console's wizard: production, sandbox (はい) or a My Domain.
  await consoleAdmin('/inboxes', { inboxId: '13', name: '検証窓口' });

  say('The bridge keeps running (Ctrl-C to stop):');
  say(`  webhook:   POST ${baseUrl}/webhooks/relation   secret ${WEBHOOK_SECRET}`);
  say(`  admin API: ${baseUrl}/api/v1   Authorization: Bearer ${ADMIN_TOKEN}`);
  say(`  health:    curl -H 'Authorization: Bearer ${ADMIN_TOKEN}' ${baseUrl}/api/v1/inboxes/12/health`);
  say(
    `  CLI:       BRIDGE_URL=${baseUrl} BRIDGE_ADMIN_TOKEN=${ADMIN_TOKEN} npm run cli -w relation-bridge -- actions list`,
  );
  say(`  local org: ${local.baseUrl}  (login ${user.username} / ${user.password})`);
  say(
    `  sandbox:   サンドボックスを使用する「はい」 → login ${sandbox.seeded.authorizingUser.username} / ${sandbox.seeded.authorizingUser.password}`,
  );
  say(`  My Domain: ${org.instanceUrl}  (or paste any address under it)`);
  say(
    '  wizard:    inbox 13 (検証窓口) is registered and not linked: ギア → メッセージ環境 → チケット同期連携設定 → [+]',
  );
  say(
    `  console:   ${baseUrl}/console  (sign in owner@relation-demo.example.jp / ${String(demoOwner.generatedPassword)})`,
  );

  const stop = async (): Promise<void> => {
    say('\nstopping…');
    await bridge.close();
    server.close();
    server.closeAllConnections();
    await local.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
