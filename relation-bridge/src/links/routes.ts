import express from 'express';
import { isBridgeError } from '../core/errors';
import type { Logger } from '../logging';
import { renderLinkFailed, renderLinkReady, type SalesforceSaid } from './callback-page';
import { linkErrorText } from './messages';
import type { LinksService } from './service';

export interface OAuthCallbackRouterOptions {
  links: LinksService;
  logger: Logger;
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

/**
 * `GET /oauth/callback`: where Salesforce sends the admin's browser after the login and
 * allow pages. The URL carries a one-time code, so the page forbids caching and referrers.
 */
export function createOAuthCallbackRouter({ links, logger }: OAuthCallbackRouterOptions): express.Router {
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
    try {
      const result = await links.completeCallback({
        state: queryString(req.query.state),
        code: queryString(req.query.code),
        error: queryString(req.query.error),
        errorDescription: queryString(req.query.error_description),
      });
      res.status(200).send(renderLinkReady(result.link, result.created));
    } catch (error) {
      if (isBridgeError(error) && (error.kind === 'bad_input' || error.kind === 'retryable')) {
        const status = error.kind === 'retryable' ? 503 : error.httpStatus === 409 ? 409 : 400;
        res.status(status).send(renderLinkFailed(error.code, linkErrorText(error.code), salesforceSaid(error.details)));
        return;
      }
      logger.error({ err: error }, 'oauth callback failed');
      res.status(500).send(renderLinkFailed('internal_error', linkErrorText('internal_error'), null));
    }
  });

  return router;
}
