import type { Page } from 'playwright-core';
import type { Link } from '../../src/core/types';
import { actionPayload, sendWebhook } from '../helpers/payloads';
import { type Browser, checkPage, launchBrowser, waitForTitle } from './browser';
import { type ConsoleHarness, startConsoleHarness } from './console-harness';
import { salesforceLogin, signIn } from './flows';

/**
 * Living with a link in the console: change in place with its history, needs
 * re-authentication → re-authenticate → held actions synced, the error log (unmatched and
 * failed, filters, retry), the English switch, delete and re-create, and the API budget pause.
 */

let harness: ConsoleHarness;
let browser: Browser;
let page: Page;
let link: Link;

beforeAll(async () => {
  harness = await startConsoleHarness();
  link = await harness.linkInbox({ inboxId: '12', inboxName: '営業窓口', target: 'contact_then_lead' });
  browser = await launchBrowser();
  page = browser.page;
  await signIn(page, harness, harness.inboxAdmin);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await harness?.close();
});

const ticketSync = (rest = '') => `${harness.consoleUrl}/inboxes/12/settings/ticket-sync${rest}`;
const contactEmail = () => harness.seeded.contacts[0]?.email as string;
/** The first test changes the target to リード, so later actions are about a Lead. */
const leadEmail = () => harness.seeded.leads.find((lead) => lead.email !== null && !lead.isConverted)?.email as string;

async function openLinkMenu(): Promise<void> {
  await page.goto(ticketSync());
  await waitForTitle(page, 'チケット同期連携設定');
  await page.getByRole('button', { name: '連携設定の操作メニュー' }).click();
}

describe('the console for a linked inbox', () => {
  it('changes the target and the default owner in place, and the history says who, when, from and to', async () => {
    const newOwner = harness.seeded.users.find((user) => user.isActive && user.id !== link.defaultOwnerId);
    await openLinkMenu();
    await page.getByRole('button', { name: '変更', exact: true }).click();
    await waitForTitle(page, '連携設定の変更');
    await checkPage(page, 'operations-change-in-place');
    await page.getByLabel('取引先責任者').uncheck();
    await expect(page.getByLabel('リード').isChecked()).resolves.toBe(true);
    await page.getByLabel('既定の割り当て先').selectOption(newOwner?.id as string);
    await page.getByRole('button', { name: '保存' }).click();
    await page.getByText('連携設定を変更しました。次の同期から反映されます。').waitFor();

    expect(await harness.bridge.store.links.getLink(link.id)).toMatchObject({
      id: link.id,
      target: 'lead',
      defaultOwnerId: newOwner?.id,
      status: 'active',
    });

    await page.getByRole('link', { name: '変更履歴' }).click();
    await waitForTitle(page, '変更履歴');
    const changed = page.getByRole('row').filter({ hasText: '佐藤 花子 <hanako@relation-demo.example.jp>' });
    await expect(changed.textContent()).resolves.toContain('変更');
    await expect(changed.textContent()).resolves.toContain(
      '行動の作成先: 変更前 取引先責任者 → リード (取引先責任者を優先) → 変更後 リード',
    );
    await expect(changed.textContent()).resolves.toContain(
      `既定の割り当て先: 変更前 ${link.defaultOwnerId} → 変更後 ${newOwner?.id}`,
    );
    await expect(page.getByRole('row').filter({ hasText: 'BRIDGE_ADMIN_TOKEN' }).textContent()).resolves.toContain(
      '作成',
    );
    await checkPage(page, 'operations-history');
  });

  it('shows needs re-authentication; re-authenticating resumes the held actions, which then sync', async () => {
    harness.org.revokeRefreshTokens();
    harness.org.expireAccessTokens();
    const held = actionPayload({ inboxId: '12', emails: [leadEmail()] });
    expect((await sendWebhook(harness.baseUrl, held)).status).toBe(202);
    await harness.bridge.engine.runUntilIdle();
    expect(await harness.bridge.store.actions.get(held.action.id)).toMatchObject({
      state: 'held',
      reason: 'needs_reauth',
    });

    await page.goto(ticketSync());
    await page.getByText('再認証が必要です').first().waitFor();
    await page.getByText('同期できない操作は保留しています').waitFor();
    await checkPage(page, 'operations-needs-reauth');
    await page.getByRole('button', { name: '再認証', exact: true }).click();
    await salesforceLogin(page, harness.seeded.authorizingUser);
    await page.getByText('再認証が完了しました。保留中だった 1 件の操作を同期します。').waitFor();
    await checkPage(page, 'operations-reauthorized');

    await harness.bridge.engine.runUntilIdle();
    expect(await harness.bridge.store.actions.get(held.action.id)).toMatchObject({ state: 'synced' });
    expect(harness.eventsFor(held.action.id)).toHaveLength(1);
    expect((await harness.bridge.store.links.getLink(link.id))?.status).toBe('active');
  });

  it('the error log shows an unmatched and a failed action with their reasons; filters narrow it; a retry syncs the failed one', async () => {
    const removeRule = harness.org.addValidationRule({
      object: 'Event',
      name: 'No_Estimates',
      message: '件名に「見積」を含む行動は登録できません',
      when: (record) => String(record.Subject ?? '').includes('見積'),
    });
    const unmatched = actionPayload({ inboxId: '12', emails: ['nobody@unknown.example.jp'], title: 'ご相談' });
    const failed = actionPayload({ inboxId: '12', emails: [leadEmail()], title: '見積のご依頼' });
    for (const payload of [unmatched, failed]) expect((await sendWebhook(harness.baseUrl, payload)).status).toBe(202);
    await harness.bridge.engine.runUntilIdle();
    expect(await harness.bridge.store.actions.get(unmatched.action.id)).toMatchObject({
      state: 'unmatched',
      reason: 'no_matching_record',
    });
    expect(await harness.bridge.store.actions.get(failed.action.id)).toMatchObject({
      state: 'failed',
      reason: 'salesforce_rejected',
    });

    await page.goto(ticketSync('/log'));
    await waitForTitle(page, 'エラーログ');
    const unmatchedRow = page.getByRole('row').filter({ hasText: `チケット ${unmatched.ticket.id}:` });
    const failedRow = page.getByRole('row').filter({ hasText: `チケット ${failed.ticket.id}:` });
    await expect(unmatchedRow.textContent()).resolves.toContain(
      '顧客のメールアドレス・電話番号に一致する取引先責任者・リードが見つかりませんでした。',
    );
    await expect(failedRow.textContent()).resolves.toContain('Salesforce が行動の作成を拒否しました');
    await expect(failedRow.textContent()).resolves.toContain(
      'FIELD_CUSTOM_VALIDATION_EXCEPTION: 件名に「見積」を含む行動は登録できません',
    );
    await expect(failedRow.getByRole('link').getAttribute('href')).resolves.toBe(failed.ticket.url);
    expect(await unmatchedRow.getByRole('button', { name: /再試行/ }).count()).toBe(0);
    await checkPage(page, 'operations-error-log');

    await page.getByLabel('理由').selectOption('no_matching_record');
    await page.getByRole('button', { name: '絞り込む' }).click();
    await page.waitForURL(/reason=no_matching_record/);
    await unmatchedRow.waitFor();
    expect(await failedRow.count()).toBe(0);
    await checkPage(page, 'operations-error-log-by-reason');

    const yesterday = new Date(Date.now() - 86_400_000).toLocaleDateString('sv-SE', { timeZone: 'Asia/Tokyo' });
    await page.goto(ticketSync(`/log?to=${yesterday}`));
    await page.getByText('該当する記録はありません。').waitFor();
    const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Tokyo' });
    await page.goto(ticketSync(`/log?from=${today}&state=failed`));
    await failedRow.waitFor();
    expect(await unmatchedRow.count()).toBe(0);

    removeRule();
    await failedRow.getByRole('button', { name: `チケット ${failed.ticket.id} の操作を再試行` }).click();
    await page.getByText('再試行を受け付けました。顧客を照合し直して、まもなく同期されます。').waitFor();
    await harness.bridge.engine.runUntilIdle();
    expect(await harness.bridge.store.actions.get(failed.action.id)).toMatchObject({ state: 'synced' });
    expect(harness.eventsFor(failed.action.id)).toHaveLength(1);
    await page.goto(ticketSync('/log'));
    await unmatchedRow.waitFor();
    expect(await failedRow.count()).toBe(0);
  });

  it('switches to English and remembers it in this browser, then back to Japanese', async () => {
    await page.goto(ticketSync('/log'));
    await page.getByRole('button', { name: '表示言語を英語に切り替える' }).click();
    await waitForTitle(page, 'Error log');
    await page
      .getByRole('cell', { name: "No Contact or Lead matched the customer's email address or phone number." })
      .first()
      .waitFor();
    await page.reload();
    await waitForTitle(page, 'Error log');
    expect(await page.evaluate<string>('document.documentElement.lang')).toBe('en');
    await checkPage(page, 'operations-error-log-english');
    await page.getByRole('button', { name: 'Show the console in Japanese' }).click();
    await waitForTitle(page, 'エラーログ');
    expect(await page.evaluate<string>('document.documentElement.lang')).toBe('ja');
  });

  it('deletes the link with […] → 削除 → はい, revoking it; later actions are no_link; a new link can be made', async () => {
    const user = harness.seeded.authorizingUser;
    expect(harness.org.approvals(user.id).length).toBeGreaterThan(0);
    await openLinkMenu();
    await checkPage(page, 'operations-link-menu');
    await page.getByRole('button', { name: '削除', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: '連携設定の削除' });
    await dialog.waitFor();
    await page.screenshot({ path: `${__dirname}/../../test-results/screenshots/operations-delete-confirm-wide.png` });
    await dialog.getByRole('button', { name: 'はい' }).click();
    await page.getByText('連携設定を削除しました。Salesforce の認証も取り消しました。').waitFor();
    await page.getByText('連携設定はありません。').waitFor();
    expect((await harness.bridge.store.links.getLink(link.id))?.status).toBe('deleted');
    expect(harness.org.approvals(user.id)).toHaveLength(0);

    const afterDelete = actionPayload({ inboxId: '12', emails: [contactEmail()] });
    expect((await sendWebhook(harness.baseUrl, afterDelete)).status).toBe(202);
    await harness.bridge.engine.runUntilIdle();
    expect(await harness.bridge.store.actions.get(afterDelete.action.id)).toMatchObject({
      state: 'skipped',
      reason: 'no_link',
    });
    await page.goto(ticketSync('/log'));
    await expect(
      page
        .getByRole('row')
        .filter({ hasText: `チケット ${afterDelete.ticket.id}:` })
        .textContent(),
    ).resolves.toContain('受信箱に連携設定がなかったため、同期しませんでした。');

    await page.goto(ticketSync());
    await page.getByRole('button', { name: '連携設定を追加' }).click();
    await page.getByRole('link', { name: 'Salesforce', exact: true }).click();
    await page.getByLabel('新しい認証を追加').check();
    await page.getByRole('button', { name: '認証', exact: true }).click();
    await salesforceLogin(page, user);
    await page.getByLabel('取引先責任者').check();
    await page.getByRole('button', { name: '完了' }).click();
    await page.getByText('連携設定が完了しました').waitFor();
    const recreated = await harness.bridge.store.links.getLinkForInbox('12');
    expect(recreated).toMatchObject({ status: 'active', target: 'contact' });
    expect(recreated?.id).not.toBe(link.id);
  });

  it('shows a pause for the API budget with the org usage', async () => {
    harness.org.exhaustApiBudget();
    const paused = actionPayload({ inboxId: '12', emails: [contactEmail()] });
    expect((await sendWebhook(harness.baseUrl, paused)).status).toBe(202);
    await harness.bridge.engine.runUntilIdle();
    expect((await harness.bridge.store.actions.get(paused.action.id))?.state).toBe('pending');

    await page.goto(ticketSync());
    await page.getByText('API の上限のため一時停止中').waitFor();
    await page.getByText(/まで同期を一時停止しています/).waitFor();
    await page.getByText(/15,000 \/ 15,000 回 \(100%\)/).waitFor();
    await checkPage(page, 'operations-paused-for-api-budget');
  });
});
