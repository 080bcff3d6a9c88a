import type { Page } from 'playwright-core';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';
import { login } from '../local-org/support';
import { type Browser, checkPage, launchBrowser } from './browser';
import { type ConsoleHarness, startConsoleHarness } from './console-harness';
import { signIn } from './flows';

/**
 * The link check's warnings on the inbox's health, in the browser: a frozen authorising user,
 * a refresh token the org's policy ends in three days, and a user at Salesforce's five
 * approvals of the app, each said in Japanese and in English with when the admins were
 * e-mailed, at 1280 and 375 px; the language switch is also the language of the e-mails.
 */

const DAY = 24 * 60 * 60_000;
const LOCAL_CALLBACK = 'http://127.0.0.1:9/oauth/callback';

let harness: ConsoleHarness;
let sink: SmtpSink;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  sink = await startSmtpSink();
  harness = await startConsoleHarness({
    env: {
      NOTICE_SMTP_HOST: '127.0.0.1',
      NOTICE_SMTP_PORT: String(sink.port),
      NOTICE_SMTP_SECURITY: 'none',
      NOTICE_MAIL_FROM: 'Re:lation 連携 <bridge@relation-demo.example.jp>',
    },
  });
  const { org, local, seeded } = harness;
  const user = seeded.authorizingUser;
  org.settings.refreshTokenLifetimeMs = 3 * DAY;
  org.setUserManageUsers(user.id, true);
  await harness.linkInbox({ inboxId: '12', inboxName: '営業窓口' });
  local.app.callbackUrls.push(LOCAL_CALLBACK);
  for (let n = 0; n < 4; n += 1) await login(local, org.user(user.id)!);
  org.setUserFrozen(user.id, true);
  await harness.bridge.notices.runOnce();
  browser = await launchBrowser();
  page = browser.page;
  await signIn(page, harness, harness.inboxAdmin);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await harness?.close();
  await sink?.close();
});

describe('the link check’s warnings in the console', () => {
  it('shows each warning on the inbox’s health with when the admins were told, and what could be checked', async () => {
    const username = harness.seeded.authorizingUser.username;
    await page.goto(`${harness.consoleUrl}/inboxes/12/settings/ticket-sync`);
    const problems = page.locator('ul.problems');
    await problems.waitFor();
    await expect(problems.textContent()).resolves.toContain(
      `連携を認証した Salesforce ユーザー ${username} は凍結されています。`,
    );
    await expect(problems.textContent()).resolves.toMatch(
      new RegExp(`組織の更新トークンのポリシーにより、${username.replace(/\./g, '\\.')} の認証は .+ に失効します。`),
    );
    await expect(problems.textContent()).resolves.toContain(
      `${username} はこのアプリを 5 回承認しています (Salesforce が保持するのは 5 件まで)。もう一度承認すると、この連携が使っている最も古い承認`,
    );
    await expect(page.getByText('受信箱の管理者にメールで知らせました').count()).resolves.toBe(3);
    await page.getByText('認証の事前確認:').waitFor();
    await checkPage(page, 'warnings');

    // The e-mails went to the inbox's admin alone, one per warning.
    expect(sink.mails.map((mail) => mail.to)).toEqual(Array(3).fill([harness.inboxAdmin.email]));
  });

  it('says them in English after the switch, which also becomes the language of the admin’s e-mails', async () => {
    const username = harness.seeded.authorizingUser.username;
    await page.getByRole('button', { name: '表示言語を英語に切り替える' }).click();
    const problems = page.locator('ul.problems');
    await page.getByText(`The Salesforce user who authorised the link, ${username}, is frozen.`).waitFor();
    await expect(problems.textContent()).resolves.toContain(
      `The org's refresh token policy ends ${username}'s authorisation on`,
    );
    await expect(problems.textContent()).resolves.toContain("which is this link's.");
    await expect(page.getByText("The inbox's admins were told by e-mail").count()).resolves.toBe(3);
    await checkPage(page, 'warnings-en');
    // The switch saves the choice with the account in the background.
    let saved: string | undefined;
    for (let attempt = 0; attempt < 50 && saved !== 'en'; attempt += 1) {
      saved = (await harness.bridge.store.accounts.getUser(harness.inboxAdmin.id))?.language;
      if (saved !== 'en') await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(saved).toBe('en');
  });
});
