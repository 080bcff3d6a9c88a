import express from 'express';
import type { ConsoleAccounts } from '../auth/accounts';
import { actorOf, forbidden, isOwner, requireInboxRole, requireOwner, roleOn } from '../auth/access';
import { authenticate, principalOf, type SessionCookieSettings } from '../auth/http';
import { registerSessionRoutes, registerSignIn, registerUserRoutes } from '../auth/routes';
import { BridgeError } from '../core/errors';
import {
  BODY_DEADLINES_MS,
  privateJsonResponses,
  refuseUnstorableText,
  withBodyDeadline,
} from '../core/http-hardening';
import { errorHandler, notFound as noRoute } from '../http/errors';
import type { Links } from '../links';
import type { Logger } from '../logging';
import type { AccountsRepository } from '../auth/accounts-repository';
import type { Store } from '../store/store';
import type { ActionsRepository } from '../sync/actions-repository';
import type { InboxesRepository } from './inboxes-repository';
import { registerInboxRoutes } from './inbox-routes';
import {
  authorizeLinkBody,
  encodeCursor,
  listActionsQuery,
  listLinksQuery,
  parseOrThrow,
  retryActionsBody,
  updateLinkBody,
  webhookSecretBody,
} from './schemas';
import type { RetryResultView } from './contract';
import { actionView, healthView, linkView, webhookSecretView } from './views';
import type { WebhookSecrets } from '../intake/webhook-secrets';
import { initiatorOf, registerWizardRoutes } from './wizard-routes';
import { DEFAULT_SYNCED_KINDS } from '../core/channels';
import { retryActions } from '../sync/retry';

export interface AdminRouterOptions {
  links: Links;
  store: Store<{ actions: ActionsRepository; inboxes: InboxesRepository; accounts: AccountsRepository }>;
  /**
   * BRIDGE_ADMIN_TOKEN (acts as an owner); without it a bearer token is answered 503
   * admin_api_disabled, and without console accounts so is everything.
   */
  adminToken: string | undefined;
  now?: () => number;
  logger: Logger;
  /** Console accounts and sessions; absent: the admin token is the only way in. */
  accounts?: ConsoleAccounts;
  cookies?: SessionCookieSettings;
  /** The intake's webhook secrets, managed by owners. */
  webhookSecrets?: WebhookSecrets;
  /** RETENTION_DAYS: how long the action log keeps finished and failed actions (reported with it). */
  retentionDays?: number;
  /** How long a request body may take to arrive once the headers have: 408 after it. Default BODY_DEADLINES_MS.api. */
  bodyDeadlineMs?: number;
  /** SYNC_KINDS: a retried action of another kind is skipped as kind_not_synced. */
  syncedKinds?: readonly string[];
  /** Called after a retry made actions due, so that the sync engine wakes. */
  onRetried?: () => void;
}

function notFound(what: 'link' | 'action', id: string): BridgeError {
  return new BridgeError('bad_input', `No ${what} has the id "${id}".`, {
    code: `${what}_not_found`,
    reason: 'not_found',
    details: { id },
  });
}

function param(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join('/') : (value ?? '');
}

/** The JSON admin API, mounted at /api/v1 (docs/admin-api.md; docs/openapi.json is generated from openapi.ts). */
export function createAdminRouter({
  links,
  store,
  adminToken,
  now = Date.now,
  logger,
  accounts,
  cookies = { secure: false },
  webhookSecrets,
  retentionDays = 90,
  bodyDeadlineMs = BODY_DEADLINES_MS.api,
  syncedKinds = DEFAULT_SYNCED_KINDS,
  onRetried,
}: AdminRouterOptions): express.Router {
  const synced = new Set(syncedKinds);
  const router = express.Router();
  router.use(privateJsonResponses);
  if (accounts !== undefined) registerSignIn(router, { accounts, cookies, bodyDeadlineMs });
  router.use(authenticate({ adminToken, cookies, ...(accounts === undefined ? {} : { accounts }) }));
  router.use(withBodyDeadline(express.json({ limit: '64kb' }), bodyDeadlineMs));
  router.use(refuseUnstorableText);
  if (accounts !== undefined) {
    registerSessionRoutes(router, { accounts, cookies });
    registerUserRoutes(router, { accounts, inboxes: store.inboxes });
  }

  /** A link of an inbox the caller holds `needed` on (404 when unknown). */
  const linkFor = async (res: express.Response, id: string, needed: 'admin' | 'member') => {
    const link = await links.store.links.getLink(id);
    if (link === null) throw notFound('link', id);
    requireInboxRole(principalOf(res), link.inboxId, needed);
    return link;
  };

  router.post('/links/authorize', async (req, res) => {
    const body = parseOrThrow(authorizeLinkBody, req.body, 'body');
    const principal = principalOf(res);
    requireInboxRole(principal, body.inboxId, 'admin');
    const started = await links.flows.startLink(
      {
        inboxId: body.inboxId,
        inboxName: body.inboxName ?? null,
        environment: body.environment,
        ...(body.myDomain === undefined ? {} : { myDomain: body.myDomain }),
        target: body.target,
        defaultOwnerId: body.defaultOwnerId ?? null,
      },
      initiatorOf(principal),
    );
    res.status(201).json({ ...started, expiresAt: new Date(started.expiresAt).toISOString() });
  });

  router.get('/links', async (req, res) => {
    const principal = principalOf(res);
    const query = parseOrThrow(listLinksQuery, req.query, 'query');
    const all = await links.store.links.listLinks({ includeDeleted: query.includeDeleted === 'true' });
    const selected = all.filter(
      (link) =>
        (query.inboxId === undefined || link.inboxId === query.inboxId) && roleOn(principal, link.inboxId) !== null,
    );
    res.json({ links: selected.map(linkView) });
  });

  router.get('/links/:id', async (req, res) => {
    res.json(linkView(await linkFor(res, param(req.params.id), 'member')));
  });

  router.patch('/links/:id', async (req, res) => {
    const body = parseOrThrow(updateLinkBody, req.body, 'body');
    const link = await linkFor(res, param(req.params.id), 'admin');
    const updated = await links.lifecycle.update(
      link.id,
      {
        ...(body.target === undefined ? {} : { target: body.target }),
        ...(body.defaultOwnerId === undefined ? {} : { defaultOwnerId: body.defaultOwnerId }),
      },
      actorOf(principalOf(res)),
      body.version,
    );
    res.json(linkView(updated));
  });

  router.delete('/links/:id', async (req, res) => {
    const link = await linkFor(res, param(req.params.id), 'admin');
    const result = await links.lifecycle.delete(link.id, actorOf(principalOf(res)));
    res.json({
      deleted: true,
      revoked: result.revoked,
      revokeSkipped: result.revokeSkipped,
      message: result.message,
      link: linkView(result.link),
    });
  });

  router.post('/links/:id/reauthorize', async (req, res) => {
    const link = await linkFor(res, param(req.params.id), 'admin');
    const started = await links.flows.startReauth(link.id, initiatorOf(principalOf(res)));
    res.status(201).json({ ...started, expiresAt: new Date(started.expiresAt).toISOString() });
  });

  router.get('/inboxes/:inboxId/health', async (req, res) => {
    const inboxId = param(req.params.inboxId);
    requireInboxRole(principalOf(res), inboxId, 'member');
    res.json(healthView(await links.health(inboxId)));
  });

  router.get('/actions', async (req, res) => {
    const principal = principalOf(res);
    const query = parseOrThrow(listActionsQuery, req.query, 'query');
    if (query.inboxId === undefined) {
      if (!isOwner(principal)) throw forbidden("Give inboxId: only an owner may read every inbox's actions.");
    } else {
      requireInboxRole(principal, query.inboxId, 'member');
    }
    const actions = await store.actions.list({
      ...(query.inboxId === undefined ? {} : { inboxId: query.inboxId }),
      ...(query.linkId === undefined ? {} : { linkId: query.linkId }),
      ...(query.state === undefined ? {} : { states: query.state }),
      ...(query.reason === undefined ? {} : { reasons: query.reason }),
      ...(query.since === undefined ? {} : { since: query.since }),
      ...(query.until === undefined ? {} : { until: query.until }),
      ...(query.before === undefined ? {} : { before: query.before }),
      limit: query.limit,
    });
    const last = actions.at(-1);
    res.json({
      retentionDays,
      actions: actions.map((action) => actionView(action)),
      nextCursor:
        actions.length === query.limit && last !== undefined
          ? encodeCursor({ updatedAt: last.updatedAt, actionId: last.actionId })
          : null,
    });
  });

  router.post('/actions/retry', async (req, res) => {
    const principal = principalOf(res);
    const body = parseOrThrow(retryActionsBody, req.body, 'body');
    const ids = [...new Set(body.actionIds)];
    if (!isOwner(principal)) {
      for (const id of ids) {
        const action = await store.actions.get(id);
        if (action !== null) requireInboxRole(principal, action.inboxId, 'admin');
      }
    }
    // What will happen is decided now, in one unit of work, and said as it is.
    const report = await retryActions(links.store, ids, synced, now());
    logger.info(
      { requested: body.actionIds.length, ...report, by: actorOf(principal).name },
      'actions retried by an admin',
    );
    if (report.willSync > 0) onRetried?.();
    const answer: RetryResultView = report;
    res.json(answer);
  });

  router.get('/actions/:actionId', async (req, res) => {
    const id = param(req.params.actionId);
    const action = await store.actions.get(id);
    if (action === null) throw notFound('action', id);
    requireInboxRole(principalOf(res), action.inboxId, 'member');
    const link = action.linkId === null ? null : await links.store.links.getLink(action.linkId);
    res.json(actionView(action, { instanceUrl: link?.instanceUrl ?? null }));
  });

  registerInboxRoutes(router, { links, inboxes: store.inboxes, accounts: store.accounts, now });
  registerWizardRoutes(router, { links, inboxes: store.inboxes });

  if (webhookSecrets !== undefined) {
    router.get('/webhook-secrets', async (_req, res) => {
      requireOwner(principalOf(res));
      res.json({ secrets: webhookSecrets.list().map(webhookSecretView) });
    });

    router.post('/webhook-secrets', async (req, res) => {
      const principal = principalOf(res);
      requireOwner(principal);
      const body = parseOrThrow(webhookSecretBody, req.body, 'body');
      const added = await webhookSecrets.add(body.label, body.secret, actorOf(principal));
      res.status(201).json({ ...webhookSecretView(added.summary), secret: added.secret });
    });

    router.delete('/webhook-secrets/:id', async (req, res) => {
      const principal = principalOf(res);
      requireOwner(principal);
      const id = param(req.params.id);
      if (id.startsWith('config-')) {
        throw new BridgeError('bad_input', 'This secret comes from WEBHOOK_SECRETS: remove it there and restart.', {
          code: 'configured_secret',
          reason: 'conflict',
        });
      }
      await webhookSecrets.revoke(id, actorOf(principal));
      res.status(204).end();
    });
  }

  router.use(noRoute('admin endpoint'));
  router.use(errorHandler(logger, 'json'));
  return router;
}
