import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/): HMAC-SHA256 over
 * `${webhook-id}.${webhook-timestamp}.${raw body}` with the base64-decoded part of a
 * `whsec_<base64>` secret; the `webhook-signature` header holds space-separated
 * `v1,<base64>` entries, any one of which may match any active secret.
 */

const SECRET_PREFIX = 'whsec_';
/** Standard Webhooks asks for secrets of 24 to 64 random bytes; fewer can be guessed offline from one signed request. */
export const MIN_WEBHOOK_SECRET_BYTES = 24;
const SIGNATURE_VERSION = 'v1';
const HMAC_BYTES = 32;
const TIMESTAMP = /^\d{1,15}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export type SignatureFailure =
  /** webhook-id, webhook-timestamp or webhook-signature is absent or empty. */
  | 'missing_headers'
  /** webhook-timestamp is not Unix seconds. */
  | 'malformed_timestamp'
  /** webhook-timestamp is further from the bridge's clock than the tolerance. */
  | 'timestamp_out_of_tolerance'
  /** No v1 entry matches any active secret. */
  | 'no_valid_signature'
  /** The bridge has no webhook secret configured: it can verify nothing. */
  | 'no_secrets';

export type SignatureVerification = { ok: true } | { ok: false; reason: SignatureFailure };

export interface SignatureHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signatureHeader: string | undefined;
}

export interface VerifySignatureInput extends SignatureHeaders {
  rawBody: Buffer;
  /** Active secrets, each `whsec_<base64>`; several during rotation. */
  secrets: readonly string[];
  toleranceSeconds: number;
  /** The bridge's clock, ms since the epoch. */
  now: number;
}

/**
 * The checks that need no body: headers present, timestamp well formed and fresh. Done
 * before the body is read so that unsigned or replayed requests cost nothing.
 */
export function checkSignatureHeaders(
  headers: SignatureHeaders,
  toleranceSeconds: number,
  now: number,
): SignatureVerification {
  const { id, timestamp, signatureHeader } = headers;
  if (!id || !timestamp || !signatureHeader || signatureHeader.trim() === '') {
    return { ok: false, reason: 'missing_headers' };
  }
  if (!TIMESTAMP.test(timestamp)) return { ok: false, reason: 'malformed_timestamp' };
  if (Math.abs(now / 1000 - Number(timestamp)) > toleranceSeconds) {
    return { ok: false, reason: 'timestamp_out_of_tolerance' };
  }
  return { ok: true };
}

export function verifyWebhookSignature(input: VerifySignatureInput): SignatureVerification {
  const headerCheck = checkSignatureHeaders(input, input.toleranceSeconds, input.now);
  if (!headerCheck.ok) return headerCheck;
  const keys = input.secrets.map(secretKey).filter((key): key is Buffer => key !== null);
  if (keys.length === 0) return { ok: false, reason: 'no_secrets' };

  const offered = parseSignatureHeader(input.signatureHeader ?? '');
  for (const key of keys) {
    const expected = hmac(key, input.id ?? '', input.timestamp ?? '', input.rawBody);
    if (offered.some((candidate) => timingSafeEqual(candidate, expected))) return { ok: true };
  }
  return { ok: false, reason: 'no_valid_signature' };
}

export type WebhookSecretCheck = { ok: true } | { ok: false; problem: 'malformed' | 'too_short'; message: string };

/**
 * The one rule for a webhook secret, applied wherever a secret enters the bridge
 * (WEBHOOK_SECRETS, the admin API, the CLI): `whsec_` and the base64 of at least
 * MIN_WEBHOOK_SECRET_BYTES bytes. The message never repeats the secret.
 */
export function checkWebhookSecret(secret: string): WebhookSecretCheck {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : '';
  if (!BASE64.test(encoded)) {
    return { ok: false, problem: 'malformed', message: 'must look like whsec_<base64>' };
  }
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < MIN_WEBHOOK_SECRET_BYTES) {
    return {
      ok: false,
      problem: 'too_short',
      message: `must hold at least ${MIN_WEBHOOK_SECRET_BYTES} random bytes (this one holds ${bytes}); make one with: openssl rand -base64 32`,
    };
  }
  return { ok: true };
}

export interface SignWebhookInput {
  /** `whsec_<base64>`. */
  secret: string;
  id: string;
  /** Unix seconds. */
  timestamp: number;
  body: string | Buffer;
}

/** The three Standard Webhooks headers for a body, as a sender produces them. */
export function signWebhook(input: SignWebhookInput): {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
} {
  const key = secretKey(input.secret);
  if (key === null) throw new Error('a webhook secret must look like whsec_<base64>');
  const timestamp = String(Math.trunc(input.timestamp));
  const body = typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body;
  return {
    'webhook-id': input.id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `${SIGNATURE_VERSION},${hmac(key, input.id, timestamp, body).toString('base64')}`,
  };
}

/**
 * The `v1` entries of the header, decoded; entries of other versions or of the wrong
 * length are ignored (equal lengths are what timingSafeEqual requires).
 */
function parseSignatureHeader(header: string): Buffer[] {
  const signatures: Buffer[] = [];
  for (const entry of header.split(/\s+/)) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== SIGNATURE_VERSION) continue;
    const encoded = entry.slice(comma + 1);
    if (!BASE64.test(encoded)) continue;
    const signature = Buffer.from(encoded, 'base64');
    if (signature.length === HMAC_BYTES) signatures.push(signature);
  }
  return signatures;
}

function secretKey(secret: string): Buffer | null {
  if (!secret.startsWith(SECRET_PREFIX)) return null;
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!BASE64.test(encoded)) return null;
  const key = Buffer.from(encoded, 'base64');
  return key.length === 0 ? null : key;
}

function hmac(key: Buffer, id: string, timestamp: string, body: Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest();
}
