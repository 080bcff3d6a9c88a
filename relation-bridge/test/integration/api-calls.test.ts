import { startBridgeHarness, type BridgeHarness } from '../helpers/bridge-harness';
import { actionPayload, sendAll } from '../helpers/payloads';

const CUSTOMERS = 1000;

async function waitUntil(check: () => Promise<boolean>, what: string, rounds = 600): Promise<void> {
  for (let round = 0; round < rounds; round += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('API economy', () => {
  let h: BridgeHarness;

  afterEach(async () => {
    await h.close();
  });

  it('brings 1,000 actions from 1,000 distinct customers to Salesforce in at most 30 API calls', async () => {
    h = await startBridgeHarness({ startEngine: true, env: { SYNC_LINGER_MS: '500' } });
    await h.linkInbox();
    const lastNames = ['山田', '佐藤', '鈴木', '高橋', '田中', '伊藤', '渡辺', '中村'];
    for (let i = 0; i < CUSTOMERS; i += 1) {
      h.org.addContact({
        LastName: `${lastNames[i % lastNames.length]} ${i}`,
        Email: `customer${i}@kokyaku.example.jp`,
      });
    }
    h.org.resetApiCalls();

    const operators = ['hanako.sato@relation-demo.example.jp', 'ichiro.suzuki@relation-demo.example.jp'];
    const payloads = Array.from({ length: CUSTOMERS }, (_, i) =>
      actionPayload({ emails: [`Customer${i}@kokyaku.example.jp`], operatorEmail: operators[i % 2] as string }),
    );
    await sendAll(h.baseUrl, payloads, 32);
    await waitUntil(
      async () => (await h.bridge.store.actions.countByState({})).synced === CUSTOMERS,
      'all actions synced',
    );

    const calls = h.org.apiCalls();
    process.stdout.write(
      `1,000 actions from 1,000 customers: ${calls.total} API calls reported by the local org ${JSON.stringify(calls.byEndpoint)}\n`,
    );
    expect(calls.total).toBeLessThanOrEqual(30);
    expect(h.org.records('Event')).toHaveLength(CUSTOMERS);
    const owners = new Set(h.org.records('Event').map((e) => e.OwnerId));
    expect(owners.size).toBe(2);
  });
});
