import { Writable } from 'node:stream';
import type { LocalOrg, LocalSalesforce, LocalUser } from '../../local-org';
import type { Link } from '../../src/core/types';
import { createLogger } from '../../src/logging';
import { SalesforceRestClient } from '../../src/salesforce/rest-client';
import { runLookups } from '../../src/sync/lookups';
import { applyPolicy, PolicyCache, type InboxPolicy, type OrgPolicies } from '../../src/sync/policies';
import { API_VERSION, login, startOrg } from '../local-org/support';

const LINK_OWNER = '005000000000001AAA';
const OTHER_OWNER = '005000000000002AAA';

function link(overrides: Partial<Link> = {}): Link {
  return {
    id: 'lnk_1',
    inboxId: '12',
    inboxName: '営業窓口',
    authId: 'auth_1',
    orgId: '00D000000000001AAA',
    instanceUrl: 'https://acme.my.salesforce.com',
    environment: 'production',
    authorizedUserId: LINK_OWNER,
    authorizedUsername: 'sato@acme.example.com',
    target: 'contact_then_lead',
    defaultOwnerId: LINK_OWNER,
    defaultOwnerName: null,
    defaultOwnerEmail: null,
    orgName: null,
    orgIsSandbox: null,
    status: 'active',
    statusReason: null,
    statusChangedAt: 0,
    createdAt: 0,
    updatedAt: 0,
    deletedAt: null,
    version: 1,
    ...overrides,
  };
}

function policies(records: Array<Partial<InboxPolicy>>, activeOwners: string[] | null = null): OrgPolicies {
  const byInbox = new Map<string, InboxPolicy>();
  for (const record of records) {
    const policy: InboxPolicy = {
      developerName: 'Inbox_12',
      inboxId: '12',
      active: true,
      target: null,
      bodyCapture: 'full',
      bodyMaxChars: null,
      defaultOwnerId: null,
      ...record,
    };
    byInbox.set(policy.inboxId, policy);
  }
  return { installed: true, byInbox, activeOwners: activeOwners === null ? null : new Set(activeOwners) };
}

describe('applying a link policy over the helpdesk link', () => {
  it('keeps the link’s settings without a record for the inbox, or without the package', () => {
    for (const known of [
      undefined,
      policies([{ inboxId: '99', active: false }]),
      { installed: false, code: 'INVALID_TYPE', message: '' } as const,
    ]) {
      expect(applyPolicy(link(), known)).toEqual({
        active: true,
        target: 'contact_then_lead',
        bodyCapture: 'full',
        bodyMaxChars: null,
        defaultOwnerId: LINK_OWNER,
        applied: {
          source: 'helpdesk',
          record: null,
          target: 'contact_then_lead',
          bodyCapture: 'full',
          bodyMaxChars: null,
          defaultOwnerId: LINK_OWNER,
          note: null,
        },
      });
    }
  });

  it('overrides field by field what the record sets, and leaves the rest to the link', () => {
    const lead = applyPolicy(link(), policies([{ target: 'lead', bodyCapture: 'first_n', bodyMaxChars: 100 }], []));
    expect(lead).toMatchObject({ active: true, target: 'lead', bodyCapture: 'first_n', bodyMaxChars: 100 });
    expect(lead.defaultOwnerId).toBe(LINK_OWNER);
    expect(lead.applied).toMatchObject({ source: 'salesforce', record: 'Inbox_12', note: null });

    const off = applyPolicy(link({ target: 'contact' }), policies([{ active: false }]));
    expect(off).toMatchObject({ active: false, target: 'contact', bodyCapture: 'full' });
  });

  it('keeps no characters for First_N without a number', () => {
    expect(applyPolicy(link(), policies([{ bodyCapture: 'first_n' }])).bodyMaxChars).toBe(0);
  });

  it('uses the policy’s default owner when it is an active User, given in 15 or 18 characters', () => {
    const active = applyPolicy(link(), policies([{ defaultOwnerId: OTHER_OWNER.slice(0, 15) }], [OTHER_OWNER]));
    expect(active.defaultOwnerId).toBe(OTHER_OWNER);
    expect(active.applied.note).toBeNull();
  });

  it('falls back to the link’s default owner, with a note, for an inactive User or a value that is no User id', () => {
    const inactive = applyPolicy(link(), policies([{ defaultOwnerId: OTHER_OWNER }], []));
    expect(inactive.defaultOwnerId).toBe(LINK_OWNER);
    expect(inactive.applied.note).toContain('not an active User');
    const garbage = applyPolicy(link(), policies([{ defaultOwnerId: '00Q000000000001' }], []));
    expect(garbage.defaultOwnerId).toBe(LINK_OWNER);
    expect(garbage.applied.note).toContain('not a User id');
  });
});

describe('the policy cache against the local org', () => {
  let sf: LocalSalesforce;
  let org: LocalOrg;
  let user: LocalUser;
  let clock: number;
  let logLines: string[];
  let cache: PolicyCache;

  const clientFor = async (target: LocalOrg, who: LocalUser) => {
    const token = (await login(sf, who)).access_token;
    return new SalesforceRestClient({
      instanceUrl: target.instanceUrl,
      apiVersion: API_VERSION,
      timeoutMs: 5000,
      hooks: {
        getAccessToken: async () => token,
        refreshAccessToken: async () => token,
        beforeApiCall: async () => undefined,
        afterApiCall: async () => undefined,
      },
    });
  };

  const read = async (target: LocalOrg, who: LocalUser = user) => {
    const api = await clientFor(target, who);
    await runLookups((queries) => api.queryManySettled(queries), [cache.lookupFor(target.orgId)]);
    return api;
  };

  beforeEach(async () => {
    ({ sf, org, user } = await startOrg());
    clock = Date.parse('2026-05-01T00:00:00Z');
    logLines = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    cache = new PolicyCache({
      namespace: 'inbx',
      ttlMs: 300_000,
      now: () => clock,
      logger: createLogger('info', stream),
    });
  });

  afterEach(async () => {
    await sf.close();
  });

  it('reads the org’s records in one query and trusts them for the TTL', async () => {
    org.setCustomMetadata('Inbox_Link', 'Inbox_12', {
      Inbox_Id__c: ' 12 ',
      Active__c: false,
      Target__c: 'Contact_Then_Lead',
      Body_Capture__c: 'First_N',
      Body_Max_Chars__c: 80.7,
    });
    expect(cache.isFresh(org.orgId)).toBe(false);
    org.resetApiCalls();
    await read(org);
    expect(org.apiCalls().total).toBe(1);
    const current = cache.current(org.orgId);
    expect(current?.installed && current.byInbox.get('12')).toEqual({
      developerName: 'Inbox_12',
      inboxId: '12',
      active: false,
      target: 'contact_then_lead',
      bodyCapture: 'first_n',
      bodyMaxChars: 80,
      defaultOwnerId: null,
    });
    clock += 299_999;
    expect(cache.isFresh(org.orgId)).toBe(true);
    clock += 1;
    expect(cache.isFresh(org.orgId)).toBe(false);
  });

  it('applies the first record by DeveloperName when two name the same inbox', async () => {
    org.setCustomMetadata('Inbox_Link', 'Z_Inbox_12', { Inbox_Id__c: '12', Active__c: false });
    org.setCustomMetadata('Inbox_Link', 'A_Inbox_12', { Inbox_Id__c: '12', Active__c: true });
    org.setCustomMetadata('Inbox_Link', 'No_Inbox', { Active__c: false });
    await read(org);
    const current = cache.current(org.orgId);
    expect(current?.installed && [...current.byInbox.values()].map((p) => p.developerName)).toEqual(['A_Inbox_12']);
    expect(logLines.some((line) => line.includes('two link policy records name the same inbox'))).toBe(true);
  });

  it('remembers an org without the policy type, and logs it once', async () => {
    const older = sf.createOrg({ name: 'Older Package', linkPolicyAndHealth: false });
    const admin = older.addUser({
      username: 'kato@older.example.com',
      email: 'kato@example.jp',
      lastName: '加藤',
      password: 'pw',
    });
    await read(older, admin);
    clock += 300_000;
    await read(older, admin);
    expect(cache.current(older.orgId)).toEqual({
      installed: false,
      code: 'INVALID_TYPE',
      message: expect.stringContaining("sObject type 'inbx__Inbox_Link__mdt' is not supported"),
    });
    expect(cache.isFresh(older.orgId)).toBe(true);
    expect(logLines.filter((line) => line.includes('has no link policy type'))).toHaveLength(1);
    expect(applyPolicy(link(), cache.current(older.orgId)).applied.source).toBe('helpdesk');
  });

  it('checks which default owners are active Users, once per read', async () => {
    const inactive = org.addUser({
      username: 'gone@acme.example.com',
      email: 'gone@example.jp',
      lastName: '退職',
      isActive: false,
    });
    org.setCustomMetadata('Inbox_Link', 'Inbox_12', {
      Inbox_Id__c: '12',
      Active__c: true,
      Default_Owner_Id__c: user.id,
    });
    org.setCustomMetadata('Inbox_Link', 'Inbox_13', {
      Inbox_Id__c: '13',
      Active__c: true,
      Default_Owner_Id__c: inactive.id,
    });
    const api = await read(org);
    const check = cache.ownerCheckFor(org.orgId);
    if (check === null) throw new Error('expected an owner check');
    expect(check.queries).toHaveLength(1);
    await runLookups((queries) => api.queryManySettled(queries), [check]);
    expect(cache.ownerCheckFor(org.orgId)).toBeNull();
    const current = cache.current(org.orgId);
    expect(applyPolicy(link({ inboxId: '12' }), current).defaultOwnerId).toBe(user.id);
    expect(applyPolicy(link({ inboxId: '13' }), current).defaultOwnerId).toBe(LINK_OWNER);
    expect(logLines.some((line) => line.includes(`${inactive.id} is not an active User`))).toBe(true);

    cache.forgetOwner(org.orgId, user.id);
    expect(applyPolicy(link({ inboxId: '12' }), cache.current(org.orgId)).defaultOwnerId).toBe(LINK_OWNER);
  });
});
