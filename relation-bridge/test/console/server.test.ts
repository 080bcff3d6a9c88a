import { ACTION_REASONS } from '../../src/admin/schemas';
import { CHANNEL_LABELS, DIRECTIONS, KNOWN_ACTION_KINDS, SYNCABLE_CHANNELS } from '../../src/core/channels';
import { MESSAGES, REASON_CODES } from '../../src/console/web/messages';
import { MY_DOMAIN_PROBLEMS } from '../../src/links/login-host';
import { LINK_ERROR_TEXT } from '../../src/links/messages';
import { type BridgeHarness, startBridgeHarness } from '../helpers/bridge-harness';

/** How the console is served, and that every string it shows exists in both languages. */

describe('serving the console', () => {
  let harness: BridgeHarness;

  beforeAll(async () => {
    harness = await startBridgeHarness();
  });

  afterAll(async () => {
    await harness.close();
  });

  it('answers every path under /console with the same shell, which loads nothing from elsewhere', async () => {
    for (const path of ['/console', '/console/', '/console/inboxes/12/settings/ticket-sync/new']) {
      const response = await fetch(`${harness.baseUrl}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      const html = await response.text();
      expect(html).toContain('<script type="module" src="/console/assets/main.js"></script>');
      expect(html).not.toMatch(/https?:\/\//);
    }
    const root = await fetch(`${harness.baseUrl}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/console/');
  });

  it('serves the compiled modules, resolving imports written without an extension, and the stylesheet', async () => {
    const main = await fetch(`${harness.baseUrl}/console/assets/main.js`);
    expect(main.headers.get('content-type')).toMatch(/javascript/);
    expect(await main.text()).toContain("from './api'");
    const api = await fetch(`${harness.baseUrl}/console/assets/api`);
    expect(api.status).toBe(200);
    expect(api.headers.get('content-type')).toMatch(/javascript/);
    const css = await fetch(`${harness.baseUrl}/console/assets/console.css`);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(await css.text()).not.toMatch(/url\(|@import/);
    expect((await fetch(`${harness.baseUrl}/console/assets/missing.js`)).status).toBe(404);
  });
});

describe('the console’s strings', () => {
  it('exist in Japanese and English for every key, none empty, with the same placeholders', () => {
    const ja = MESSAGES.ja;
    const en = MESSAGES.en;
    expect(Object.keys(en).sort()).toEqual(Object.keys(ja).sort());
    for (const key of Object.keys(ja) as Array<keyof typeof ja>) {
      expect({ key, ja: ja[key].trim() === '', en: en[key].trim() === '' }).toEqual({ key, ja: false, en: false });
      const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
      expect({ key, placeholders: placeholders(en[key]) }).toEqual({ key, placeholders: placeholders(ja[key]) });
    }
  });

  it('explain every reason an action can carry, and every linking error the bridge reports', () => {
    expect([...REASON_CODES].sort()).toEqual([...ACTION_REASONS].sort());
    for (const reason of ACTION_REASONS) {
      expect(MESSAGES.ja[`reason.${reason}` as keyof typeof MESSAGES.ja]).toBeDefined();
      expect(MESSAGES.en[`reason.${reason}` as keyof typeof MESSAGES.en]).toBeDefined();
    }
    for (const code of Object.keys(LINK_ERROR_TEXT)) {
      expect({ code, known: `error.${code}` in MESSAGES.ja }).toEqual({ code, known: true });
    }
  });

  it('say every refusal of a My Domain, and every rule the API names, in both languages', () => {
    for (const code of [...MY_DOMAIN_PROBLEMS, 'my_domain_unreachable', 'reversed_range', 'wrong_current_password']) {
      expect({ code, known: `error.${code}` in MESSAGES.ja }).toEqual({ code, known: true });
    }
  });

  it('name the channels as Re:lation does, and every kind and direction an action can have', () => {
    for (const channel of SYNCABLE_CHANNELS) {
      const key = `channel.${channel}` as keyof typeof MESSAGES.ja;
      expect({ channel, ja: MESSAGES.ja[key], en: MESSAGES.en[key] }).toEqual({
        channel,
        ...CHANNEL_LABELS[channel],
      });
    }
    for (const kind of KNOWN_ACTION_KINDS) expect(`kind.${kind}` in MESSAGES.ja).toBe(true);
    for (const direction of DIRECTIONS) expect(`direction.${direction}` in MESSAGES.ja).toBe(true);
  });

  it("use one word for a helpdesk action in Japanese (行動, as Re:lation's FAQ does), never アクション or 操作", () => {
    const words = Object.entries(MESSAGES.ja).filter(([, text]) => /アクション|操作/.test(text));
    expect(words).toEqual([]);
  });
});
