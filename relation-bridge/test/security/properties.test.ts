import fc from 'fast-check';
import type { ActionPayload } from '../../src/core/types';
import { isJsonContentType } from '../../src/intake/routes';
import { LIMITS, parseWebhookBody } from '../../src/intake/schema';
import {
  checkSignatureHeaders,
  checkWebhookSecret,
  MIN_WEBHOOK_SECRET_BYTES,
  signWebhook,
  verifyWebhookSignature,
} from '../../src/intake/signature';
import { setPath, TEXT_FIELDS } from './hostile';

/**
 * Properties of the parts that face the outside first: signature verification, the header
 * checks, the content type, the webhook secret rule and the payload schema. fast-check
 * generates the cases and shrinks any counterexample to its smallest form.
 */

const TOLERANCE = 300;
const NOW = Date.parse('2026-11-28T01:20:00Z');
const nowSeconds = Math.floor(NOW / 1000);

const secretArb = fc
  .uint8Array({ minLength: MIN_WEBHOOK_SECRET_BYTES, maxLength: 64 })
  .map((bytes) => `whsec_${Buffer.from(bytes).toString('base64')}`);
const webhookIdArb = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 60 });
const bodyArb = fc.uint8Array({ maxLength: 2_000 }).map((bytes) => Buffer.from(bytes));
const timestampArb = fc.integer({ min: -TOLERANCE, max: TOLERANCE }).map((offset) => nowSeconds + offset);

function verify(
  signed: { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string },
  rawBody: Buffer,
  secrets: string[],
) {
  return verifyWebhookSignature({
    id: signed['webhook-id'],
    timestamp: signed['webhook-timestamp'],
    signatureHeader: signed['webhook-signature'],
    rawBody,
    secrets,
    toleranceSeconds: TOLERANCE,
    now: NOW,
  });
}

describe('signature verification', () => {
  it('accepts whatever a Standard Webhooks sender signs, with the secret among the active ones', () => {
    fc.assert(
      fc.property(
        secretArb,
        fc.array(secretArb, { maxLength: 3 }),
        webhookIdArb,
        timestampArb,
        bodyArb,
        (secret, others, id, timestamp, body) => {
          const signed = signWebhook({ secret, id, timestamp, body });
          expect(verify(signed, body, [...others, secret])).toEqual({ ok: true });
        },
      ),
    );
  });

  it('refuses a body changed in any one byte, or one byte longer or shorter', () => {
    fc.assert(
      fc.property(
        secretArb,
        webhookIdArb,
        timestampArb,
        bodyArb.filter((body) => body.length > 0),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (secret, id, timestamp, body, at, flip) => {
          const signed = signWebhook({ secret, id, timestamp, body });
          const changed = Buffer.from(body);
          const index = at % changed.length;
          changed[index] = (changed[index] as number) ^ flip;
          expect(verify(signed, changed, [secret])).toEqual({ ok: false, reason: 'no_valid_signature' });
          expect(verify(signed, Buffer.concat([body, Buffer.from([flip])]), [secret]).ok).toBe(false);
          expect(verify(signed, body.subarray(0, -1), [secret]).ok).toBe(false);
        },
      ),
    );
  });

  it('refuses another webhook-id or timestamp than the ones signed, and another secret', () => {
    fc.assert(
      fc.property(
        secretArb,
        secretArb,
        webhookIdArb,
        webhookIdArb,
        timestampArb,
        timestampArb,
        bodyArb,
        (secret, other, id, otherId, timestamp, otherTimestamp, body) => {
          fc.pre(secret !== other && id !== otherId && timestamp !== otherTimestamp);
          const signed = signWebhook({ secret, id, timestamp, body });
          expect(verify({ ...signed, 'webhook-id': otherId }, body, [secret]).ok).toBe(false);
          expect(verify({ ...signed, 'webhook-timestamp': String(otherTimestamp) }, body, [secret]).ok).toBe(false);
          expect(verify(signed, body, [other]).ok).toBe(false);
        },
      ),
    );
  });

  it('finds the one valid entry among any others in the header, and none among only others', () => {
    const entryArb = fc.oneof(
      fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 60 }).filter((entry) => !/\s/.test(entry)),
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => `v1,${Buffer.from(bytes).toString('base64')}`),
      fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => `v2,${Buffer.from(bytes).toString('base64')}`),
    );
    fc.assert(
      fc.property(
        secretArb,
        webhookIdArb,
        timestampArb,
        bodyArb,
        fc.array(entryArb, { maxLength: 8 }),
        fc.nat(),
        (secret, id, timestamp, body, noise, at) => {
          const signed = signWebhook({ secret, id, timestamp, body });
          const entries = [...noise];
          entries.splice(at % (entries.length + 1), 0, signed['webhook-signature']);
          expect(verify({ ...signed, 'webhook-signature': entries.join(' ') }, body, [secret])).toEqual({ ok: true });
          if (noise.length > 0) {
            expect(verify({ ...signed, 'webhook-signature': noise.join(' ') }, body, [secret]).ok).toBe(false);
          }
        },
      ),
    );
  });

  it('never throws, and never verifies, for any header values at all', () => {
    const anyText = fc.oneof(fc.constant(undefined), fc.string({ unit: 'binary', maxLength: 200 }));
    fc.assert(
      fc.property(secretArb, anyText, anyText, anyText, bodyArb, (secret, id, timestamp, signatureHeader, rawBody) => {
        const result = verifyWebhookSignature({
          id,
          timestamp,
          signatureHeader,
          rawBody,
          secrets: [secret],
          toleranceSeconds: TOLERANCE,
          now: NOW,
        });
        expect(result.ok).toBe(false);
      }),
    );
  });

  it('refuses any timestamp beyond the tolerance before looking at the signature, and accepts any within it', () => {
    fc.assert(
      fc.property(fc.integer({ min: TOLERANCE + 1, max: 10 ** 9 }), fc.boolean(), (distance, future) => {
        const timestamp = String(nowSeconds + (future ? distance : -distance));
        expect(checkSignatureHeaders({ id: 'msg', timestamp, signatureHeader: 'v1,x' }, TOLERANCE, NOW)).toEqual({
          ok: false,
          reason: 'timestamp_out_of_tolerance',
        });
      }),
    );
    fc.assert(
      fc.property(timestampArb, (timestamp) => {
        expect(
          checkSignatureHeaders({ id: 'msg', timestamp: String(timestamp), signatureHeader: 'v1,x' }, TOLERANCE, NOW),
        ).toEqual({
          ok: true,
        });
      }),
    );
  });
});

describe('the webhook secret rule', () => {
  it('accepts a whsec_ secret exactly when it holds at least 24 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 80 }), (bytes) => {
        const check = checkWebhookSecret(`whsec_${Buffer.from(bytes).toString('base64')}`);
        expect(check.ok).toBe(bytes.length >= MIN_WEBHOOK_SECRET_BYTES);
      }),
    );
  });

  it('refuses anything without the prefix, whatever it holds', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 120 }), (text) => {
        fc.pre(!text.startsWith('whsec_'));
        expect(checkWebhookSecret(text)).toMatchObject({ ok: false, problem: 'malformed' });
      }),
    );
  });
});

describe('the content type', () => {
  const mixedCase = (text: string) =>
    fc
      .array(fc.boolean(), { minLength: text.length, maxLength: text.length })
      .map((upper) => [...text].map((char, index) => (upper[index] ? char.toUpperCase() : char)).join(''));
  const spaces = fc.constantFrom('', ' ', '  ', '\t');

  it('accepts application/json in any case and spacing, with or without a UTF-8 charset', () => {
    const charset = fc.oneof(
      fc.constant(''),
      fc
        .tuple(spaces, fc.oneof(mixedCase('utf-8'), mixedCase('utf8')), fc.boolean())
        .map(([space, name, quoted]) => `;${space}charset=${quoted ? `"${name}"` : name}`),
    );
    fc.assert(
      fc.property(spaces, mixedCase('application/json'), spaces, charset, (before, type, after, parameter) => {
        expect(isJsonContentType(`${before}${type}${after}${parameter}`)).toBe(true);
      }),
    );
  });

  it('refuses another charset, and any other media type, without ever throwing', () => {
    fc.assert(
      fc.property(fc.constantFrom('latin1', 'utf-16', 'shift_jis', 'iso-8859-1', 'euc-jp', 'utf-7', ''), (charset) => {
        expect(isJsonContentType(`application/json; charset=${charset}`)).toBe(false);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (header) => {
        fc.pre(!header.split(';')[0]?.trim().toLowerCase().startsWith('application/json'));
        expect(isJsonContentType(header)).toBe(false);
      }),
    );
  });
});

describe('the payload schema', () => {
  /** Text the bridge stores as sent: any code points but U+0000. */
  const textArb = (max: number, min = 0) =>
    fc
      .string({ unit: 'binary', minLength: min, maxLength: Math.floor(max / 2) })
      .filter((text) => !text.includes('\u0000') && text.length >= min);
  const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });

  const payloadArb: fc.Arbitrary<ActionPayload> = fc.record({
    type: fc.constant('ticket.action.created' as const),
    action: fc.record({
      id: textArb(LIMITS.id, 1),
      kind: textArb(LIMITS.keyword, 1),
      occurred_at: fc
        .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
        .map((date) => date.toISOString()),
      channel: textArb(LIMITS.keyword, 1),
      direction: fc.constantFrom('inbound' as const, 'outbound' as const, 'internal' as const),
      subject: optional(textArb(100)),
      body: optional(textArb(2_000)),
      operator: optional(
        fc.record({ id: optional(textArb(40)), name: optional(textArb(40)), email: optional(textArb(40)) }),
      ),
      call: optional(
        fc.record({
          duration_seconds: optional(fc.integer({ min: 0, max: LIMITS.callSeconds })),
          phone: optional(textArb(LIMITS.phone)),
        }),
      ),
    }),
    ticket: fc.record({
      id: textArb(LIMITS.id, 1),
      title: optional(textArb(100)),
      status: optional(textArb(LIMITS.keyword)),
      url: fc.stringMatching(/^[A-Za-z0-9_-]{1,30}$/).map((path) => `https://example.relationapp.jp/tickets/${path}`),
    }),
    inbox: fc.record({ id: textArb(LIMITS.id, 1), name: optional(textArb(40)) }),
    customer: fc.record({
      id: optional(textArb(40)),
      name: optional(textArb(40)),
      code: optional(textArb(40)),
      emails: optional(fc.array(textArb(60), { maxLength: 5 })),
      phones: optional(fc.array(textArb(LIMITS.phone), { maxLength: 5 })),
    }),
  });

  it('accepts any well-formed body and gives it back exactly, also after a trip through JSON', () => {
    fc.assert(
      fc.property(payloadArb, (payload) => {
        const direct = parseWebhookBody(payload);
        expect(direct).toEqual({ ok: true, payload });
        expect(parseWebhookBody(JSON.parse(JSON.stringify(payload)))).toEqual({ ok: true, payload });
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a lone surrogate or U+0000 anywhere in any text field, naming that field', () => {
    const spoilerArb = fc.oneof(
      fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)),
      fc.constant('\u0000'),
    );
    fc.assert(
      fc.property(
        payloadArb,
        fc.constantFrom(...TEXT_FIELDS),
        spoilerArb,
        fc.boolean(),
        (payload, field, spoiler, atStart) => {
          const spoiled = structuredClone(payload) as unknown as Record<string, any>;
          if (spoiled.action.operator === null) spoiled.action.operator = { id: 'u', name: 'n', email: 'e' };
          if (spoiled.action.call === null) spoiled.action.call = { duration_seconds: 1, phone: '1' };
          if (spoiled.customer.emails === null || spoiled.customer.emails.length === 0)
            spoiled.customer.emails = ['a@b'];
          if (spoiled.customer.phones === null || spoiled.customer.phones.length === 0) spoiled.customer.phones = ['1'];
          const keys = field.split('.');
          let original: unknown = spoiled;
          for (const key of keys) original = (original as Record<string, unknown>)[key];
          const text = String(original ?? 'x');
          // At either end, a surrogate half cannot pair up with what the generator made (whole code points).
          const spoiledText = atStart ? `${spoiler}${text}` : `${text}${spoiler}`;
          fc.pre(!spoiledText.isWellFormed() || spoiledText.includes('\u0000'));
          setPath(spoiled, field, spoiledText);
          const parsed = parseWebhookBody(JSON.parse(JSON.stringify(spoiled)));
          expect(parsed.ok).toBe(false);
          expect(!parsed.ok && parsed.issues.map((issue) => issue.path)).toContain(field);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws for any JSON value, and reports issues with dot paths', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const parsed = parseWebhookBody(value);
        if (!parsed.ok) {
          expect(parsed.issues.length).toBeGreaterThan(0);
          for (const issue of parsed.issues) expect(typeof issue.path).toBe('string');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keys such as __proto__ and constructor anywhere in a body change no prototype and are not kept', () => {
    const dangerous = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty');
    fc.assert(
      fc.property(
        payloadArb,
        dangerous,
        fc.constantFrom('', 'action', 'ticket', 'inbox', 'customer', 'action.operator'),
        (payload, key, where) => {
          const text = JSON.stringify(payload);
          const target = where === '' ? '{' : `"${where.split('.').at(-1)}":{`;
          const at = text.indexOf(target);
          fc.pre(at >= 0);
          const injected = `${text.slice(0, at + target.length)}"${key}":{"polluted":true,"isOwner":true},${text.slice(at + target.length)}`;
          const parsed = parseWebhookBody(JSON.parse(injected));
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
          expect(({} as Record<string, unknown>).isOwner).toBeUndefined();
          expect(parsed.ok).toBe(true);
          expect(JSON.stringify(parsed.ok && parsed.payload)).not.toContain('polluted');
        },
      ),
    );
  });

  it('refuses text longer than its limit, naming the field', () => {
    const bounded = [
      ['action.id', LIMITS.id],
      ['action.kind', LIMITS.keyword],
      ['action.subject', LIMITS.subject],
      ['ticket.url', LIMITS.url],
      ['customer.phones.0', LIMITS.phone],
    ] as const;
    fc.assert(
      fc.property(
        payloadArb,
        fc.constantFrom(...bounded),
        fc.integer({ min: 1, max: 50 }),
        (payload, [field, limit], over) => {
          const spoiled = structuredClone(payload) as unknown as Record<string, any>;
          if (spoiled.customer.phones === null || spoiled.customer.phones.length === 0) spoiled.customer.phones = ['1'];
          const long =
            field === 'ticket.url' ? `https://example.relationapp.jp/${'a'.repeat(limit)}` : 'a'.repeat(limit + over);
          setPath(spoiled, field, long);
          const parsed = parseWebhookBody(spoiled);
          expect(!parsed.ok && parsed.issues.map((issue) => issue.path)).toContain(field);
        },
      ),
    );
  });
});
