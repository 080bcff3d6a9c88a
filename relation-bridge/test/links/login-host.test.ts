import { isBridgeError } from '../../src/core/errors';
import { resolveCustomLoginUrl, resolveLoginUrl } from '../../src/links/login-host';

const loginUrls = { production: 'https://login.salesforce.com/', sandbox: 'https://test.salesforce.com' };

function refusal(myDomain: string, allowLoopback = false): string {
  try {
    resolveCustomLoginUrl(myDomain, { allowLoopback });
  } catch (error) {
    if (isBridgeError(error) && error.code === 'invalid_my_domain') return error.message;
    throw error;
  }
  throw new Error(`"${myDomain}" was accepted`);
}

describe('login host of a link', () => {
  it('uses the configured hosts for production and sandbox', () => {
    expect(resolveLoginUrl('production', undefined, loginUrls)).toBe('https://login.salesforce.com');
    expect(resolveLoginUrl('sandbox', undefined, loginUrls)).toBe('https://test.salesforce.com');
  });

  it('turns a bare My Domain name into its login host, sandboxes included', () => {
    expect(resolveCustomLoginUrl('Acme')).toBe('https://acme.my.salesforce.com');
    expect(resolveCustomLoginUrl('acme--uat')).toBe('https://acme--uat.sandbox.my.salesforce.com');
  });

  it('accepts a Salesforce host name or https origin as given', () => {
    expect(resolveCustomLoginUrl('acme.my.salesforce.com')).toBe('https://acme.my.salesforce.com');
    expect(resolveCustomLoginUrl('https://acme--uat.sandbox.my.salesforce.com/')).toBe(
      'https://acme--uat.sandbox.my.salesforce.com',
    );
    expect(resolveCustomLoginUrl('https://acme.my.site.com')).toBe('https://acme.my.site.com');
  });

  it('allows plain http, ports and paths only on loopback hosts, and only when told to (the local org)', () => {
    const local = { allowLoopback: true };
    expect(resolveCustomLoginUrl('http://127.0.0.1:4567', local)).toBe('http://127.0.0.1:4567');
    expect(resolveCustomLoginUrl('http://localhost:4567', local)).toBe('http://localhost:4567');
    expect(resolveCustomLoginUrl('http://[::1]:4567', local)).toBe('http://[::1]:4567');
    expect(resolveCustomLoginUrl('http://127.0.0.1:4567/orgs/acme/', local)).toBe('http://127.0.0.1:4567/orgs/acme');
    expect(refusal('http://127.0.0.1:4567/orgs/acme?x=1', true)).toMatch(/only the host/);
    expect(refusal('http://127.0.0.1:4567')).toMatch(/not this machine/);
    expect(refusal('https://localhost')).toMatch(/not this machine/);
    expect(refusal('http://acme.my.salesforce.com', true)).toMatch(/https/);
  });

  it('keeps the path of the configured login hosts', () => {
    expect(
      resolveLoginUrl('sandbox', undefined, {
        production: 'http://127.0.0.1:1',
        sandbox: 'http://127.0.0.1:1/sandbox/',
      }),
    ).toBe('http://127.0.0.1:1/sandbox');
  });

  it('refuses hosts outside Salesforce, so the client secret cannot be sent elsewhere', () => {
    expect(refusal('https://evil.example.com')).toMatch(/Salesforce domain/);
    expect(refusal('https://salesforce.com.evil.example')).toMatch(/Salesforce domain/);
    expect(refusal('https://evilsalesforce.com')).toMatch(/Salesforce domain/);
    expect(refusal('https://10.0.0.5')).toMatch(/Salesforce domain/);
  });

  it('refuses paths, queries, fragments, credentials, ports and other schemes', () => {
    expect(refusal('https://acme.my.salesforce.com/services/oauth2')).toMatch(/only the host/);
    expect(refusal('https://acme.my.salesforce.com?next=https://evil.example')).toMatch(/only the host/);
    expect(refusal('https://acme.my.salesforce.com/?')).toMatch(/only the host/);
    expect(refusal('https://acme.my.salesforce.com#x')).toMatch(/only the host/);
    expect(refusal('https://user:pass@acme.my.salesforce.com')).toMatch(/credentials/);
    expect(refusal('https://acme.my.salesforce.com:8443')).toMatch(/port/);
    expect(refusal('javascript://acme.my.salesforce.com')).toMatch(/https/);
    expect(refusal('ftp://acme.my.salesforce.com')).toMatch(/https/);
  });

  it('refuses names that are not My Domain names', () => {
    expect(refusal('')).toMatch(/empty/);
    expect(refusal('acme_corp')).toMatch(/letters, digits and hyphens/);
    expect(refusal('-acme')).toMatch(/letters, digits and hyphens/);
    expect(refusal('acme .my.salesforce.com')).toBeTruthy();
  });

  it('needs a My Domain for the custom environment', () => {
    expect(() => resolveLoginUrl('custom', undefined, loginUrls)).toThrow(/myDomain/);
  });
});
