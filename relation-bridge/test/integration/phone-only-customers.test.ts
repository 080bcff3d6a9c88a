import { MAX_QUERY_SUBREQUESTS, MAX_COLLECTION_RECORDS } from '../../src/salesforce/rest-client';
import { soslTerm } from '../../src/salesforce/soql';
import { normalizePhone, phoneSearchTerms } from '../../src/sync/identifiers';
import { MAX_PHONE_SEARCH_CHARS } from '../../src/sync/matcher';
import { startBridgeHarness, type BridgeHarness } from '../helpers/bridge-harness';
import { actionPayload, sendAll } from '../helpers/payloads';

/** The same number written the ways customers and reps write Japanese mobile numbers. */
function written(n: number): { stored: string; sent: string } {
  const digits = String(10_000_000 + n).slice(-8);
  const [a, b] = [digits.slice(0, 4), digits.slice(4)];
  const styles = [
    { stored: `090-${a}-${b}`, sent: `090${a}${b}` },
    { stored: `+81 90 ${a} ${b}`, sent: `090-${a}-${b}` },
    { stored: `(090) ${a}-${b}`, sent: `+81-90-${a}-${b}` },
    {
      stored: `０９０－${a}－${b}`.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d))),
      sent: `090 ${a} ${b}`,
    },
  ];
  return styles[n % styles.length] as { stored: string; sent: string };
}

/** Calls a single search may cost at most: its phones' terms within SOSL's operator-keeping length. */
function phoneSearchesFor(phones: string[]): number {
  const costs = phones.map((phone) =>
    phoneSearchTerms(normalizePhone(phone) as string)
      .map(soslTerm)
      .reduce((sum, term) => sum + term.length + ' OR '.length, 0),
  );
  const perSearch = Math.floor(MAX_PHONE_SEARCH_CHARS / Math.max(...costs));
  return Math.ceil(phones.length / perSearch);
}

describe('customers known only by phone (LINE, SMS, calls)', () => {
  let h: BridgeHarness;

  beforeEach(async () => {
    h = await startBridgeHarness();
    await h.linkInbox({ target: 'contact_then_lead' });
  });

  afterEach(async () => {
    await h.close();
  });

  it('syncs a burst of 100 phone-only customers within the calls the batching rules allow', async () => {
    const customers = Array.from({ length: 100 }, (_unused, n) => {
      const phone = written(n);
      const id =
        n % 5 === 4
          ? h.org.addLead({ LastName: `見込${n}`, Company: '株式会社テスト', MobilePhone: phone.stored })
          : h.org.addContact({ LastName: `顧客${n}`, Phone: phone.stored });
      return {
        id,
        payload: actionPayload({ channel: n % 2 === 0 ? 'line' : 'sms', emails: [], phones: [phone.sent] }),
      };
    });
    h.org.resetApiCalls();

    await sendAll(
      h.baseUrl,
      customers.map((customer) => customer.payload),
    );
    await h.bridge.engine.runUntilIdle();

    for (const { id, payload } of customers) {
      const action = await h.bridge.store.actions.get(payload.action.id);
      expect(action).toMatchObject({ state: 'synced', whoId: id });
      expect(action?.match?.chosen).toMatchObject({ via: 'phone' });
    }
    expect(h.org.records('Event')).toHaveLength(100);

    // One batch: the link policy read, the operators' Users (SOQL, up to five to a composite
    // call), the phone searches (one /search call each: Composite takes no Search), the Events
    // (sObject Collections of 200, five to a composite call), and the sync health upsert.
    const searches = phoneSearchesFor(customers.map((customer) => customer.payload.customer.phones?.[0] as string));
    const bound =
      1 +
      Math.ceil(1 / MAX_QUERY_SUBREQUESTS) +
      searches +
      Math.ceil(Math.ceil(100 / MAX_COLLECTION_RECORDS) / MAX_QUERY_SUBREQUESTS) +
      1;
    const calls = h.org.apiCalls();
    process.stdout.write(
      `100 phone-only customers: ${calls.total} API calls (bound ${bound}) ${JSON.stringify(calls.byEndpoint)}\n`,
    );
    expect(searches).toBe(1);
    expect(calls.byEndpoint['GET /search']).toBe(searches);
    expect(calls.total).toBeLessThanOrEqual(bound);
  });

  it('when Salesforce refuses a phone search, fails only the actions that needed it; the others sync', async () => {
    const taro = h.seeded.contactIdsByEmail['taro.yamada@example.co.jp']?.[0];
    const byEmail = Array.from({ length: 5 }, () => actionPayload({ emails: ['taro.yamada@example.co.jp'] }));
    const byPhone = Array.from({ length: 5 }, (_unused, n) => {
      h.org.addContact({ LastName: `顧客${n}`, Phone: written(n).stored });
      return actionPayload({ channel: 'line', emails: [], phones: [written(n).sent] });
    });
    // An email that finds nothing, then a phone: this one depends on the search too.
    const emailThenPhone = actionPayload({ emails: ['nobody@example.jp'], phones: [written(0).sent] });
    h.local.faults.failNext({
      path: '/search',
      status: 400,
      body: [{ errorCode: 'INVALID_INPUT', message: 'search refused' }],
    });

    await sendAll(h.baseUrl, [...byEmail, ...byPhone, emailThenPhone]);
    await h.bridge.engine.runUntilIdle();

    for (const payload of byEmail) {
      expect(await h.bridge.store.actions.get(payload.action.id)).toMatchObject({ state: 'synced', whoId: taro });
    }
    for (const payload of [...byPhone, emailThenPhone]) {
      expect(await h.bridge.store.actions.get(payload.action.id)).toMatchObject({
        state: 'failed',
        reason: 'invalid_for_salesforce',
        errorCode: 'INVALID_INPUT',
        errorMessage: 'search refused',
      });
      expect(h.eventsFor(payload.action.id)).toHaveLength(0);
    }
  });

  it('when a phone search fails for now, retries only the actions that needed it', async () => {
    await h.close();
    let clock = Date.now();
    h = await startBridgeHarness({ now: () => clock });
    await h.linkInbox({ target: 'contact_then_lead' });
    const byEmail = actionPayload({ emails: ['taro.yamada@example.co.jp'] });
    const contact = h.org.addContact({ LastName: '顧客', Phone: written(1).stored });
    const byPhone = actionPayload({ channel: 'sms', emails: [], phones: [written(1).sent] });
    h.local.faults.serverError({ path: '/search', status: 503 });

    await sendAll(h.baseUrl, [byEmail, byPhone]);
    await h.bridge.engine.runUntilIdle();
    expect((await h.bridge.store.actions.get(byEmail.action.id))?.state).toBe('synced');
    expect(await h.bridge.store.actions.get(byPhone.action.id)).toMatchObject({
      state: 'pending',
      attempts: 1,
      errorCode: 'SERVER_UNAVAILABLE',
    });

    clock += 60 * 60_000;
    await h.bridge.engine.runUntilIdle();
    expect(await h.bridge.store.actions.get(byPhone.action.id)).toMatchObject({ state: 'synced', whoId: contact });
    expect(h.org.records('Event')).toHaveLength(2);
  });
});
