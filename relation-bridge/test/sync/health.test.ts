import type { LocalOrg, LocalSalesforce, LocalUser } from '../../local-org';
import { isBridgeError } from '../../src/core/errors';
import type { Link, SalesforceAuth } from '../../src/core/types';
import { createLogger } from '../../src/logging';
import { OAuthClient } from '../../src/salesforce/oauth-client';
import { HealthReporter } from '../../src/sync/health';
import { runLookups } from '../../src/sync/lookups';
import { PolicyCache } from '../../src/sync/policies';
import { SalesforceSessions } from '../../src/sync/sessions';
import { openTempSqliteStore } from '../store/databases';
import { API_VERSION, CALLBACK_URL, login, startOrg } from '../local-org/support';

const HEALTH = 'inbx__Inbox_Sync_Health__c';
const UPSERT = `PATCH /composite/sobjects/${HEALTH}/inbx__Inbox_Id__c`;
const INTERVAL = 60_000;
const HOUR = 60 * 60_000;

describe('the sync health reporter', () => {
  let sf: LocalSalesforce;
  let org: LocalOrg;
  let user: LocalUser;
  let temp: Awaited<ReturnType<typeof openTempSqliteStore>>;
  let clock: number;
  let sessions: SalesforceSessions;
  let policies: PolicyCache;
  let reporter: HealthReporter;

  const upserts = (target: LocalOrg = org) => target.apiCalls().byEndpoint[UPSERT] ?? 0;
  const healthOf = (inboxId: string, target: LocalOrg = org) =>
    target.records(HEALTH).find((record) => record.inbx__Inbox_Id__c === inboxId);

  async function authorize(target: LocalOrg, who: LocalUser): Promise<SalesforceAuth> {
    const tokens = await login(sf, who);
    return temp.store.links.saveAuth(
      {
        orgId: target.orgId,
        userId: who.id,
        username: who.username,
        displayName: null,
        instanceUrl: tokens.instance_url,
        loginUrl: sf.productionLoginUrl,
        environment: 'production',
        accessToken: tokens.access_token,
        refreshToken: tokens.refresh_token as string,
        scope: 'api refresh_token',
        issuedAt: clock,
      },
      { kind: 'token', id: null, name: 'test' },
      clock,
    );
  }

  function linkInbox(auth: SalesforceAuth, inboxId: string, inboxName: string): Promise<Link> {
    return temp.store.links.createLink({
      inboxId,
      inboxName,
      authId: auth.id,
      target: 'contact_then_lead',
      defaultOwnerId: auth.userId,
      createdAt: clock,
    });
  }

  beforeEach(async () => {
    ({ sf, org, user } = await startOrg());
    temp = await openTempSqliteStore();
    clock = Date.now();
    const logger = createLogger('silent');
    const now = () => clock;
    sessions = new SalesforceSessions({
      store: temp.store,
      oauth: new OAuthClient({
        clientId: sf.app.clientId,
        clientSecret: sf.app.clientSecret,
        redirectUri: CALLBACK_URL,
        scopes: 'api refresh_token',
        timeoutMs: 5000,
      }),
      settings: { apiVersion: API_VERSION, timeoutMs: 5000, budgetShare: 0.1, budgetPauseMs: 15 * 60_000 },
      logger,
      now,
      instanceId: 'health-test',
    });
    policies = new PolicyCache({ namespace: 'inbx', ttlMs: 5 * 60_000, now, logger });
    reporter = new HealthReporter({
      store: temp.store,
      sessions,
      policies,
      settings: { intervalMs: INTERVAL, namespace: 'inbx' },
      logger,
      now,
    });
  });

  afterEach(async () => {
    await temp.cleanup();
    await sf.close();
  });

  it('writes every inbox of an org in one upsert, then at most once per interval however often it changes', async () => {
    const auth = await authorize(org, user);
    const sales = await linkInbox(auth, '12', '営業窓口');
    await linkInbox(auth, '13', 'サポート窓口');
    reporter.recordSuccess(sales.id, clock);
    reporter.markChanged(org.orgId);
    expect(await reporter.flushDue()).toBe(1);
    expect(upserts()).toBe(1);
    expect(healthOf('12')).toMatchObject({
      Name: '営業窓口',
      inbx__Link_State__c: 'Active',
      inbx__Last_Success_At__c: new Date(clock).toISOString().replace('Z', '+0000'),
      inbx__Last_Error_At__c: null,
    });
    expect(healthOf('13')).toMatchObject({ Name: 'サポート窓口', inbx__Last_Success_At__c: null });

    reporter.recordError(sales.id, clock, 'UNABLE_TO_LOCK_ROW: unable to obtain exclusive access');
    reporter.markChanged(org.orgId);
    clock += INTERVAL - 1;
    expect(await reporter.flushDue()).toBe(0);
    expect(upserts()).toBe(1);
    clock += 1;
    expect(await reporter.flushDue()).toBe(1);
    expect(upserts()).toBe(2);
    expect(healthOf('12')?.inbx__Last_Error_Message__c).toBe('UNABLE_TO_LOCK_ROW: unable to obtain exclusive access');

    clock += INTERVAL;
    expect(await reporter.flushDue()).toBe(0);
    clock += HOUR;
    expect(await reporter.flushDue()).toBe(1);
    expect(upserts()).toBe(3);
    expect(org.records(HEALTH)).toHaveLength(2);
  });

  it('reports a link that needs re-authentication through another authorisation that still works', async () => {
    const colleague = org.addUser({
      username: 'suzuki@acme.example.com',
      email: 'suzuki@example.jp',
      lastName: '鈴木',
      password: 'pw',
    });
    const dead = await linkInbox(await authorize(org, user), '12', '営業窓口');
    await linkInbox(await authorize(org, colleague), '13', 'サポート窓口');
    org.revokeRefreshTokens(user.id);
    await temp.store.links.setLinkStatus(dead.id, 'needs_reauth', 'invalid_grant: expired access/refresh token', clock);
    reporter.markChanged(org.orgId);
    expect(await reporter.flushDue()).toBe(1);
    expect(healthOf('12')?.inbx__Link_State__c).toBe('Needs_Reauth');
    expect(healthOf('13')?.inbx__Link_State__c).toBe('Active');
  });

  it('shows a paused org and an inbox switched off by its policy', async () => {
    const auth = await authorize(org, user);
    await linkInbox(auth, '12', '営業窓口');
    await linkInbox(auth, '13', 'サポート窓口');
    org.setCustomMetadata('Inbox_Link', 'Inbox_13', { Inbox_Id__c: '13', Active__c: false });
    const api = sessions.clientFor(auth);
    await runLookups((queries) => api.queryManySettled(queries), [policies.lookupFor(org.orgId)]);
    await temp.store.orgs.setPause(org.orgId, clock + 15 * 60_000, 'bridge_share_exhausted: the share is used up');
    reporter.markChanged(org.orgId);
    expect(await reporter.flushDue()).toBe(1);
    expect(healthOf('12')?.inbx__Link_State__c).toBe('Paused');
    expect(healthOf('13')?.inbx__Link_State__c).toBe('Disabled');
  });

  it('can still report when sync has used its share, from the share’s small reserve', async () => {
    const auth = await authorize(org, user);
    await linkInbox(auth, '12', '営業窓口');
    // 10% of 100,000 is 10,000 calls; sync stops 2% (200) short of that.
    await temp.store.orgs.recordApiCalls(org.orgId, 9_850, clock, { used: 20_000, max: 100_000 });
    const refused = await sessions
      .clientFor(auth)
      .query('SELECT Id FROM Contact')
      .catch((error: unknown) => error);
    expect(isBridgeError(refused) && refused.code).toBe('bridge_share_exhausted');
    reporter.markChanged(org.orgId);
    expect(await reporter.flushDue()).toBe(1);
    expect(healthOf('12')).toBeDefined();
  });

  it('survives a failed upsert and tries again at the next interval', async () => {
    const auth = await authorize(org, user);
    await linkInbox(auth, '12', '営業窓口');
    sf.faults.serverError({ path: `/composite/sobjects/${HEALTH}`, status: 503 });
    reporter.markChanged(org.orgId);
    expect(await reporter.flushDue()).toBe(0);
    expect(org.records(HEALTH)).toHaveLength(0);
    // The fault is spent: a try now would succeed, so 0 means none was made.
    expect(await reporter.flushDue()).toBe(0);
    clock += INTERVAL;
    expect(await reporter.flushDue()).toBe(1);
    expect(healthOf('12')).toBeDefined();
  });

  it('tries an org without the health object once, then leaves it alone for an hour', async () => {
    const older = sf.createOrg({ name: 'Older Package', linkPolicyAndHealth: false });
    const admin = older.addUser({
      username: 'kato@older.example.com',
      email: 'kato@example.jp',
      lastName: '加藤',
      password: 'pw',
    });
    await linkInbox(await authorize(older, admin), '21', '旧パッケージの受信箱');
    for (let minute = 0; minute < 30; minute += 1) {
      reporter.markChanged(older.orgId);
      expect(await reporter.flushDue()).toBe(0);
      clock += INTERVAL;
    }
    expect(upserts(older)).toBe(1);
    clock += HOUR;
    await reporter.flushDue();
    expect(upserts(older)).toBe(2);
  });
});
