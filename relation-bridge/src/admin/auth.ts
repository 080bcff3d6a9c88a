import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * `Authorization: Bearer <BRIDGE_ADMIN_TOKEN>`. Both sides are hashed first so that the
 * constant-time compare also hides the token's length. Without a configured token the
 * API is off rather than open.
 */
export function requireAdminToken(adminToken: string | undefined): RequestHandler {
  const expected = adminToken === undefined || adminToken === '' ? null : digest(adminToken);
  return (req, res, next) => {
    if (expected === null) {
      res.status(503).json({
        error: 'admin_api_disabled',
        message: 'The admin API is disabled: set BRIDGE_ADMIN_TOKEN to enable it.',
      });
      return;
    }
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (match === null || !timingSafeEqual(digest(match[1] as string), expected)) {
      res.set('WWW-Authenticate', 'Bearer realm="relation-bridge admin"');
      res.status(401).json({
        error: 'unauthorized',
        message: 'Send the admin token as "Authorization: Bearer <BRIDGE_ADMIN_TOKEN>".',
      });
      return;
    }
    next();
  };
}
