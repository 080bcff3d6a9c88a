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

/** The code the console says the refusal with, in the reader's language. */
function refusalCode(myDomain: string): string | undefined {
  try {
    resolveCustomLoginUrl(myDomain);
  } catch (error) {
    if (isBridgeError(error)) return (error.details as Array<{ code?: string }>)[0]?.code;
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
    // An address pasted from the browser keeps what comes before the page (the local org's My Domain).
    expect(resolveCustomLoginUrl('http://127.0.0.1:4567/orgs/acme?x=1', local)).toBe('http://127.0.0.1:4567/orgs/acme');
    expect(resolveCustomLoginUrl('http://127.0.0.1:4567/orgs/acme/lightning/page/home#top', local)).toBe(
      'http://127.0.0.1:4567/orgs/acme',
    );
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

  it('keeps only the host of an address pasted from the browser: the page, its query and fragment go', () => {
    expect(resolveCustomLoginUrl('https://acme.my.salesforce.com/services/oauth2')).toBe(
      'https://acme.my.salesforce.com',
    );
    expect(resolveCustomLoginUrl('https://acme.my.salesforce.com?next=https://evil.example')).toBe(
      'https://acme.my.salesforce.com',
    );
    expect(resolveCustomLoginUrl('https://acme.my.salesforce.com/?')).toBe('https://acme.my.salesforce.com');
    expect(resolveCustomLoginUrl('acme.my.salesforce.com/#x')).toBe('https://acme.my.salesforce.com');
  });

  it('takes a Lightning, Setup or Visualforce address to the My Domain it belongs to, sandboxes and partitions included', () => {
    expect(resolveCustomLoginUrl('https://acme.lightning.force.com/lightning/page/home')).toBe(
      'https://acme.my.salesforce.com',
    );
    expect(resolveCustomLoginUrl('acme.lightning.force.com')).toBe('https://acme.my.salesforce.com');
    expect(
      resolveCustomLoginUrl(
        'https://acme--uat.sandbox.lightning.force.com/lightning/r/Contact/003000000000001AAA/view',
      ),
    ).toBe('https://acme--uat.sandbox.my.salesforce.com');
    expect(resolveCustomLoginUrl('https://acme.develop.lightning.force.com/one/one.app')).toBe(
      'https://acme.develop.my.salesforce.com',
    );
    expect(resolveCustomLoginUrl('https://acme.my.salesforce-setup.com/lightning/setup/SetupOneHome/home')).toBe(
      'https://acme.my.salesforce.com',
    );
    expect(resolveCustomLoginUrl('https://acme--c.vf.force.com/apex/Page')).toBe('https://acme.my.salesforce.com');
    expect(resolveCustomLoginUrl('https://acme--uat--c.sandbox.vf.force.com/apex/Page')).toBe(
      'https://acme--uat.sandbox.my.salesforce.com',
    );
  });

  it('gives every refusal a code the console says in the reader’s language', () => {
    expect(refusalCode(' ')).toBe('my_domain_empty');
    expect(refusalCode('acme_corp')).toBe('my_domain_name');
    expect(refusalCode('https://evil.example.com')).toBe('my_domain_not_salesforce');
    expect(refusalCode('http://acme.my.salesforce.com')).toBe('my_domain_https');
    expect(refusalCode('https://acme.my.salesforce.com:8443')).toBe('my_domain_port');
    expect(refusalCode('https://u:p@acme.my.salesforce.com')).toBe('my_domain_credentials');
    expect(refusalCode('http://127.0.0.1:4567')).toBe('my_domain_loopback');
  });

  it('refuses credentials, ports and other schemes', () => {
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
