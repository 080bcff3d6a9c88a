import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import { isSyncableChannel } from '../core/channels';
import { BODY_DEADLINES_MS } from '../core/http-hardening';
import type { IngestResult } from '../core/types';
import { requestIdOf } from '../http/access-log';
import { failureHeaders, httpFailure, jsonFailureBody, type HttpFailure } from '../http/errors';
import type { Logger } from '../logging';
import type { IncomingAction } from '../sync/actions-repository';
import { parseWebhookBody, type PayloadIssue } from './schema';
import { checkSignatureHeaders, verifyWebhookSignature, type SignatureFailure } from './signature';

export const WEBHOOK_PATH = '/webhooks/relation';
const MAX_WEBHOOK_ID_LENGTH = 255;
/** The path as express's router matches it (any case, an optional trailing slash), with any query. */
const WEBHOOK_URL = /^\/webhooks\/relation\/?(?:\?|$)/i;

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
  /** Called with every answer's status and how long it took (the metrics). */
  onAnswered?: (status: number, seconds: number) => void;
  /**
   * Write the access log's line for each webhook (as pino-http does for the other routes),
   * and answer with `X-Request-Id`: the bridge serves webhooks ahead of its access log.
   */
  accessLog?: boolean;
}

/** A request as the handler reads it: node's, with express's `ip` when express has seen it. */
type WebhookRequest = IncomingMessage & { ip?: string | undefined; originalUrl?: string };

export interface WebhookHandler {
  (req: WebhookRequest, res: ServerResponse): void;
  /** Whether a request is for the intake (by its path). */
  handles(req: IncomingMessage): boolean;
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
 * Any other method at the path: 405. It is the busiest route by far, so it is written on
 * node's own request and response, without middleware: it reads the raw bytes itself
 * (the signature covers them exactly as sent) and writes its JSON answers, with the same
 * headers and bodies as the rest of the bridge's (http/errors.ts), directly.
 */
export function createWebhookHandler(options: IntakeRouterOptions): WebhookHandler {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const syncedKinds = options.syncedKinds === undefined ? null : new Set(options.syncedKinds);
  const maxBodyBytes = options.maxBodyBytes;
  const bodyDeadlineMs = options.bodyDeadlineMs ?? BODY_DEADLINES_MS.webhook;

  async function receive(req: WebhookRequest, answer: Answer): Promise<void> {
    if (req.method !== 'POST') {
      answer.fail(
        httpFailure('method_not_allowed', 'method_not_allowed', `Only POST is accepted at ${WEBHOOK_PATH}.`),
        { Allow: 'POST' },
      );
      req.resume();
      return;
    }
    const headers = req.headers;
    if (!isJsonContentType(headers['content-type']) || !isUncompressed(headers['content-encoding'])) {
      req.resume();
      answer.fail(
        httpFailure(
          'unsupported_media_type',
          'unsupported_media_type',
          'Send the webhook as application/json in UTF-8, uncompressed.',
        ),
      );
      return;
    }
    const signature = {
      id: single(headers['webhook-id']),
      timestamp: single(headers['webhook-timestamp']),
      signatureHeader: single(headers['webhook-signature']),
    };
    const webhookId = signature.id;
    const headerCheck = checkSignatureHeaders(signature, options.toleranceSeconds, now());
    if (!headerCheck.ok) {
      req.resume();
      rejectSignature(answer, headerCheck.reason, webhookId);
      return;
    }

    const body = await readBody(req, maxBodyBytes, bodyDeadlineMs);
    if (!body.ok) {
      if (body.failure === 'too_large') {
        answer.fail(
          httpFailure(
            'payload_too_large',
            'payload_too_large',
            `The webhook body is larger than ${maxBodyBytes} bytes.`,
          ),
        );
      } else if (body.failure === 'timed_out') {
        answer.log().info({ webhookId: shorten(webhookId) }, 'intake: the webhook body did not arrive in time');
        // The connection closes once the answer is sent, so that a trickling body cannot hold it.
        answer.fail(httpFailure('request_timeout', 'request_timeout', 'The request body did not arrive in time.'), {
          Connection: 'close',
        });
      } else invalidPayload(answer, [{ path: '', message: 'the request body could not be read' }], webhookId);
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
      rejectSignature(answer, verification.reason, webhookId);
      return;
    }
    if ((webhookId ?? '').length > MAX_WEBHOOK_ID_LENGTH) {
      invalidPayload(
        answer,
        [{ path: 'headers.webhook-id', message: `must be at most ${MAX_WEBHOOK_ID_LENGTH} characters` }],
        undefined,
      );
      return;
    }

    const json = parseJson(body.bytes);
    if (!json.ok) {
      invalidPayload(answer, [{ path: '', message: json.message }], webhookId);
      return;
    }
    const parsed = parseWebhookBody(json.value);
    if (!parsed.ok) {
      invalidPayload(answer, parsed.issues, webhookId);
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
      answer
        .log()
        .error({ err: error, webhookId, actionId: action.actionId }, 'intake: the store could not commit the action');
      answer.fail(
        httpFailure('unavailable', 'unavailable', 'The bridge cannot store the webhook now: send it again later.'),
      );
      return;
    }
    if (logger.isLevelEnabled('debug')) {
      answer.log().debug({ webhookId, actionId: result.actionId, status: result.status }, 'intake: webhook received');
    }
    if (result.status === 'duplicate') {
      answer.json(200, { status: 'duplicate', action_id: result.actionId });
      return;
    }
    if (result.status === 'conflict') {
      // A sender that reuses a webhook-id for another body has a bug; dropping the body
      // silently as a duplicate would lose it.
      answer
        .log()
        .warn(
          { webhookId: shorten(webhookId), actionId: action.actionId, storedActionId: result.actionId },
          'intake: webhook-id reused with a different body; refused',
        );
      answer.fail(
        httpFailure('conflict', 'webhook_id_reused', 'This webhook-id was delivered before with another body.', {
          action_id: result.actionId,
        }),
      );
      return;
    }
    answer.json(202, { status: 'accepted', action_id: result.actionId });
    const maySync = isSyncableChannel(action.channel) && (syncedKinds === null || syncedKinds.has(action.kind));
    if (maySync) options.onAccepted?.();
  }

  function rejectSignature(answer: Answer, reason: SignatureFailure, webhookId: string | undefined): void {
    const log = answer.log();
    (reason === 'no_secrets' ? log.error.bind(log) : log.info.bind(log))(
      { webhookId: shorten(webhookId), reason },
      'intake: webhook signature rejected',
    );
    answer.fail(
      httpFailure(
        'unauthenticated',
        'invalid_signature',
        'The webhook signature is missing, out of date, or matches no active secret.',
      ),
    );
  }

  function invalidPayload(answer: Answer, details: PayloadIssue[], webhookId: string | undefined): void {
    answer
      .log()
      .info({ webhookId: shorten(webhookId), details: details.slice(0, 10) }, 'intake: invalid webhook payload');
    answer.fail(httpFailure('bad_input', 'invalid_payload', 'The webhook body is not valid: see details.', details));
  }

  const handler = ((req: WebhookRequest, res: ServerResponse) => {
    const answer = new Answer(req, res, logger, options);
    receive(req, answer).catch((error: unknown) => {
      answer.log().error({ err: error }, 'request failed');
      if (!res.headersSent)
        answer.fail(httpFailure('internal', 'internal_error', 'The request failed inside the bridge; see its log.'));
      else res.destroy();
    });
  }) as WebhookHandler;
  handler.handles = (req) => WEBHOOK_URL.test(req.url ?? '');
  return handler;
}

/**
 * The intake as an express router (for an application that mounts it among others); the
 * bridge itself serves webhooks ahead of its middleware (app.ts).
 */
export function createIntakeRouter(options: IntakeRouterOptions): express.Router {
  const handler = createWebhookHandler(options);
  const router = express.Router();
  router.post(WEBHOOK_PATH, handler);
  router.all(WEBHOOK_PATH, handler);
  return router;
}

/** One webhook's answer: its JSON, its headers, its access-log line and its metrics. */
class Answer {
  private readonly started = process.hrtime.bigint();
  private readonly requestId: string | null;
  private child: Logger | null = null;

  constructor(
    private readonly req: WebhookRequest,
    private readonly res: ServerResponse,
    private readonly logger: Logger,
    private readonly options: Pick<IntakeRouterOptions, 'accessLog' | 'onAnswered'>,
  ) {
    this.requestId = options.accessLog === true ? requestIdOf(req.headers['x-request-id'], randomUUID) : null;
  }

  /** The logger for lines this request causes: with its request id, as the access log's. */
  log(): Logger {
    this.child ??= this.requestId === null ? this.logger : this.logger.child({ reqId: this.requestId });
    return this.child;
  }

  json(status: number, body: object, extraHeaders: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      // Webhook answers name actions: no cache keeps them, no browser reads them as anything but JSON.
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      ...extraHeaders,
    };
    if (this.requestId !== null) headers['X-Request-Id'] = this.requestId;
    this.res.writeHead(status, headers);
    this.res.end(text);
    this.answered(status);
  }

  fail(failure: HttpFailure, extraHeaders: Record<string, string> = {}): void {
    this.json(failure.status, jsonFailureBody(failure), { ...failureHeaders(failure), ...extraHeaders });
  }

  private answered(status: number): void {
    const seconds = Number(process.hrtime.bigint() - this.started) / 1e9;
    this.options.onAnswered?.(status, seconds);
    if (this.requestId === null) return;
    const level = status >= 500 ? 'error' : 'info';
    if (!this.logger.isLevelEnabled(level)) return;
    const { req } = this;
    this.logger[level](
      {
        req: {
          id: this.requestId,
          method: req.method,
          url: req.originalUrl ?? req.url,
          remoteAddress: req.ip ?? req.socket.remoteAddress,
          userAgent: req.headers['user-agent'],
        },
        res: { statusCode: status },
        responseTime: Math.round(seconds * 1000),
      },
      status >= 500 ? 'request failed' : 'request',
    );
  }
}

function single(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header.join(', ') : header;
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
 * all of it within `deadlineMs`. A body past the limit (declared or sent) is read to its end
 * and dropped before the 413, so that the client, still sending, reads the answer.
 */
function readBody(req: IncomingMessage, limit: number, deadlineMs: number): Promise<RawBody> {
  return new Promise((resolve) => {
    const declared = req.headers['content-length'];
    let tooLarge = declared !== undefined && Number(declared) > limit;
    const chunks: Buffer[] = [];
    let length = 0;
    let settled = false;
    const settle = (body: RawBody) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAborted);
      req.off('error', onAborted);
      if (!body.ok) req.resume();
      resolve(body);
    };
    const onData = (chunk: Buffer) => {
      if (tooLarge) return;
      length += chunk.length;
      if (length > limit) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () =>
      settle(tooLarge ? { ok: false, failure: 'too_large' } : { ok: true, bytes: Buffer.concat(chunks, length) });
    const onAborted = () => settle({ ok: false, failure: 'unreadable' });
    const timer = setTimeout(() => settle({ ok: false, failure: 'timed_out' }), deadlineMs);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onAborted);
    req.on('error', onAborted);
  });
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
