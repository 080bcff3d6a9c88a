import { addUser, ADMIN_TOKEN, linkInbox, type LinkHarness, startLinkHarness } from './harness';

/**
 * SF_REQUEST_TIMEOUT_MS reaches the links feature through the composition root: a Salesforce
 * call made while linking that never gets an answer ends at the configured timeout. (With the
 * 30 s default the request below would still be waiting when its client gives up.)
 */
describe('a Salesforce call made while linking', () => {
  let harness: LinkHarness;

  beforeEach(async () => {
    harness = await startLinkHarness({ env: { SF_REQUEST_TIMEOUT_MS: '300' } });
  });

  afterEach(async () => {
    await harness.close();
  });

  it('gives up after SF_REQUEST_TIMEOUT_MS: a default owner that cannot be checked now is saved unchecked', async () => {
    const org = harness.local.createOrg({ name: 'Acme' });
    const user = addUser(org, 'hanako');
    expect(
      (await linkInbox(harness, { inboxId: '12', environment: 'production', target: 'contact' }, user)).status,
    ).toBe(200);
    const [link] = await harness.store.links.listLinks();
    const owner = addUser(org, 'owner');

    const hang = harness.local.faults.hangNext({ path: '/query' });
    const answer = await fetch(`${harness.baseUrl}/api/v1/links/${link?.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ defaultOwnerId: owner.id }),
      signal: AbortSignal.timeout(15_000),
    });
    expect(hang.hanging()).toBe(1);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ id: link?.id, defaultOwnerId: owner.id });
    const notChecked = harness.logLines
      .map((line) => JSON.parse(line) as { msg: string; code?: string })
      .find((line) => line.msg === 'default owner not checked: salesforce could not be asked now');
    expect(notChecked).toMatchObject({ code: 'TIMEOUT' });
    hang.release();
  });
});
