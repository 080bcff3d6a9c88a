import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { ActiveSession, ConsoleAccounts } from './accounts';
import { csrfTokenFor } from './accounts';
import type { Principal } from './access';
import { BridgeError, refused } from '../core/errors';

/**
 * How a request proves who it is: `Authorization: Bearer <BRIDGE_ADMIN_TOKEN>` (scripts, the
 * CLI), or the console's session cookie plus, on every state-changing request, the
 * session's CSRF token in `X-CSRF-Token`.
 */

export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface SessionCookieSettings {
  /** Secure (and the `__Host-` prefix) when the bridge's public URL is https. */
  secure: boolean;
}

export function sessionCookieName(settings: SessionCookieSettings): string {
  // __Host- binds the cookie to this host and path / with Secure; browsers refuse it over http.
  return settings.secure ? '__Host-relation_bridge_session' : 'relation_bridge_session';
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index <= 0) continue;
    const name = part.slice(0, index).trim();
    const value = part.slice(index + 1).trim();
    if (!cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

/**
 * httpOnly (scripts cannot read it), SameSite=Lax (sent on the top-level return from
 * Salesforce to /oauth/callback, never on cross-site subrequests or form posts), Path=/.
 */
export function setSessionCookie(
  res: Response,
  settings: SessionCookieSettings,
  sessionId: string,
  maxAgeMs: number,
): void {
  const attributes = [
    `${sessionCookieName(settings)}=${sessionId}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${Math.max(0, Math.floor(maxAgeMs / 1000))}`,
  ];
  if (settings.secure) attributes.push('Secure');
  res.append('Set-Cookie', attributes.join('; '));
}

export function clearSessionCookie(res: Response, settings: SessionCookieSettings): void {
  setSessionCookie(res, settings, '', 0);
}

export function sessionIdFrom(req: Request, settings: SessionCookieSettings): string | null {
  const value = parseCookies(req.get('cookie')).get(sessionCookieName(settings));
  return value === undefined || value === '' ? null : value;
}

/** The console session a request carries, if it is live. */
export async function sessionOf(
  req: Request,
  accounts: ConsoleAccounts,
  settings: SessionCookieSettings,
): Promise<{ sessionId: string; active: ActiveSession } | null> {
  const sessionId = sessionIdFrom(req, settings);
  if (sessionId === null) return null;
  const active = await accounts.resume(sessionId);
  return active === null ? null : { sessionId, active };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export interface AuthenticateOptions {
  adminToken: string | undefined;
  /** Absent: the API accepts the admin token only (as before the console existed). */
  accounts?: ConsoleAccounts;
  cookies: SessionCookieSettings;
}

/** The caller may not in: answered by the one error mapping (http/errors.ts). */
function deny(reason: 'unauthenticated' | 'forbidden' | 'unavailable', code: string, message: string): BridgeError {
  return reason === 'unavailable'
    ? new BridgeError('permanent', message, { code, reason })
    : refused(reason, code, message);
}

export function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

/** Puts the caller's Principal in `res.locals.principal`, or answers 401/403/503. */
export function authenticate(options: AuthenticateOptions): RequestHandler {
  const expectedToken =
    options.adminToken === undefined || options.adminToken === '' ? null : digest(options.adminToken);
  const signIn = options.accounts === undefined ? '' : 'Sign in to the console, or send ';
  return async (req, res, next) => {
    const authorization = req.get('authorization');
    if (authorization !== undefined || options.accounts === undefined) {
      if (expectedToken === null) {
        next(
          deny('unavailable', 'admin_api_disabled', 'The admin API is disabled: set BRIDGE_ADMIN_TOKEN to enable it.'),
        );
        return;
      }
      const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
      if (match === null || !timingSafeEqual(digest(match[1] as string), expectedToken)) {
        next(
          deny(
            'unauthenticated',
            'unauthorized',
            'Send the admin token as "Authorization: Bearer <BRIDGE_ADMIN_TOKEN>".',
          ),
        );
        return;
      }
      res.locals.principal = { kind: 'token' } satisfies Principal;
      next();
      return;
    }
    try {
      const cookieValue = sessionIdFrom(req, options.cookies);
      const session = await sessionOf(req, options.accounts, options.cookies);
      if (session === null) {
        if (cookieValue !== null) {
          clearSessionCookie(res, options.cookies);
          next(deny('unauthenticated', 'session_expired', 'The console session has ended: sign in again.'));
        } else {
          next(
            deny(
              'unauthenticated',
              'unauthorized',
              `${signIn}the admin token as "Authorization: Bearer <BRIDGE_ADMIN_TOKEN>".`,
            ),
          );
        }
        return;
      }
      if (!SAFE_METHODS.has(req.method)) {
        const sent = req.get(CSRF_HEADER);
        if (sent === undefined || !sameSecret(sent, csrfTokenFor(session.sessionId))) {
          next(
            deny(
              'forbidden',
              'csrf_failed',
              `A state-changing request needs the session's CSRF token in ${CSRF_HEADER}.`,
            ),
          );
          return;
        }
      }
      const { active } = session;
      res.locals.principal = {
        kind: 'user',
        user: active.user,
        sessionIdHash: active.sessionIdHash,
        roles: new Map(active.roles.map((role) => [role.inboxId, role.role])),
      } satisfies Principal;
      res.locals.sessionId = session.sessionId;
      next();
    } catch (error) {
      next(error);
    }
  };
}
