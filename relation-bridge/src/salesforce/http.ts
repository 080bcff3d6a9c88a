import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type Socket } from 'node:net';
import tls from 'node:tls';

/**
 * The one way the bridge talks HTTP to Salesforce (OAuth and REST). It never follows a
 * redirect: a 3xx comes back to the caller as it is, so that a token, a client secret or a
 * bearer header never travels to a host the bridge did not choose. Outbound calls go
 * through the configured proxy (HTTPS_PROXY, with NO_PROXY exceptions) as a CONNECT
 * tunnel, so the proxy sees host names, never the requests.
 */

export interface ProxySettings {
  /** `http://[user:password@]host:port` of a CONNECT proxy; null: connect directly. */
  httpsProxy: string | null;
  /** NO_PROXY entries: host names (a leading `.` or `*.` for subdomains), `host:port`, IPs, CIDR ranges, `*`. */
  noProxy: readonly string[];
}

export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** Covers the whole exchange: connecting, the proxy tunnel, sending and reading the body. */
  timeoutMs: number;
}

export interface HttpResponse {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  text: string;
}

/** A proxy refused or failed the tunnel: the request never reached Salesforce. */
export class ProxyTunnelError extends Error {
  constructor(
    message: string,
    readonly proxyStatus: number | null,
  ) {
    super(message);
    this.name = 'ProxyTunnelError';
  }
}

const NO_PROXY: ProxySettings = { httpsProxy: null, noProxy: [] };

function bareHost(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

function defaultPort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/**
 * Whether NO_PROXY exempts this URL, with the conventions curl and most tools share: `*`
 * exempts everything; `example.com`, `.example.com` and `*.example.com` exempt the host and
 * its subdomains; `host:port` only that port; IP addresses and CIDR ranges (`10.0.0.0/8`)
 * exempt addresses, not names.
 */
export function bypassesProxy(url: URL, noProxy: readonly string[]): boolean {
  const host = bareHost(url.hostname);
  const port = defaultPort(url);
  const ipVersion = isIP(host);
  for (const raw of noProxy) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    if (entry.includes('/')) {
      const [network, bits] = entry.split('/');
      const family = isIP(network ?? '');
      if (ipVersion === 0 || family !== ipVersion || !/^\d+$/.test(bits ?? '')) continue;
      const ranges = new BlockList();
      try {
        ranges.addSubnet(network as string, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
      } catch {
        continue;
      }
      if (ranges.check(host, ipVersion === 6 ? 'ipv6' : 'ipv4')) return true;
      continue;
    }
    let name = entry;
    let entryPort: number | null = null;
    const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    if (withPort !== null) {
      name = withPort[1] as string;
      entryPort = Number(withPort[2]);
    }
    if (entryPort !== null && entryPort !== port) continue;
    name = bareHost(name).replace(/^\*?\./, '');
    if (name === '') continue;
    if (isIP(name) !== 0) {
      if (name === host) return true;
      continue;
    }
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/** The proxy a request to this URL goes through, or null for a direct connection. */
export function proxyFor(url: URL, settings: ProxySettings): URL | null {
  if (settings.httpsProxy === null || settings.httpsProxy === '') return null;
  if (bypassesProxy(url, settings.noProxy)) return null;
  return new URL(settings.httpsProxy);
}

export class SalesforceHttp {
  private readonly proxy: ProxySettings;
  private readonly ca: string[] | undefined;
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent: https.Agent;

  constructor(
    options: {
      proxy?: ProxySettings | null;
      /** Extra trusted CA certificates (PEM), for a TLS-intercepting proxy or a test server. */
      ca?: string | readonly string[];
    } = {},
  ) {
    this.proxy = options.proxy ?? NO_PROXY;
    if (this.proxy.httpsProxy !== null && this.proxy.httpsProxy !== '') {
      const proxyUrl = new URL(this.proxy.httpsProxy);
      if (proxyUrl.protocol !== 'http:') {
        throw new Error(`the proxy must be an http:// URL (a CONNECT proxy), not ${proxyUrl.protocol}`);
      }
    }
    this.ca = options.ca === undefined ? undefined : [...tls.rootCertificates, ...[options.ca].flat()];
    this.httpsAgent = new https.Agent({ keepAlive: true, ...(this.ca === undefined ? {} : { ca: this.ca }) });
  }

  /** Sends one request and reads the whole answer; rejects on network failure or timeout. */
  send(request: HttpRequest): Promise<HttpResponse> {
    const url = new URL(request.url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      return Promise.reject(new Error(`refusing to call a ${url.protocol} URL`));
    }
    const signal = AbortSignal.timeout(request.timeoutMs);
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      let current: http.ClientRequest | null = null;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        current?.destroy();
        reject(error);
      };
      const onAbort = () => fail(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      const proxy = proxyFor(url, this.proxy);
      const connecting = proxy === null ? Promise.resolve(null) : this.tunnel(url, proxy, (req) => (current = req));
      connecting.then(
        (socket) => {
          if (settled) {
            socket?.destroy();
            return;
          }
          const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
          const options: https.RequestOptions = {
            method: request.method,
            headers: {
              ...request.headers,
              ...(body === undefined ? {} : { 'Content-Length': String(body.length) }),
            },
          };
          if (socket !== null) {
            // No agent: the request runs on this tunnel alone (an agent would open its own socket).
            options.createConnection = () => socket;
          } else {
            options.agent = url.protocol === 'https:' ? this.httpsAgent : this.httpAgent;
          }
          const send = url.protocol === 'https:' ? https.request : http.request;
          const req = send(url, options, (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('error', fail);
            response.on('aborted', () => fail(new Error('the connection closed before the answer was complete')));
            response.on('end', () => {
              if (settled) return;
              settled = true;
              signal.removeEventListener('abort', onAbort);
              const headers: Record<string, string> = {};
              for (const [name, value] of Object.entries(response.headers)) {
                if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
              }
              resolve({
                status: response.statusCode ?? 0,
                headers,
                text: Buffer.concat(chunks).toString('utf8'),
              });
            });
          });
          current = req;
          req.on('error', fail);
          req.end(body);
        },
        (error: unknown) => fail(error),
      );
    });
  }

  /** Opens a CONNECT tunnel to the target through the proxy; TLS is then spoken end to end. */
  private tunnel(target: URL, proxy: URL, track: (request: http.ClientRequest) => void): Promise<Socket> {
    const authority = `${target.hostname}:${defaultPort(target)}`;
    const headers: Record<string, string> = { Host: authority };
    if (proxy.username !== '' || proxy.password !== '') {
      const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
      headers['Proxy-Authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
    }
    return new Promise<Socket>((resolve, reject) => {
      const connect = http.request({
        host: bareHost(proxy.hostname),
        port: proxy.port === '' ? 80 : Number(proxy.port),
        method: 'CONNECT',
        path: authority,
        headers,
        agent: false,
      });
      track(connect);
      connect.once('connect', (response, socket) => {
        if (response.statusCode !== 200) {
          socket.destroy();
          reject(
            new ProxyTunnelError(`the proxy refused the tunnel (${response.statusCode})`, response.statusCode ?? null),
          );
          return;
        }
        if (target.protocol !== 'https:') {
          resolve(socket);
          return;
        }
        const secure = tls.connect({
          socket,
          servername: isIP(bareHost(target.hostname)) === 0 ? bareHost(target.hostname) : undefined,
          ...(this.ca === undefined ? {} : { ca: this.ca }),
        });
        secure.once('secureConnect', () => resolve(secure));
        secure.once('error', reject);
      });
      connect.once('error', (error) =>
        reject(new ProxyTunnelError(`the proxy could not be reached: ${error.message}`, null)),
      );
      connect.end();
    });
  }
}
