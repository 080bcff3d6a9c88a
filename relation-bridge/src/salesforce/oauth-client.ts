import { createHash, randomBytes } from 'node:crypto';
import { BridgeError } from '../core/errors';
import { isLoopbackHost, isTrustedSalesforceUrl, localOrgOrigins } from './domains';
import { classifyOAuthError, redirectRefused, transportError } from './errors';
import { SalesforceHttp, type HttpResponse } from './http';
import type { Identity, TokenResponse } from './types';

/**
 * The OAuth 2.0 web-server flow with PKCE against a Salesforce login host (production,
 * sandbox or a My Domain): authorize URL, code exchange, refresh, revoke, identity.
 * Login hosts are passed per call because each link has its own.
 *
 * Nothing here follows a redirect (a 307 would re-send the client secret elsewhere), and a
 * token response is accepted only when its `instance_url` and `id` are https URLs on
 * Salesforce's domains (domains.ts), or on exactly the local org's configured origin.
 */

export interface OAuthClientOptions {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** Space-separated or a list; `refresh_token` (or `offline_access`) is needed for a refresh token. */
  scopes: string | readonly string[];
  timeoutMs: number;
  /** The HTTP transport (proxy settings), shared with the REST clients; a direct one when absent. */
  http?: SalesforceHttp;
  /**
   * The configured login URLs (production, sandbox). Those on loopback are the local org,
   * whose origin alone is then trusted besides Salesforce's domains. When absent, only the
   * origin of the login URL of each call is, when that is on loopback.
   */
  loginUrls?: readonly string[];
}

/** What introspection says of a token; times in ms epoch, null when Salesforce gives none. */
export interface Introspection {
  active: boolean;
  /** When the token ends (for a refresh token: by the org's refresh-token policy); null: no end is set. */
  expiresAt: number | null;
  issuedAt: number | null;
}

export interface Pkce {
  verifier: string;
  challenge: string;
}

export interface AuthorizeUrlOptions {
  state: string;
  codeChallenge: string;
  /** e.g. `login consent` to force a fresh login and approval. */
  prompt?: string;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function stringField(body: Record<string, unknown>, name: string): string | null {
  const value = body[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Salesforce's issued_at is a ms string in practice; seconds are accepted too. */
function issuedAtMs(value: unknown): number {
  const number = typeof value === 'string' || typeof value === 'number' ? Number(value) : NaN;
  if (!Number.isFinite(number) || number <= 0) return Date.now();
  return number < 1e12 ? number * 1000 : number;
}

export class OAuthClient {
  /** The transport, for the REST clients that work with this client's tokens. */
  readonly http: SalesforceHttp;
  private readonly scope: string;
  private readonly configuredLocalOrigins: string[] | null;
  /** Without configured login URLs: the loopback origins of the login URLs this client has used. */
  private readonly usedLocalOrigins = new Set<string>();

  constructor(private readonly options: OAuthClientOptions) {
    this.scope = (typeof options.scopes === 'string' ? options.scopes.split(/\s+/) : [...options.scopes])
      .filter((scope) => scope !== '')
      .join(' ');
    this.http = options.http ?? new SalesforceHttp();
    this.configuredLocalOrigins = options.loginUrls === undefined ? null : localOrgOrigins(options.loginUrls);
  }

  /** A fresh PKCE pair: a 43-character verifier and its S256 challenge. */
  createPkce(): Pkce {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    return { verifier, challenge };
  }

  authorizeUrl(loginUrl: string, options: AuthorizeUrlOptions): string {
    const url = new URL(`${trimSlash(loginUrl)}/services/oauth2/authorize`);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.options.clientId);
    url.searchParams.set('redirect_uri', this.options.redirectUri);
    if (this.scope !== '') url.searchParams.set('scope', this.scope);
    url.searchParams.set('state', options.state);
    url.searchParams.set('code_challenge', options.codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
    if (options.prompt !== undefined && options.prompt !== '') url.searchParams.set('prompt', options.prompt);
    return url.toString();
  }

  exchangeCode(loginUrl: string, code: string, verifier: string): Promise<TokenResponse> {
    return this.tokenRequest(loginUrl, 'the authorization code exchange', {
      grant_type: 'authorization_code',
      code,
      client_id: this.options.clientId,
      client_secret: this.options.clientSecret,
      redirect_uri: this.options.redirectUri,
      code_verifier: verifier,
    });
  }

  refresh(loginUrl: string, refreshToken: string): Promise<TokenResponse> {
    return this.tokenRequest(loginUrl, 'the token refresh', {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: this.options.clientId,
      client_secret: this.options.clientSecret,
    });
  }

  /**
   * Revokes a refresh token (and the access tokens issued from it) or an access token.
   * A token Salesforce no longer knows counts as revoked.
   */
  async revoke(loginUrl: string, token: string): Promise<void> {
    const { status, body } = await this.post(`${trimSlash(loginUrl)}/services/oauth2/revoke`, 'the token revocation', {
      token,
    });
    if (status === 200) return;
    if (isRedirect(status)) throw redirectRefused(status, 'the token revocation');
    const error = classifyOAuthError(status, body);
    if (error.code === 'invalid_token') return;
    throw error;
  }

  /**
   * Token introspection (RFC 7662) of one of this app's tokens: whether Salesforce still
   * takes it and, when the org's refresh-token policy ends it, when (`exp`). An OAuth call,
   * so not counted against the org's API requests.
   */
  async introspect(loginUrl: string, token: string, hint: 'refresh_token' | 'access_token'): Promise<Introspection> {
    const { status, body } = await this.post(
      `${trimSlash(loginUrl)}/services/oauth2/introspect`,
      'the token introspection',
      {
        token,
        token_type_hint: hint,
        client_id: this.options.clientId,
        client_secret: this.options.clientSecret,
      },
    );
    if (isRedirect(status)) throw redirectRefused(status, 'the token introspection');
    if (status !== 200) throw classifyOAuthError(status, body);
    if (body === null || typeof body !== 'object' || typeof (body as { active?: unknown }).active !== 'boolean') {
      throw malformed('introspection');
    }
    const record = body as Record<string, unknown>;
    const seconds = (name: string) =>
      typeof record[name] === 'number' && Number.isFinite(record[name]) && record[name] > 0
        ? record[name] * 1000
        : null;
    return { active: record.active === true, expiresAt: seconds('exp'), issuedAt: seconds('iat') };
  }

  async identity(identityUrl: string, accessToken: string): Promise<Identity> {
    if (!isTrustedSalesforceUrl(identityUrl, this.localOriginsFor(null))) throw untrusted('id');
    let response: HttpResponse;
    try {
      response = await this.http.send({
        method: 'GET',
        url: identityUrl,
        headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' },
        timeoutMs: this.options.timeoutMs,
      });
    } catch (error) {
      throw transportError(error, 'the identity request', this.options.timeoutMs);
    }
    if (isRedirect(response.status)) throw redirectRefused(response.status, 'the identity request');
    const text = response.text;
    const body = parseJson(text);
    if (response.status === 401 || response.status === 403) {
      throw new BridgeError(
        'needs_reauth',
        'Salesforce refused the access token at the identity URL; authorise again',
        {
          code: typeof body === 'string' && body.trim() !== '' ? body.trim().slice(0, 100) : `HTTP_${response.status}`,
          remoteStatus: response.status,
        },
      );
    }
    if (response.status !== 200) throw classifyOAuthError(response.status, body);
    if (body === null || typeof body !== 'object') throw malformed('identity');
    const record = body as Record<string, unknown>;
    const userId = stringField(record, 'user_id');
    const organizationId = stringField(record, 'organization_id');
    const username = stringField(record, 'username');
    if (userId === null || organizationId === null || username === null) throw malformed('identity');
    return {
      userId,
      organizationId,
      username,
      displayName: stringField(record, 'display_name'),
      email: stringField(record, 'email'),
      language: stringField(record, 'language'),
    };
  }

  private async tokenRequest(loginUrl: string, what: string, form: Record<string, string>): Promise<TokenResponse> {
    const { status, body } = await this.post(`${trimSlash(loginUrl)}/services/oauth2/token`, what, form);
    if (isRedirect(status)) throw redirectRefused(status, what);
    if (status !== 200) throw classifyOAuthError(status, body);
    if (body === null || typeof body !== 'object') throw malformed('token');
    const record = body as Record<string, unknown>;
    const accessToken = stringField(record, 'access_token');
    const instanceUrl = stringField(record, 'instance_url');
    const identityUrl = stringField(record, 'id');
    if (accessToken === null || instanceUrl === null || identityUrl === null) throw malformed('token');
    const refreshToken = stringField(record, 'refresh_token');
    const localOrigins = this.localOriginsFor(loginUrl);
    for (const [field, value] of [
      ['instance_url', instanceUrl],
      ['id', identityUrl],
    ] as const) {
      if (!isTrustedSalesforceUrl(value, localOrigins)) {
        // Whatever answered was not the org we expect: the grant it made is not kept alive.
        await this.revokeQuietly(loginUrl, refreshToken ?? accessToken);
        throw untrusted(field);
      }
    }
    return {
      accessToken,
      refreshToken,
      instanceUrl: trimSlash(instanceUrl),
      identityUrl,
      scope: stringField(record, 'scope') ?? '',
      issuedAt: issuedAtMs(record.issued_at),
    };
  }

  /**
   * The loopback origins trusted besides Salesforce's domains: the configured local org's,
   * or, without a configuration, those of the login URLs this client was given (on loopback).
   */
  private localOriginsFor(loginUrl: string | null): string[] {
    if (this.configuredLocalOrigins !== null) return this.configuredLocalOrigins;
    if (loginUrl !== null) {
      try {
        const url = new URL(loginUrl);
        if (isLoopbackHost(url.hostname)) this.usedLocalOrigins.add(url.origin);
      } catch {
        // Not a URL: no origin to trust.
      }
    }
    return [...this.usedLocalOrigins];
  }

  private async revokeQuietly(loginUrl: string, token: string): Promise<void> {
    try {
      await this.revoke(loginUrl, token);
    } catch {
      // Best effort: the refusal below is what matters.
    }
  }

  private async post(
    url: string,
    what: string,
    form: Record<string, string>,
  ): Promise<{ status: number; body: unknown }> {
    let response: HttpResponse;
    try {
      response = await this.http.send({
        method: 'POST',
        url,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams(form).toString(),
        timeoutMs: this.options.timeoutMs,
      });
    } catch (error) {
      throw transportError(error, what, this.options.timeoutMs);
    }
    return { status: response.status, body: parseJson(response.text) };
  }
}

function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

function untrusted(field: 'instance_url' | 'id'): BridgeError {
  return new BridgeError(
    'needs_reauth',
    `Salesforce's token response named an ${field} outside Salesforce's domains; the bridge does not use it. ` +
      'Check the login URL of the link and authorise again',
    { code: 'UNTRUSTED_TOKEN_RESPONSE', details: { field } },
  );
}

function malformed(what: string): BridgeError {
  return new BridgeError('retryable', `Salesforce sent a ${what} response the bridge cannot read`, {
    code: 'MALFORMED_RESPONSE',
  });
}
