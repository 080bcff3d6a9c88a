import type { Page } from 'playwright-core';
import type { Link } from '../../src/core/types';
import { actionPayload, sendWebhook } from '../helpers/payloads';
import { type Browser, checkPage, launchBrowser, waitForTitle } from './browser';
import { type ConsoleHarness, startConsoleHarness } from './console-harness';
import { apiAsBrowser, signIn } from './flows';

/**
 * Who may do what, seen in the browser and checked against the API with the same session:
 * a member reads, a user without a role sees nothing, an owner manages inboxes, roles,
 * users and webhook secrets. Also sign-in, sign-out and the return to the page asked for.
 */

let harness: ConsoleHarness;
let browser: Browser;
let page: Page;
let link: Link;
let unmatchedActionId: string;

beforeAll(async () => {
  harness = await startConsoleHarness();
  link = await harness.linkInbox({ inboxId: '12', inboxName: '営業窓口' });
  const unmatched = actionPayload({ inboxId: '12', emails: ['nobody@unknown.example.jp'] });
  await sendWebhook(harness.baseUrl, unmatched);
  await harness.bridge.engine.runUntilIdle();
  unmatchedActionId = unmatched.action.id;
  browser = await launchBrowser();
  page = browser.page;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await harness?.close();
});

const ticketSync = (inboxId: string, rest = '') =>
  `${harness.consoleUrl}/inboxes/${inboxId}/settings/ticket-sync${rest}`;
const asBrowser = (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', route: string, body?: unknown) =>
  apiAsBrowser(browser.context, harness.baseUrl, method, route, body);

describe('roles in the console', () => {
  it('a member reads the inbox, its health and its log, and never sees or reaches the wizard', async () => {
    await signIn(page, harness, harness.member);
    const rows = page.getByRole('row');
    await expect(rows.filter({ hasText: '営業窓口' }).textContent()).resolves.toContain('メンバー');
    expect(await rows.filter({ hasText: '検証窓口' }).count()).toBe(0);
    await checkPage(page, 'roles-member-inboxes');

    await page.goto(ticketSync('12'));
    await waitForTitle(page, 'チケット同期連携設定');
    await page.getByText('連携設定の追加・変更・削除には、この受信箱の [管理者] の権限が必要です。').waitFor();
    await page.getByText('正常に同期しています').waitFor();
    expect(await page.getByRole('button', { name: '連携設定を追加' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: '連携設定のメニュー' }).count()).toBe(0);
    await checkPage(page, 'roles-member-ticket-sync');

    await page.goto(ticketSync('12', '/log'));
    await page.getByRole('row').filter({ hasText: 'nobody@unknown.example.jp' }).waitFor();
    expect(await page.getByRole('button', { name: /再試行/ }).count()).toBe(0);

    await page.goto(`${harness.consoleUrl}/inboxes/12/settings/members`);
    await waitForTitle(page, 'メンバーと権限');
    await page.getByText('メンバーの追加と権限の変更はオーナーが行います。').waitFor();
    expect(await page.getByRole('button', { name: '追加' }).count()).toBe(0);

    for (const step of ['/new', '/new/salesforce', `/new/finish?auth=${link.authId}`, `/${link.id}/edit`]) {
      await page.goto(ticketSync('12', step));
      await waitForTitle(page, 'このページを表示する権限がありません。');
      expect(await page.getByLabel('新しい認証を追加').count()).toBe(0);
    }
    await checkPage(page, 'roles-member-wizard-refused');

    const refusals = await Promise.all([
      asBrowser('POST', '/pending-links', { inboxId: '12', environment: 'production' }),
      asBrowser('POST', '/links/authorize', { inboxId: '12', environment: 'production', target: 'lead' }),
      asBrowser('POST', '/links', { inboxId: '12', authId: link.authId, target: 'lead' }),
      asBrowser('PATCH', `/links/${link.id}`, { target: 'lead' }),
      asBrowser('DELETE', `/links/${link.id}`),
      asBrowser('POST', `/links/${link.id}/reauthorize`),
      asBrowser('GET', `/links/${link.id}/salesforce-users`),
      asBrowser('POST', '/actions/retry', { actionIds: [unmatchedActionId] }),
      asBrowser('GET', '/salesforce-auths'),
      asBrowser('GET', '/users'),
      asBrowser('PUT', `/inboxes/12/members/${harness.member.id}`, { role: 'admin' }),
    ]);
    expect(refusals.map((answer) => [answer.status, answer.body.error])).toEqual(
      refusals.map(() => [403, 'forbidden']),
    );
    expect((await asBrowser('GET', '/inboxes/12/health')).status).toBe(200);
    expect((await asBrowser('GET', `/actions?inboxId=12`)).status).toBe(200);
    expect((await harness.bridge.store.links.getLink(link.id))?.status).toBe('active');
    expect((await harness.bridge.store.actions.get(unmatchedActionId))?.state).toBe('unmatched');
  });

  it('a user without a role sees no inbox and reaches none, in the console or the API', async () => {
    await signIn(page, harness, harness.outsider);
    await page.getByText('表示できる受信箱がありません。').waitFor();
    await checkPage(page, 'roles-outsider-inboxes');
    for (const path of [
      ticketSync('12'),
      ticketSync('12', '/new/salesforce'),
      `${harness.consoleUrl}/inboxes/12/settings`,
    ]) {
      await page.goto(path);
      await waitForTitle(page, 'このページを表示する権限がありません。');
    }
    await page.goto(`${harness.consoleUrl}/users`);
    await waitForTitle(page, 'このページを表示する権限がありません。');

    const refusals = await Promise.all([
      asBrowser('GET', '/inboxes/12'),
      asBrowser('GET', '/inboxes/12/health'),
      asBrowser('GET', '/inboxes/12/audit'),
      asBrowser('GET', `/links/${link.id}`),
      asBrowser('GET', '/actions?inboxId=12'),
      asBrowser('GET', '/actions'),
      asBrowser('GET', `/actions/${unmatchedActionId}`),
      asBrowser('POST', '/pending-links', { inboxId: '12', environment: 'production' }),
      asBrowser('GET', '/salesforce-auths'),
      asBrowser('GET', '/webhook-secrets'),
    ]);
    expect(refusals.map((answer) => answer.status)).toEqual(refusals.map(() => 403));
    expect((await asBrowser('GET', '/links')).body).toEqual({ links: [] });
    expect((await asBrowser('GET', '/inboxes')).body).toEqual({ inboxes: [], unregistered: [] });
  });

  it('an owner registers an inbox seen in webhooks, gives a role on it, adds a user and rotates the webhook secrets', async () => {
    const seen = actionPayload({ inboxId: '77', inboxName: '新規窓口' });
    await sendWebhook(harness.baseUrl, seen);
    await signIn(page, harness, harness.owner);
    const unregistered = page.getByRole('table', { name: '未登録の受信箱の一覧' });
    await unregistered.getByRole('row').filter({ hasText: '新規窓口' }).waitFor();
    await checkPage(page, 'roles-owner-inboxes');
    await unregistered.getByRole('button', { name: '受信箱 77 を登録' }).click();
    await expect(page.getByLabel('受信箱 ID').inputValue()).resolves.toBe('77');
    await page.getByRole('button', { name: '登録', exact: true }).click();
    await page.getByText('受信箱「新規窓口」を登録しました。').waitFor();
    expect(await harness.bridge.store.inboxes.get('77')).toMatchObject({ name: '新規窓口' });

    await page.goto(`${harness.consoleUrl}/inboxes/77/settings/members`);
    await waitForTitle(page, 'メンバーと権限');
    await page.getByLabel('ユーザー', { exact: true }).selectOption(harness.outsider.id);
    await page.getByLabel('権限', { exact: true }).selectOption('admin');
    await page.getByRole('button', { name: '追加' }).click();
    await page.getByText('権限を保存しました。').waitFor();
    await checkPage(page, 'roles-owner-members');
    expect(await harness.bridge.store.inboxes.listMembers('77')).toEqual([
      expect.objectContaining({ userId: harness.outsider.id, role: 'admin' }),
    ]);
    // Everyone who could be a member is one: the page says to add users first, and leads there.
    for (const account of [harness.inboxAdmin, harness.member]) {
      await asBrowser('PUT', `/inboxes/77/members/${account.id}`, { role: 'member' });
    }
    await page.reload();
    await page.getByText('メンバーに追加できるユーザーがいません。先にユーザーを追加してください。').waitFor();
    expect(await page.getByRole('button', { name: '追加' }).count()).toBe(0);
    await checkPage(page, 'roles-owner-members-none-to-add');
    await page.getByRole('link', { name: 'ユーザーを追加する' }).click();
    await waitForTitle(page, 'ユーザー');

    await page.getByLabel('名前').fill('高橋 美咲');
    await page.getByLabel('メールアドレス').fill('misaki@relation-demo.example.jp');
    await page.getByRole('button', { name: '追加' }).click();
    const generated = await page.getByText(/^初期パスワード \(この画面でのみ表示されます\): /).textContent();
    const password = (generated ?? '').split(': ')[1] as string;
    // The list shows the new user at once, without a reload.
    const misakiRow = page.getByRole('row').filter({ hasText: 'misaki@relation-demo.example.jp' });
    await misakiRow.waitFor();
    await checkPage(page, 'roles-owner-users');
    const signInAs = (email: string, secret: string) =>
      fetch(`${harness.baseUrl}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: secret }),
      });
    const signedIn = await signInAs('misaki@relation-demo.example.jp', password);
    expect(signedIn.status).toBe(200);
    const misakiCookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const misakiSession = () =>
      fetch(`${harness.baseUrl}/api/v1/session`, { headers: { cookie: misakiCookie } }).then((r) => r.status);
    expect(await misakiSession()).toBe(200);

    // The owner renames the user, makes them an owner and back, and resets their password.
    await misakiRow.getByRole('link', { name: 'ユーザー 高橋 美咲 を編集' }).click();
    await waitForTitle(page, 'ユーザーの編集: 高橋 美咲');
    await page.getByRole('textbox', { name: '名前' }).fill('高橋 美咲 (営業部)');
    await page.getByLabel(/^オーナーにする/).check();
    await page.getByRole('button', { name: '保存' }).click();
    await page.getByText('ユーザー 高橋 美咲 (営業部) を保存しました。').waitFor();
    const misaki = (await asBrowser('GET', '/users')).body.users.find(
      (user: { email: string }) => user.email === 'misaki@relation-demo.example.jp',
    );
    expect(misaki).toMatchObject({ name: '高橋 美咲 (営業部)', isOwner: true });
    await page.getByLabel(/^オーナーにする/).uncheck();
    await page.getByRole('button', { name: '保存' }).click();
    await page.getByText('ユーザー 高橋 美咲 (営業部) を保存しました。').waitFor();
    await page.getByRole('button', { name: 'パスワードをリセット' }).click();
    const reset = await page.getByText(/^新しいパスワード \(この画面でのみ表示されます\): /).textContent();
    const newPassword = (reset ?? '').split(': ')[1] as string;
    await checkPage(page, 'roles-owner-user-edit');
    expect(await misakiSession()).toBe(401);
    expect((await signInAs('misaki@relation-demo.example.jp', password)).status).toBe(401);
    expect((await signInAs('misaki@relation-demo.example.jp', newPassword)).status).toBe(200);

    // The last owner cannot stop being one: said, and the box goes back.
    await page.goto(`${harness.consoleUrl}/users/${harness.owner.id}`);
    await waitForTitle(page, `ユーザーの編集: ${harness.owner.name}`);
    await page.getByText('これはあなた自身のアカウントです。').waitFor();
    await page.getByLabel(/^オーナーにする/).uncheck();
    await page.getByRole('button', { name: '保存' }).click();
    await page.getByRole('alert').filter({ hasText: 'オーナーは少なくとも 1 人必要です。' }).waitFor();
    await expect(page.getByLabel(/^オーナーにする/).isChecked()).resolves.toBe(true);

    await page.goto(`${harness.consoleUrl}/webhook-secrets`);
    await waitForTitle(page, 'Webhook シークレット');
    await page.getByRole('cell', { name: '環境変数 WEBHOOK_SECRETS' }).waitFor();
    await page.getByLabel('ラベル').fill('2026 年のローテーション');
    await page.getByRole('button', { name: '追加' }).click();
    const shown = await page.getByText(/^新しいシークレット/).textContent();
    const secret = /whsec_\S+/.exec(shown ?? '')?.[0] as string;
    // The new secret is listed at once, next to the old one, and stays shown to be copied.
    await page.getByRole('row').filter({ hasText: '2026 年のローテーション' }).waitFor();
    await checkPage(page, 'roles-owner-webhook-secrets');
    const signedWithNew = actionPayload({ inboxId: '12' });
    expect((await sendWebhook(harness.baseUrl, signedWithNew, { secret })).status).toBe(202);

    // Revoked without a reload.
    await page.getByRole('button', { name: 'シークレット 2026 年のローテーション を無効にする' }).click();
    await page.getByText('シークレットを無効にしました。').waitFor();
    expect((await sendWebhook(harness.baseUrl, actionPayload({ inboxId: '12' }), { secret })).status).toBe(401);
  });

  it('a wrong password is refused with a clear message; signing out ends the session; sign-in returns to the page asked for', async () => {
    await page.context().clearCookies();
    await page.goto(`${harness.consoleUrl}/sign-in`);
    await page.getByLabel('メールアドレス').fill(harness.inboxAdmin.email);
    await page.getByLabel('パスワード').fill('not-the-password');
    await page.getByRole('button', { name: 'サインイン' }).click();
    await page.getByRole('alert').filter({ hasText: 'メールアドレスまたはパスワードが違います。' }).waitFor();
    await checkPage(page, 'sign-in-refused');

    await page.getByLabel('パスワード').fill(harness.inboxAdmin.password);
    await page.getByRole('button', { name: 'サインイン' }).click();
    await waitForTitle(page, '受信箱');
    await page.getByRole('button', { name: 'サインアウト' }).click();
    await page.getByText('サインアウトしました。').waitFor();
    expect((await asBrowser('GET', '/session')).status).toBe(401);

    await page.goto(ticketSync('12', '/log'));
    await waitForTitle(page, 'サインイン');
    await page.getByLabel('メールアドレス').fill(harness.inboxAdmin.email);
    await page.getByLabel('パスワード').fill(harness.inboxAdmin.password);
    await page.getByRole('button', { name: 'サインイン' }).click();
    await waitForTitle(page, 'エラーログ');
  });

  it('a user changes their own password on the account page; the old one no longer signs in', async () => {
    await page.getByRole('link', { name: 'アカウント' }).click();
    await waitForTitle(page, 'アカウント');
    // A wrong current password is said as such (the user is signed in), and a rule in Japanese alone.
    await page.getByLabel('現在のパスワード').fill('not-the-password');
    await page.getByLabel('新しいパスワード (12 文字以上)').fill('a-new-password-2026');
    await page.getByRole('button', { name: '保存' }).click();
    await page.getByRole('alert').filter({ hasText: '現在のパスワードが違います。' }).waitFor();
    expect(await page.getByText('メールアドレスまたはパスワードが違います').count()).toBe(0);
    await page.getByLabel('現在のパスワード').fill(harness.inboxAdmin.password);
    await page.getByLabel('新しいパスワード (12 文字以上)').fill('short');
    await page.getByRole('button', { name: '保存' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: '入力内容を確認してください。新しいパスワード: 12 文字以上で入力してください。' })
      .waitFor();
    expect(await page.getByText(/body\.|characters/).count()).toBe(0);
    await page.getByLabel('現在のパスワード').fill(harness.inboxAdmin.password);
    await page.getByLabel('新しいパスワード (12 文字以上)').fill('a-new-password-2026');
    await page.getByRole('button', { name: '保存' }).click();
    await page.getByText('パスワードを変更しました。').waitFor();
    await checkPage(page, 'roles-account');
    const old = await fetch(`${harness.baseUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: harness.inboxAdmin.email, password: harness.inboxAdmin.password }),
    });
    expect(old.status).toBe(401);
    expect((await asBrowser('GET', '/session')).status).toBe(200);
  });
});
