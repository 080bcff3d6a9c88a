import { createHash } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { isSyncableChannel } from '../core/channels';
import { answerRequestTimeout, BODY_DEADLINES_MS, privateJsonResponses, readBodyWithin } from '../core/http-hardening';
import type { HttpReason } from '../core/errors';
import type { IngestResult } from '../core/types';
import { httpFailure, sendJsonFailure } from '../http/errors';
import type { Logger } from '../logging';
import type { IncomingAction } from '../sync/actions-repository';
import { parseWebhookBody, type PayloadIssue } from './schema';
import { checkSignatureHeaders, verifyWebhookSignature, type SignatureFailure } from './signature';

export const WEBHOOK_PATH = '/webhooks/relation';
const MAX_WEBHOOK_ID_LENGTH = 255;

export interface IntakeRouterOptions {
  /** Commits the action durably (group commit) before it resolves. */
  ingest: (action: IncomingAction) => Promise<IngestResult>;
  /** Active webhook secrets (`whsec_…`), read on every request so that rotation applies at once. */
  secrets: () => readonly string[];
  toleranceSeconds: number;
  maxBodyBytes: number;
  /** How long the body may take to arrive once the headers have: 408 after it. Default BODY_DEADLINES_MS.webhook. */
  bodyDeadlineMs?: number;
  /** Kinds that can sync; accepting any other kind does not wake the sync engine. Default: all. */
  syncedKinds?: readonly string[];
  /** ms since the epoch. */
  now?: () => number;
  logger: Logger;
  /** Called after an action that may sync was committed, so that the sync engine wakes early. */
  onAccepted?: () => void;
}

/**
 * `POST /webhooks/relation`, contract v1 (docs/webhook-contract.md). Checks run cheapest
 * and most basic first, and nothing is stored before all of them passed:
 *
 * 1. `application/json` (charset, if any, UTF-8), not compressed    → 415
 * 2. signature headers present, timestamp within tolerance          → 401
 * 3. body no larger than the limit, and all of it in time           → 413, 408
 * 4. HMAC of the raw bytes matches one active secret                → 401
 * 5. UTF-8, JSON, and the schema                                    → 400
 * 6. committed by the store (group commit)                          → 202 / 200 / 409, or 503
 *
 * Mount it before any body parser: it reads the raw bytes itself, because the signature
 * covers them exactly as sent.
 */
export function createIntakeRouter(options: IntakeRouterOptions): express.Router {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const syncedKinds = options.syncedKinds === undefined ? null : new Set(options.syncedKinds);
  const readRawBody = rawBodyReader(options.maxBodyBytes, options.bodyDeadlineMs ?? BODY_DEADLINES_MS.webhook);
  const router = express.Router();
  router.use(WEBHOOK_PATH, privateJsonResponses);

  router.post(WEBHOOK_PATH, async (req, res) => {
    if (!isJsonContentType(req.get('content-type')) || !isUncompressed(req.get('content-encoding'))) {
      fail(
        res,
        'unsupported_media_type',
        'unsupported_media_type',
        'Send the webhook as application/json in UTF-8, uncompressed.',
      );
      return;
    }
    const signature = {
      id: req.get('webhook-id'),
      timestamp: req.get('webhook-timestamp'),
      signatureHeader: req.get('webhook-signature'),
    };
    const webhookId = signature.id;
    const headerCheck = checkSignatureHeaders(signature, options.toleranceSeconds, now());
    if (!headerCheck.ok) {
      rejectSignature(res, headerCheck.reason, webhookId);
      return;
    }

    const body = await readRawBody(req, res);
    if (!body.ok) {
      if (body.failure === 'too_large') {
        fail(
          res,
          'payload_too_large',
          'payload_too_large',
          `The webhook body is larger than ${options.maxBodyBytes} bytes.`,
        );
      } else if (body.failure === 'timed_out') {
        logger.info({ webhookId: shorten(webhookId) }, 'intake: the webhook body did not arrive in time');
        answerRequestTimeout(res);
      } else invalidPayload(res, [{ path: '', message: 'the request body could not be read' }], webhookId);
      return;
    }

    const verification = verifyWebhookSignature({
      ...signature,
      rawBody: body.bytes,
      secrets: options.secrets(),
      toleranceSeconds: options.toleranceSeconds,
      now: now(),
    });
    if (!verification.ok) {
      rejectSignature(res, verification.reason, webhookId);
      return;
    }
    if ((webhookId ?? '').length > MAX_WEBHOOK_ID_LENGTH) {
      invalidPayload(
        res,
        [{ path: 'headers.webhook-id', message: `must be at most ${MAX_WEBHOOK_ID_LENGTH} characters` }],
        undefined,
      );
      return;
    }

    const json = parseJson(body.bytes);
    if (!json.ok) {
      invalidPayload(res, [{ path: '', message: json.message }], webhookId);
      return;
    }
    const parsed = parseWebhookBody(json.value);
    if (!parsed.ok) {
      invalidPayload(res, parsed.issues, webhookId);
      return;
    }

    const { payload } = parsed;
    const action: IncomingAction = {
      actionId: payload.action.id,
      webhookId: webhookId as string,
      inboxId: payload.inbox.id,
      inboxName: payload.inbox.name ?? null,
      kind: payload.action.kind,
      channel: payload.action.channel,
      occurredAt: Date.parse(payload.action.occurred_at),
      receivedAt: now(),
      payload,
      bodyHash: createHash('sha256').update(body.bytes).digest('hex'),
    };
    let result;
    try {
      result = await options.ingest(action);
    } catch (error) {
      logger.error(
        { err: error, webhookId, actionId: action.actionId },
        'intake: the store could not commit the action',
      );
      fail(res, 'unavailable', 'unavailable', 'The bridge cannot store the webhook now: send it again later.');
      return;
    }
    logger.debug({ webhookId, actionId: result.actionId, status: result.status }, 'intake: webhook received');
    if (result.status === 'duplicate') {
      reply(res, 200, { status: 'duplicate', action_id: result.actionId });
      return;
    }
    if (result.status === 'conflict') {
      // A sender that reuses a webhook-id for another body has a bug; dropping the body
      // silently as a duplicate would lose it.
      logger.warn(
        { webhookId: shorten(webhookId), actionId: action.actionId, storedActionId: result.actionId },
        'intake: webhook-id reused with a different body; refused',
      );
      fail(res, 'conflict', 'webhook_id_reused', 'This webhook-id was delivered before with another body.', {
        action_id: result.actionId,
      });
      return;
    }
    reply(res, 202, { status: 'accepted', action_id: result.actionId });
    const maySync = isSyncableChannel(action.channel) && (syncedKinds === null || syncedKinds.has(action.kind));
    if (maySync) options.onAccepted?.();
  });

  router.all(WEBHOOK_PATH, (_req, res) => {
    res.set('Allow', 'POST');
    fail(res, 'method_not_allowed', 'method_not_allowed', `Only POST is accepted at ${WEBHOOK_PATH}.`);
  });

  function rejectSignature(res: Response, reason: SignatureFailure, webhookId: string | undefined): void {
    const log = reason === 'no_secrets' ? logger.error.bind(logger) : logger.info.bind(logger);
    log({ webhookId: shorten(webhookId), reason }, 'intake: webhook signature rejected');
    fail(
      res,
      'unauthenticated',
      'invalid_signature',
      'The webhook signature is missing, out of date, or matches no active secret.',
    );
  }

  function invalidPayload(res: Response, details: PayloadIssue[], webhookId: string | undefined): void {
    logger.info({ webhookId: shorten(webhookId), details: details.slice(0, 10) }, 'intake: invalid webhook payload');
    fail(res, 'bad_input', 'invalid_payload', 'The webhook body is not valid: see details.', details);
  }

  return router;
}

function reply(res: Response, status: number, body: object): void {
  res.status(status).json(body);
}

/** Every refusal goes through the one error mapping: `{ error, message, details? }`. */
function fail(res: Response, reason: HttpReason, code: string, message: string, details?: unknown): void {
  sendJsonFailure(res, httpFailure(reason, code, message, details));
}

/** `application/json`, with an optional charset that must be UTF-8 (the contract's encoding). */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [mediaType = '', ...parameters] = header.split(';');
  if (mediaType.trim().toLowerCase() !== 'application/json') return false;
  return parameters.every((parameter) => {
    const separator = parameter.indexOf('=');
    const name = parameter
      .slice(0, separator < 0 ? undefined : separator)
      .trim()
      .toLowerCase();
    if (name !== 'charset') return true;
    const value = parameter
      .slice(separator + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    return value === 'utf-8' || value === 'utf8';
  });
}

/**
 * The signature covers the bytes on the wire, and inflating would let a small request grow
 * past the limit: compressed bodies are refused.
 */
function isUncompressed(header: string | undefined): boolean {
  return header === undefined || header.trim() === '' || header.trim().toLowerCase() === 'identity';
}

type RawBody = { ok: true; bytes: Buffer } | { ok: false; failure: 'too_large' | 'unreadable' | 'timed_out' };

/**
 * The body exactly as sent, at most `limit` bytes (a body of exactly `limit` bytes is read),
 * all of it within `deadlineMs`.
 */
function rawBodyReader(limit: number, deadlineMs: number): (req: Request, res: Response) => Promise<RawBody> {
  const parser = express.raw({ type: () => true, limit, inflate: false });
  return async (req, res) => {
    const read = await readBodyWithin(parser, req, res, deadlineMs);
    if (read.outcome === 'read') return { ok: true, bytes: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0) };
    if (read.outcome === 'timed_out') return { ok: false, failure: 'timed_out' };
    const tooLarge = (read.error as { type?: unknown }).type === 'entity.too.large';
    return { ok: false, failure: tooLarge ? 'too_large' : 'unreadable' };
  };
}

type JsonParse = { ok: true; value: unknown } | { ok: false; message: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(bytes: Buffer): JsonParse {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, message: 'the body is not valid UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    // V8's message quotes the body; the sender has it already and logs should not.
    return { ok: false, message: 'the body is not valid JSON' };
  }
}

/** Webhook ids are logged for tracing; an absurdly long one is cut so that logs stay sane. */
function shorten(webhookId: string | undefined): string | undefined {
  return webhookId !== undefined && webhookId.length > MAX_WEBHOOK_ID_LENGTH
    ? `${webhookId.slice(0, MAX_WEBHOOK_ID_LENGTH)}…`
    : webhookId;
}
