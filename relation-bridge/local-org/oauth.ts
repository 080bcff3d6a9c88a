import { createHash, createHmac, randomBytes } from 'node:crypto';
import { canonicalId } from './ids';
import type { LocalOrg, LocalUser } from './org';
import { approvalPage, errorPage, loginPage } from './pages';
import type { AccessToken, RefreshToken, TokenStore } from './tokens';

/**
 * The OAuth 2.0 web-server flow as Salesforce runs it: authorize (login page, then the
 * approval page), token (authorization_code with PKCE, refresh_token), revoke, and the
 * identity URL. Token responses carry no expires_in and a 13-digit ms issued_at.
 */

export type LoginHost = { kind: 'production' } | { kind: 'sandbox' } | { kind: 'mydomain'; org: LocalOrg };

export interface ConnectedApp {
  name: string;
  clientId: string;
  clientSecret: string;
  callbackUrls: string[];
  /** Scopes the app may be granted. */
  scopes: string[];
  pkceRequired: boolean;
}

export interface OAuthEnvironment {
  app: ConnectedApp;
  tokens: TokenStore;
  now(): number;
  orgs(): LocalOrg[];
  /** Absolute base URL of a login host, e.g. `http://127.0.0.1:4010/sandbox`. */
  hostUrl(host: LoginHost): string;
  /** Path prefix of a login host on this server, e.g. `/sandbox`. */
  hostPath(host: LoginHost): string;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

interface AuthorizeRequest {
  redirectUri: string;
  state: string | null;
  scopes: string[];
  codeChallenge: string | null;
}

interface LoginTransaction {
  id: string;
  host: LoginHost;
  request: AuthorizeRequest;
  user: { org: LocalOrg; user: LocalUser } | null;
  expiresAt: number;
}

export interface Session {
  access: AccessToken;
  org: LocalOrg;
  user: LocalUser;
}

const TRANSACTION_LIFETIME_MS = 30 * 60_000;
const REFRESH_SCOPES = ['refresh_token', 'offline_access'];
const PROMPTS = ['login', 'consent', 'select_account'];
const LOGIN_FAILED = 'ユーザー名とパスワードを確認してください。/ Please check your username and password.';

const JSON_HEADERS = {
  'Content-Type': 'application/json;charset=UTF-8',
  'Cache-Control': 'no-cache,must-revalidate,max-age=0,no-store,private',
};
const HTML_HEADERS = { 'Content-Type': 'text/html;charset=UTF-8', 'Cache-Control': 'no-store' };

function json(status: number, body: unknown): HttpResult {
  return { status, headers: { ...JSON_HEADERS }, body: JSON.stringify(body) };
}

function oauthError(error: string, description: string): HttpResult {
  return json(400, { error, error_description: description });
}

function html(status: number, body: string): HttpResult {
  return { status, headers: { ...HTML_HEADERS }, body };
}

function redirect(location: string): HttpResult {
  return { status: 302, headers: { Location: location, 'Cache-Control': 'no-store' }, body: '' };
}

function withParams(base: string, params: Record<string, string | null>): string {
  const url = new URL(base);
  for (const [name, value] of Object.entries(params)) if (value !== null) url.searchParams.set(name, value);
  return url.toString();
}

function base64url(buffer: Buffer): string {
  return buffer.toString('base64url');
}

/**
 * When the org's refresh-token policy ends a refresh token: null while it is valid until
 * revoked. "Immediately expire" ends it when it is issued; "expire after N" N after it was
 * issued; "expire if not used for N" N after its last use; with both, whichever comes first.
 */
export function refreshTokenExpiry(org: LocalOrg, refresh: RefreshToken): number | null {
  const { settings } = org;
  if (settings.refreshTokenExpiresImmediately) return refresh.issuedAt;
  const ends: number[] = [];
  if (settings.refreshTokenLifetimeMs !== null) ends.push(refresh.issuedAt + settings.refreshTokenLifetimeMs);
  if (settings.refreshTokenIdleLifetimeMs !== null) ends.push(refresh.lastUsedAt + settings.refreshTokenIdleLifetimeMs);
  return ends.length === 0 ? null : Math.min(...ends);
}

export class OAuthServer {
  private readonly transactions = new Map<string, LoginTransaction>();

  constructor(private readonly env: OAuthEnvironment) {}

  // ── authorize ─────────────────────────────────────────────────────────────────────

  authorize(host: LoginHost, query: URLSearchParams): HttpResult {
    const app = this.env.app;
    if (query.get('client_id') !== app.clientId) {
      return html(400, errorPage('invalid_client_id', 'client identifier invalid'));
    }
    const redirectUri = query.get('redirect_uri') ?? '';
    if (!app.callbackUrls.includes(redirectUri)) {
      return html(400, errorPage('redirect_uri_mismatch', 'redirect_uri must match configuration'));
    }
    const state = query.get('state');
    const fail = (error: string, description: string) =>
      redirect(withParams(redirectUri, { error, error_description: description, state }));
    if (query.get('response_type') !== 'code') {
      return fail('unsupported_response_type', 'response type not supported');
    }
    const requested = (query.get('scope') ?? '').split(/[\s+]+/).filter((scope) => scope !== '');
    const scopes = requested.length === 0 ? [...app.scopes] : requested;
    if (scopes.some((scope) => !app.scopes.includes(scope))) {
      return fail('invalid_scope', 'the requested scope is not allowed');
    }
    const prompts = (query.get('prompt') ?? '').split(/[\s+]+/).filter((prompt) => prompt !== '');
    if (prompts.some((prompt) => !PROMPTS.includes(prompt))) return fail('invalid_request', 'invalid prompt parameter');
    const method = query.get('code_challenge_method');
    if (method !== null && method !== 'S256') return fail('invalid_request', 'unsupported code challenge method');
    const codeChallenge = query.get('code_challenge');
    if (codeChallenge !== null && !/^[A-Za-z0-9_-]{43,128}$/.test(codeChallenge)) {
      return fail('invalid_request', 'invalid code challenge');
    }
    if (codeChallenge === null && app.pkceRequired) return fail('invalid_request', 'missing required code challenge');

    const transaction: LoginTransaction = {
      id: base64url(randomBytes(24)),
      host,
      request: { redirectUri, state, scopes, codeChallenge },
      user: null,
      expiresAt: this.env.now() + TRANSACTION_LIFETIME_MS,
    };
    this.transactions.set(transaction.id, transaction);
    return this.renderLogin(transaction, null, query.get('login_hint') ?? '');
  }

  private renderLogin(transaction: LoginTransaction, error: string | null, username: string): HttpResult {
    const host = transaction.host;
    const hostLabel =
      host.kind === 'sandbox'
        ? 'Sandbox (test.salesforce.com)'
        : host.kind === 'production'
          ? 'Production / Developer Edition (login.salesforce.com)'
          : `My Domain: ${host.org.name}`;
    return html(
      200,
      loginPage({
        action: `${this.env.hostPath(host)}/services/oauth2/authorize/login`,
        transaction: transaction.id,
        hostLabel,
        error,
        username,
      }),
    );
  }

  private transaction(host: LoginHost, id: string | null): LoginTransaction | null {
    const transaction = id === null ? undefined : this.transactions.get(id);
    if (transaction === undefined || transaction.expiresAt < this.env.now()) return null;
    if (this.env.hostPath(transaction.host) !== this.env.hostPath(host)) return null;
    return transaction;
  }

  login(host: LoginHost, form: URLSearchParams): HttpResult {
    const transaction = this.transaction(host, form.get('tx'));
    if (transaction === null) return html(400, errorPage('invalid_request', 'login session expired; start again'));
    const username = (form.get('username') ?? '').trim();
    const password = form.get('password') ?? '';
    const found = this.findUser(username);
    if (
      found === null ||
      found.user.password !== password ||
      !found.user.isActive ||
      found.user.frozen ||
      !this.hostServes(host, found.org)
    ) {
      return this.renderLogin(transaction, LOGIN_FAILED, username);
    }
    const { redirectUri, state } = transaction.request;
    if (!found.org.settings.appInstalled) {
      this.transactions.delete(transaction.id);
      return redirect(
        withParams(redirectUri, {
          error: 'invalid_client',
          error_description: 'app must be installed into org',
          state,
        }),
      );
    }
    transaction.user = found;
    return html(
      200,
      approvalPage({
        action: `${this.env.hostPath(host)}/services/oauth2/authorize/decision`,
        transaction: transaction.id,
        appName: this.env.app.name,
        username: found.user.username,
        scopes: transaction.request.scopes,
      }),
    );
  }

  decide(host: LoginHost, form: URLSearchParams): HttpResult {
    const transaction = this.transaction(host, form.get('tx'));
    if (transaction === null || transaction.user === null) {
      return html(400, errorPage('invalid_request', 'login session expired; start again'));
    }
    this.transactions.delete(transaction.id);
    const { redirectUri, state, scopes, codeChallenge } = transaction.request;
    if (form.get('decision') !== 'allow') {
      return redirect(
        withParams(redirectUri, { error: 'access_denied', error_description: 'end-user denied authorization', state }),
      );
    }
    const code = this.env.tokens.issueCode(
      {
        orgId: transaction.user.org.orgId,
        userId: transaction.user.user.id,
        clientId: this.env.app.clientId,
        redirectUri,
        scopes,
        codeChallenge,
        host: this.env.hostPath(host),
      },
      this.env.now(),
    );
    return redirect(withParams(redirectUri, { code: code.code, state }));
  }

  private findUser(username: string): { org: LocalOrg; user: LocalUser } | null {
    const wanted = username.toLowerCase();
    for (const org of this.env.orgs()) {
      for (const user of org.allUsers()) if (user.username.toLowerCase() === wanted) return { org, user };
    }
    return null;
  }

  /** Production users log in at login.*, sandbox users at test.*, anyone at their own My Domain. */
  private hostServes(host: LoginHost, org: LocalOrg): boolean {
    if (host.kind === 'mydomain') return host.org === org;
    return (host.kind === 'sandbox') === org.sandbox;
  }

  // ── token ─────────────────────────────────────────────────────────────────────────

  token(host: LoginHost, form: URLSearchParams): HttpResult {
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') return this.exchangeCode(host, form);
    if (grantType === 'refresh_token') return this.refresh(host, form);
    if (grantType === 'password') return oauthError('invalid_grant', 'authentication failure');
    return oauthError('unsupported_grant_type', 'grant type not supported');
  }

  private checkClient(form: URLSearchParams, secretRequired: boolean): HttpResult | null {
    const app = this.env.app;
    if (form.get('client_id') !== app.clientId) return oauthError('invalid_client_id', 'client identifier invalid');
    const secret = form.get('client_secret');
    if ((secret === null && secretRequired) || (secret !== null && secret !== app.clientSecret)) {
      return oauthError('invalid_client', 'invalid client credentials');
    }
    return null;
  }

  private exchangeCode(host: LoginHost, form: URLSearchParams): HttpResult {
    const clientError = this.checkClient(form, true);
    if (clientError !== null) return clientError;
    const code = this.env.tokens.findCode(form.get('code') ?? '');
    const now = this.env.now();
    if (code === undefined || code.used || code.host !== this.env.hostPath(host)) {
      return oauthError('invalid_grant', 'invalid authorization code');
    }
    if (code.expiresAt < now) return oauthError('invalid_grant', 'expired authorization code');
    if (form.get('redirect_uri') !== code.redirectUri) {
      return oauthError('redirect_uri_mismatch', 'redirect_uri must match configuration');
    }
    if (code.codeChallenge !== null) {
      const verifier = form.get('code_verifier');
      if (verifier === null || verifier === '') return oauthError('invalid_grant', 'invalid code verifier');
      const challenge = base64url(createHash('sha256').update(verifier).digest());
      if (challenge !== code.codeChallenge) return oauthError('invalid_request', 'invalid code verifier');
    }
    const org = this.env.orgs().find((candidate) => candidate.orgId === code.orgId);
    const user = org?.user(code.userId);
    if (org === undefined || user === undefined || !user.isActive) {
      return oauthError('invalid_grant', 'authentication failure');
    }
    code.used = true;
    const refresh = code.scopes.some((scope) => REFRESH_SCOPES.includes(scope))
      ? this.env.tokens.issueRefreshToken(
          { orgId: org.orgId, userId: user.id, clientId: code.clientId, scopes: code.scopes, host: code.host },
          now,
        )
      : null;
    return this.tokenResponse(host, org, user, code.scopes, refresh, refresh);
  }

  private refresh(host: LoginHost, form: URLSearchParams): HttpResult {
    if (form.get('client_id') !== this.env.app.clientId)
      return oauthError('invalid_client_id', 'client identifier invalid');
    const now = this.env.now();
    const refresh = this.env.tokens.findRefreshToken(form.get('refresh_token') ?? '');
    const expired = oauthError('invalid_grant', 'expired access/refresh token');
    if (refresh === undefined || refresh.revoked || refresh.clientId !== this.env.app.clientId) return expired;
    const org = this.env.orgs().find((candidate) => candidate.orgId === refresh.orgId);
    if (org === undefined) return expired;
    const clientError = this.checkClient(form, org.settings.requireSecretForRefresh);
    if (clientError !== null) return clientError;
    if (!this.refreshHostAccepts(host, refresh, org)) return expired;
    const expiresAt = refreshTokenExpiry(org, refresh);
    if (expiresAt !== null && expiresAt <= now) {
      this.env.tokens.revokeRefreshToken(refresh);
      return expired;
    }
    const user = org.user(refresh.userId);
    if (user === undefined || !user.isActive) return oauthError('invalid_grant', 'inactive user');
    // A frozen user cannot log in, and the token endpoint is a login [M: the description].
    if (user.frozen) return oauthError('invalid_grant', 'authentication failure');
    refresh.lastUsedAt = now;
    refresh.useCount += 1;
    const current = org.settings.refreshTokenRotation ? this.env.tokens.rotateRefreshToken(refresh, now) : refresh;
    return this.tokenResponse(
      host,
      org,
      user,
      refresh.scopes,
      current,
      org.settings.refreshTokenRotation ? current : null,
    );
  }

  /** A refresh token works at the login host that issued it and at the org's My Domain. */
  private refreshHostAccepts(host: LoginHost, refresh: RefreshToken, org: LocalOrg): boolean {
    if (host.kind === 'mydomain') return host.org === org;
    return this.hostServes(host, org) || refresh.host === this.env.hostPath(host);
  }

  private tokenResponse(
    host: LoginHost,
    org: LocalOrg,
    user: LocalUser,
    scopes: string[],
    refresh: RefreshToken | null,
    refreshToSend: RefreshToken | null,
  ): HttpResult {
    const now = this.env.now();
    const access = this.env.tokens.issueAccessToken(
      {
        orgId: org.orgId,
        userId: user.id,
        clientId: this.env.app.clientId,
        scopes,
        refreshToken: refresh?.token ?? null,
        host: this.env.hostPath(host),
        issuedAt: now,
        expiresAt: now + org.settings.accessTokenLifetimeMs,
      },
      org.orgId15,
    );
    const id = `${this.env.hostUrl(host)}/id/${org.orgId}/${user.id}`;
    const issuedAt = String(now);
    const body: Record<string, string> = { access_token: access.token };
    if (refreshToSend !== null) body.refresh_token = refreshToSend.token;
    body.signature = createHmac('sha256', this.env.app.clientSecret)
      .update(id + issuedAt)
      .digest('base64');
    body.scope = scopes.join(' ');
    if (scopes.includes('openid')) body.id_token = this.idToken(host, org, user, now);
    body.instance_url = org.instanceUrl;
    body.id = id;
    body.token_type = 'Bearer';
    body.issued_at = issuedAt;
    return json(200, body);
  }

  private idToken(host: LoginHost, org: LocalOrg, user: LocalUser, now: number): string {
    const header = base64url(Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })));
    const seconds = Math.floor(now / 1000);
    const claims = base64url(
      Buffer.from(
        JSON.stringify({
          iss: this.env.hostUrl(host),
          sub: `${this.env.hostUrl(host)}/id/${org.orgId}/${user.id}`,
          aud: this.env.app.clientId,
          iat: seconds,
          exp: seconds + 300,
          preferred_username: user.username,
          email: user.email,
        }),
      ),
    );
    const signature = base64url(createHmac('sha256', this.env.app.clientSecret).update(`${header}.${claims}`).digest());
    return `${header}.${claims}.${signature}`;
  }

  // ── introspect ────────────────────────────────────────────────────────────────────

  /**
   * Token introspection (RFC 7662), as Salesforce serves it to a connected app for its own
   * tokens: the client authenticates with its id and secret (in the body, or HTTP Basic).
   * An active refresh token carries `exp` when the org's refresh-token policy ends it [M: the
   * exp of a refresh token]; one the policy has already ended (immediately expire, expired
   * after N or unused for N), a revoked one, one of an inactive user, or one of another app
   * is `{"active": false}`. Free, like every OAuth endpoint: no API call is counted.
   */
  introspect(form: URLSearchParams, authorization: string | null): HttpResult {
    const app = this.env.app;
    let clientId = form.get('client_id');
    let clientSecret = form.get('client_secret');
    const basic = /^Basic\s+(.+)$/i.exec(authorization ?? '');
    if (basic !== null) {
      const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      clientId = decodeURIComponent(decoded.slice(0, colon));
      clientSecret = decodeURIComponent(decoded.slice(colon + 1));
    }
    if (clientId !== app.clientId || clientSecret !== app.clientSecret) {
      return json(401, { error: 'invalid_client', error_description: 'invalid client credentials' });
    }
    const now = this.env.now();
    const inactive = json(200, { active: false });
    const token = form.get('token') ?? '';
    const seconds = (ms: number) => Math.floor(ms / 1000);
    const refresh = this.env.tokens.findRefreshToken(token);
    if (refresh !== undefined) {
      const org = this.env.orgs().find((candidate) => candidate.orgId === refresh.orgId);
      const user = org?.user(refresh.userId);
      if (refresh.revoked || refresh.clientId !== app.clientId || org === undefined || user === undefined) {
        return inactive;
      }
      const expiresAt = refreshTokenExpiry(org, refresh);
      if (!user.isActive || (expiresAt !== null && expiresAt <= now)) return inactive;
      return json(200, {
        active: true,
        scope: refresh.scopes.join(' '),
        client_id: app.clientId,
        username: user.username,
        sub: `${this.env.hostUrl({ kind: 'production' })}/id/${org.orgId}/${user.id}`,
        token_type: 'refresh_token',
        ...(expiresAt === null ? {} : { exp: seconds(expiresAt) }),
        iat: seconds(refresh.issuedAt),
        nbf: seconds(refresh.issuedAt),
      });
    }
    const session = this.session(token);
    if (session === null || session.access.clientId !== app.clientId) return inactive;
    return json(200, {
      active: true,
      scope: session.access.scopes.join(' '),
      client_id: app.clientId,
      username: session.user.username,
      sub: `${this.hostUrlOf(session.access)}/id/${session.org.orgId}/${session.user.id}`,
      token_type: 'access_token',
      exp: seconds(session.access.expiresAt),
      iat: seconds(session.access.issuedAt),
      nbf: seconds(session.access.issuedAt),
    });
  }

  // ── revoke ────────────────────────────────────────────────────────────────────────

  revoke(params: URLSearchParams): HttpResult {
    const token = params.get('token') ?? '';
    const refresh = this.env.tokens.findRefreshToken(token);
    if (refresh !== undefined && !refresh.revoked) {
      this.env.tokens.revokeRefreshToken(refresh);
      return { status: 200, headers: {}, body: '' };
    }
    const access = this.env.tokens.findAccessToken(token);
    if (access !== undefined && !access.revoked) {
      this.env.tokens.revokeAccessToken(access);
      return { status: 200, headers: {}, body: '' };
    }
    return oauthError('invalid_token', 'invalid token');
  }

  // ── sessions and identity ─────────────────────────────────────────────────────────

  /** The live session behind an access token, or null when it is unknown, revoked or expired. */
  session(token: string | null): Session | null {
    if (token === null) return null;
    const access = this.env.tokens.findAccessToken(token);
    if (access === undefined || access.revoked || access.expiresAt <= this.env.now()) return null;
    const org = this.env.orgs().find((candidate) => candidate.orgId === access.orgId);
    const user = org?.user(access.userId);
    if (org === undefined || user === undefined || !user.isActive) return null;
    return { access, org, user };
  }

  identity(orgId: string, userId: string, token: string | null, query: URLSearchParams): HttpResult {
    const session = this.session(token ?? query.get('oauth_token'));
    if (session === null) return { status: 403, headers: { 'Content-Type': 'text/plain' }, body: 'Bad_OAuth_Token' };
    if (canonicalId(orgId) !== session.org.orgId || canonicalId(userId) !== session.user.id) {
      return { status: 403, headers: { 'Content-Type': 'text/plain' }, body: 'Bad_Id' };
    }
    const { org, user } = session;
    const version = query.get('version') ?? '{version}';
    const instance = org.instanceUrl;
    const urls = {
      enterprise: `${instance}/services/Soap/c/${version}/${org.orgId15}`,
      metadata: `${instance}/services/Soap/m/${version}/${org.orgId15}`,
      partner: `${instance}/services/Soap/u/${version}/${org.orgId15}`,
      rest: `${instance}/services/data/v${version}/`,
      sobjects: `${instance}/services/data/v${version}/sobjects/`,
      search: `${instance}/services/data/v${version}/search/`,
      query: `${instance}/services/data/v${version}/query/`,
      recent: `${instance}/services/data/v${version}/recent/`,
      tooling_soap: `${instance}/services/Soap/T/${version}/${org.orgId15}`,
      tooling_rest: `${instance}/services/data/v${version}/tooling/`,
      profile: `${instance}/${user.id}`,
      custom_domain: instance,
    };
    const record = org.store.get(user.id)?.fields ?? {};
    return json(200, {
      id: `${this.hostUrlOf(session.access)}/id/${org.orgId}/${user.id}`,
      asserted_user: true,
      user_id: user.id,
      organization_id: org.orgId,
      username: user.username,
      nick_name: user.username.split('@')[0],
      display_name: user.name,
      email: user.email,
      email_verified: true,
      first_name: record.FirstName ?? null,
      last_name: record.LastName ?? null,
      timezone: 'Asia/Tokyo',
      photos: { picture: `${instance}/profilephoto/005/F`, thumbnail: `${instance}/profilephoto/005/T` },
      active: user.isActive,
      user_type: 'STANDARD',
      language: user.languageLocaleKey,
      locale: user.languageLocaleKey === 'ja' ? 'ja_JP' : 'en_US',
      utcOffset: 32400000,
      urls,
      is_app_installed: true,
    });
  }

  private hostUrlOf(access: AccessToken): string {
    const org = this.env
      .orgs()
      .find((candidate) => this.env.hostPath({ kind: 'mydomain', org: candidate }) === access.host);
    if (org !== undefined) return this.env.hostUrl({ kind: 'mydomain', org });
    return this.env.hostUrl(
      access.host === this.env.hostPath({ kind: 'sandbox' }) ? { kind: 'sandbox' } : { kind: 'production' },
    );
  }
}
