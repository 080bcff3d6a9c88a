import { isIP } from 'node:net';
import { BridgeError } from '../core/errors';
import type { SfEnvironment } from '../core/types';

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

function invalidDomain(myDomain: string, why: string): BridgeError {
  return new BridgeError('bad_input', `The My Domain "${myDomain}" is not usable: ${why}.`, {
    code: 'invalid_my_domain',
    reason: 'bad_input',
    details: [{ path: 'myDomain', message: why }],
  });
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
 * Turns what an admin typed as a My Domain into the login URL:
 * `acme` → https://acme.my.salesforce.com, `acme--uat` → https://acme--uat.sandbox.my.salesforce.com,
 * a host name or an https origin of a Salesforce domain as given; a loopback URL as given when allowed.
 */
export function resolveCustomLoginUrl(myDomain: string, policy: CustomHostPolicy = {}): string {
  const allowedSuffixes = policy.allowedSuffixes ?? SALESFORCE_LOGIN_HOST_SUFFIXES;
  const typed = myDomain.trim();
  if (typed === '') throw invalidDomain(myDomain, 'it is empty');
  const lower = typed.toLowerCase();

  if (!lower.includes('.') && !lower.includes(':')) {
    if (!MY_DOMAIN_NAME.test(lower)) {
      throw invalidDomain(myDomain, 'a My Domain name has only letters, digits and hyphens');
    }
    return lower.includes('--') ? `https://${lower}.sandbox.my.salesforce.com` : `https://${lower}.my.salesforce.com`;
  }

  const candidate = /^[a-z][a-z0-9+.-]*:\/\//.test(lower) ? typed : `https://${typed}`;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    throw invalidDomain(myDomain, 'it is not a host name or a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalidDomain(myDomain, 'it must use https');
  if (url.username !== '' || url.password !== '') throw invalidDomain(myDomain, 'it must not carry credentials');
  if (url.search !== '' || url.hash !== '' || /[?#]/.test(candidate)) {
    throw invalidDomain(myDomain, 'give only the host, without a path, query or fragment');
  }
  if (isLoopbackHost(url.hostname)) {
    if (policy.allowLoopback !== true)
      throw invalidDomain(myDomain, 'it must be a Salesforce domain, not this machine');
    return withoutTrailingSlash(url);
  }
  if (url.protocol !== 'https:') throw invalidDomain(myDomain, 'it must use https');
  if (url.pathname !== '/') throw invalidDomain(myDomain, 'give only the host, without a path, query or fragment');
  if (!isSalesforceHost(url.hostname, allowedSuffixes)) {
    throw invalidDomain(myDomain, `it must be a Salesforce domain (…${allowedSuffixes.join(', …')})`);
  }
  if (url.port !== '') throw invalidDomain(myDomain, 'a Salesforce domain takes no port');
  return withoutTrailingSlash(url);
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
