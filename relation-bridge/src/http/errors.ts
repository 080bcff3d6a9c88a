import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { type FailureKind, type HttpReason, isBridgeError, refused } from '../core/errors';
import type { Logger } from '../logging';
import { escapeHtml, page } from './pages';

/**
 * The one mapping from a failure to an HTTP answer, for every surface: the admin API, the
 * webhook intake, the OAuth callback and the console. A failure has a status from its
 * reason (or its kind), a stable code, an English message and maybe details; it is written
 * as JSON (`{ error, message, details? }`) or as a page in Japanese and English. A 500 never
 * shows what failed inside; the log does.
 */

export const STATUS_OF_REASON: Record<HttpReason, number> = {
  bad_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  internal: 500,
  unavailable: 503,
};

/** Without a reason of its own, a failure reaches HTTP by its kind. */
const REASON_OF_KIND: Record<FailureKind, HttpReason> = {
  bad_input: 'bad_input',
  needs_reauth: 'conflict',
  retryable: 'unavailable',
  api_budget: 'unavailable',
  permanent: 'internal',
};

export interface HttpFailure {
  status: number;
  reason: HttpReason;
  code: string;
  message: string;
  details?: unknown;
}

const INTERNAL: HttpFailure = {
  status: 500,
  reason: 'internal',
  code: 'internal_error',
  message: 'The request failed inside the bridge; see its log.',
};

export function httpFailure(reason: HttpReason, code: string, message: string, details?: unknown): HttpFailure {
  return { status: STATUS_OF_REASON[reason], reason, code, message, ...(details === undefined ? {} : { details }) };
}

interface ParserError {
  type?: unknown;
}

/** What express's body parsers throw, as failures of the caller. */
function parserFailure(error: unknown): HttpFailure | null {
  const { type } = (typeof error === 'object' && error !== null ? error : {}) as ParserError;
  const failure = httpFailure;
  if (type === 'entity.parse.failed')
    return failure('bad_input', 'invalid_json', 'The request body is not valid JSON.');
  if (type === 'entity.too.large')
    return failure('payload_too_large', 'payload_too_large', 'The request body is too large.');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return failure('unsupported_media_type', 'unsupported_media_type', 'Send the body as UTF-8 JSON.');
  }
  return null;
}

/**
 * What express's router and body parsers throw for a request they cannot read (a path whose
 * %-escapes do not decode, a compressed body that does not inflate): the caller's 4xx, never
 * a 500.
 */
function unreadableRequest(error: unknown): HttpFailure | null {
  if (typeof error !== 'object' || error === null) return null;
  const { status, expose } = error as { status?: unknown; expose?: unknown };
  if (error instanceof URIError && status === 400) {
    return httpFailure('bad_input', 'invalid_path', 'The request path is not valid: a %-escape does not decode.');
  }
  if (expose === true && typeof status === 'number' && status >= 400 && status < 500) {
    return httpFailure('bad_input', 'invalid_request', 'The request could not be read.');
  }
  return null;
}

/** How a failure answers an HTTP caller. */
export function httpFailureOf(error: unknown): HttpFailure {
  const parsing = parserFailure(error) ?? unreadableRequest(error);
  if (parsing !== null) return parsing;
  if (!isBridgeError(error)) return INTERNAL;
  const reason = error.reason ?? REASON_OF_KIND[error.kind];
  if (reason === 'internal') return INTERNAL;
  return {
    status: STATUS_OF_REASON[reason],
    reason,
    code: error.code,
    message: error.message,
    ...(error.details === undefined ? {} : { details: error.details }),
  };
}

/** Logs what the caller is not told: every 5xx, with the error. */
function logFailure(logger: Logger, failure: HttpFailure, error: unknown, req: Request): void {
  // The access log's child logger, when there is one, adds the request id.
  const log = (req as Request & { log?: Logger }).log ?? logger;
  if (failure.reason === 'internal') {
    log.error({ err: error, method: req.method, path: req.path }, 'request failed');
  } else if (failure.reason === 'unavailable') {
    log.warn({ err: error, method: req.method, path: req.path }, 'request could not be served now');
  }
}

/** The headers a failure's answer carries beside its body. */
export function failureHeaders(failure: HttpFailure): Record<string, string> {
  const headers: Record<string, string> = {};
  if (failure.status === 401) headers['WWW-Authenticate'] = 'Bearer realm="relation-bridge"';
  const retryAfter = (failure.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  if (failure.status === 429 && typeof retryAfter === 'number') headers['Retry-After'] = String(retryAfter);
  return headers;
}

/** The JSON body of a failure: `{ error, message, details? }`. */
export function jsonFailureBody(failure: HttpFailure): { error: string; message: string; details?: unknown } {
  return {
    error: failure.code,
    message: failure.message,
    ...(failure.details === undefined ? {} : { details: failure.details }),
  };
}

/** The JSON rendering. */
export function sendJsonFailure(res: Response, failure: HttpFailure): void {
  res.set(failureHeaders(failure));
  res.status(failure.status).json(jsonFailureBody(failure));
}

/** What a person reads on an error page, by reason. */
const PAGE_TEXT: Record<HttpReason, { ja: string; en: string }> = {
  bad_input: { ja: 'リクエストの内容が正しくありません。', en: 'The request is not valid.' },
  unauthenticated: { ja: 'サインインが必要です。', en: 'You need to sign in.' },
  forbidden: { ja: 'あなたの権限では、これを行うことはできません。', en: 'You may not do this.' },
  not_found: { ja: 'ページが見つかりません。', en: 'This page does not exist.' },
  method_not_allowed: { ja: 'この方法ではアクセスできません。', en: 'This method is not allowed here.' },
  request_timeout: { ja: 'リクエストが時間内に届きませんでした。', en: 'The request did not arrive in time.' },
  conflict: { ja: '現在の状態と矛盾するため実行できません。', en: 'This conflicts with the current state.' },
  payload_too_large: { ja: '送信されたデータが大きすぎます。', en: 'The request is too large.' },
  unsupported_media_type: { ja: 'この形式のデータは受け付けられません。', en: 'This media type is not accepted.' },
  too_many_requests: {
    ja: '試行回数が多すぎます。しばらくしてからもう一度お試しください。',
    en: 'Too many attempts. Try again later.',
  },
  internal: {
    ja: '予期しないエラーが発生しました。ブリッジのログを確認してください。',
    en: 'Something unexpected failed. See the bridge log.',
  },
  unavailable: {
    ja: '一時的に利用できません。しばらくしてからもう一度お試しください。',
    en: 'Temporarily unavailable. Try again in a moment.',
  },
};

/** The HTML rendering: a self-contained page in Japanese and English, with the code. */
export function renderFailurePage(failure: HttpFailure): string {
  const text = PAGE_TEXT[failure.reason];
  return page(
    'fail',
    `${failure.status} ${text.ja}`,
    text.en,
    `<p class="en" lang="en">${escapeHtml(failure.message)}</p>\n<p class="en">(${escapeHtml(failure.code)})</p>`,
  );
}

export function sendHtmlFailure(res: Response, failure: HttpFailure): void {
  res.set(failureHeaders(failure));
  res.status(failure.status).type('html').send(renderFailurePage(failure));
}

/** Writes the failure as JSON, or as a page to a browser that asks for HTML before JSON. */
export function sendFailure(req: Request, res: Response, failure: HttpFailure, render: 'json' | 'negotiate'): void {
  if (render === 'negotiate' && req.accepts(['json', 'html']) === 'html') sendHtmlFailure(res, failure);
  else sendJsonFailure(res, failure);
}

/**
 * The error handler of a router or of the whole application: `json` for APIs, `negotiate`
 * where browsers come too.
 */
export function errorHandler(logger: Logger, render: 'json' | 'negotiate' = 'json'): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const failure = httpFailureOf(error);
    logFailure(logger, failure, error, req);
    sendFailure(req, res, failure, render);
  };
}

/** The answer to a path nothing serves. */
export function notFound(what = 'endpoint'): RequestHandler {
  return (req, _res, next) => {
    next(refused('not_found', 'not_found', `No ${what} answers ${req.method} ${req.originalUrl.split('?')[0]}.`));
  };
}
