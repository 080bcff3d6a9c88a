import type { Link } from '../../src/core/types';
import type { LinkCheck, LinkCheckFindings } from '../../src/notices/link-checks-repository';
import { isNotifiable } from '../../src/notices/notices';
import { checkSummary, checkWarnings, isBudgetPause, reauthCause } from '../../src/notices/warnings';

const DAY = 24 * 60 * 60_000;
const NOW = Date.parse('2026-12-01T00:00:00Z');
const WEEK = 7 * DAY;
const USER = '005000000000001AAA';
const OTHER = '005000000000002AAA';

function link(overrides: Partial<Link> = {}): Link {
  return {
    id: 'lnk_1',
    inboxId: '12',
    inboxName: '営業窓口',
    authId: 'auth_1',
    orgId: '00D000000000001AAA',
    instanceUrl: 'https://yamato.my.salesforce.com',
    environment: 'production',
    authorizedUserId: USER,
    authorizedUsername: 'hanako@yamato.example.jp',
    target: 'contact_then_lead',
    defaultOwnerId: USER,
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

function check(authId: string, findings: Partial<LinkCheckFindings> = {}, checkedAt = NOW - 60_000): LinkCheck {
  return {
    authId,
    checkedAt,
    findings: {
      userId: authId === 'auth_1' ? USER : OTHER,
      username: 'user',
      users: [],
      token: { active: true, expiresAt: null },
      approvals: { visible: true, count: 1, oldestAt: NOW - DAY, oursIsOldest: true },
      ...findings,
    },
  };
}

const codes = (problems: Array<{ code: string }>) => problems.map((problem) => problem.code);

describe("the link check's warnings", () => {
  it('warns of a user another authorisation of the org saw deactivated, before the link’s own check fails', () => {
    const checks = [
      check('auth_2', { users: [{ userId: USER, username: 'hanako', active: false, frozen: null }] }, NOW - 1_000),
      check('auth_1', { users: [{ userId: USER, username: 'hanako', active: true, frozen: null }] }, NOW - DAY),
    ];
    const [warning] = checkWarnings(link(), checks, NOW, WEEK);
    expect(warning).toMatchObject({ code: 'user_inactive', details: { username: 'hanako@yamato.example.jp' } });
    expect(warning?.message).toContain('has been deactivated');
  });

  it('says nothing more of a link that already needs re-authentication or is disabled', () => {
    const checks = [check('auth_1', { token: { active: false, expiresAt: null } })];
    expect(checkWarnings(link({ status: 'needs_reauth' }), checks, NOW, WEEK)).toEqual([]);
    expect(checkWarnings(link({ status: 'disabled' }), checks, NOW, WEEK)).toEqual([]);
    expect(codes(checkWarnings(link(), checks, NOW, WEEK))).toEqual(['token_expiring']);
  });

  it('warns of a token ending within the warning days, not of one ending later', () => {
    const ending = (at: number) => [check('auth_1', { token: { active: true, expiresAt: at } })];
    expect(checkWarnings(link(), ending(NOW + WEEK + 1), NOW, WEEK)).toEqual([]);
    expect(checkWarnings(link(), ending(NOW + WEEK), NOW, WEEK)).toEqual([
      expect.objectContaining({
        code: 'token_expiring',
        details: { username: 'hanako@yamato.example.jp', expiresAt: '2026-12-08T00:00:00.000Z' },
      }),
    ]);
  });

  it('warns at five approvals, and from what the bridge holds when Salesforce does not list them', () => {
    const at = (count: number) => [
      check('auth_1', { approvals: { visible: true, count, oldestAt: NOW - DAY, oursIsOldest: null } }),
    ];
    expect(checkWarnings(link(), at(4), NOW, WEEK)).toEqual([]);
    expect(checkWarnings(link(), at(5), NOW, WEEK)[0]).toMatchObject({
      code: 'approval_limit',
      details: { count: 5, oldestAt: '2026-11-30T00:00:00.000Z', oursIsOldest: null },
    });
    const hidden = [check('auth_1', { approvals: { visible: false, heldByBridge: 5 } })];
    expect(codes(checkWarnings(link(), hidden, NOW, WEEK))).toEqual(['approval_limit']);
    expect(checkSummary(link(), hidden)).toEqual({ checkedAt: NOW - 60_000, notVisible: ['user_frozen', 'approvals'] });
  });

  it('tells the causes of a refused authorisation apart from the reason the sync recorded', () => {
    expect(reauthCause('invalid_grant: inactive user')).toBe('user_inactive');
    expect(reauthCause('API_DISABLED_FOR_ORG: The REST API is not enabled for this Organization.')).toBe(
      'api_disabled',
    );
    expect(reauthCause('invalid_grant: expired access/refresh token')).toBe('token_refused');
    expect(reauthCause(null)).toBe('token_refused');
  });

  it('mails a pause only when it is for the API budget', () => {
    expect(isBudgetPause('REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.')).toBe(true);
    expect(isBudgetPause('bridge_share_exhausted: the bridge has used its share')).toBe(true);
    expect(isBudgetPause('NETWORK_ERROR: connect ECONNREFUSED')).toBe(false);
    const pause = (budget: boolean) => ({ code: 'org_paused' as const, message: '', details: { budget } });
    expect(isNotifiable(pause(true))).toBe(true);
    expect(isNotifiable(pause(false))).toBe(false);
    expect(isNotifiable({ code: 'failed_actions', message: '' })).toBe(false);
  });
});
