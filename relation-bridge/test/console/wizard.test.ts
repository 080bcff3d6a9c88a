import type { Page } from 'playwright-core';
import { type Browser, checkPage, launchBrowser, tabTo, waitForTitle } from './browser';
import { type ConsoleHarness, startConsoleHarness } from './console-harness';
import { apiAsBrowser, salesforceLogin, signIn } from './flows';

/**
 * The link wizard in a real browser (Debian's chromium) against the whole bridge and the
 * local Salesforce-compatible org, in Japanese, step by step as Re:lation's FAQ has it.
 * Every step is checked at 1280 and 375 px and kept as a screenshot.
 */

let harness: ConsoleHarness;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  harness = await startConsoleHarness();
  browser = await launchBrowser();
  page = browser.page;
  await signIn(page, harness, harness.inboxAdmin);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await harness?.close();
});

const ticketSync = (inboxId: string, rest = '') =>
  `${harness.consoleUrl}/inboxes/${inboxId}/settings/ticket-sync${rest}`;
const authorizing = () => harness.seeded.authorizingUser;
/** The text of what has the focus: a message the console moved the reader to. */
const focusedText = (on: Page = page) => on.evaluate<string>('document.activeElement?.textContent ?? ""');
const JAPANESE = /[\u3040-\u30ff\u4e00-\u9fff]/;

describe('the link wizard', () => {
  it('links an inbox to a production org in Japanese, step by step, ending with the target and the owner', async () => {
    await checkPage(page, 'wizard-01-inboxes');
    await page.getByRole('link', { name: '受信箱「営業窓口」の設定' }).click();
    await waitForTitle(page, '受信箱の設定');
    await checkPage(page, 'wizard-02-inbox-settings');

    await page.getByRole('button', { name: 'メッセージ環境' }).click();
    await page.getByRole('link', { name: 'チケット同期連携設定' }).waitFor();
    await checkPage(page, 'wizard-03-message-environment');

    await page.getByRole('link', { name: 'チケット同期連携設定' }).click();
    await waitForTitle(page, 'チケット同期連携設定');
    await checkPage(page, 'wizard-04-ticket-sync');

    await page.getByRole('button', { name: '連携設定を追加' }).click();
    await waitForTitle(page, '連携設定の追加');
    await checkPage(page, 'wizard-05-service');

    await page.getByRole('link', { name: 'Salesforce', exact: true }).click();
    await page.getByRole('group', { name: '認証' }).waitFor();
    await checkPage(page, 'wizard-06-authentication');

    await page.getByLabel('新しい認証を追加').check();
    const sandbox = page.getByRole('group', { name: 'サンドボックスを使用する' });
    await sandbox.getByLabel('いいえ').check();
    await checkPage(page, 'wizard-07-sandbox-no');

    await page.getByRole('button', { name: '認証', exact: true }).click();
    await page.getByRole('heading', { name: 'ログイン / Log In' }).waitFor();
    expect(page.url().startsWith(`${harness.local.productionLoginUrl}/services/oauth2/authorize`)).toBe(true);
    await checkPage(page, 'wizard-08-salesforce-login');

    await page.getByLabel('ユーザー名 / Username').fill(authorizing().username);
    await page.getByLabel('パスワード / Password').fill(authorizing().password);
    await page.getByRole('button', { name: 'ログイン / Log In' }).click();
    await page.getByRole('heading', { name: 'アクセスを許可しますか? / Allow access?' }).waitFor();
    await checkPage(page, 'wizard-09-salesforce-allow');

    await page.getByRole('button', { name: '許可 / Allow' }).click();
    await waitForTitle(page, '連携設定の追加');
    await page.getByText(`認証済み: ${authorizing().username}`).waitFor();
    expect(await harness.bridge.store.links.getLinkForInbox('12')).toBeNull();
    await checkPage(page, 'wizard-10-target-and-owner');

    await page.getByLabel('リード').check();
    await page.getByLabel('取引先責任者').check();
    await expect(page.getByLabel('既定の割り当て先').inputValue()).resolves.toBe(authorizing().id);
    await page.getByRole('button', { name: '完了' }).click();
    await waitForTitle(page, 'チケット同期連携設定');
    await page.getByText('連携設定が完了しました').waitFor();
    // The org by its name and kind, the owner by name and email: no raw ids to decode.
    const linkRow = page.getByRole('row').filter({ hasText: 'Yamato Trading' });
    await expect(linkRow.textContent()).resolves.toContain('Yamato Trading');
    await expect(linkRow.textContent()).resolves.toContain('本番環境');
    await expect(linkRow.textContent()).resolves.toContain(
      `My Domain: ${harness.org.instanceUrl.replace(/^http:\/\//, '')}`,
    );
    await expect(linkRow.textContent()).resolves.toContain(`${authorizing().name} <${authorizing().email}>`);
    await checkPage(page, 'wizard-11-linked');

    const link = await harness.bridge.store.links.getLinkForInbox('12');
    expect(link).toMatchObject({
      orgId: harness.org.orgId,
      environment: 'production',
      target: 'contact_then_lead',
      defaultOwnerId: authorizing().id,
      authorizedUsername: authorizing().username,
      status: 'active',
    });
    const audit = await apiAsBrowser(browser.context, harness.baseUrl, 'GET', '/inboxes/12/audit');
    expect(audit.body.entries[0]).toMatchObject({
      event: 'created',
      actor: { kind: 'user', id: harness.inboxAdmin.id },
      changes: { target: { from: null, to: 'contact_then_lead' } },
    });
  });

  it('links a sandbox org with the keyboard alone (はい), through the sandbox login host', async () => {
    await page.goto(harness.consoleUrl);
    await waitForTitle(page, '受信箱');
    await tabTo(page, '受信箱「検証窓口」の設定');
    await page.keyboard.press('Enter');
    await waitForTitle(page, '受信箱の設定');
    await tabTo(page, 'メッセージ環境');
    await page.keyboard.press('Enter');
    await tabTo(page, 'チケット同期連携設定');
    await page.keyboard.press('Enter');
    await waitForTitle(page, 'チケット同期連携設定');
    await tabTo(page, '連携設定を追加');
    await page.keyboard.press('Enter');
    await waitForTitle(page, '連携設定の追加');
    await tabTo(page, 'Salesforce');
    await page.keyboard.press('Enter');
    await page.getByRole('group', { name: '認証' }).waitFor();
    await tabTo(page, '新しい認証を追加');
    await page.keyboard.press('Space');
    await tabTo(page, 'いいえ');
    await page.keyboard.press('ArrowLeft');
    await expect(
      page.getByRole('group', { name: 'サンドボックスを使用する' }).getByLabel('はい').isChecked(),
    ).resolves.toBe(true);
    await checkPage(page, 'wizard-sandbox-07-sandbox-yes');
    await tabTo(page, '認証');
    await page.keyboard.press('Enter');

    await page.getByRole('heading', { name: 'ログイン / Log In' }).waitFor();
    expect(page.url().startsWith(`${harness.local.sandboxLoginUrl}/services/oauth2/authorize`)).toBe(true);
    await checkPage(page, 'wizard-sandbox-08-salesforce-login');
    await tabTo(page, 'ユーザー名 / Username');
    await page.keyboard.type(harness.sandbox.username);
    await tabTo(page, 'パスワード / Password');
    await page.keyboard.type(harness.sandbox.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'アクセスを許可しますか? / Allow access?' }).waitFor();
    await tabTo(page, '許可 / Allow');
    await page.keyboard.press('Enter');

    await page.getByText(`認証済み: ${harness.sandbox.username}`).waitFor();
    await checkPage(page, 'wizard-sandbox-10-target-and-owner');
    await tabTo(page, '取引先責任者');
    await page.keyboard.press('Space');
    await tabTo(page, '完了');
    await page.keyboard.press('Enter');
    await page.getByText('連携設定が完了しました').waitFor();
    await expect(page.getByRole('row').filter({ hasText: 'Yamato Trading' }).textContent()).resolves.toContain(
      'Sandbox',
    );

    expect(await harness.bridge.store.links.getLinkForInbox('13')).toMatchObject({
      orgId: harness.sandbox.org.orgId,
      orgName: 'Yamato Trading',
      orgIsSandbox: true,
      environment: 'sandbox',
      target: 'contact',
      status: 'active',
    });
  });

  it('reuses the authentication the bridge holds for a second inbox, without a new Salesforce approval', async () => {
    const approvalsBefore = harness.org.approvals(authorizing().id).length;
    const first = await harness.bridge.store.links.getLinkForInbox('12');
    await page.goto(ticketSync('14', '/new/salesforce'));
    await page.getByRole('group', { name: '認証' }).waitFor();
    await page
      .getByLabel(`既存の認証を使用: ${authorizing().username} (組織「Yamato Trading」、本番環境)`, { exact: true })
      .check();
    await checkPage(page, 'wizard-reuse-06-existing-authentication');
    await page.getByRole('button', { name: '次へ' }).click();
    await page.getByText(`認証済み: ${authorizing().username}`).waitFor();
    await page.getByLabel('リード').check();
    await page.getByRole('button', { name: '完了' }).click();
    await page.getByText('連携設定が完了しました').waitFor();

    const reused = await harness.bridge.store.links.getLinkForInbox('14');
    expect(reused).toMatchObject({ authId: first?.authId, target: 'lead', status: 'active' });
    expect(harness.org.approvals(authorizing().id)).toHaveLength(approvalsBefore);
  });

  it('refuses a second link for the same inbox with a clear message, in the console and in the API', async () => {
    await page.goto(ticketSync('12'));
    await waitForTitle(page, 'チケット同期連携設定');
    await page.getByRole('button', { name: '連携設定を追加' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'すでにチケット同期連携済みの受信箱に、連携設定を追加することはできません' })
      .waitFor();
    await checkPage(page, 'wizard-second-link-refused');

    await page.goto(ticketSync('12', '/new/salesforce'));
    await page.getByRole('alert').filter({ hasText: 'すでにチケット同期連携済み' }).waitFor();
    expect(await page.getByLabel('新しい認証を追加').count()).toBe(0);

    const refused = await apiAsBrowser(browser.context, harness.baseUrl, 'POST', '/pending-links', {
      inboxId: '12',
      environment: 'production',
    });
    expect(refused).toMatchObject({ status: 409, body: { error: 'link_exists' } });
  });

  it('a denial on the Salesforce allow page ends with a clear message, and nothing is saved', async () => {
    const authsBefore = (await harness.bridge.store.links.listAuths()).length;
    await page.goto(ticketSync('15', '/new/salesforce'));
    await page.getByLabel('新しい認証を追加').check();
    await page.getByRole('button', { name: '認証', exact: true }).click();
    await salesforceLogin(page, authorizing(), 'deny');
    await page.getByRole('heading', { name: 'Salesforce との連携を完了できませんでした' }).waitFor();
    await page.getByText('Salesforce で「許可」が選ばれなかったため、連携は作成されていません。').waitFor();
    await checkPage(page, 'wizard-denied');

    expect(await harness.bridge.store.links.getLinkForInbox('15')).toBeNull();
    expect(await harness.bridge.store.pendingLinks.list({ inboxId: '15' })).toEqual([]);
    expect(await harness.bridge.store.links.listAuths()).toHaveLength(authsBefore);
  });

  it('a callback whose state does not match ends with a clear message, and nothing is saved', async () => {
    const authsBefore = (await harness.bridge.store.links.listAuths()).length;
    await page.goto(ticketSync('15', '/new/salesforce'));
    await page.getByLabel('新しい認証を追加').check();
    await page.getByRole('button', { name: '認証', exact: true }).click();
    await page.getByRole('heading', { name: 'ログイン / Log In' }).waitFor();
    await page.goto(`${harness.baseUrl}/oauth/callback?code=forged-code&state=forged-state`);
    await page.getByRole('heading', { name: 'Salesforce との連携を完了できませんでした' }).waitFor();
    await page.getByText('認証の要求が見つからないか、有効期限 (10 分) が切れています').waitFor();
    await checkPage(page, 'wizard-state-mismatch');

    expect(await harness.bridge.store.links.getLinkForInbox('15')).toBeNull();
    expect(await harness.bridge.store.pendingLinks.list({ inboxId: '15' })).toEqual([]);
    expect(await harness.bridge.store.links.listAuths()).toHaveLength(authsBefore);
  });

  it('a user without the integration permission set is refused with the fix naming them, and nothing is saved', async () => {
    const authsBefore = (await harness.bridge.store.links.listAuths()).length;
    const user = authorizing();
    harness.org.removePermissionSet(user.id, 'Inbox_Bridge_Integration');
    try {
      await page.goto(ticketSync('15', '/new/salesforce'));
      await page.getByLabel('新しい認証を追加').check();
      await page.getByRole('button', { name: '認証', exact: true }).click();
      await salesforceLogin(page, user);
      await page.getByRole('heading', { name: 'Salesforce との連携を完了できませんでした' }).waitFor();
      await page
        .getByText(`権限セット「Re:lation Inbox Bridge: Integration」を ${user.username} に割り当ててから`)
        .waitFor();
      await checkPage(page, 'wizard-permission-set-missing');
    } finally {
      harness.org.assignPermissionSet(user.id, 'Inbox_Bridge_Integration');
    }
    expect(await harness.bridge.store.links.getLinkForInbox('15')).toBeNull();
    expect(await harness.bridge.store.pendingLinks.list({ inboxId: '15' })).toEqual([]);
    expect(await harness.bridge.store.links.listAuths()).toHaveLength(authsBefore);
  });

  it("takes a My Domain pasted from the browser's address bar; a typo or another site is refused in the reader's language, where the focus goes", async () => {
    await page.goto(ticketSync('15', '/new/salesforce'));
    await page.getByLabel('新しい認証を追加').check();
    await page.getByLabel('カスタムドメイン (My Domain) でログインする').check();
    const myDomain = page.getByLabel('My Domain', { exact: true });
    const authenticate = page.getByRole('button', { name: '認証', exact: true });

    // A typo in the org part: no Salesforce login page answers there, so the browser stays here.
    await myDomain.fill(`${harness.local.baseUrl}/orgs/yamato-tradng`);
    await authenticate.click();
    const typo = page.getByRole('alert').filter({ hasText: 'から Salesforce のログインページが応答しませんでした' });
    await typo.waitFor();
    expect(page.url()).toBe(ticketSync('15', '/new/salesforce'));
    await expect(focusedText()).resolves.toContain('から Salesforce のログインページが応答しませんでした');
    await expect(myDomain.getAttribute('aria-invalid')).resolves.toBe('true');
    await checkPage(page, 'wizard-my-domain-typo');

    // Another site: said in Japanese alone, none of the API's English.
    await myDomain.fill('https://example.com/lightning/page/home');
    await authenticate.click();
    const foreign = page
      .getByRole('alert')
      .filter({ hasText: 'Salesforce のドメイン (…my.salesforce.com など) ではありません' });
    await foreign.waitFor();
    await expect(foreign.textContent()).resolves.not.toMatch(/must be|not usable/);
    await expect(focusedText()).resolves.toContain('Salesforce のドメイン');

    // And in English alone, after switching.
    await page.getByRole('button', { name: '表示言語を英語に切り替える' }).click();
    await page.getByLabel('Add a new authentication').check();
    await page.getByLabel('Sign in through a custom domain (My Domain)').check();
    await page.getByLabel('My Domain', { exact: true }).fill('https://example.com/');
    await page.getByRole('button', { name: 'Authenticate', exact: true }).click();
    const english = page.getByRole('alert').filter({ hasText: 'It is not a Salesforce domain' });
    await english.waitFor();
    await expect(english.textContent()).resolves.not.toMatch(JAPANESE);
    await page.getByRole('button', { name: 'Show the console in Japanese' }).click();
    await page.getByLabel('新しい認証を追加').check();
    await page.getByLabel('カスタムドメイン (My Domain) でログインする').check();

    // The address of a page in Salesforce, pasted as it is: its My Domain is where the login goes.
    await myDomain.fill(`${harness.org.instanceUrl}/lightning/page/home?tab=1#top`);
    await authenticate.click();
    await page.getByRole('heading', { name: 'ログイン / Log In' }).waitFor();
    expect(page.url().startsWith(`${harness.org.instanceUrl}/services/oauth2/authorize`)).toBe(true);
    await page.goto(ticketSync('15'));
    await waitForTitle(page, 'チケット同期連携設定');
  });

  it('an authorisation left before 完了 is shown on the inbox page, and discarding it revokes it', async () => {
    const approvalsBefore = harness.org.approvals(authorizing().id).length;
    await page.goto(ticketSync('15', '/new/salesforce'));
    await page.getByLabel('新しい認証を追加').check();
    await page.getByLabel('カスタムドメイン (My Domain) でログインする').check();
    await page.getByLabel('My Domain', { exact: true }).fill(harness.org.instanceUrl);
    await checkPage(page, 'wizard-my-domain');
    await page.getByRole('button', { name: '認証', exact: true }).click();
    await page.getByRole('heading', { name: 'ログイン / Log In' }).waitFor();
    expect(page.url().startsWith(`${harness.org.instanceUrl}/services/oauth2/authorize`)).toBe(true);
    await salesforceLogin(page, authorizing());
    await page.getByText(`認証済み: ${authorizing().username} (組織「Yamato Trading」、本番環境)`).waitFor();
    expect(harness.org.approvals(authorizing().id)).toHaveLength(approvalsBefore + 1);

    await page.getByRole('link', { name: '連携設定', exact: true }).click();
    await waitForTitle(page, 'チケット同期連携設定');
    const unfinished = page.getByRole('region', { name: '未完了の連携設定があります' });
    await unfinished.waitFor();
    await expect(unfinished.textContent()).resolves.toContain('組織「Yamato Trading」');
    await checkPage(page, 'wizard-unfinished');
    expect(await harness.bridge.store.links.getLinkForInbox('15')).toBeNull();

    await unfinished.getByRole('button', { name: '破棄' }).click();
    await page.getByText('未完了の連携設定を破棄し、Salesforce の認証を取り消しました。').waitFor();
    expect(harness.org.approvals(authorizing().id)).toHaveLength(approvalsBefore);
    expect(await harness.bridge.store.pendingLinks.list({ inboxId: '15' })).toEqual([]);
    expect(await harness.bridge.store.links.getLinkForInbox('15')).toBeNull();
  });

  it('two tabs: the inbox linked in one, the other tab never offers its unfinished link next to the link, and 続ける says why', async () => {
    await page.goto(ticketSync('15', '/new/salesforce'));
    await page.getByLabel('新しい認証を追加').check();
    await page.getByRole('button', { name: '認証', exact: true }).click();
    await salesforceLogin(page, authorizing());
    await page.getByText(`認証済み: ${authorizing().username}`).waitFor();
    await page.goto(ticketSync('15'));
    const unfinished = page.getByRole('region', { name: '未完了の連携設定があります' });
    await unfinished.waitFor();
    const [draft] = await harness.bridge.store.pendingLinks.list({ inboxId: '15' });

    // The other tab links the inbox, reusing the authentication the bridge holds.
    const other = await browser.context.newPage();
    try {
      await other.goto(ticketSync('15', '/new/salesforce'));
      await other.getByLabel(`既存の認証を使用: ${authorizing().username} (組織「Yamato Trading」、本番環境)`).check();
      await other.getByRole('button', { name: '次へ' }).click();
      await other.getByLabel('取引先責任者').check();
      await other.getByRole('button', { name: '完了' }).click();
      await other.getByText('連携設定が完了しました').waitFor();
    } finally {
      await other.close();
    }
    expect(await harness.bridge.store.pendingLinks.list({ inboxId: '15' })).toEqual([]);

    // This tab still shows the draft it loaded: 続ける says the inbox is linked, not a bare 409.
    await unfinished.getByRole('link', { name: '続ける' }).click();
    await page.getByRole('alert').filter({ hasText: 'すでにチケット同期連携済みの受信箱' }).waitFor();
    expect(await page.getByRole('button', { name: '完了' }).count()).toBe(0);
    await checkPage(page, 'wizard-continue-after-linked');

    // A draft saved while the link was made (a callback racing it) is not shown, and is removed.
    const { id: _id, ...copy } = draft as NonNullable<typeof draft>;
    await harness.bridge.store.pendingLinks.save(copy);
    await page.goto(ticketSync('15'));
    await waitForTitle(page, 'チケット同期連携設定');
    await page.getByRole('row').filter({ hasText: 'Yamato Trading' }).waitFor();
    expect(await page.getByRole('region', { name: '未完了の連携設定があります' }).count()).toBe(0);
    expect(await harness.bridge.store.pendingLinks.list({ inboxId: '15' })).toEqual([]);
  });
});
