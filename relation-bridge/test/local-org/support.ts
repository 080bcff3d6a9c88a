import { createHash, randomBytes } from 'node:crypto';
import {
  completeAuthorization,
  startLocalSalesforce,
  type LocalOrg,
  type LocalSalesforce,
  type LocalSalesforceOptions,
  type LocalUser,
} from '../../local-org';

/** Shared set-up for tests that talk to the local org over real HTTP. */

export const CALLBACK_URL = 'http://127.0.0.1:9/oauth/callback';
export const API_VERSION = '66.0';
export const PASSWORD = 'test-password';

export interface OrgFixture {
  sf: LocalSalesforce;
  org: LocalOrg;
  user: LocalUser;
}

export async function startOrg(
  options: LocalSalesforceOptions = {},
  orgOptions: Parameters<LocalSalesforce['createOrg']>[0] = { name: 'Acme' },
): Promise<OrgFixture> {
  const sf = await startLocalSalesforce({ callbackUrls: [CALLBACK_URL], ...options });
  const org = sf.createOrg(orgOptions);
  const user = org.addUser({
    username: `yamada@${org.slug}.example.com`,
    email: 'yamada@example.jp',
    lastName: '山田',
    firstName: '花子',
    password: PASSWORD,
  });
  return { sf, org, user };
}

export function newPkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface AuthorizeOptions {
  loginUrl?: string;
  scope?: string;
  state?: string;
  challenge?: string | null;
  redirectUri?: string;
  clientId?: string;
  extra?: Record<string, string>;
}

export function authorizeUrl(sf: LocalSalesforce, options: AuthorizeOptions = {}): string {
  const url = new URL(`${options.loginUrl ?? sf.productionLoginUrl}/services/oauth2/authorize`);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', options.clientId ?? sf.app.clientId);
  url.searchParams.set('redirect_uri', options.redirectUri ?? CALLBACK_URL);
  url.searchParams.set('scope', options.scope ?? 'api refresh_token');
  url.searchParams.set('state', options.state ?? 'state-123');
  if (options.challenge !== null && options.challenge !== undefined) {
    url.searchParams.set('code_challenge', options.challenge);
  }
  for (const [name, value] of Object.entries(options.extra ?? {})) url.searchParams.set(name, value);
  return url.toString();
}

/** Logs in and approves; returns the authorization code and the verifier that goes with it. */
export async function authorizeCode(
  sf: LocalSalesforce,
  user: LocalUser,
  options: AuthorizeOptions = {},
): Promise<{ code: string; verifier: string }> {
  const pkce = newPkce();
  const redirect = await completeAuthorization(authorizeUrl(sf, { challenge: pkce.challenge, ...options }), {
    username: user.username,
    password: user.password,
  });
  const code = redirect.searchParams.get('code');
  if (code === null) throw new Error(`authorization failed: ${redirect.toString()}`);
  return { code, verifier: pkce.verifier };
}

export async function postForm(url: string, form: Record<string, string>): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : JSON.parse(text) };
}

export async function exchangeCode(
  sf: LocalSalesforce,
  code: string,
  verifier: string,
  loginUrl = sf.productionLoginUrl,
): Promise<{ status: number; body: any }> {
  return postForm(`${loginUrl}/services/oauth2/token`, {
    grant_type: 'authorization_code',
    code,
    client_id: sf.app.clientId,
    client_secret: sf.app.clientSecret,
    redirect_uri: CALLBACK_URL,
    code_verifier: verifier,
  });
}

export async function refreshWith(
  sf: LocalSalesforce,
  refreshToken: string,
  loginUrl = sf.productionLoginUrl,
): Promise<{ status: number; body: any }> {
  return postForm(`${loginUrl}/services/oauth2/token`, {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: sf.app.clientId,
    client_secret: sf.app.clientSecret,
  });
}

/** A full authorization: the token endpoint's JSON body. */
export async function login(
  sf: LocalSalesforce,
  user: LocalUser,
  options: AuthorizeOptions = {},
): Promise<{ access_token: string; refresh_token?: string; instance_url: string; id: string; [key: string]: unknown }> {
  const { code, verifier } = await authorizeCode(sf, user, options);
  const { status, body } = await exchangeCode(sf, code, verifier, options.loginUrl ?? sf.productionLoginUrl);
  if (status !== 200) throw new Error(`token exchange failed: ${JSON.stringify(body)}`);
  return body;
}

export interface RestResponse {
  status: number;
  headers: Headers;
  body: any;
}

export async function rest(
  org: LocalOrg,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<RestResponse> {
  const url = path.startsWith('/services/')
    ? `${org.instanceUrl}${path}`
    : `${org.instanceUrl}/services/data/v${API_VERSION}${path}`;
  const response = await fetch(url, {
    method,
    headers: {
      ...(token === null ? {} : { Authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

export function query(org: LocalOrg, token: string, soql: string, headers: Record<string, string> = {}) {
  return rest(org, token, 'GET', `/query?q=${encodeURIComponent(soql)}`, undefined, headers);
}

/** A valid Event body for the org's namespace. */
export function eventFor(
  org: LocalOrg,
  whoId: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const ns = org.namespace === '' ? '' : `${org.namespace}__`;
  return {
    attributes: { type: 'Event' },
    Subject: 'メール: お問い合わせ',
    Description: '本文',
    ActivityDateTime: '2026-05-01T09:30:00Z',
    DurationInMinutes: 0,
    WhoId: whoId,
    [`${ns}Action_Id__c`]: `act_${randomBytes(6).toString('hex')}`,
    ...overrides,
  };
}
