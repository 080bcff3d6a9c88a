import express, { type Request } from 'express';
import { httpFailureOf } from '../http/errors';
import type { Logger } from '../logging';
import { renderLinkFailed, renderLinkReady, renderPendingLinkReady, type SalesforceSaid } from './callback-page';
import { linkErrorText } from './messages';
import type { Links } from '.';
import type { CallbackResult, FlowPeek } from './oauth-flows';

export interface ConsoleReturn {
  /** Path of the console, e.g. `/console`. */
  basePath: string;
  /** Hash of the live console session the request carries, or null. */
  sessionHashOf(req: Request): Promise<string | null>;
}

export interface OAuthCallbackRouterOptions {
  links: Links;
  logger: Logger;
  /** Flows started from a console session return into the console instead of a result page. */
  returnToConsole?: ConsoleReturn;
}

function ticketSyncPath(basePath: string, inboxId: string): string {
  return `${basePath}/inboxes/${encodeURIComponent(inboxId)}/settings/ticket-sync`;
}

/** Where the console shows the outcome of a flow it started. */
function consoleSuccessPath(basePath: string, result: CallbackResult): string {
  if (result.kind === 'pending_link') {
    const { pendingLink } = result;
    return `${ticketSyncPath(basePath, pendingLink.inboxId)}/new/finish?pending=${encodeURIComponent(pendingLink.id)}`;
  }
  const query = result.created ? 'linked=1' : `reauthorized=${result.resumedActions}`;
  return `${ticketSyncPath(basePath, result.link.inboxId)}?${query}`;
}

function consoleFailurePath(
  basePath: string,
  flow: FlowPeek | null,
  code: string,
  said: SalesforceSaid | null,
  username: string | null,
): string {
  const query = new URLSearchParams({ error: code });
  // The Salesforce user a fix names (assign the permission set to…).
  if (username !== null) query.set('username', username);
  if (said !== null)
    query.set('salesforce', `${said.error}${said.description ? `: ${said.description}` : ''}`.slice(0, 300));
  if (flow === null || code === 'session_mismatch') return `${basePath}/link-result?${query}`;
  const page = ticketSyncPath(basePath, flow.inboxId);
  return flow.mode === 'reauth' ? `${page}?${query}` : `${page}/new?${query}`;
}

function queryString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function salesforceSaid(details: unknown): SalesforceSaid | null {
  if (typeof details !== 'object' || details === null) return null;
  const { salesforceError, salesforceDescription, salesforceMessage } = details as Record<string, unknown>;
  if (typeof salesforceError !== 'string') return null;
  const description = typeof salesforceDescription === 'string' ? salesforceDescription : salesforceMessage;
  return { error: salesforceError, description: typeof description === 'string' ? description : null };
}

function usernameOf(details: unknown): string | null {
  const username = (details as { username?: unknown } | null | undefined)?.username;
  return typeof username === 'string' ? username : null;
}

/**
 * `GET /oauth/callback`: where Salesforce sends the admin's browser after the login and
 * allow pages. The URL carries a one-time code, so the page forbids caching and referrers.
 */
export function createOAuthCallbackRouter({
  links,
  logger,
  returnToConsole,
}: OAuthCallbackRouterOptions): express.Router {
  const router = express.Router();

  router.get('/oauth/callback', async (req, res) => {
    res.set({
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
      'Content-Security-Policy':
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      'X-Content-Type-Options': 'nosniff',
    });
    res.type('html');
    const state = queryString(req.query.state);
    let sessionHash: string | null = null;
    let flow: FlowPeek | null = null;
    try {
      sessionHash = returnToConsole === undefined ? null : await returnToConsole.sessionHashOf(req);
      flow = await links.flows.peek(state);
      const result = await links.flows.completeCallback({
        state,
        code: queryString(req.query.code),
        error: queryString(req.query.error),
        errorDescription: queryString(req.query.error_description),
        sessionHash,
      });
      if (returnToConsole !== undefined && sessionHash !== null && result.initiator.sessionHash === sessionHash) {
        res.redirect(303, consoleSuccessPath(returnToConsole.basePath, result));
        return;
      }
      if (result.kind === 'pending_link') {
        res.status(200).send(renderPendingLinkReady(result.pendingLink));
        return;
      }
      res.status(200).send(renderLinkReady(result.link, result.created));
    } catch (error) {
      const failure = httpFailureOf(error);
      if (failure.reason === 'internal') logger.error({ err: error }, 'oauth callback failed');
      const said = failure.reason === 'internal' ? null : salesforceSaid(failure.details);
      if (returnToConsole !== undefined && sessionHash !== null) {
        res.redirect(
          303,
          consoleFailurePath(returnToConsole.basePath, flow, failure.code, said, usernameOf(failure.details)),
        );
        return;
      }
      res
        .status(failure.status)
        .send(renderLinkFailed(failure.code, linkErrorText(failure.code, failure.details), said));
    }
  });

  return router;
}
