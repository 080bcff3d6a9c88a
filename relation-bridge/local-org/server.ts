import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { handleAdmin } from './admin';
import { SalesforceFault } from './errors';
import { FaultInjector, type CommitEvent, type CommittedRecord, type RequestInfo } from './faults';
import { IdFactory } from './ids';
import { OAuthServer, type ConnectedApp, type HttpResult, type LoginHost } from './oauth';
import { LocalOrg, type CreateOrgOptions } from './org';
import { endpointName, handleRest, type RestResult } from './rest';
import { TokenStore } from './tokens';
import { isSupportedVersion, versionList } from './versions';
import { PACKAGE_APP_LABEL } from '../src/salesforce/package-names';

export interface LocalSalesforceOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  clientId?: string;
  clientSecret?: string;
  /** Callback URLs of the connected app; redirect_uri must equal one. Changeable later through `app`. */
  callbackUrls?: string[];
  appName?: string;
  /** Scopes the app may be granted. */
  scopes?: string[];
  pkceRequired?: boolean;
  /** Clock for token lifetimes, dates and index lag; default Date.now. */
  now?: () => number;
}

export type CommitListener = (event: CommitEvent) => void | Promise<void>;

/** URI plus headers beyond this are refused (414 or 431), as Salesforce's edge does. */
export const MAX_REQUEST_HEAD_BYTES = 16_384;
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const MAX_KEPT_COMMITS = 1000;

export const DEFAULT_CLIENT_ID = '3MVG9LocalOrgInboxBridgeConsumerKey0000000000000000000000000000000000000000';
export const DEFAULT_CLIENT_SECRET = 'LOCALORGCONSUMERSECRET0000000000000000000000000000000000000000000';

const LIMIT_HEADER = 'Sforce-Limit-Info';

/**
 * A Salesforce-compatible server for tests and the demo. One listener serves:
 * - `/services/oauth2/*` and `/id/*`: the production login host (login.salesforce.com);
 * - `/sandbox/...`: the sandbox login host (test.salesforce.com);
 * - `/orgs/<slug>/...`: each org's My Domain, which is also its REST instance;
 * - `/__local/...`: the control API (faults, switches, inspection).
 */
export class LocalSalesforce {
  readonly baseUrl: string;
  readonly productionLoginUrl: string;
  readonly sandboxLoginUrl: string;
  readonly app: ConnectedApp;
  readonly faults = new FaultInjector();
  readonly tokens = new TokenStore();
  readonly oauth: OAuthServer;
  private readonly ids = new IdFactory();
  private readonly orgList: LocalOrg[] = [];
  private readonly listeners = new Set<CommitListener>();
  private readonly commitLog: CommitEvent[] = [];
  private commitSeq = 0;
  private readonly sockets = new Set<Socket>();
  private closing: Promise<void> | null = null;
  readonly now: () => number;

  constructor(
    private readonly server: Server,
    baseUrl: string,
    options: LocalSalesforceOptions,
  ) {
    this.baseUrl = baseUrl;
    this.productionLoginUrl = baseUrl;
    this.sandboxLoginUrl = `${baseUrl}/sandbox`;
    this.now = options.now ?? Date.now;
    this.app = {
      name: options.appName ?? PACKAGE_APP_LABEL,
      clientId: options.clientId ?? DEFAULT_CLIENT_ID,
      clientSecret: options.clientSecret ?? DEFAULT_CLIENT_SECRET,
      callbackUrls: [...(options.callbackUrls ?? [])],
      scopes: [...(options.scopes ?? ['api', 'refresh_token', 'offline_access', 'id', 'openid', 'web'])],
      pkceRequired: options.pkceRequired ?? true,
    };
    this.oauth = new OAuthServer({
      app: this.app,
      tokens: this.tokens,
      now: () => this.now(),
      orgs: () => this.orgList,
      hostUrl: (host) => this.baseUrl + this.hostPath(host),
      hostPath: (host) => this.hostPath(host),
    });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      this.handle(request, response).catch((error: unknown) => this.crash(response, error));
    });
  }

  createOrg(options: CreateOrgOptions): LocalOrg {
    const org = new LocalOrg(
      {
        ids: this.ids,
        tokens: this.tokens,
        now: () => this.now(),
        instanceUrl: (slug) => `${this.baseUrl}/orgs/${slug}`,
        app: () => ({ clientId: this.app.clientId, name: this.app.name }),
      },
      options,
      this.uniqueSlug(options.name, options.sandbox ?? false),
    );
    this.orgList.push(org);
    return org;
  }

  orgs(): LocalOrg[] {
    return [...this.orgList];
  }

  /** By org id (15 or 18 characters), slug or name. */
  org(key: string): LocalOrg | undefined {
    return this.orgList.find((org) => org.orgId === key || org.orgId15 === key || org.slug === key || org.name === key);
  }

  /** The login URL for an org's environment: sandbox or production. */
  loginUrlFor(org: LocalOrg): string {
    return org.sandbox ? this.sandboxLoginUrl : this.productionLoginUrl;
  }

  /** Called after a write is committed and before its response is sent; may return a promise to wait for. */
  onRecordsCommitted(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  commits(afterSeq = 0): CommitEvent[] {
    return this.commitLog.filter((event) => event.seq > afterSeq);
  }

  /** Stops listening and ends every open, hanging or held request. */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.faults.close();
    this.closing = new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  private hostPath(host: LoginHost): string {
    if (host.kind === 'sandbox') return '/sandbox';
    if (host.kind === 'mydomain') return `/orgs/${host.org.slug}`;
    return '';
  }

  private uniqueSlug(name: string, sandbox: boolean): string {
    const base =
      name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, '') || 'org';
    const stem = sandbox ? `${base}--sandbox` : base;
    let slug = stem;
    for (let n = 2; this.orgList.some((org) => org.slug === slug); n++) slug = `${stem}-${n}`;
    return slug;
  }

  // ── HTTP ──────────────────────────────────────────────────────────────────────────

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const rawUrl = request.url ?? '/';
    const headBytes =
      Buffer.byteLength(rawUrl) + request.rawHeaders.reduce((sum, part) => sum + Buffer.byteLength(part) + 2, 0);
    if (Buffer.byteLength(rawUrl) > MAX_REQUEST_HEAD_BYTES) {
      return this.send(response, jsonResult(414, [{ errorCode: 'URI_TOO_LONG', message: 'URI Too Long' }]));
    }
    if (headBytes > MAX_REQUEST_HEAD_BYTES) {
      return this.send(
        response,
        jsonResult(431, [{ errorCode: 'REQUEST_HEADER_FIELDS_TOO_LARGE', message: 'Request Header Fields Too Large' }]),
      );
    }
    const url = new URL(rawUrl, this.baseUrl);
    const body = await readBody(request);
    if (body === 'aborted') return void response.destroy();
    if (body === 'too_large') {
      return this.send(
        response,
        jsonResult(413, [{ errorCode: 'REQUEST_TOO_LARGE', message: 'Request Entity Too Large' }]),
      );
    }
    const method = (request.method ?? 'GET').toUpperCase();
    if (url.pathname === '/__local' || url.pathname.startsWith('/__local/')) {
      return this.send(response, await handleAdmin(this, method, url, body));
    }

    const { host, rest } = this.splitHost(url.pathname);
    if (host === null) return this.send(response, jsonResult(404, notFoundBody()));
    const hostOrg = host.kind === 'mydomain' ? host.org : null;
    const info: RequestInfo = { method, path: url.pathname, orgId: hostOrg?.orgId ?? null };
    const canned = await this.faults.beforeRequest(info);
    if (canned === 'closed') return void response.destroy();
    if (canned !== null) {
      const headers = { ...canned.headers };
      if (hostOrg !== null && rest.startsWith('/services/data/v')) headers[LIMIT_HEADER] = limitInfo(hostOrg);
      const isText = typeof canned.body === 'string';
      return this.send(response, {
        status: canned.status,
        headers: { 'Content-Type': isText ? 'text/plain' : 'application/json;charset=UTF-8', ...headers },
        body: isText ? (canned.body as string) : JSON.stringify(canned.body),
      });
    }

    if (rest === '/services/oauth2/authorize' && method === 'GET') {
      return this.send(response, this.oauth.authorize(host, url.searchParams));
    }
    if (rest === '/services/oauth2/authorize/login' && method === 'POST') {
      return this.send(response, this.oauth.login(host, formOf(body)));
    }
    if (rest === '/services/oauth2/authorize/decision' && method === 'POST') {
      return this.send(response, this.oauth.decide(host, formOf(body)));
    }
    if (rest === '/services/oauth2/token') {
      if (method !== 'POST')
        return this.send(
          response,
          jsonResult(405, { error: 'invalid_request', error_description: 'must use HTTP POST' }),
        );
      return this.send(response, this.oauth.token(host, formOf(body)));
    }
    if (rest === '/services/oauth2/introspect') {
      if (method !== 'POST')
        return this.send(
          response,
          jsonResult(405, { error: 'invalid_request', error_description: 'must use HTTP POST' }),
        );
      return this.send(response, this.oauth.introspect(formOf(body), request.headers.authorization ?? null));
    }
    if (rest === '/services/oauth2/revoke') {
      const params = method === 'POST' ? formOf(body) : url.searchParams;
      return this.send(response, this.oauth.revoke(params));
    }
    const identity = /^\/id\/([A-Za-z0-9]{15,18})\/([A-Za-z0-9]{15,18})$/.exec(rest);
    if (identity !== null && method === 'GET') {
      return this.send(
        response,
        this.oauth.identity(identity[1] as string, identity[2] as string, bearerToken(request), url.searchParams),
      );
    }
    if (rest === '/services/data' || rest === '/services/data/') {
      return this.send(response, jsonResult(200, versionList()));
    }
    if (rest.startsWith('/services/data/')) {
      return this.serveRest(request, response, method, url, rest, body, hostOrg, info);
    }
    return this.send(response, jsonResult(404, notFoundBody()));
  }

  private splitHost(pathname: string): { host: LoginHost | null; rest: string } {
    if (pathname === '/sandbox' || pathname.startsWith('/sandbox/')) {
      return { host: { kind: 'sandbox' }, rest: pathname.slice('/sandbox'.length) };
    }
    const mine = /^\/orgs\/([^/]+)(\/.*)?$/.exec(pathname);
    if (mine !== null) {
      const org = this.orgList.find((candidate) => candidate.slug === mine[1]);
      return { host: org === undefined ? null : { kind: 'mydomain', org }, rest: mine[2] ?? '/' };
    }
    return { host: { kind: 'production' }, rest: pathname };
  }

  private async serveRest(
    request: IncomingMessage,
    response: ServerResponse,
    method: string,
    url: URL,
    rest: string,
    body: Buffer,
    hostOrg: LocalOrg | null,
    info: RequestInfo,
  ): Promise<void> {
    const match = /^\/services\/data\/v(\d+\.\d)(\/.*)?$/.exec(rest);
    const limitHeaders = (org: LocalOrg | null): Record<string, string> =>
      org === null ? {} : { [LIMIT_HEADER]: limitInfo(org) };
    if (match === null || !isSupportedVersion(match[1] as string)) {
      return this.send(response, jsonResult(404, notFoundBody(), limitHeaders(hostOrg)));
    }
    const version = match[1] as string;
    const path = (match[2] ?? '').replace(/\/$/, '');
    const session = this.oauth.session(bearerToken(request));
    if (hostOrg === null || session === null || session.org !== hostOrg) {
      return this.send(
        response,
        jsonResult(
          401,
          [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }],
          limitHeaders(hostOrg),
        ),
      );
    }
    const org = session.org;
    if (!org.settings.apiEnabled || !session.user.apiEnabled) {
      return this.send(
        response,
        jsonResult(
          403,
          [{ message: 'The REST API is not enabled for this Organization.', errorCode: 'API_DISABLED_FOR_ORG' }],
          limitHeaders(org),
        ),
      );
    }
    if (org.budgetExhausted()) {
      return this.send(
        response,
        jsonResult(
          403,
          [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }],
          limitHeaders(org),
        ),
      );
    }
    org.recordApiCall(endpointName(method, path));

    let parsedBody: unknown = null;
    if (body.length > 0 && method !== 'GET') {
      try {
        parsedBody = JSON.parse(body.toString('utf8'));
      } catch (error) {
        const detail = error instanceof Error ? error.message : 'invalid JSON';
        return this.send(
          response,
          jsonResult(
            400,
            [{ message: `Unexpected character: ${detail}`, errorCode: 'JSON_PARSER_ERROR' }],
            limitHeaders(org),
          ),
        );
      }
    }
    const written: CommittedRecord[] = [];
    let result: RestResult;
    try {
      result = handleRest(
        { org, user: session.user, faults: this.faults, written },
        { method, path, version, query: url.searchParams, headers: lowerCaseHeaders(request), body: parsedBody },
      );
    } catch (error) {
      org.store.rollbackTo(0);
      throw error;
    }
    org.store.commit();
    if (written.length > 0) {
      const event: CommitEvent = {
        seq: ++this.commitSeq,
        orgId: org.orgId,
        method,
        path: url.pathname,
        records: written,
        at: this.now(),
      };
      this.commitLog.push(event);
      if (this.commitLog.length > MAX_KEPT_COMMITS) this.commitLog.shift();
      for (const listener of this.listeners) await listener(event);
      if (!(await this.faults.afterCommit(info, event))) return void response.destroy();
    }
    const headers: Record<string, string> = { ...result.headers, ...limitHeaders(org) };
    if (result.status === 204 || result.body === undefined) {
      return this.send(response, { status: result.status, headers, body: '' });
    }
    return this.send(response, jsonResult(result.status, result.body, headers));
  }

  private send(response: ServerResponse, result: HttpResult): void {
    if (response.destroyed || response.headersSent) return;
    response.writeHead(result.status, result.headers);
    response.end(result.body);
  }

  private crash(response: ServerResponse, error: unknown): void {
    const message = error instanceof SalesforceFault ? error.message : 'An unexpected error occurred.';
    process.stderr.write(
      `local-org: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    this.send(response, jsonResult(500, [{ errorCode: 'UNKNOWN_EXCEPTION', message }]));
  }
}

function limitInfo(org: LocalOrg): string {
  const usage = org.apiUsage();
  return `api-usage=${usage.used}/${usage.max}`;
}

function notFoundBody() {
  return [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }];
}

function jsonResult(status: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    status,
    headers: { 'Content-Type': 'application/json;charset=UTF-8', ...headers },
    body: JSON.stringify(body),
  };
}

function bearerToken(request: IncomingMessage): string | null {
  const header = request.headers.authorization;
  if (header === undefined) return null;
  const match = /^(Bearer|OAuth)\s+(.+)$/i.exec(header.trim());
  return match === null ? null : (match[2] as string);
}

function lowerCaseHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function formOf(body: Buffer): URLSearchParams {
  return new URLSearchParams(body.toString('utf8'));
}

/** The whole body; 'aborted' when the client went away first. */
function readBody(request: IncomingMessage): Promise<Buffer | 'too_large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolve(size > MAX_BODY_BYTES ? 'too_large' : Buffer.concat(chunks)));
    request.on('error', () => resolve('aborted'));
    request.on('aborted', () => resolve('aborted'));
  });
}

export async function startLocalSalesforce(options: LocalSalesforceOptions = {}): Promise<LocalSalesforce> {
  // Heads up to 1 MiB are read, so that the 16,384-byte rule answers 414/431 like Salesforce.
  const server = createServer({ maxHeaderSize: 1024 * 1024, keepAliveTimeout: 5000 });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return new LocalSalesforce(server, `http://${shownHost}:${address.port}`, options);
}
