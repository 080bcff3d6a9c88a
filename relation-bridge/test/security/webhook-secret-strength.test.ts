import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../../src/config';
import { checkWebhookSecret, MIN_WEBHOOK_SECRET_BYTES } from '../../src/intake/signature';
import { WebhookSecrets } from '../../src/intake/webhook-secrets';
import { createLogger } from '../../src/logging';
import { runCli } from '../../src/cli';
import { type BridgeHarness, startBridgeHarness } from '../helpers/bridge-harness';
import { startBridgeProcess } from '../helpers/bridge-process';
import { openTempSqliteStore } from '../store/databases';

/**
 * A webhook secret of one byte was accepted at start. Standard Webhooks asks for 24 to 64
 * random bytes; one rule (checkWebhookSecret) now guards every way a secret enters.
 */

const secretOf = (bytes: number) => `whsec_${randomBytes(bytes).toString('base64')}`;
const SHORTEST = secretOf(MIN_WEBHOOK_SECRET_BYTES);
const ONE_SHORT = secretOf(MIN_WEBHOOK_SECRET_BYTES - 1);

describe('the webhook secret rule', () => {
  it('accepts whsec_ and the base64 of 24 bytes or more, and refuses fewer bytes or another shape', () => {
    expect(checkWebhookSecret(SHORTEST)).toEqual({ ok: true });
    expect(checkWebhookSecret(secretOf(64))).toEqual({ ok: true });
    expect(checkWebhookSecret('whsec_AA==')).toMatchObject({ ok: false, problem: 'too_short' });
    expect(checkWebhookSecret(ONE_SHORT)).toMatchObject({ ok: false, problem: 'too_short' });
    for (const malformed of [
      '',
      'whsec_',
      SHORTEST.slice('whsec_'.length),
      `whsec_${'-'.repeat(40)}`,
      `${SHORTEST} x`,
    ]) {
      expect({ malformed, check: checkWebhookSecret(malformed) }).toMatchObject({
        malformed,
        check: { ok: false, problem: 'malformed' },
      });
    }
  });

  it('never repeats the secret in its message', () => {
    const check = checkWebhookSecret(ONE_SHORT);
    expect(check.ok).toBe(false);
    expect(JSON.stringify(check)).not.toContain(ONE_SHORT.slice('whsec_'.length, 20));
  });
});

describe('WEBHOOK_SECRETS', () => {
  it('refuses whsec_AA== (one byte) and a 23-byte secret, naming the setting and which secret', () => {
    expect(() => loadConfig({ WEBHOOK_SECRETS: 'whsec_AA==' })).toThrow(ConfigError);
    expect(() => loadConfig({ WEBHOOK_SECRETS: 'whsec_AA==' })).toThrow(
      /WEBHOOK_SECRETS: secret 1 must hold at least 24/,
    );
    expect(() => loadConfig({ WEBHOOK_SECRETS: `${SHORTEST} ${ONE_SHORT}` })).toThrow(
      /WEBHOOK_SECRETS: secret 2 must hold at least 24 random bytes \(this one holds 23\)/,
    );
    expect(loadConfig({ WEBHOOK_SECRETS: `${SHORTEST},${secretOf(32)}` }).WEBHOOK_SECRETS).toHaveLength(2);
  });

  it('a bridge started with WEBHOOK_SECRETS=whsec_AA== does not start, and says why', async () => {
    const started = startBridgeProcess({ WEBHOOK_SECRETS: 'whsec_AA==', BRIDGE_PORT: '0', LOG_LEVEL: 'silent' });
    await expect(started).rejects.toThrow(/exited with 2: invalid configuration:\s+WEBHOOK_SECRETS: secret 1/);
  }, 60_000);
});

describe('secrets added through the admin API, WebhookSecrets and the CLI', () => {
  let harness: BridgeHarness;
  beforeAll(async () => {
    harness = await startBridgeHarness();
  });
  afterAll(async () => {
    await harness.close();
  });

  it('POST /webhook-secrets refuses a 23-byte secret with a 400 naming body.secret, stores nothing, and takes a 24-byte one', async () => {
    const before = (await harness.admin('GET', '/webhook-secrets')).body.secrets.length;
    const refused = await harness.admin('POST', '/webhook-secrets', { label: 'short', secret: ONE_SHORT });
    expect(refused.status).toBe(400);
    expect(refused.body.details).toEqual([
      expect.objectContaining({
        path: 'body.secret',
        code: 'weak_webhook_secret',
        message: expect.stringMatching(/24/),
      }),
    ]);
    expect(await harness.bridge.store.webhookSecrets.list()).toHaveLength(0);
    const one = await harness.admin('POST', '/webhook-secrets', { label: 'one byte', secret: 'whsec_AA==' });
    expect(one.status).toBe(400);
    expect((await harness.admin('GET', '/webhook-secrets')).body.secrets).toHaveLength(before);

    const accepted = await harness.admin('POST', '/webhook-secrets', { label: 'long enough', secret: SHORTEST });
    expect(accepted.status).toBe(201);
    expect((await harness.admin('GET', '/webhook-secrets')).body.secrets).toHaveLength(before + 1);
  });

  it('WebhookSecrets.add refuses a weak secret however it is called', async () => {
    const temp = await openTempSqliteStore();
    try {
      const secrets = new WebhookSecrets({
        repository: temp.store.webhookSecrets,
        configured: [],
        logger: createLogger('silent'),
      });
      const actor = { kind: 'token' as const, id: null, name: 'test' };
      await expect(secrets.add('weak', 'whsec_AA==', actor)).rejects.toMatchObject({
        kind: 'bad_input',
        code: 'weak_webhook_secret',
      });
      expect(await temp.store.webhookSecrets.list()).toEqual([]);
      await expect(secrets.add('generated', undefined, actor)).resolves.toMatchObject({ secret: expect.any(String) });
    } finally {
      await temp.cleanup();
    }
  });

  it('a weaker secret stored before the rule still verifies, and the log asks once to rotate it', async () => {
    const temp = await openTempSqliteStore();
    const lines: string[] = [];
    try {
      const old = secretOf(16);
      await temp.store.webhookSecrets.add({
        label: 'from 2025',
        secret: old,
        fingerprint: 'fp-old',
        createdBy: 'owner',
        now: Date.now(),
      });
      const secrets = new WebhookSecrets({
        repository: temp.store.webhookSecrets,
        configured: [],
        logger: createLogger('warn', { write: (line: string) => void lines.push(line) }),
      });
      await secrets.load();
      await secrets.load();
      expect(secrets.current()).toEqual([old]);
      const warnings = lines.map((line) => JSON.parse(line) as { msg: string; label: string });
      expect(warnings).toEqual([
        expect.objectContaining({ label: 'from 2025', msg: expect.stringMatching(/shorter than 24 bytes/) }),
      ]);
      expect(lines.join('\n')).not.toContain(old.slice('whsec_'.length));
    } finally {
      await temp.cleanup();
    }
  });

  it('the CLI will not sign with a weak secret', async () => {
    const errors: string[] = [];
    const code = await runCli(
      ['webhook', 'send', '--secret', 'whsec_AA==', '--file', '/nonexistent.json', '--url', harness.baseUrl],
      {},
      { out: () => undefined, err: (text: string) => void errors.push(text), json: false },
    );
    expect(code).toBe(2);
    expect(errors.join('\n')).toMatch(/--secret must hold at least 24 random bytes/);
  });
});
