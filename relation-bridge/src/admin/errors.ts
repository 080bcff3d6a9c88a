import type { ErrorRequestHandler } from 'express';
import { type FailureKind, isBridgeError } from '../core/errors';
import type { Logger } from '../logging';
import { LinkConflictError } from '../links/links-repository';

const STATUS_BY_KIND: Record<FailureKind, number> = {
  bad_input: 400,
  needs_reauth: 409,
  retryable: 503,
  api_budget: 503,
  permanent: 500,
};

interface HttpParserError {
  type?: unknown;
  status?: unknown;
}

function parserError(error: unknown): { status: number; code: string; message: string } | null {
  const { type } = (typeof error === 'object' && error !== null ? error : {}) as HttpParserError;
  if (type === 'entity.parse.failed')
    return { status: 400, code: 'invalid_json', message: 'The request body is not valid JSON.' };
  if (type === 'entity.too.large')
    return { status: 413, code: 'payload_too_large', message: 'The request body is too large.' };
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return { status: 415, code: 'unsupported_media_type', message: 'Send the body as UTF-8 JSON.' };
  }
  return null;
}

/**
 * The admin API's only error handler: `{ error, message, details? }`. BridgeErrors carry
 * their status or get one from their kind; a 5xx never shows internals.
 */
export function adminErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const parsing = parserError(error);
    if (parsing !== null) {
      res.status(parsing.status).json({ error: parsing.code, message: parsing.message });
      return;
    }
    if (error instanceof LinkConflictError) {
      res.status(409).json({
        error: 'link_exists',
        message: 'This inbox is already linked to Salesforce.',
        details: { inboxId: error.inboxId },
      });
      return;
    }
    if (isBridgeError(error)) {
      const status = error.httpStatus ?? STATUS_BY_KIND[error.kind];
      if (status >= 500 && error.kind !== 'retryable' && error.kind !== 'api_budget') {
        logger.error({ err: error, method: req.method, path: req.path }, 'admin api request failed');
        res
          .status(500)
          .json({ error: 'internal_error', message: 'The request failed inside the bridge; see its log.' });
        return;
      }
      if (status >= 500)
        logger.warn({ err: error, method: req.method, path: req.path }, 'admin api request could not be served now');
      res.status(status).json({
        error: error.code,
        message: error.message,
        ...(error.details === undefined ? {} : { details: error.details }),
      });
      return;
    }
    logger.error({ err: error, method: req.method, path: req.path }, 'admin api request failed');
    res.status(500).json({ error: 'internal_error', message: 'The request failed inside the bridge; see its log.' });
  };
}
