import { DEFAULT_THROTTLE } from '../../src/auth/accounts';
import { callAs, signInOverHttp } from '../auth/session-client';
import { type Browser, launchBrowser, waitForTitle } from '../console/browser';
import { type BridgeHarness, startBridgeHarness } from '../helpers/bridge-harness';
import { answerOf } from './hostile';

/**
 * Sign-in under attack, through the whole bridge over HTTP: parallel guesses cannot outrun
 * the throttle (each attempt is counted before its password is checked), and the commonest
 * passwords cannot be chosen.
 */

const TARGET = { email: 'target@relation-demo.example.jp', name: '標的 花子', password: 'kawazu-sakura-0311' };
const OWNER = { email: 'owner@relation-demo.example.jp', name: '大和 太郎', password: 'owner-password-1' };

let harness: BridgeHarness;

beforeAll(async () => {
  harness = await startBridgeHarness();
  for (const user of [
    { ...OWNER, isOwner: true },
    { ...TARGET, isOwner: false },
  ]) {
    const created = await harness.admin('POST', '/users', user);
    if (created.status !== 201) throw new Error(`creating ${user.email} answered ${created.status}`);
  }
});

afterAll(async () => {
  await harness.close();
});

function signInRequest(email: string, password: string) {
  return fetch(`${harness.baseUrl}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
    signal: AbortSignal.timeout(120_000),
  }).then(answerOf);
}

describe('300 concurrent guesses against one account from one address', () => {
  it('evaluates at most the allowed number (401), refuses the rest with 429, and the right password among them does not get in', async () => {
    const guesses = Array.from({ length: 299 }, (_, index) => `wrong-guess-${String(index).padStart(4, '0')}`);
    const wrong = guesses.map((guess) => signInRequest(TARGET.email, guess));
    // The right password goes out while the wrong ones are in flight, once the store shows
    // that the pair's allowance is used up; an attempt made before that could be evaluated.
    const pairKey = `pair:${TARGET.email} 127.0.0.1`;
    for (;;) {
      const throttle = await harness.bridge.store.accounts.getThrottle(pairKey);
      if ((throttle?.failures ?? 0) >= DEFAULT_THROTTLE.pair.maxFailures) break;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const right = signInRequest(TARGET.email, TARGET.password);
    const answers = await Promise.all([...wrong, right]);
    const statuses = answers.map((answer) => answer.status);

    const evaluated = statuses.filter((status) => status === 401).length;
    expect(evaluated).toBeGreaterThanOrEqual(1);
    expect(evaluated).toBeLessThanOrEqual(DEFAULT_THROTTLE.pair.maxFailures);
    expect(statuses.filter((status) => status !== 401 && status !== 429)).toEqual([]);
    for (const answer of answers.filter((candidate) => candidate.status === 429)) {
      expect(['too_many_attempts', 'sign_in_busy']).toContain(answer.json.error);
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    const last = answers.at(-1);
    expect(last?.status).toBe(429);
    expect(answers.filter((answer) => answer.headers.get('set-cookie') !== null)).toEqual([]);
    process.stdout.write(`300 concurrent guesses: ${evaluated} evaluated (401), ${300 - evaluated} refused (429)\n`);

    // The pair stays locked afterwards, for the right password too.
    expect((await signInRequest(TARGET.email, TARGET.password)).status).toBe(429);
  }, 120_000);
});

describe('the commonest passwords', () => {
  const COMMON = [
    'Password1234',
    'qwerty123456',
    '1q2w3e4r5t6y',
    ' iloveyou1234 ',
    'ｐａｓｓｗｏｒｄ１２３４',
    'administrator',
  ];

  it('an owner cannot give a new user one of them: 400 naming body.password with the code common_password', async () => {
    for (const password of COMMON) {
      const created = await harness.admin('POST', '/users', {
        email: 'newcomer@relation-demo.example.jp',
        name: '新人',
        password,
      });
      expect({ password, status: created.status, details: created.body.details }).toEqual({
        password,
        status: 400,
        details: [expect.objectContaining({ path: 'body.password', code: 'common_password' })],
      });
    }
    const users = (await harness.admin('GET', '/users')).body.users as Array<{ email: string }>;
    expect(users.map((user) => user.email)).not.toContain('newcomer@relation-demo.example.jp');
    const fine = await harness.admin('POST', '/users', {
      email: 'newcomer@relation-demo.example.jp',
      name: '新人',
      password: 'shimanto-river-1983',
    });
    expect(fine.status).toBe(201);
  });

  it('nor reset a password to one, and nobody can change their own to one', async () => {
    const users = (await harness.admin('GET', '/users')).body.users as Array<{ id: string; email: string }>;
    const owner = users.find((user) => user.email === OWNER.email);
    const reset = await harness.admin('PATCH', `/users/${owner?.id}`, { password: 'PASSWORD123456' });
    expect(reset.status).toBe(400);
    expect(reset.body.details[0]).toMatchObject({ path: 'body.password', code: 'common_password' });

    const session = await signInOverHttp(harness.baseUrl, OWNER.email, OWNER.password);
    const change = await callAs(harness.baseUrl, session, 'PUT', '/session/password', {
      currentPassword: OWNER.password,
      newPassword: 'Qwertyuiop123',
    });
    expect(change.status).toBe(400);
    expect(change.body.details[0]).toMatchObject({ path: 'body.newPassword', code: 'common_password' });
    // Nothing changed: the old password still signs in.
    await signInOverHttp(harness.baseUrl, OWNER.email, OWNER.password);
  });

  describe('in the console', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchBrowser();
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
    });

    it('the refusal is said in Japanese, and in English after switching', async () => {
      const { page } = browser;
      await page.goto(`${harness.baseUrl}/console/sign-in`);
      await waitForTitle(page, /サインイン/);
      // The account locked by the guesses above: how long to wait, in minutes, not "899 秒".
      await page.getByLabel('メールアドレス').fill(TARGET.email);
      await page.getByLabel(/^パスワード$/).fill(TARGET.password);
      await page.getByRole('button', { name: /^サインイン$/ }).click();
      const locked = page.getByRole('alert').filter({ hasText: '一時的にロックしています' });
      await locked.waitFor();
      await expect(locked.textContent()).resolves.toMatch(/約 \d+ 分後にもう一度お試しください。/);
      await expect(locked.textContent()).resolves.not.toMatch(/秒/);

      await page.getByLabel('メールアドレス').fill(OWNER.email);
      await page.getByLabel(/^パスワード$/).fill(OWNER.password);
      await page.getByRole('button', { name: /^サインイン$/ }).click();
      await waitForTitle(page, /受信箱/);

      await page.goto(`${harness.baseUrl}/console/account`);
      await waitForTitle(page, /アカウント/);
      const tryCommon = async (current: RegExp, next: RegExp, save: RegExp) => {
        await page.getByLabel(current).fill(OWNER.password);
        await page.getByLabel(next).fill('Password1234');
        await page.getByRole('button', { name: save }).click();
      };
      await tryCommon(/現在のパスワード/, /新しいパスワード/, /保存/);
      await page.getByText('よく使われているパスワードのため使用できません', { exact: false }).waitFor();

      await page.getByRole('button', { name: '表示言語を英語に切り替える' }).click();
      await waitForTitle(page, /Account/);
      await tryCommon(/Current password/, /New password/, /Save/);
      await page.getByText('This is one of the most common passwords', { exact: false }).waitFor();
    }, 60_000);
  });
});
