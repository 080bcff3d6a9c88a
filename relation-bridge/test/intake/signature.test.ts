import { randomBytes } from 'node:crypto';
import { signWebhook, verifyWebhookSignature, type VerifySignatureInput } from '../../src/intake/signature';

const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;
const SECRET = newSecret();
const NOW = Date.parse('2026-11-28T01:15:00Z');
const NOW_SECONDS = NOW / 1000;
const BODY = Buffer.from('{"type":"ticket.action.created","note":"お見積り 🙇"}', 'utf8');

function signed(
  overrides: Partial<VerifySignatureInput> = {},
  secret = SECRET,
  timestamp = NOW_SECONDS,
): VerifySignatureInput {
  const headers = signWebhook({ secret, id: 'msg_1', timestamp, body: BODY });
  return {
    id: headers['webhook-id'],
    timestamp: headers['webhook-timestamp'],
    signatureHeader: headers['webhook-signature'],
    rawBody: BODY,
    secrets: [SECRET],
    toleranceSeconds: 300,
    now: NOW,
    ...overrides,
  };
}

describe('webhook signatures (Standard Webhooks)', () => {
  it('reproduces the specification’s published test vector, so any Standard Webhooks sender interoperates', () => {
    const vector = {
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: 1614265330,
      body: '{"test": 2432232314}',
    };
    const headers = signWebhook(vector);
    expect(headers['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    expect(
      verifyWebhookSignature({
        id: vector.id,
        timestamp: String(vector.timestamp),
        signatureHeader: headers['webhook-signature'],
        rawBody: Buffer.from(vector.body),
        secrets: [vector.secret],
        toleranceSeconds: 300,
        now: vector.timestamp * 1000,
      }),
    ).toEqual({ ok: true });
  });

  it('accepts what signWebhook produced', () => {
    expect(verifyWebhookSignature(signed())).toEqual({ ok: true });
  });

  it('refuses a body changed by a single byte', () => {
    const altered = Buffer.from(BODY);
    altered[altered.length - 2] = (altered[altered.length - 2] as number) ^ 1;
    expect(verifyWebhookSignature(signed({ rawBody: altered }))).toEqual({ ok: false, reason: 'no_valid_signature' });
  });

  it('refuses a different webhook-id or timestamp than the ones signed', () => {
    expect(verifyWebhookSignature(signed({ id: 'msg_2' }))).toEqual({ ok: false, reason: 'no_valid_signature' });
    expect(verifyWebhookSignature(signed({ timestamp: String(NOW_SECONDS - 1) }))).toEqual({
      ok: false,
      reason: 'no_valid_signature',
    });
  });

  it('refuses a signature made with a secret the bridge does not have', () => {
    expect(verifyWebhookSignature(signed({}, newSecret()))).toEqual({ ok: false, reason: 'no_valid_signature' });
  });

  it('accepts any of several active secrets (rotation)', () => {
    const next = newSecret();
    expect(verifyWebhookSignature(signed({ secrets: [SECRET, next] }, next))).toEqual({ ok: true });
    expect(verifyWebhookSignature(signed({ secrets: [SECRET, next] }, SECRET))).toEqual({ ok: true });
  });

  it('accepts a header with several entries when any one is valid, ignoring other versions and malformed entries', () => {
    const valid = signed().signatureHeader as string;
    const header = `v1a,${randomBytes(32).toString('base64')} v1,${randomBytes(32).toString('base64')} v1,not*base64 v1,AAAA ${valid}`;
    expect(verifyWebhookSignature(signed({ signatureHeader: header }))).toEqual({ ok: true });
    expect(verifyWebhookSignature(signed({ signatureHeader: valid.replace('v1,', 'v2,') }))).toEqual({
      ok: false,
      reason: 'no_valid_signature',
    });
  });

  it('accepts timestamps up to the tolerance on both sides, and refuses one second more', () => {
    const at = (offsetSeconds: number) => verifyWebhookSignature(signed({}, SECRET, NOW_SECONDS + offsetSeconds));
    expect(at(-300)).toEqual({ ok: true });
    expect(at(300)).toEqual({ ok: true });
    expect(at(-301)).toEqual({ ok: false, reason: 'timestamp_out_of_tolerance' });
    expect(at(301)).toEqual({ ok: false, reason: 'timestamp_out_of_tolerance' });
  });

  it('refuses missing headers and a timestamp that is not Unix seconds', () => {
    expect(verifyWebhookSignature(signed({ id: undefined }))).toEqual({ ok: false, reason: 'missing_headers' });
    expect(verifyWebhookSignature(signed({ timestamp: '' }))).toEqual({ ok: false, reason: 'missing_headers' });
    expect(verifyWebhookSignature(signed({ signatureHeader: '  ' }))).toEqual({ ok: false, reason: 'missing_headers' });
    expect(verifyWebhookSignature(signed({ timestamp: '2026-11-28T01:15:00Z' }))).toEqual({
      ok: false,
      reason: 'malformed_timestamp',
    });
    expect(verifyWebhookSignature(signed({ timestamp: '1.7e9' }))).toEqual({
      ok: false,
      reason: 'malformed_timestamp',
    });
  });

  it('verifies nothing when no usable secret is configured', () => {
    expect(verifyWebhookSignature(signed({ secrets: [] }))).toEqual({ ok: false, reason: 'no_secrets' });
    expect(verifyWebhookSignature(signed({ secrets: ['not-a-whsec-secret'] }))).toEqual({
      ok: false,
      reason: 'no_secrets',
    });
  });
});
