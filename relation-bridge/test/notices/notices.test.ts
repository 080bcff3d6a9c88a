import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import {
  completeAuthorization,
  seedDemoOrg,
  startLocalSalesforce,
  type LocalOrg,
  type LocalSalesforce,
  type SeededOrg,
} from '../../local-org';
import { createBridge, type Bridge } from '../../src/app';
import { loadConfig } from '../../src/config';
import type { Link } from '../../src/core/types';
import { createLogger } from '../../src/logging';
import { callAs, signInOverHttp } from '../auth/session-client';
import { actionPayload, sendAll, TEST_SECRET } from '../helpers/payloads';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../helpers/smtp-sink';
import { login } from '../local-org/support';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../store/databases';

/**
 * No silent disconnection, end to end: whole bridges (one, two on one PostgreSQL, or one
 * restarted) next to the local org, sending through a real SMTP server in this process. An
 * inbox's admins get one e-mail per incident, in their language, about a link that needs
 * re-authentication, is paused for the API budget, or is about to break.
 */

const ADMIN_TOKEN = 'notices-admin-token-0123456789';
const FROM = 'Re:lation 連携 <bridge@relation-demo.example.jp>';
const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;
const LOCAL_CALLBACK = 'http://127.0.0.1:9/oauth/callback';

interface Instance {
  name: string;
  bridge: Bridge;
  baseUrl: string;
  logs: string[];
  close(): Promise<void>;
}

interface Account {
  id: string;
  email: string;
  password: string;
}

describe.each(DIALECTS)('notices to an inbox’s admins (%s)', (dialect) => {
  let database: TestDatabase;
  let local: LocalSalesforce;
  let org: LocalOrg;
  let seeded: SeededOrg;
  let sink: SmtpSink;
  let clock: number;
  const instances: Instance[] = [];
  let accounts: { owner: Account; hanako: Account; ichiro: Account; jiro: Account };

  async function startInstance(name: string, env: Record<string, string> = {}): Promise<Instance> {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    local.app.callbackUrls.push(`${baseUrl}/oauth/callback`);
    const config = loadConfig({
      BRIDGE_PUBLIC_URL: baseUrl,
      BRIDGE_DATA_DIR: database.dataDir,
      BRIDGE_DATABASE_URL: database.databaseUrl,
      BRIDGE_ENCRYPTION_KEY: database.encryptionKey,
      BRIDGE_INSTANCE_ID: name,
      BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
      WEBHOOK_SECRETS: TEST_SECRET,
      SF_CLIENT_ID: local.app.clientId,
      SF_CLIENT_SECRET: local.app.clientSecret,
      SF_LOGIN_URL_PRODUCTION: local.productionLoginUrl,
      SF_LOGIN_URL_SANDBOX: local.sandboxLoginUrl,
      SF_REQUEST_TIMEOUT_MS: '5000',
      SYNC_UNCERTAIN_WAIT_MS: '0',
      SYNC_BACKOFF_BASE_MS: '20',
      SYNC_BACKOFF_MAX_MS: '200',
      NOTICE_SMTP_HOST: '127.0.0.1',
      NOTICE_SMTP_PORT: String(sink.port),
      NOTICE_SMTP_SECURITY: 'none',
      NOTICE_MAIL_FROM: FROM,
      NOTICE_CONSOLE_URL: 'https://bridge.relation-demo.example.jp/console',
      LOG_LEVEL: 'info',
      ...env,
    });
    const logs: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logs.push(chunk.toString('utf8'));
        callback();
      },
    });
    const bridge = await createBridge(config, {
      logger: createLogger(config.LOG_LEVEL, destination),
      now: () => clock,
    });
    server.on('request', bridge.app);
    const instance: Instance = {
      name,
      bridge,
      baseUrl,
      logs,
      async close() {
        instances.splice(instances.indexOf(instance), 1);
        await bridge.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      },
    };
    instances.push(instance);
    return instance;
  }

  async function admin<T = any>(
    instance: Instance,
    method: string,
    route: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${instance.baseUrl}/api/v1${route}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? null : JSON.parse(text)) as T };
  }

  async function createAccounts(instance: Instance): Promise<void> {
    const user = async (name: string, email: string, options: { isOwner?: boolean; language?: 'ja' | 'en' } = {}) => {
      const password = `${email.split('@')[0]}-password-2026`;
      const created = await admin<{ user: { id: string } }>(instance, 'POST', '/users', {
        name,
        email,
        password,
        isOwner: options.isOwner ?? false,
        ...(options.language === undefined ? {} : { language: options.language }),
      });
      expect(created.status).toBe(201);
      return { id: created.body.user.id, email, password };
    };
    accounts = {
      owner: await user('大和 太郎', 'owner@relation-demo.example.jp', { isOwner: true }),
      hanako: await user('Hanako Sato', 'hanako@relation-demo.example.jp', { language: 'en' }),
      ichiro: await user('鈴木 一郎', 'ichiro@relation-demo.example.jp'),
      jiro: await user('田中 次郎', 'jiro@relation-demo.example.jp'),
    };
    expect((await admin(instance, 'POST', '/inboxes', { inboxId: '12', name: '営業窓口' })).status).toBe(201);
    for (const [account, role] of [
      [accounts.hanako, 'admin'],
      [accounts.ichiro, 'admin'],
      [accounts.jiro, 'member'],
    ] as const) {
      expect((await admin(instance, 'PUT', `/inboxes/12/members/${account.id}`, { role })).status).toBe(200);
    }
  }

  async function allow(authorizeUrl: string): Promise<void> {
    const user = seeded.authorizingUser;
    const callback = await completeAuthorization(authorizeUrl, { username: user.username, password: user.password });
    expect((await fetch(callback)).status).toBe(200);
  }

  async function linkInbox(instance: Instance, inboxId = '12'): Promise<Link> {
    const started = await admin<{ authorizeUrl: string }>(instance, 'POST', '/links/authorize', {
      inboxId,
      inboxName: '営業窓口',
      environment: 'production',
      target: 'contact_then_lead',
    });
    expect(started.status).toBe(201);
    await allow(started.body.authorizeUrl);
    return (await instance.bridge.store.links.getLinkForInbox(inboxId)) as Link;
  }

  async function reauthorize(instance: Instance, linkId: string): Promise<void> {
    const started = await admin<{ authorizeUrl: string }>(instance, 'POST', `/links/${linkId}/reauthorize`);
    expect(started.status).toBe(201);
    await allow(started.body.authorizeUrl);
  }

  async function health(instance: Instance): Promise<{
    status: string;
    problems: Array<{ code: string; message: string; details?: Record<string, unknown>; notifiedAt?: string | null }>;
    checks: { checkedAt: string; notVisible: string[] } | null;
  }> {
    const answer = await admin(instance, 'GET', '/inboxes/12/health');
    expect(answer.status).toBe(200);
    return answer.body;
  }

  const codes = async (instance: Instance) => (await health(instance)).problems.map((problem) => problem.code);
  const summary = (mail: ReceivedMail) => ({ to: mail.to, subject: mail.subject });

  beforeEach(async () => {
    clock = Date.now();
    database = await createTestDatabase(dialect);
    local = await startLocalSalesforce({ callbackUrls: [LOCAL_CALLBACK] });
    org = local.createOrg({ name: 'Yamato Trading' });
    seeded = seedDemoOrg(org);
    sink = await startSmtpSink();
  });

  afterEach(async () => {
    for (const instance of [...instances]) await instance.close().catch(() => undefined);
    await local.close();
    await sink.close();
    await database.drop();
  });

  it('mails a link that needs re-authentication to each of the inbox’s admins once, in their language, found while the inbox is idle', async () => {
    const a = await startInstance('a');
    await createAccounts(a);
    const link = await linkInbox(a);
    expect(await a.bridge.notices.runOnce()).toMatchObject({ checked: 1, opened: 0, sent: 0 });
    expect(sink.mails).toHaveLength(0);

    // Nothing is synced meanwhile: only the link check can find it.
    org.revokeRefreshTokens();
    org.expireAccessTokens();
    clock += HOUR;
    const round = await a.bridge.notices.runOnce();
    expect(round).toMatchObject({ checked: 0, opened: 1, sent: 1 });
    expect(await a.bridge.store.links.getLink(link.id)).toMatchObject({ status: 'needs_reauth' });

    expect(sink.mails.map(summary).sort((x, y) => x.to[0]!.localeCompare(y.to[0]!))).toEqual([
      {
        to: ['hanako@relation-demo.example.jp'],
        subject: '[Re:lation ⇄ Salesforce] The Salesforce link of the inbox "営業窓口" needs re-authentication',
      },
      {
        to: ['ichiro@relation-demo.example.jp'],
        subject: '【Re:lation ⇄ Salesforce】受信箱「営業窓口」の Salesforce 連携は再認証が必要です',
      },
    ]);
    const [japanese] = sink.to('ichiro@relation-demo.example.jp');
    expect(japanese?.text).toContain('鈴木 一郎 様');
    expect(japanese?.text).toContain(`認証したユーザー: ${seeded.authorizingUser.username}`);
    expect(japanese?.text).toContain('この間の操作は失われずに保留されており、再認証すると同期されます。');
    expect(japanese?.text).toContain(
      '管理画面: https://bridge.relation-demo.example.jp/console/inboxes/12/settings/ticket-sync',
    );
    expect(japanese?.headers).toMatchObject({ 'auto-submitted': 'auto-generated', 'content-language': 'ja' });
    expect(japanese?.from).toBe('bridge@relation-demo.example.jp');
    expect(sink.to('hanako@relation-demo.example.jp')[0]?.text).toContain('Hello Hanako Sato,');

    const problem = (await health(a)).problems.find((each) => each.code === 'needs_reauth');
    expect(problem).toMatchObject({
      details: { cause: 'token_refused', username: seeded.authorizingUser.username },
      notifiedAt: expect.any(String),
    });

    // Later rounds, another instance, and a restart send nothing more for the same incident.
    expect(await a.bridge.notices.runOnce()).toMatchObject({ opened: 0, sent: 0 });
    await a.close();
    const b = await startInstance('b');
    expect(await b.bridge.notices.runOnce()).toMatchObject({ opened: 0, sent: 0 });
    expect(sink.mails).toHaveLength(2);

    // Re-authentication ends the incident; the next one is a new incident, mailed again, now
    // in the language 一郎 chose in the console.
    await reauthorize(b, link.id);
    expect(await b.bridge.notices.runOnce()).toMatchObject({ resolved: 1 });
    const ichiro = await signInOverHttp(b.baseUrl, accounts.ichiro.email, accounts.ichiro.password);
    const chosen = await callAs(b.baseUrl, ichiro, 'PUT', '/session/language', { language: 'en' });
    expect(chosen).toMatchObject({ status: 200, body: { email: accounts.ichiro.email, language: 'en' } });
    org.revokeRefreshTokens();
    org.expireAccessTokens();
    clock += HOUR;
    expect(await b.bridge.notices.runOnce()).toMatchObject({ opened: 1, sent: 1 });
    expect(sink.to('ichiro@relation-demo.example.jp').map((mail) => mail.headers['content-language'])).toEqual([
      'ja',
      'en',
    ]);
    expect(sink.mails).toHaveLength(4);
    expect(sink.to(accounts.owner.email)).toEqual([]);
    expect(sink.to(accounts.jiro.email)).toEqual([]);
    const incidents = await b.bridge.store.linkNotices.ofLink(link.id);
    expect(
      incidents.map((incident) => [incident.code, incident.resolvedAt === null, incident.sentAt !== null]),
    ).toEqual([
      ['needs_reauth', true, true],
      ['needs_reauth', false, true],
    ]);
  });

  it('mails the owners when the inbox has no admin', async () => {
    const a = await startInstance('a');
    await createAccounts(a);
    for (const account of [accounts.hanako, accounts.ichiro]) {
      expect((await admin(a, 'DELETE', `/inboxes/12/members/${account.id}`)).status).toBe(204);
    }
    await linkInbox(a);
    org.revokeRefreshTokens();
    org.expireAccessTokens();
    await a.bridge.notices.runOnce();
    expect(sink.mails.map((mail) => [mail.to, mail.headers['content-language']])).toEqual([
      [[accounts.owner.email], 'ja'],
    ]);
  });

  it('checks an authorisation with one API call per interval, whatever the rounds; its introspection costs none', async () => {
    const a = await startInstance('a');
    await createAccounts(a);
    await linkInbox(a);
    org.resetApiCalls();
    expect(await a.bridge.notices.runOnce()).toMatchObject({ checked: 1 });
    expect(org.apiCalls()).toEqual({ total: 1, byEndpoint: { 'POST /composite': 1 } });
    for (let round = 0; round < 3; round += 1) {
      clock += 10 * 60_000;
      expect(await a.bridge.notices.runOnce()).toMatchObject({ checked: 0 });
    }
    expect(org.apiCalls().total).toBe(1);
    clock += 30 * 60_000;
    expect(await a.bridge.notices.runOnce()).toMatchObject({ checked: 1 });
    expect(org.apiCalls().total).toBe(2);
  });

  (dialect === 'postgres' ? it : it.skip)('sends one notice when two instances run their rounds at once', async () => {
    const a = await startInstance('a');
    const b = await startInstance('b');
    await createAccounts(a);
    await linkInbox(a);
    await Promise.all([a.bridge.notices.runOnce(), b.bridge.notices.runOnce()]);
    org.revokeRefreshTokens();
    org.expireAccessTokens();
    clock += HOUR;
    for (let round = 0; round < 3; round += 1) {
      await Promise.all([a.bridge.notices.runOnce(), b.bridge.notices.runOnce()]);
    }
    expect(sink.mails.map((mail) => mail.to[0]).sort()).toEqual([
      'hanako@relation-demo.example.jp',
      'ichiro@relation-demo.example.jp',
    ]);
  });

  it('mails a pause for the API budget once, not at every pause while the budget stays used up, and the next day’s again', async () => {
    // The bridge's clock runs ahead of the helpdesk's webhook timestamps here.
    const a = await startInstance('a', { WEBHOOK_TOLERANCE_SECONDS: String(7 * 24 * 3600) });
    await createAccounts(a);
    await linkInbox(a);
    const pauseWithWork = async () => {
      org.exhaustApiBudget();
      await sendAll(a.baseUrl, [actionPayload({ emails: [seeded.contacts[0]?.email as string] })]);
      await a.bridge.engine.runUntilIdle();
    };
    const syncAgain = async () => {
      org.resetApiBudget();
      clock += 16 * 60_000;
      await a.bridge.engine.runUntilIdle();
    };

    await pauseWithWork();
    expect(await codes(a)).toContain('org_paused');
    expect(await a.bridge.notices.runOnce()).toMatchObject({ opened: 1, sent: 1 });
    expect(sink.mails.map((mail) => mail.subject).sort()).toEqual([
      '[Re:lation ⇄ Salesforce] Syncing of the inbox "営業窓口" is paused for Salesforce\'s API limit',
      '【Re:lation ⇄ Salesforce】受信箱「営業窓口」の同期を Salesforce の API 上限のため一時停止しています',
    ]);
    expect(sink.to(accounts.ichiro.email)[0]?.text).toContain(`使用量 ${org.apiUsage().max} / ${org.apiUsage().max}`);

    await syncAgain();
    expect(await a.bridge.notices.runOnce()).toMatchObject({ resolved: 0 });
    await pauseWithWork();
    expect(await a.bridge.notices.runOnce()).toMatchObject({ opened: 0, sent: 0 });
    await syncAgain();
    clock += HOUR;
    expect(await a.bridge.notices.runOnce()).toMatchObject({ resolved: 1 });

    await pauseWithWork();
    expect(await a.bridge.notices.runOnce()).toMatchObject({ opened: 1, sent: 1 });
    expect(sink.mails).toHaveLength(4);
  });

  it('warns before a frozen user’s link stops, on the health and by e-mail, when the user may see UserLogin', async () => {
    const a = await startInstance('a');
    await createAccounts(a);
    const user = seeded.authorizingUser;
    await linkInbox(a);
    await a.bridge.notices.runOnce();
    expect((await health(a)).checks).toEqual({ checkedAt: expect.any(String), notVisible: ['user_frozen'] });

    org.setUserManageUsers(user.id, true);
    org.setUserFrozen(user.id, true);
    clock += HOUR;
    expect(await a.bridge.notices.runOnce()).toMatchObject({ checked: 1, opened: 1, sent: 1 });
    const seen = await health(a);
    expect(seen.status).toBe('active');
    expect(seen.checks?.notVisible).toEqual([]);
    expect(seen.problems).toEqual([
      expect.objectContaining({
        code: 'user_frozen',
        details: { username: user.username },
        notifiedAt: expect.any(String),
      }),
    ]);
    expect(sink.to(accounts.ichiro.email)[0]?.subject).toBe(
      '【Re:lation ⇄ Salesforce】受信箱「営業窓口」の Salesforce 連携: 認証したユーザーが凍結されています',
    );
    expect(sink.to(accounts.hanako.email)[0]?.text).toContain(`Ask the Salesforce admin to unfreeze ${user.username}`);

    org.setUserFrozen(user.id, false);
    clock += HOUR;
    expect(await a.bridge.notices.runOnce()).toMatchObject({ resolved: 1, sent: 0 });
    expect(await codes(a)).toEqual([]);
  });

  it('takes a refusal of UserLogin with an access error for what it is: frozen unknown, the link still active', async () => {
    org.settings.userLoginRefusal = 'INSUFFICIENT_ACCESS';
    const a = await startInstance('a');
    await createAccounts(a);
    const link = await linkInbox(a);
    org.resetApiCalls();
    expect(await a.bridge.notices.runOnce()).toMatchObject({ checked: 1, opened: 0 });
    expect(await a.bridge.store.links.getLink(link.id)).toMatchObject({ status: 'active' });
    expect((await health(a)).checks?.notVisible).toEqual(['user_frozen']);
    // The call refused for UserLogin alone, and the one asked again without it.
    expect(org.apiCalls().total).toBe(2);
    expect(sink.mails).toEqual([]);
  });

  it('names the cause when a user is deactivated or loses API access, found by the link check of an idle inbox', async () => {
    const a = await startInstance('a');
    await createAccounts(a);
    const user = seeded.authorizingUser;
    const link = await linkInbox(a);
    await a.bridge.notices.runOnce();

    org.setUserApiEnabled(user.id, false);
    clock += HOUR;
    await a.bridge.notices.runOnce();
    expect((await health(a)).problems.find((problem) => problem.code === 'needs_reauth')?.details).toMatchObject({
      cause: 'api_disabled',
    });
    expect(sink.to(accounts.ichiro.email)[0]?.text).toContain(
      `Salesforce ユーザー ${user.username} (または組織) の API アクセスが無効になったため`,
    );

    org.setUserApiEnabled(user.id, true);
    await reauthorize(a, link.id);
    await a.bridge.notices.runOnce();
    org.setUserActive(user.id, false);
    clock += HOUR;
    await a.bridge.notices.runOnce();
    expect(sink.to(accounts.hanako.email).map((mail) => mail.text)).toEqual([
      expect.stringContaining('has lost API access'),
      expect.stringContaining(`The Salesforce user who authorised this link, ${user.username}, has been deactivated`),
    ]);
  });

  it('warns of a refresh token the org’s policy ends within the warning days, with when, and of one ended at once', async () => {
    org.settings.refreshTokenLifetimeMs = 3 * DAY;
    const a = await startInstance('a');
    await createAccounts(a);
    await linkInbox(a);
    expect(await a.bridge.notices.runOnce()).toMatchObject({ opened: 1, sent: 1 });
    const [approval] = org.approvals(seeded.authorizingUser.id);
    const expiresAt = new Date(Math.floor(((approval?.issuedAt ?? 0) + 3 * DAY) / 1000) * 1000).toISOString();
    expect((await health(a)).problems).toEqual([
      expect.objectContaining({
        code: 'token_expiring',
        details: { username: seeded.authorizingUser.username, expiresAt },
      }),
    ]);
    expect(sink.to(accounts.hanako.email)[0]?.text).toContain('"Refresh token is valid until revoked"');

    org.settings.refreshTokenLifetimeMs = null;
    org.settings.refreshTokenExpiresImmediately = true;
    const link = (await a.bridge.store.links.getLinkForInbox('12')) as Link;
    await reauthorize(a, link.id);
    clock += HOUR;
    await a.bridge.notices.runOnce();
    expect((await health(a)).problems).toEqual([
      expect.objectContaining({
        code: 'token_expiring',
        details: { username: seeded.authorizingUser.username, expiresAt: null },
      }),
    ]);
    // The same incident (the token still ends before long): no second e-mail.
    expect(sink.mails).toHaveLength(2);
  });

  it('warns when the user holds as many approvals of the app as Salesforce keeps, naming this link’s as the one to go', async () => {
    const a = await startInstance('a');
    await createAccounts(a);
    await linkInbox(a);
    const user = seeded.authorizingUser;
    const others = [];
    for (let n = 0; n < 4; n += 1) others.push(await login(local, org.user(user.id)!));
    expect(org.approvals(user.id)).toHaveLength(5);
    expect(await a.bridge.notices.runOnce()).toMatchObject({ opened: 1, sent: 1 });
    expect((await health(a)).problems).toEqual([
      expect.objectContaining({
        code: 'approval_limit',
        details: expect.objectContaining({ username: user.username, count: 5, oursIsOldest: true }),
      }),
    ]);
    expect(sink.to(accounts.ichiro.email)[0]?.text).toContain('それはこの連携が使っている承認です。');

    // The user revokes an approval they no longer use: four are left, and the warning goes at the next check.
    const revoked = await fetch(`${local.productionLoginUrl}/services/oauth2/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: others[3]?.refresh_token as string }).toString(),
    });
    expect(revoked.status).toBe(200);
    clock += HOUR;
    await a.bridge.notices.runOnce();
    expect((await a.bridge.store.linkNotices.open()).map((incident) => incident.code)).not.toContain('approval_limit');
  });

  it('sends over STARTTLS with a login to a server whose CA it is given, tries a refused recipient again later without sending the others twice, and never logs the password', async () => {
    const password = 'smtp-secret-Pa55word-2026';
    await sink.close();
    sink = await startSmtpSink({ tls: true, auth: { user: 'bridge', password } });
    const secure = {
      NOTICE_SMTP_PORT: String(sink.port),
      NOTICE_SMTP_SECURITY: 'starttls',
      NOTICE_SMTP_USER: 'bridge',
      NOTICE_SMTP_PASSWORD: password,
      NOTICE_SMTP_CA_FILE: sink.caFile as string,
      NOTICE_SMTP_HOST: 'localhost',
    };
    const wrong = await startInstance('wrong-password', { ...secure, NOTICE_SMTP_PASSWORD: 'not-the-password-2026' });
    await createAccounts(wrong);
    await linkInbox(wrong);
    org.revokeRefreshTokens();
    org.expireAccessTokens();
    clock += HOUR;
    expect(await wrong.bridge.notices.runOnce()).toMatchObject({ opened: 1, sent: 0 });
    expect(sink.mails).toHaveLength(0);
    const [unsent] = await wrong.bridge.store.linkNotices.open();
    expect(unsent).toMatchObject({ sentAt: null, attempts: 1, lastError: expect.stringContaining('EAUTH') });
    await wrong.close();

    const a = await startInstance('a', secure);
    sink.refuse(accounts.ichiro.email, 1);
    clock += HOUR;
    expect(await a.bridge.notices.runOnce()).toMatchObject({ sent: 0 });
    expect(sink.mails.map((mail) => mail.to)).toEqual([[accounts.hanako.email]]);
    clock += 10 * 60_000;
    expect(await a.bridge.notices.runOnce()).toMatchObject({ sent: 1 });
    expect(sink.mails.map((mail) => mail.to)).toEqual([[accounts.hanako.email], [accounts.ichiro.email]]);
    expect(sink.mails.every((mail) => mail.secure && mail.user === 'bridge')).toBe(true);

    const logged = [...wrong.logs, ...a.logs].join('');
    expect(logged).toContain('notices: an e-mail was not sent');
    expect(logged).not.toContain(password);
    expect(logged).not.toContain('not-the-password-2026');
  });

  it('records incidents without SMTP settings and says once at start that notices are off', async () => {
    const a = await startInstance('a', { NOTICE_SMTP_HOST: '', NOTICE_MAIL_FROM: '' });
    expect(a.logs.filter((line) => line.includes('NOTICE_SMTP_HOST is not set'))).toHaveLength(1);
    await createAccounts(a);
    await linkInbox(a);
    org.revokeRefreshTokens();
    org.expireAccessTokens();
    clock += HOUR;
    expect(await a.bridge.notices.runOnce()).toMatchObject({ opened: 1, sent: 0 });
    expect((await health(a)).problems.find((problem) => problem.code === 'needs_reauth')?.notifiedAt).toBeNull();
    expect(sink.mails).toHaveLength(0);
  });
});
