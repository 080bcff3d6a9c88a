/** A console session driven over HTTP as the browser would, for API-level tests. */

export interface SessionClient {
  cookie: string;
  csrfToken: string;
  setCookie: string;
}

export async function signInOverHttp(baseUrl: string, email: string, password: string): Promise<SessionClient> {
  const response = await fetch(`${baseUrl}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (response.status !== 200) throw new Error(`sign-in answered ${response.status}: ${await response.text()}`);
  const setCookie = response.headers.get('set-cookie') ?? '';
  const body = (await response.json()) as { csrfToken: string };
  return { cookie: setCookie.split(';')[0] as string, csrfToken: body.csrfToken, setCookie };
}

export async function callAs(
  baseUrl: string,
  session: SessionClient | null,
  method: string,
  route: string,
  body?: unknown,
  options: { csrfToken?: string | null } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (session !== null) headers.cookie = session.cookie;
  const csrf = options.csrfToken === undefined ? session?.csrfToken : options.csrfToken;
  if (csrf != null) headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}/api/v1${route}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : JSON.parse(text), headers: response.headers };
}
