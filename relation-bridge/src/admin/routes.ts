import express from 'express';
import { BridgeError } from '../core/errors';
import type { LinksService } from '../links/service';
import type { Logger } from '../logging';
import type { Store } from '../store/store';
import { requireAdminToken } from './auth';
import { adminErrorHandler } from './errors';
import {
  authorizeLinkBody,
  encodeCursor,
  listActionsQuery,
  listLinksQuery,
  parseOrThrow,
  retryActionsBody,
  updateLinkBody,
} from './schemas';
import { actionView, healthView, linkView } from './views';

export interface AdminRouterOptions {
  links: LinksService;
  store: Store;
  /** BRIDGE_ADMIN_TOKEN; without it every endpoint answers 503 admin_api_disabled. */
  adminToken: string | undefined;
  now?: () => number;
  logger: Logger;
}

function notFound(what: 'link' | 'action', id: string): BridgeError {
  return new BridgeError('bad_input', `No ${what} has the id "${id}".`, {
    code: `${what}_not_found`,
    httpStatus: 404,
    details: { id },
  });
}

function param(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join('/') : (value ?? '');
}

/** The JSON admin API, mounted at /api/v1 (docs/admin-api.md, docs/openapi.yaml). */
export function createAdminRouter({
  links,
  store,
  adminToken,
  now = Date.now,
  logger,
}: AdminRouterOptions): express.Router {
  const router = express.Router();
  router.use(requireAdminToken(adminToken));
  router.use(express.json({ limit: '64kb' }));

  router.post('/links/authorize', async (req, res) => {
    const body = parseOrThrow(authorizeLinkBody, req.body, 'body');
    const started = await links.startLink({
      inboxId: body.inboxId,
      inboxName: body.inboxName ?? null,
      environment: body.environment,
      ...(body.myDomain === undefined ? {} : { myDomain: body.myDomain }),
      target: body.target,
      defaultOwnerId: body.defaultOwnerId ?? null,
    });
    res.status(201).json({ ...started, expiresAt: new Date(started.expiresAt).toISOString() });
  });

  router.get('/links', async (req, res) => {
    const query = parseOrThrow(listLinksQuery, req.query, 'query');
    const all = await links.listLinks({ includeDeleted: query.includeDeleted === 'true' });
    const selected = query.inboxId === undefined ? all : all.filter((link) => link.inboxId === query.inboxId);
    res.json({ links: selected.map(linkView) });
  });

  router.get('/links/:id', async (req, res) => {
    const id = param(req.params.id);
    const link = await links.getLink(id);
    if (link === null) throw notFound('link', id);
    res.json(linkView(link));
  });

  router.patch('/links/:id', async (req, res) => {
    const body = parseOrThrow(updateLinkBody, req.body, 'body');
    const updated = await links.updateLink(param(req.params.id), {
      ...(body.target === undefined ? {} : { target: body.target }),
      ...(body.defaultOwnerId === undefined ? {} : { defaultOwnerId: body.defaultOwnerId }),
    });
    res.json(linkView(updated));
  });

  router.delete('/links/:id', async (req, res) => {
    const result = await links.deleteLink(param(req.params.id));
    res.json({
      deleted: true,
      revoked: result.revoked,
      revokeSkipped: result.revokeSkipped,
      message: result.message,
      link: linkView(result.link),
    });
  });

  router.post('/links/:id/reauthorize', async (req, res) => {
    const started = await links.startReauth(param(req.params.id));
    res.status(201).json({ ...started, expiresAt: new Date(started.expiresAt).toISOString() });
  });

  router.get('/inboxes/:inboxId/health', async (req, res) => {
    res.json(healthView(await links.getInboxHealth(param(req.params.inboxId))));
  });

  router.get('/actions', async (req, res) => {
    const query = parseOrThrow(listActionsQuery, req.query, 'query');
    const actions = await store.listActions({
      ...(query.inboxId === undefined ? {} : { inboxId: query.inboxId }),
      ...(query.linkId === undefined ? {} : { linkId: query.linkId }),
      ...(query.state === undefined ? {} : { states: query.state }),
      ...(query.reason === undefined ? {} : { reasons: query.reason }),
      ...(query.since === undefined ? {} : { since: query.since }),
      ...(query.before === undefined ? {} : { before: query.before }),
      limit: query.limit,
    });
    const last = actions.at(-1);
    res.json({
      actions: actions.map((action) => actionView(action)),
      nextCursor:
        actions.length === query.limit && last !== undefined
          ? encodeCursor({ updatedAt: last.updatedAt, actionId: last.actionId })
          : null,
    });
  });

  router.post('/actions/retry', async (req, res) => {
    const body = parseOrThrow(retryActionsBody, req.body, 'body');
    const retried = await store.retryActions([...new Set(body.actionIds)], now());
    logger.info({ requested: body.actionIds.length, retried }, 'actions retried by an admin');
    res.json({ retried });
  });

  router.get('/actions/:actionId', async (req, res) => {
    const id = param(req.params.actionId);
    const action = await store.getAction(id);
    if (action === null) throw notFound('action', id);
    res.json(actionView(action, true));
  });

  router.use((req, res) => {
    res
      .status(404)
      .json({ error: 'not_found', message: `No admin endpoint answers ${req.method} ${req.baseUrl}${req.path}.` });
  });
  router.use(adminErrorHandler(logger));
  return router;
}
