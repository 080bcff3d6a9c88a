import type { Server } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { type BridgeError, refused } from './errors';

/**
 * Limits every HTTP surface of the bridge shares: how long a client may take to send a
 * request, and the headers on its JSON answers.
 */

/**
 * Server-wide: the headers must arrive within 15 s and the whole request within 60 s
 * (Node's defaults are 60 s and 300 s). Routes that read a body set a shorter deadline of
 * their own (BODY_DEADLINES_MS), answered with a JSON 408.
 */
export const SERVER_TIMEOUTS_MS = { headers: 15_000, request: 60_000 } as const;

/**
 * How long a route waits for its body once its headers have arrived: the JSON API's bodies
 * are a few kilobytes; a webhook may carry 1 MiB from a helpdesk on a slow link.
 */
export const BODY_DEADLINES_MS = { api: 10_000, webhook: 30_000 } as const;

export function applyServerTimeouts(server: Server): void {
  server.headersTimeout = SERVER_TIMEOUTS_MS.headers;
  server.requestTimeout = SERVER_TIMEOUTS_MS.request;
}

/**
 * JSON answers of the admin API and the intake carry tokens, customer data and error
 * details: no cache may keep them, and no browser may read them as anything but JSON.
 */
export const privateJsonResponses: RequestHandler = (_req, res, next) => {
  res.set({ 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  next();
};

export type BodyRead = { outcome: 'read' } | { outcome: 'failed'; error: unknown } | { outcome: 'timed_out' };

/**
 * Runs a body parser (express.json, express.raw) with a deadline. Whatever the parser says
 * after the deadline is ignored; the caller answers with answerRequestTimeout.
 */
export function readBodyWithin(
  parser: RequestHandler,
  req: Request,
  res: Response,
  deadlineMs: number,
): Promise<BodyRead> {
  return new Promise((resolve) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      resolve({ outcome: 'timed_out' });
    }, deadlineMs);
    void parser(req, res, (error?: unknown) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      resolve(error === undefined || error === null ? { outcome: 'read' } : { outcome: 'failed', error });
    });
  });
}

/**
 * 408 `request_timeout`, and the connection closes once it is sent (Connection: close), so
 * that a trickling body cannot hold a connection for minutes.
 */
export function answerRequestTimeout(res: Response): void {
  res.set('Connection', 'close');
  res.status(408).json({ error: 'request_timeout', message: 'The request body did not arrive in time.' });
}

/** A body parser as middleware that answers 408 to a body not received within `deadlineMs`. */
export function withBodyDeadline(parser: RequestHandler, deadlineMs: number): RequestHandler {
  return (req, res, next) => {
    void readBodyWithin(parser, req, res, deadlineMs).then((read) => {
      if (read.outcome === 'timed_out') answerRequestTimeout(res);
      else next(read.outcome === 'failed' ? read.error : undefined);
    });
  };
}

/** Text that cannot be stored and read back as sent: a lone surrogate (no UTF-8 form) or U+0000. */
export function isUnstorableText(text: string): boolean {
  return !text.isWellFormed() || text.includes('\u0000');
}

/**
 * Refuses a JSON body holding text that cannot be stored as sent, in any key or value, with
 * a 400 naming where (`body.name`, `body.actionIds.3`), as the schemas' own 400s do. Such
 * text would be stored as U+FFFD and never match itself again. Walks the body without
 * recursion, so that deep nesting costs no stack.
 */
export const refuseUnstorableText: RequestHandler = (req, _res, next) => {
  const pending: Array<[unknown, string]> = [[req.body, 'body']];
  while (pending.length > 0) {
    const [value, path] = pending.pop() as [unknown, string];
    if (typeof value === 'string') {
      if (isUnstorableText(value)) {
        next(unstorable(path));
        return;
      }
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (isUnstorableText(key)) {
          next(unstorable(path));
          return;
        }
        pending.push([item, `${path}.${key}`]);
      }
    }
  }
  next();
};

function unstorable(path: string): BridgeError {
  const message = 'must be well-formed Unicode text without U+0000';
  return refused('bad_input', 'invalid_request', `The request body is not valid: ${path}: ${message}`, [
    { path, message },
  ]);
}
