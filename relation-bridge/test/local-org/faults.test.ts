import type { CommitEvent, LocalOrg, LocalSalesforce, LocalUser } from '../../local-org';
import { eventFor, login, rest, startOrg } from './support';

describe('local org fault injection', () => {
  let sf: LocalSalesforce;
  let org: LocalOrg;
  let user: LocalUser;
  let token: string;
  let contactId: string;

  beforeEach(async () => {
    ({ sf, org, user } = await startOrg());
    token = (await login(sf, user)).access_token;
    contactId = org.addContact({ LastName: '山田' });
  });

  afterEach(async () => {
    await sf.close();
  });

  const collection = (count: number) => ({
    allOrNone: false,
    records: Array.from({ length: count }, () => eventFor(org, contactId)),
  });

  it('fails the next matching requests with the given status, then behaves again', async () => {
    sf.faults.serverError({ path: '/limits', count: 2 });
    const first = await rest(org, token, 'GET', '/limits');
    expect(first.status).toBe(503);
    expect(first.body[0].errorCode).toBe('SERVER_UNAVAILABLE');
    expect(first.headers.get('sforce-limit-info')).toMatch(/^api-usage=\d+\/15000$/);
    expect((await rest(org, token, 'GET', '/limits')).status).toBe(503);
    expect((await rest(org, token, 'GET', '/limits')).status).toBe(200);
  });

  it('matches faults by method and org, and can fail OAuth endpoints too', async () => {
    sf.faults.failNext({
      path: '/services/oauth2/token',
      status: 400,
      body: { error: 'rate_limit_exceeded', error_description: 'rate limit exceeded' },
    });
    const refused = await fetch(`${sf.productionLoginUrl}/services/oauth2/token`, { method: 'POST', body: '' });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: 'rate_limit_exceeded', error_description: 'rate limit exceeded' });

    const other = sf.createOrg({ name: 'Other' });
    sf.faults.serverError({ orgId: other.orgId, count: Infinity });
    sf.faults.serverError({ path: '/limits', method: 'POST' });
    expect((await rest(org, token, 'GET', '/limits')).status).toBe(200);
  });

  it('fails whole requests with UNABLE_TO_LOCK_ROW, or single records', async () => {
    sf.faults.lockRequests({ path: '/composite/sobjects' });
    const whole = await rest(org, token, 'POST', '/composite/sobjects', collection(2));
    expect(whole.status).toBe(400);
    expect(whole.body[0].errorCode).toBe('UNABLE_TO_LOCK_ROW');
    expect(org.records('Event')).toHaveLength(0);

    sf.faults.lockRecords({ count: 1, objectType: 'Event' });
    const partial = await rest(org, token, 'POST', '/composite/sobjects', collection(3));
    expect(partial.body.map((result: { success: boolean }) => result.success)).toEqual([false, true, true]);
    expect(partial.body[0].errors[0].statusCode).toBe('UNABLE_TO_LOCK_ROW');
    expect(org.records('Event')).toHaveLength(2);
  });

  it('hangs a request until released', async () => {
    const hang = sf.faults.hangNext({ path: '/limits' });
    const pending = rest(org, token, 'GET', '/limits');
    await hang.waitForHang();
    expect(hang.hanging()).toBe(1);
    hang.release();
    expect((await pending).status).toBe(200);
  });

  it('ends hanging requests when the server closes', async () => {
    const hang = sf.faults.hangNext({ path: '/limits' });
    const pending = rest(org, token, 'GET', '/limits');
    await hang.waitForHang();
    await sf.close();
    await expect(pending).rejects.toThrow();
  });

  it('adds latency to matching requests until removed', async () => {
    const latency = sf.faults.addLatency({ path: '/limits', ms: 20 });
    expect((await rest(org, token, 'GET', '/limits')).status).toBe(200);
    expect(latency.remaining()).toBe(Infinity);
    latency.remove();
    expect(sf.faults.list()).toEqual([]);
  });

  it('calls onRecordsCommitted after the commit and before the response, and can hold that response', async () => {
    const seen: Array<{ event: CommitEvent; eventsInOrg: number }> = [];
    sf.onRecordsCommitted((event) => {
      seen.push({ event, eventsInOrg: org.records('Event').length });
    });
    const hold = sf.faults.holdAfterCommit({ path: '/composite/sobjects' });
    let answered = false;
    const pending = rest(org, token, 'POST', '/composite/sobjects', collection(3)).then((response) => {
      answered = true;
      return response;
    });
    const held = await hold.waitForHold();
    expect(held.records).toHaveLength(3);
    expect(held.records.every((record) => record.type === 'Event')).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.eventsInOrg).toBe(3);
    expect(answered).toBe(false);
    expect(hold.held()).toBe(1);
    hold.release();
    const response = await pending;
    expect(response.body.map((result: { id: string }) => result.id)).toEqual(held.records.map((record) => record.id));
  });

  it('drops held responses when the server closes', async () => {
    const hold = sf.faults.holdAfterCommit({ path: '/composite' });
    const pending = rest(org, token, 'POST', '/composite/sobjects', collection(1));
    await hold.waitForHold();
    await sf.close();
    await expect(pending).rejects.toThrow();
    expect(org.records('Event')).toHaveLength(1);
  });

  it('does not emit a commit for a request that wrote nothing', async () => {
    const events: CommitEvent[] = [];
    sf.onRecordsCommitted((event) => void events.push(event));
    await rest(org, token, 'POST', '/composite/sobjects', {
      allOrNone: true,
      records: [eventFor(org, contactId, { DurationInMinutes: undefined })],
    });
    expect(events).toEqual([]);
    expect(sf.commits()).toEqual([]);
  });
});
