import type { BrowserContext, Page } from 'playwright-core';
import type { ConsoleAccount, ConsoleHarness } from './console-harness';
import { waitForTitle } from './browser';

/** Signs in through the console's sign-in page (signing out whoever was signed in). */
export async function signIn(page: Page, harness: ConsoleHarness, account: ConsoleAccount): Promise<void> {
  await page.context().clearCookies();
  await page.goto(`${harness.consoleUrl}/sign-in`);
  await waitForTitle(page, /サインイン|Sign in/);
  await page.getByLabel(/メールアドレス|Email/).fill(account.email);
  await page.getByLabel(/^(パスワード|Password)$/).fill(account.password);
  await page.getByRole('button', { name: /^(サインイン|Sign in)$/ }).click();
  await waitForTitle(page, /受信箱|Inboxes/);
}

/** The local org's login and allow pages, as a person fills them in. */
export async function salesforceLogin(
  page: Page,
  credentials: { username: string; password: string },
  decision: 'allow' | 'deny' = 'allow',
): Promise<void> {
  await page.getByLabel('ユーザー名 / Username').fill(credentials.username);
  await page.getByLabel('パスワード / Password').fill(credentials.password);
  await page.getByRole('button', { name: 'ログイン / Log In' }).click();
  await page.getByRole('heading', { name: 'アクセスを許可しますか? / Allow access?' }).waitFor();
  await page.getByRole('button', { name: decision === 'allow' ? '許可 / Allow' : '拒否 / Deny' }).click();
}

/** A session-authenticated call to the admin API from the browser's cookies, with the session's CSRF token. */
export async function apiAsBrowser(
  context: BrowserContext,
  baseUrl: string,
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  route: string,
  body?: unknown,
  options: { csrf?: boolean } = {},
): Promise<{ status: number; body: any }> {
  const session = await context.request.get(`${baseUrl}/api/v1/session`);
  const csrfToken = session.ok() ? ((await session.json()) as { csrfToken: string }).csrfToken : '';
  const response = await context.request.fetch(`${baseUrl}/api/v1${route}`, {
    method,
    headers: {
      ...(options.csrf === false ? {} : { 'x-csrf-token': csrfToken }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { data: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status(), body: text === '' ? null : JSON.parse(text) };
}
