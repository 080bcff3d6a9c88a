/**
 * Drives the authorize pages over HTTP the way a person in a browser would: open the
 * authorize URL, submit the login form, press 許可/Allow (or 拒否/Deny). Returns the URL the
 * org redirected to (the bridge's callback with `code` and `state`, or with `error`).
 */

export interface LoginCredentials {
  username: string;
  password: string;
}

export class LoginFlowError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly page: string,
  ) {
    super(message);
    this.name = 'LoginFlowError';
  }
}

function formOf(page: string): { action: string; transaction: string } | null {
  const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
  const transaction = /name="tx" value="([^"]+)"/.exec(page)?.[1];
  if (action === undefined || transaction === undefined) return null;
  return { action: decodeEntities(action), transaction: decodeEntities(transaction) };
}

function decodeEntities(text: string): string {
  return text.replace(/&#(\d+);/g, (_whole, code: string) => String.fromCharCode(Number(code)));
}

async function post(url: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
}

async function redirectOrPage(response: Response): Promise<{ location: string } | { page: string }> {
  const location = response.headers.get('location');
  if (response.status >= 300 && response.status < 400 && location !== null) return { location };
  const page = await response.text();
  if (response.status !== 200)
    throw new LoginFlowError(`authorize page answered ${response.status}`, response.status, page);
  return { page };
}

export async function completeAuthorization(
  authorizeUrl: string,
  credentials: LoginCredentials,
  decision: 'allow' | 'deny' = 'allow',
): Promise<URL> {
  const start = await redirectOrPage(await fetch(authorizeUrl, { redirect: 'manual' }));
  if ('location' in start) return new URL(start.location);
  const loginForm = formOf(start.page);
  if (loginForm === null) throw new LoginFlowError('no login form on the authorize page', 200, start.page);
  const origin = new URL(authorizeUrl).origin;
  const afterLogin = await redirectOrPage(
    await post(new URL(loginForm.action, origin).toString(), {
      tx: loginForm.transaction,
      username: credentials.username,
      password: credentials.password,
    }),
  );
  if ('location' in afterLogin) return new URL(afterLogin.location);
  if (afterLogin.page.includes('role="alert"')) throw new LoginFlowError('login refused', 200, afterLogin.page);
  const approvalForm = formOf(afterLogin.page);
  if (approvalForm === null) throw new LoginFlowError('no approval form after login', 200, afterLogin.page);
  const afterDecision = await redirectOrPage(
    await post(new URL(approvalForm.action, origin).toString(), { tx: approvalForm.transaction, decision }),
  );
  if ('location' in afterDecision) return new URL(afterDecision.location);
  throw new LoginFlowError('the approval did not redirect', 200, afterDecision.page);
}
