import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request } from 'express';
import { pinoHttp, type HttpLogger } from 'pino-http';
import type { Logger } from '../logging';

/**
 * The access log: one JSON line per request when its answer is sent (docs/operations.md,
 * "Log fields"). Each request gets an id, taken from a sane `X-Request-Id` (a proxy's) or
 * made here, and sent back in `X-Request-Id`; the lines a request causes carry it as `reqId`.
 */

const GIVEN_ID = /^[A-Za-z0-9._:-]{8,128}$/;
/** Query strings that carry one-time secrets (the OAuth callback's code and state) are not logged. */
const SECRET_QUERY_PATHS = new Set(['/oauth/callback']);
/** Probes every few seconds: logged at debug. */
const PROBE_PATHS = new Set(['/healthz', '/metrics']);

function pathOf(url: string): string {
  const index = url.indexOf('?');
  return index < 0 ? url : url.slice(0, index);
}

/** The URL as logged: the path, and the query unless it may hold a secret. */
export function loggedUrl(url: string): string {
  const path = pathOf(url);
  return SECRET_QUERY_PATHS.has(path) && path !== url ? `${path}?[redacted]` : url;
}

/** A request's id: a sane one a proxy gave, or a new one. */
export function requestIdOf(given: string | string[] | undefined, make: () => string): string {
  return typeof given === 'string' && GIVEN_ID.test(given) ? given : make();
}

export function accessLog(logger: Logger): HttpLogger {
  return pinoHttp({
    logger,
    quietReqLogger: true,
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const id = requestIdOf(req.headers['x-request-id'], randomUUID);
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel: (req, res, error) => {
      if (error !== undefined || res.statusCode >= 500) return 'error';
      return PROBE_PATHS.has(pathOf((req as Request).originalUrl ?? req.url ?? '')) ? 'debug' : 'info';
    },
    customSuccessMessage: () => 'request',
    customErrorMessage: () => 'request failed',
    serializers: {
      req: (req: { id: unknown; method: string; raw: Request }) => ({
        id: req.id,
        method: req.method,
        url: loggedUrl(req.raw.originalUrl ?? req.raw.url ?? ''),
        // Express's req.ip: the client's own address when BRIDGE_TRUST_PROXY believes the proxy.
        remoteAddress: req.raw.ip ?? req.raw.socket?.remoteAddress,
        userAgent: req.raw.headers['user-agent'],
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}
