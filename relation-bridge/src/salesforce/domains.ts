import { isIP } from 'node:net';

/**
 * Which URLs the bridge accepts from Salesforce's token endpoint as `instance_url` (where
 * every API call and its bearer token then go) and `id` (the identity URL, also called with
 * the token). Only https URLs on Salesforce's own domains pass, on the default port:
 *
 * - `salesforce.com`: login.salesforce.com and test.salesforce.com, every My Domain
 *   (`acme.my.salesforce.com`, `acme--uat.sandbox.my.salesforce.com`, the partitioned
 *   `.develop.`, `.scratch.`, `.demo.`, `.patch.`, `.free.`, `.trailblaze.` domains) and the
 *   legacy instance hosts (`na123.salesforce.com`);
 * - `force.com` (Lightning and Visualforce hosts), `salesforce-setup.com` (Setup under
 *   enhanced domains), `cloudforce.com` (older My Domains);
 * - `salesforce.mil` (Government Cloud Plus) and `sfcrmproducts.cn` (Salesforce on Alibaba Cloud).
 *
 * Left out on purpose: `site.com` and `salesforce-sites.com`, which serve customers' public
 * Experience Cloud and Sites pages rather than the API.
 *
 * The one exception is the local Salesforce-compatible org: exactly the origins of the
 * configured login URLs that are on this machine (loopback), nothing else on loopback.
 */
export const SALESFORCE_DOMAINS: readonly string[] = [
  'salesforce.com',
  'force.com',
  'salesforce-setup.com',
  'cloudforce.com',
  'salesforce.mil',
  'sfcrmproducts.cn',
];

const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function isLoopbackHost(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1';
  return false;
}

/** The origins of those configured login URLs that point at this machine (the local org). */
export function localOrgOrigins(loginUrls: readonly string[]): string[] {
  const origins = new Set<string>();
  for (const loginUrl of loginUrls) {
    let url: URL;
    try {
      url = new URL(loginUrl);
    } catch {
      continue;
    }
    if ((url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHost(url.hostname)) {
      origins.add(url.origin);
    }
  }
  return [...origins];
}

/** Whether `value` is an https URL on a Salesforce domain, or on exactly one of `localOrigins`. */
export function isTrustedSalesforceUrl(value: string, localOrigins: readonly string[] = []): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username !== '' || url.password !== '') return false;
  if (localOrigins.includes(url.origin)) return true;
  if (url.protocol !== 'https:' || url.port !== '') return false;
  const host = url.hostname.toLowerCase();
  const labels = host.split('.');
  if (labels.length < 3 || !labels.every((label) => HOST_LABEL.test(label))) return false;
  return SALESFORCE_DOMAINS.some((domain) => host.endsWith(`.${domain}`));
}
