import type { Page } from 'playwright-core';
import type { Link } from '../../src/core/types';
import { actionPayload, sendWebhook } from '../helpers/payloads';
import { type Browser, checkPage, launchBrowser, tabTo, waitForTitle } from './browser';
import { type ConsoleHarness, startConsoleHarness } from './console-harness';
import { apiAsBrowser, salesforceLogin, signIn } from './flows';

/**
 * Living with a link in the console: change in place with its history (by name), two tabs on
 * one link, needs re-authentication → re-authenticate → held actions synced, the error log
 * (unmatched and failed, channels, filters, details, retry of unmatched and failed actions),
 * the English switch, delete and re-create with the inbox's own last sync, and the API budget pause.
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
  await page.getByRole('button', { name: '連携設定のメニュー' }).click();
}

/** The value beside a term of the page's facts (e.g. 最終同期). */
const fact = (term: string) => page.locator('dl.facts dt', { hasText: term }).locator('+ dd').textContent();
const focusedText = () => page.evaluate<string>('document.activeElement?.textContent ?? ""');

describe('the console for a linked inbox', () => {
  it('changes the target and the default owner in place, and the history says who, when, from and to, by name', async () => {
    const authorizing = harness.seeded.authorizingUser;
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

    const row = page.getByRole('row').filter({ hasText: 'Yamato Trading' });
    await expect(row.textContent()).resolves.toContain(`${newOwner?.name} <${newOwner?.email}>`);

    await page.getByRole('link', { name: '変更履歴' }).click();
    await waitForTitle(page, '変更履歴');
    const changed = page.getByRole('row').filter({ hasText: '佐藤 花子 <hanako@relation-demo.example.jp>' });
    await expect(changed.textContent()).resolves.toContain('変更');
    // Before and after, each named; the owners by name and email, not by id.
    const target = changed.getByRole('listitem').filter({ hasText: '行動の作成先' });
    await expect(target.textContent()).resolves.toBe(
      '行動の作成先変更前取引先責任者とリード (取引先責任者を優先)変更後リード',
    );
    const owner = changed.getByRole('listitem').filter({ hasText: '既定の割り当て先' });
    await expect(owner.textContent()).resolves.toBe(
      `既定の割り当て先変更前${authorizing.name} <${authorizing.email}>変更後${newOwner?.name} <${newOwner?.email}>`,
    );
    expect(await changed.textContent()).not.toContain('→');
    await expect(page.getByRole('row').filter({ hasText: 'BRIDGE_ADMIN_TOKEN' }).textContent()).resolves.toContain(
      '作成',
    );
    await checkPage(page, 'operations-history');
  });

  it('two tabs on one link: a save made on what another tab has changed since is refused with a reload, and undoes nothing', async () => {
    await page.goto(ticketSync(`/${link.id}/edit`));
    await waitForTitle(page, '連携設定の変更');
    await expect(page.getByLabel('リード').isChecked()).resolves.toBe(true);
    // Meanwhile, in another tab: both targets.
    const version = (await harness.bridge.store.links.getLink(link.id))?.version;
    const other = await apiAsBrowser(browser.context, harness.baseUrl, 'PATCH', `/links/${link.id}`, {
      target: 'contact_then_lead',
      version,
    });
    expect(other.status).toBe(200);

    // This tab still shows リード alone, and changes it to 取引先責任者.
    await page.getByLabel('取引先責任者').check();
    await page.getByLabel('リード').uncheck();
    await page.getByRole('button', { name: '保存' }).click();
    const refused = page.getByRole('alert').filter({ hasText: '別のタブまたは別の管理者によって変更されています' });
    await refused.waitFor();
    await expect(focusedText()).resolves.toContain('別の場所で変更されています');
    expect(await harness.bridge.store.links.getLink(link.id)).toMatchObject({ target: 'contact_then_lead' });
    await checkPage(page, 'operations-changed-elsewhere');

    await refused.getByRole('button', { name: '最新の内容を読み込む' }).click();
    await waitForTitle(page, '連携設定の変更');
    await expect(page.getByLabel('取引先責任者').isChecked()).resolves.toBe(true);
    await expect(page.getByLabel('リード').isChecked()).resolves.toBe(true);
    await page.getByLabel('取引先責任者').uncheck();
    await page.getByRole('button', { name: '保存' }).click();
    await page.getByText('連携設定を変更しました。次の同期から反映されます。').waitFor();
    expect(await harness.bridge.store.links.getLink(link.id)).toMatchObject({ target: 'lead' });
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
    await page.getByText('同期できない行動は保留しています').waitFor();
    await checkPage(page, 'operations-needs-reauth');
    await page.getByRole('button', { name: '再認証', exact: true }).click();
    await salesforceLogin(page, harness.seeded.authorizingUser);
    await page.getByText('再認証が完了しました。保留中だった 1 件の行動を同期します。').waitFor();
    await checkPage(page, 'operations-reauthorized');

    await harness.bridge.engine.runUntilIdle();
    expect(await harness.bridge.store.actions.get(held.action.id)).toMatchObject({ state: 'synced' });
    expect(harness.eventsFor(held.action.id)).toHaveLength(1);
    expect((await harness.bridge.store.links.getLink(link.id))?.status).toBe('active');
  });

  it('the error log shows each action with its channel and reason, and its details; filters narrow it; a retry syncs a failed and an unmatched one', async () => {
    const removeRule = harness.org.addValidationRule({
      object: 'Event',
      name: 'No_Estimates',
      message: '件名に「見積」を含む行動は登録できません',
      when: (record) => String(record.Subject ?? '').includes('見積'),
    });
    const unmatched = actionPayload({ inboxId: '12', emails: ['nobody@unknown.example.jp'], title: 'ご相談' });
    const newcomer = actionPayload({ inboxId: '12', emails: ['newcomer@shinki.example.jp'], title: '初めてのご連絡' });
    const failed = actionPayload({
      inboxId: '12',
      emails: [leadEmail()],
      title: '見積のご依頼',
      direction: 'outbound',
      kind: 'message_sent',
    });
    const facebook = actionPayload({ inboxId: '12', channel: 'facebook', title: 'Facebook から' });
    for (const payload of [unmatched, newcomer, failed, facebook]) {
      expect((await sendWebhook(harness.baseUrl, payload)).status).toBe(202);
    }
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
    const rowOf = (payload: typeof unmatched) =>
      page.getByRole('row').filter({ hasText: `チケット ${payload.ticket.id}:` });
    const unmatchedRow = rowOf(unmatched);
    const newcomerRow = rowOf(newcomer);
    const failedRow = rowOf(failed);
    await expect(unmatchedRow.textContent()).resolves.toContain(
      '顧客のメールアドレス・電話番号に一致する取引先責任者・リードが見つかりませんでした。',
    );
    await expect(unmatchedRow.textContent()).resolves.toContain('メール・受信');
    await expect(failedRow.textContent()).resolves.toContain('Salesforce が行動の作成を拒否しました');
    await expect(failedRow.textContent()).resolves.toContain('メール・送信');
    await expect(failedRow.textContent()).resolves.toContain('メッセージの送信');
    await expect(failedRow.textContent()).resolves.toContain(
      'FIELD_CUSTOM_VALIDATION_EXCEPTION: 件名に「見積」を含む行動は登録できません',
    );
    // Which channel did not sync, not only that one did not.
    await expect(rowOf(facebook).textContent()).resolves.toContain('facebook (同期の対象外のチャネル)・受信');
    await expect(
      failedRow.getByRole('link', { name: `チケット ${failed.ticket.id}: 見積のご依頼` }).getAttribute('href'),
    ).resolves.toBe(failed.ticket.url);
    await checkPage(page, 'operations-error-log');

    // The details of one action: Salesforce's message, the attempts, and how its customer was matched.
    // By keyboard, as the rows' other links.
    await tabTo(page, `チケット ${failed.ticket.id} の行動の詳細`);
    await page.keyboard.press('Enter');
    await waitForTitle(page, '行動の詳細');
    await expect(fact('Salesforce のメッセージ')).resolves.toBe(
      'FIELD_CUSTOM_VALIDATION_EXCEPTION: 件名に「見積」を含む行動は登録できません',
    );
    await expect(fact('チャネル')).resolves.toBe('メール');
    await expect(fact('方向')).resolves.toBe('送信');
    // Refused by a validation rule: a permanent failure, never retried by itself.
    await expect(fact('一時的なエラーによる再試行の回数')).resolves.toBe('0');
    await expect(fact('照合の規則')).resolves.toContain('候補が見つかった最初の段階');
    await expect(fact('決め手')).resolves.toBe('リード (メールアドレス)');
    await expect(fact('選ばれたレコード')).resolves.toMatch(/^リード 00Q/);
    const chosenId = (await harness.bridge.store.actions.get(failed.action.id))?.match?.chosen?.id as string;
    const chosenRow = page
      .getByRole('table', { name: '照合で見つかった候補' })
      .getByRole('row')
      .filter({ has: page.getByRole('cell', { name: '選択', exact: true }) });
    await expect(chosenRow.textContent()).resolves.toContain(chosenId);
    await page.getByText('まだ同期されていません。').waitFor();
    await checkPage(page, 'operations-action-detail');
    await page.getByRole('link', { name: 'エラーログへ戻る' }).click();
    await waitForTitle(page, 'エラーログ');

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
    // A range that ends before it starts is said, not answered with nothing.
    await page.getByLabel('開始日').fill(today);
    await page.getByLabel('終了日').fill(yesterday);
    await page.getByRole('button', { name: '絞り込む' }).click();
    await page.getByRole('alert').filter({ hasText: '終了日は開始日以降の日付にしてください。' }).waitFor();
    await expect(focusedText()).resolves.toBe('終了日は開始日以降の日付にしてください。');
    expect(new URL(page.url()).searchParams.get('from')).toBeNull();
    await page.goto(ticketSync(`/log?from=${today}&state=failed`));
    await failedRow.waitFor();
    expect(await unmatchedRow.count()).toBe(0);

    removeRule();
    await failedRow.getByRole('button', { name: `チケット ${failed.ticket.id} の行動を再試行` }).click();
    const retried =
      '再試行を受け付けました。顧客を照合し直し、取引先責任者またはリードが見つかれば、まもなく同期されます。';
    await page.getByText(retried).waitFor();
    await harness.bridge.engine.runUntilIdle();
    const synced = await harness.bridge.store.actions.get(failed.action.id);
    expect(synced).toMatchObject({ state: 'synced' });
    expect(harness.eventsFor(failed.action.id)).toHaveLength(1);
    // Synced, its details lead to the Event in Salesforce.
    await page.goto(ticketSync(`/log/${failed.action.id}`));
    const event = page.getByRole('link', { name: `Salesforce で行動 ${synced?.sfEventId} を開く` });
    await expect(event.getAttribute('href')).resolves.toBe(
      `${harness.org.instanceUrl}/lightning/r/Event/${synced?.sfEventId}/view`,
    );

    // Unmatched actions are retried too: matched afresh, the customer's new Lead is found.
    await page.goto(ticketSync('/log'));
    await newcomerRow.getByRole('button', { name: `チケット ${newcomer.ticket.id} の行動を再試行` }).click();
    await page.getByText(retried).waitFor();
    await harness.bridge.engine.runUntilIdle();
    expect((await harness.bridge.store.actions.get(newcomer.action.id))?.state).toBe('unmatched');
    harness.org.addLead({
      LastName: '新規',
      FirstName: '花子',
      Company: '新規商事',
      Email: 'newcomer@shinki.example.jp',
    });
    await page.goto(ticketSync('/log'));
    await newcomerRow.getByRole('button', { name: `チケット ${newcomer.ticket.id} の行動を再試行` }).click();
    await page.getByText(retried).waitFor();
    await harness.bridge.engine.runUntilIdle();
    expect((await harness.bridge.store.actions.get(newcomer.action.id))?.state).toBe('synced');
    expect(harness.eventsFor(newcomer.action.id)).toHaveLength(1);
    await page.goto(ticketSync('/log'));
    await unmatchedRow.waitFor();
    expect(await failedRow.count()).toBe(0);
    expect(await newcomerRow.count()).toBe(0);
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
    const deleteItem = page.getByRole('button', { name: '削除', exact: true });
    await deleteItem.waitFor();
    // A click elsewhere closes the menu, as menus do.
    await page.getByRole('heading', { level: 1 }).click();
    await deleteItem.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: '連携設定のメニュー' }).click();
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
    // The inbox's own last sync stays what it was: its actions were synced, the link is gone.
    await expect(fact('最終同期')).resolves.not.toContain('まだありません');

    // A retry now: the inbox has no link, so the console says the action will not sync.
    await page.goto(ticketSync('/log'));
    const nobody = page.getByRole('row').filter({ hasText: 'nobody@unknown.example.jp' });
    await nobody.getByRole('button', { name: /の行動を再試行$/ }).click();
    await page.getByText('この受信箱には連携がないため、同期されません。').waitFor();

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

    // Another inbox linked to the same org, which has synced nothing: its own last sync is none yet.
    await harness.linkInbox({ inboxId: '14', inboxName: 'サポート窓口' });
    await page.goto(`${harness.consoleUrl}/inboxes/14/settings/ticket-sync`);
    await waitForTitle(page, 'チケット同期連携設定');
    await expect(fact('最終同期')).resolves.toContain('まだありません');
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
