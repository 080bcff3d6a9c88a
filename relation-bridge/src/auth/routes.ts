import express, { type Router } from 'express';
import { z } from 'zod';
import type { ConsoleUserView } from '../admin/contract';
import { parseOrThrow } from '../admin/schemas';
import { BridgeError } from '../core/errors';
import { refuseUnstorableText, withBodyDeadline } from '../core/http-hardening';
import type { InboxesRepository, InboxMembership } from '../admin/inboxes-repository';
import type { ConsoleUser } from './accounts-repository';
import { type ConsoleAccounts, csrfTokenFor } from './accounts';
import { requireOwner } from './access';
import { clearSessionCookie, principalOf, type SessionCookieSettings, setSessionCookie } from './http';
import { isCommonPassword } from './common-passwords';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './passwords';

const email = z.string().trim().min(3).max(254).pipe(z.email());
const name = z.string().trim().min(1).max(100);
/** A new password: long enough, and not one that guessing lists try first (code `common_password`). */
const password = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(MAX_PASSWORD_LENGTH)
  .refine((value) => !isCommonPassword(value), {
    error: 'is one of the most common passwords; choose another',
    params: { code: 'common_password' },
  });

const language = z.enum(['ja', 'en']);

export const signInBody = z.strictObject({ email: z.string().max(254), password: z.string().max(MAX_PASSWORD_LENGTH) });
export const changePasswordBody = z.strictObject({
  currentPassword: z.string().max(MAX_PASSWORD_LENGTH),
  newPassword: password,
});
export const createUserBody = z.strictObject({
  email,
  name,
  isOwner: z.boolean().default(false),
  password: password.optional(),
  language: language.optional(),
});
export const updateUserBody = z
  .strictObject({
    name: name.optional(),
    isOwner: z.boolean().optional(),
    password: password.optional(),
    language: language.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'give name, isOwner, password, language or several' });
/** The signed-in user's own language (of their notice e-mails, and of the console when they sign in). */
export const setLanguageBody = z.strictObject({ language });

export function userView(user: ConsoleUser, roles: InboxMembership[]): ConsoleUserView {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    isOwner: user.isOwner,
    language: user.language,
    roles: roles.map((role) => ({ inboxId: role.inboxId, role: role.role })),
    createdAt: new Date(user.createdAt).toISOString(),
    passwordChangedAt: new Date(user.passwordChangedAt).toISOString(),
  };
}

function param(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join('/') : (value ?? '');
}

export interface SessionRouteOptions {
  accounts: ConsoleAccounts;
  cookies: SessionCookieSettings;
}

/** `POST /session` (sign in): the one admin API route that needs no credentials. */
export function registerSignIn(
  router: Router,
  { accounts, cookies, bodyDeadlineMs }: SessionRouteOptions & { bodyDeadlineMs: number },
): void {
  const readBody = withBodyDeadline(express.json({ limit: '8kb' }), bodyDeadlineMs);
  router.post('/session', readBody, refuseUnstorableText, async (req, res) => {
    const body = parseOrThrow(signInBody, req.body, 'body');
    let signedIn;
    try {
      signedIn = await accounts.signIn(body.email, body.password, req.ip ?? req.socket.remoteAddress ?? 'unknown');
    } catch (error) {
      if (error instanceof BridgeError && (error.code === 'too_many_attempts' || error.code === 'sign_in_busy')) {
        res.set('Retry-After', String((error.details as { retryAfterSeconds: number }).retryAfterSeconds));
      }
      throw error;
    }
    setSessionCookie(res, cookies, signedIn.sessionId, accounts.sessionMaxMs);
    res.set('Cache-Control', 'no-store');
    res.json({
      user: userView(signedIn.user, []),
      csrfToken: csrfTokenFor(signedIn.sessionId),
      expiresAt: new Date(signedIn.session.expiresAt).toISOString(),
      idleTimeoutSeconds: Math.floor(accounts.sessionIdleMs / 1000),
    });
  });
}

/** Session routes that need a signed-in caller (mounted after authentication). */
export function registerSessionRoutes(router: Router, { accounts, cookies }: SessionRouteOptions): void {
  router.get('/session', async (_req, res) => {
    const principal = principalOf(res);
    res.set('Cache-Control', 'no-store');
    if (principal.kind === 'token') {
      res.json({ user: null, isOwner: true, csrfToken: null, expiresAt: null, idleTimeoutSeconds: null });
      return;
    }
    const session = await accounts.resume(res.locals.sessionId as string);
    res.json({
      user: userView(principal.user, session?.roles ?? []),
      isOwner: principal.user.isOwner,
      csrfToken: csrfTokenFor(res.locals.sessionId as string),
      expiresAt: session === null ? null : new Date(session.session.expiresAt).toISOString(),
      idleTimeoutSeconds: Math.floor(accounts.sessionIdleMs / 1000),
    });
  });

  router.delete('/session', async (_req, res) => {
    const principal = principalOf(res);
    if (principal.kind === 'user') await accounts.signOut(principal.sessionIdHash);
    clearSessionCookie(res, cookies);
    res.status(204).end();
  });

  router.put('/session/language', async (req, res) => {
    const principal = principalOf(res);
    if (principal.kind !== 'user') {
      throw new BridgeError('bad_input', 'Only a signed-in console user has a language to choose.', {
        code: 'no_session',
        reason: 'bad_input',
      });
    }
    const body = parseOrThrow(setLanguageBody, req.body, 'body');
    const active = await accounts.resume(res.locals.sessionId as string);
    if (active === null)
      throw new BridgeError('bad_input', 'The session has ended.', {
        code: 'session_expired',
        reason: 'unauthenticated',
      });
    const user = await accounts.setOwnLanguage(active, body.language);
    res.json(userView(user, active.roles));
  });

  router.put('/session/password', async (req, res) => {
    const principal = principalOf(res);
    if (principal.kind !== 'user') {
      throw new BridgeError('bad_input', 'Only a signed-in console user has a password to change.', {
        code: 'no_session',
        reason: 'bad_input',
      });
    }
    const body = parseOrThrow(changePasswordBody, req.body, 'body');
    const active = await accounts.resume(res.locals.sessionId as string);
    if (active === null)
      throw new BridgeError('bad_input', 'The session has ended.', {
        code: 'session_expired',
        reason: 'unauthenticated',
      });
    await accounts.changeOwnPassword(active, body.currentPassword, body.newPassword);
    res.status(204).end();
  });
}

/** Console accounts, managed by owners. */
export function registerUserRoutes(
  router: Router,
  { accounts, inboxes }: { accounts: ConsoleAccounts; inboxes: InboxesRepository },
): void {
  router.get('/users', async (_req, res) => {
    requireOwner(principalOf(res));
    const users = await accounts.listUsers();
    const views = await Promise.all(users.map(async (user) => userView(user, await inboxes.listRolesOfUser(user.id))));
    res.json({ users: views });
  });

  router.post('/users', async (req, res) => {
    requireOwner(principalOf(res));
    const body = parseOrThrow(createUserBody, req.body, 'body');
    const created = await accounts.createUser({
      email: body.email,
      name: body.name,
      isOwner: body.isOwner,
      ...(body.password === undefined ? {} : { password: body.password }),
      ...(body.language === undefined ? {} : { language: body.language }),
    });
    res.status(201).json({ user: userView(created.user, []), generatedPassword: created.generatedPassword });
  });

  router.patch('/users/:userId', async (req, res) => {
    requireOwner(principalOf(res));
    const body = parseOrThrow(updateUserBody, req.body, 'body');
    const user = await accounts.updateUser(param(req.params.userId), body);
    res.json(userView(user, await inboxes.listRolesOfUser(user.id)));
  });

  router.delete('/users/:userId', async (req, res) => {
    requireOwner(principalOf(res));
    await accounts.deleteUser(param(req.params.userId));
    res.status(204).end();
  });
}
