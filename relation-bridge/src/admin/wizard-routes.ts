import type { Router } from 'express';
import {
  actorOf,
  administersAnyInbox,
  forbidden,
  isOwner,
  type Principal,
  requireInboxRole,
  roleOn,
} from '../auth/access';
import { principalOf } from '../auth/http';
import { BridgeError } from '../core/errors';
import type { Links } from '../links';
import type { AuthViewer } from '../links/authorization-reuse';
import type { FlowInitiator } from '../links/oauth-flows';
import type { PendingLink } from '../links/pending-links-repository';
import type { InboxesRepository } from './inboxes-repository';
import { inboxNotRegistered } from './inbox-routes';
import { completePendingLinkBody, createLinkBody, inboxQuery, parseOrThrow, startPendingLinkBody } from './schemas';
import { authorizationView, linkView, pendingLinkView } from './views';

function param(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join('/') : (value ?? '');
}

export function initiatorOf(principal: Principal): FlowInitiator {
  return { actor: actorOf(principal), sessionHash: principal.kind === 'user' ? principal.sessionIdHash : null };
}

/** Who asks for an authorisation, as the reuse rules see it. */
export function viewerOf(principal: Principal): AuthViewer {
  return {
    actor: actorOf(principal),
    isOwner: isOwner(principal),
    administers: (inboxId) => {
      const role = roleOn(principal, inboxId);
      return role === 'owner' || role === 'admin';
    },
  };
}

function pendingLinkNotFound(id: string): BridgeError {
  return new BridgeError('bad_input', `No unfinished link has the id "${id}" (it may have expired).`, {
    code: 'pending_link_not_found',
    reason: 'not_found',
    details: { id },
  });
}

/**
 * The console wizard's steps, each scriptable: start a new authentication (the link waits
 * as a pending link until the target is chosen), or reuse an authorisation the bridge holds;
 * then choose the target and the default owner among the org's active users.
 */
export function registerWizardRoutes(
  router: Router,
  { links, inboxes }: { links: Links; inboxes: InboxesRepository },
): void {
  const requireRegistered = async (inboxId: string) => {
    const inbox = await inboxes.get(inboxId);
    if (inbox === null) throw inboxNotRegistered(inboxId);
    return inbox;
  };
  const pendingFor = async (principal: Principal, id: string): Promise<PendingLink> => {
    const pending = await links.pending.get(id);
    if (pending === null) throw pendingLinkNotFound(id);
    requireInboxRole(principal, pending.inboxId, 'admin');
    return pending;
  };

  router.post('/pending-links', async (req, res) => {
    const principal = principalOf(res);
    const body = parseOrThrow(startPendingLinkBody, req.body, 'body');
    requireInboxRole(principal, body.inboxId, 'admin');
    const inbox = await requireRegistered(body.inboxId);
    const started = await links.flows.startPendingLink(
      {
        inboxId: inbox.inboxId,
        inboxName: inbox.name,
        environment: body.environment,
        ...(body.myDomain === undefined ? {} : { myDomain: body.myDomain }),
      },
      initiatorOf(principal),
    );
    res.status(201).json({ ...started, expiresAt: new Date(started.expiresAt).toISOString() });
  });

  router.get('/pending-links', async (req, res) => {
    const principal = principalOf(res);
    const query = parseOrThrow(inboxQuery, req.query, 'query');
    if (query.inboxId === undefined) {
      if (!isOwner(principal)) throw forbidden('Give inboxId: only an owner may list every inbox.');
    } else {
      requireInboxRole(principal, query.inboxId, 'admin');
    }
    res.json({ pendingLinks: (await links.pending.list(query.inboxId)).map(pendingLinkView) });
  });

  router.get('/pending-links/:id', async (req, res) => {
    res.json(pendingLinkView(await pendingFor(principalOf(res), param(req.params.id))));
  });

  router.get('/pending-links/:id/salesforce-users', async (req, res) => {
    const pending = await pendingFor(principalOf(res), param(req.params.id));
    res.json({
      users: await links.reuse.listSalesforceUsers({ pendingLinkId: pending.id }, viewerOf(principalOf(res))),
    });
  });

  router.post('/pending-links/:id/complete', async (req, res) => {
    const principal = principalOf(res);
    const pending = await pendingFor(principal, param(req.params.id));
    const body = parseOrThrow(completePendingLinkBody, req.body, 'body');
    const link = await links.pending.complete(
      pending.id,
      { target: body.target, ...(body.defaultOwnerId === undefined ? {} : { defaultOwnerId: body.defaultOwnerId }) },
      actorOf(principal),
    );
    res.status(201).json(linkView(link));
  });

  router.delete('/pending-links/:id', async (req, res) => {
    const pending = await pendingFor(principalOf(res), param(req.params.id));
    const { revoked } = await links.pending.discard(pending.id);
    res.json({ discarded: true, revoked });
  });

  router.get('/salesforce-auths', async (_req, res) => {
    if (!administersAnyInbox(principalOf(res)))
      throw forbidden('Only an inbox admin or an owner may see authorisations.');
    res.json({ authorizations: (await links.reuse.list(viewerOf(principalOf(res)))).map(authorizationView) });
  });

  router.get('/salesforce-auths/:authId/salesforce-users', async (req, res) => {
    if (!administersAnyInbox(principalOf(res)))
      throw forbidden('Only an inbox admin or an owner may see authorisations.');
    const viewer = viewerOf(principalOf(res));
    res.json({ users: await links.reuse.listSalesforceUsers({ authId: param(req.params.authId) }, viewer) });
  });

  router.post('/links', async (req, res) => {
    const principal = principalOf(res);
    const body = parseOrThrow(createLinkBody, req.body, 'body');
    requireInboxRole(principal, body.inboxId, 'admin');
    const inbox = await requireRegistered(body.inboxId);
    const link = await links.reuse.createLink(
      {
        inboxId: inbox.inboxId,
        inboxName: body.inboxName ?? inbox.name,
        authId: body.authId,
        target: body.target,
        ...(body.defaultOwnerId === undefined ? {} : { defaultOwnerId: body.defaultOwnerId }),
      },
      viewerOf(principal),
    );
    res.status(201).json(linkView(link));
  });

  router.get('/links/:id/salesforce-users', async (req, res) => {
    const id = param(req.params.id);
    const link = await links.store.links.getLink(id);
    if (link === null) {
      throw new BridgeError('bad_input', `No link has the id "${id}".`, {
        code: 'link_not_found',
        reason: 'not_found',
      });
    }
    requireInboxRole(principalOf(res), link.inboxId, 'admin');
    res.json({ users: await links.reuse.listSalesforceUsers({ linkId: id }, viewerOf(principalOf(res))) });
  });
}
