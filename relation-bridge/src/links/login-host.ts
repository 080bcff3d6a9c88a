import { isIP } from 'node:net';
import { BridgeError } from '../core/errors';
import type { SfEnvironment } from '../core/types';
import type { SalesforceHttp } from '../salesforce/http';

/**
 * Where the OAuth web-server flow of a link starts. The bridge later sends its client
 * secret to this host's token endpoint, so a custom host is accepted only when it is a
 * Salesforce domain (or loopback, when the bridge runs against the local org): anything else would let whoever
 * creates a link make the bridge hand its secret, or requests, to a host of their choice.
 */
export interface LoginUrls {
  production: string;
  sandbox: string;
}

/** Salesforce-owned parents of My Domain and Experience Cloud login hosts. */
export const SALESFORCE_LOGIN_HOST_SUFFIXES: readonly string[] = [
  '.salesforce.com',
  '.force.com',
  '.site.com',
  '.cloudforce.com',
  '.salesforce.mil',
  '.sfcrmproducts.cn',
];

/** A bare My Domain name, optionally with a sandbox part: `acme` or `acme--uat`. */
const MY_DOMAIN_NAME = /^[a-z0-9](?:[a-z0-9-]{0,60}[a-z0-9])?$/;
const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The partitions of My Domain hosts (`acme--uat.sandbox.my.salesforce.com`, `acme.develop.my.salesforce.com`). */
const PARTITION = '(?:\\.(?:sandbox|develop|scratch|demo|patch|trailblaze|free))?';
/**
 * The hosts people see in their browser's address bar, each with the My Domain it belongs
 * to: Lightning (`acme.lightning.force.com`), Setup (`acme.my.salesforce-setup.com`) and
 * Visualforce (`acme--c.vf.force.com`, `acme--uat--c.sandbox.vf.force.com`).
 */
const ADDRESS_BAR_HOSTS: readonly RegExp[] = [
  new RegExp(`^([a-z0-9-]+)(${PARTITION})\\.lightning\\.force\\.com$`),
  new RegExp(`^([a-z0-9-]+)(${PARTITION})\\.my\\.salesforce-setup\\.com$`),
  new RegExp(`^([a-z0-9-]+?)--[a-z0-9]+(${PARTITION})\\.vf\\.force\\.com$`),
];

/**
 * Where a Salesforce page's path starts in an address-bar URL: on the local org, whose My
 * Domains live under a path, what comes before it is the My Domain.
 */
const PAGE_PATH = /\/(?:lightning|setup|one|home|_ui|apex|services|secur|s)(?:\/|$)/;

/**
 * Why a My Domain is refused, each with a code the console says in the reader's language
 * (`error.<code>`); the English text is the API's message.
 */
export const MY_DOMAIN_PROBLEMS = [
  'my_domain_empty',
  'my_domain_name',
  'my_domain_not_url',
  'my_domain_https',
  'my_domain_credentials',
  'my_domain_loopback',
  'my_domain_not_salesforce',
  'my_domain_port',
] as const;
type DomainProblem = (typeof MY_DOMAIN_PROBLEMS)[number];

function invalidDomain(myDomain: string, code: DomainProblem, why: string): BridgeError {
  return new BridgeError('bad_input', `The My Domain "${myDomain}" is not usable: ${why}.`, {
    code: 'invalid_my_domain',
    reason: 'bad_input',
    details: [{ path: 'myDomain', message: why, code }],
  });
}

/** The My Domain login host a Lightning, Setup or Visualforce host of the address bar belongs to. */
export function myDomainHostOf(hostname: string): string {
  for (const pattern of ADDRESS_BAR_HOSTS) {
    const found = pattern.exec(hostname);
    if (found !== null) return `${found[1] as string}${found[2] ?? ''}.my.salesforce.com`;
  }
  return hostname;
}

export function isLoopbackHost(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1';
  return false;
}

function isSalesforceHost(hostname: string, suffixes: readonly string[]): boolean {
  const labels = hostname.split('.');
  if (labels.length < 3 || !labels.every((label) => HOST_LABEL.test(label))) return false;
  return suffixes.some((suffix) => hostname.endsWith(suffix));
}

/** Which custom login hosts a link may use. */
export interface CustomHostPolicy {
  /** Parents accepted for a custom login host; Salesforce's own domains by default. */
  allowedSuffixes?: readonly string[];
  /**
   * Loopback hosts (plain http, any port and path) serve the local Salesforce-compatible
   * org. A bridge talking to real Salesforce has no reason to send its secret to itself.
   */
  allowLoopback?: boolean;
}

/**
 * Turns what an admin typed or pasted as a My Domain into the login URL:
 * `acme` → https://acme.my.salesforce.com, `acme--uat` → https://acme--uat.sandbox.my.salesforce.com;
 * a host name or a URL of a Salesforce domain (a page's address pasted from the browser
 * included) → its host, a Lightning, Setup or Visualforce host → the My Domain it belongs to;
 * a loopback URL as given, up to a Salesforce page's path, when allowed.
 */
export function resolveCustomLoginUrl(myDomain: string, policy: CustomHostPolicy = {}): string {
  const allowedSuffixes = policy.allowedSuffixes ?? SALESFORCE_LOGIN_HOST_SUFFIXES;
  const typed = myDomain.trim();
  if (typed === '') throw invalidDomain(myDomain, 'my_domain_empty', 'it is empty');
  const lower = typed.toLowerCase();

  if (!lower.includes('.') && !lower.includes(':') && !lower.includes('/')) {
    if (!MY_DOMAIN_NAME.test(lower)) {
      throw invalidDomain(myDomain, 'my_domain_name', 'a My Domain name has only letters, digits and hyphens');
    }
    return lower.includes('--') ? `https://${lower}.sandbox.my.salesforce.com` : `https://${lower}.my.salesforce.com`;
  }

  const candidate = /^[a-z][a-z0-9+.-]*:\/\//.test(lower) ? typed : `https://${typed}`;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    throw invalidDomain(myDomain, 'my_domain_not_url', 'it is not a host name or a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalidDomain(myDomain, 'my_domain_https', 'it must use https');
  }
  if (url.username !== '' || url.password !== '') {
    throw invalidDomain(myDomain, 'my_domain_credentials', 'it must not carry credentials');
  }
  // What follows the host of a pasted address (the page, its query) is not part of the My Domain.
  if (isLoopbackHost(url.hostname)) {
    if (policy.allowLoopback !== true) {
      throw invalidDomain(myDomain, 'my_domain_loopback', 'it must be a Salesforce domain, not this machine');
    }
    const page = PAGE_PATH.exec(url.pathname);
    const path = page === null ? url.pathname : url.pathname.slice(0, page.index);
    return `${url.origin}${path}`.replace(/\/+$/, '');
  }
  if (url.protocol !== 'https:') throw invalidDomain(myDomain, 'my_domain_https', 'it must use https');
  const hostname = myDomainHostOf(url.hostname);
  if (!isSalesforceHost(hostname, allowedSuffixes)) {
    throw invalidDomain(
      myDomain,
      'my_domain_not_salesforce',
      `it must be a Salesforce domain (…${allowedSuffixes.join(', …')})`,
    );
  }
  if (url.port !== '') throw invalidDomain(myDomain, 'my_domain_port', 'a Salesforce domain takes no port');
  return `https://${hostname}`;
}

/**
 * Whether a My Domain answers as a Salesforce login host, before the admin's browser is sent
 * there (a typo would end on the browser's DNS error page): one GET of its authorisation
 * page through the bridge's Salesforce transport, which follows no redirect, within
 * SF_REQUEST_TIMEOUT_MS. Any answer but "no such page" will do: Salesforce answers a bare
 * authorisation request with an error page or a redirect to one.
 */
export async function requireAnsweringLoginHost(
  http: SalesforceHttp,
  loginUrl: string,
  timeoutMs: number,
): Promise<void> {
  // The host, with the path the local org's My Domains have under it.
  const host = loginUrl.replace(/^https?:\/\//, '');
  const unreachable = (why: string, cause?: unknown) =>
    new BridgeError('bad_input', `No Salesforce login page answers at ${host} (${why}): check the My Domain.`, {
      code: 'my_domain_unreachable',
      reason: 'bad_input',
      details: { host, loginUrl, why },
      cause,
    });
  let status: number;
  try {
    ({ status } = await http.send({
      method: 'GET',
      url: `${loginUrl}/services/oauth2/authorize`,
      headers: { accept: 'text/html' },
      timeoutMs,
    }));
  } catch (error) {
    // The transport's deadline aborts with a DOMException named TimeoutError.
    const timedOut = (error as { name?: unknown } | null)?.name === 'TimeoutError';
    throw unreachable(timedOut ? 'no answer in time' : 'no answer', error);
  }
  if (status === 404 || status === 410) throw unreachable(`HTTP ${status}`);
  if (status >= 500) throw unreachable(`HTTP ${status}`);
}

function withoutTrailingSlash(url: URL): string {
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

export function resolveLoginUrl(
  environment: SfEnvironment,
  myDomain: string | undefined,
  loginUrls: LoginUrls,
  policy: CustomHostPolicy = {},
): string {
  switch (environment) {
    case 'production':
      return withoutTrailingSlash(new URL(loginUrls.production));
    case 'sandbox':
      return withoutTrailingSlash(new URL(loginUrls.sandbox));
    case 'custom':
      if (myDomain === undefined) {
        throw new BridgeError(
          'bad_input',
          'A custom login host needs myDomain (for example "acme" or "acme.my.salesforce.com").',
          {
            code: 'invalid_my_domain',
            reason: 'bad_input',
            details: [{ path: 'myDomain', message: 'required when environment is custom' }],
          },
        );
      }
      return resolveCustomLoginUrl(myDomain, policy);
  }
}
