import type { Router } from 'express';
import { type EffectiveRole, isOwner, requireInboxRole, requireOwner, roleOn } from '../auth/access';
import { principalOf } from '../auth/http';
import { BridgeError } from '../core/errors';
import type { Link } from '../core/types';
import type { Links } from '../links';
import type { RegisteredInbox } from './inboxes-repository';
import type { AccountsRepository } from '../auth/accounts-repository';
import type { InboxesRepository } from './inboxes-repository';
import { auditQuery, memberBody, parseOrThrow, registerInboxBody, renameInboxBody } from './schemas';
import type { InboxView, LinkSummaryView, MemberView, UnregisteredInboxView } from './contract';
import { auditView } from './views';

function param(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join('/') : (value ?? '');
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function linkSummary(link: Link | undefined): LinkSummaryView | null {
  return link === undefined ? null : { id: link.id, status: link.status, target: link.target, orgId: link.orgId };
}

export function inboxNotRegistered(inboxId: string): BridgeError {
  return new BridgeError(
    'bad_input',
    `The inbox ${inboxId} is not registered: an owner registers it first (POST /inboxes).`,
    { code: 'inbox_not_found', reason: 'not_found', details: { inboxId } },
  );
}

/** Registered inboxes, who holds which role on them, and each inbox's link audit log. */
export function registerInboxRoutes(
  router: Router,
  {
    links,
    inboxes,
    accounts,
    now,
  }: { links: Links; inboxes: InboxesRepository; accounts: AccountsRepository; now: () => number },
): void {
  const inboxView = (inbox: RegisteredInbox, role: EffectiveRole, link: Link | undefined): InboxView => ({
    inboxId: inbox.inboxId,
    name: inbox.name,
    registeredAt: new Date(inbox.registeredAt).toISOString(),
    role,
    link: linkSummary(link),
  });

  router.get('/inboxes', async (_req, res) => {
    const principal = principalOf(res);
    const registered = await inboxes.list();
    const linkOf = new Map((await links.store.links.listLinks()).map((link) => [link.inboxId, link]));
    // Only the inboxes the caller holds a role on, each with that role.
    const visible = registered.flatMap((inbox) => {
      const role = roleOn(principal, inbox.inboxId);
      return role === null ? [] : [inboxView(inbox, role, linkOf.get(inbox.inboxId))];
    });
    const known = new Set(registered.map((inbox) => inbox.inboxId));
    const unregistered = isOwner(principal)
      ? (await inboxes.listSeen())
          .filter((seen) => !known.has(seen.inboxId))
          .map((seen): UnregisteredInboxView => ({
            inboxId: seen.inboxId,
            inboxName: seen.inboxName,
            actions: seen.actions,
            lastSeenAt: iso(seen.lastSeenAt),
            link: linkSummary(linkOf.get(seen.inboxId)),
          }))
      : [];
    res.json({
      inboxes: visible,
      unregistered,
    });
  });

  router.post('/inboxes', async (req, res) => {
    const principal = principalOf(res);
    requireOwner(principal);
    const body = parseOrThrow(registerInboxBody, req.body, 'body');
    const inbox = await inboxes.register({
      inboxId: body.inboxId,
      name: body.name,
      registeredBy: principal.kind === 'user' ? principal.user.id : null,
      now: now(),
    });
    res.status(201).json(
      inboxView(
        inbox,
        'owner',
        (await links.store.links.listLinks()).find((l) => l.inboxId === inbox.inboxId),
      ),
    );
  });

  router.get('/inboxes/:inboxId', async (req, res) => {
    const principal = principalOf(res);
    const inboxId = param(req.params.inboxId);
    const role = requireInboxRole(principal, inboxId, 'member');
    const inbox = await inboxes.get(inboxId);
    if (inbox === null) throw inboxNotRegistered(inboxId);
    res.json(inboxView(inbox, role, (await links.store.links.getLinkForInbox(inboxId)) ?? undefined));
  });

  router.patch('/inboxes/:inboxId', async (req, res) => {
    requireOwner(principalOf(res));
    const body = parseOrThrow(renameInboxBody, req.body, 'body');
    const inboxId = param(req.params.inboxId);
    const inbox = await inboxes.rename(inboxId, body.name);
    res.json(inboxView(inbox, 'owner', (await links.store.links.getLinkForInbox(inboxId)) ?? undefined));
  });

  router.delete('/inboxes/:inboxId', async (req, res) => {
    requireOwner(principalOf(res));
    await inboxes.unregister(param(req.params.inboxId));
    res.status(204).end();
  });

  router.get('/inboxes/:inboxId/members', async (req, res) => {
    const inboxId = param(req.params.inboxId);
    requireInboxRole(principalOf(res), inboxId, 'member');
    const users = new Map((await accounts.listUsers()).map((user) => [user.id, user]));
    const members = (await inboxes.listMembers(inboxId)).map((membership): MemberView => {
      const user = users.get(membership.userId);
      return {
        userId: membership.userId,
        email: user?.email ?? null,
        name: user?.name ?? null,
        role: membership.role,
        grantedAt: iso(membership.grantedAt),
      };
    });
    res.json({ members });
  });

  router.put('/inboxes/:inboxId/members/:userId', async (req, res) => {
    requireOwner(principalOf(res));
    const body = parseOrThrow(memberBody, req.body, 'body');
    const inboxId = param(req.params.inboxId);
    const userId = param(req.params.userId);
    if ((await inboxes.get(inboxId)) === null) throw inboxNotRegistered(inboxId);
    const user = await accounts.getUser(userId);
    if (user === null) {
      throw new BridgeError('bad_input', `No console user has the id "${userId}".`, {
        code: 'user_not_found',
        reason: 'not_found',
      });
    }
    const grantedAt = now();
    await inboxes.setRole(inboxId, userId, body.role, grantedAt);
    res.json({ userId, email: user.email, name: user.name, role: body.role, grantedAt: iso(grantedAt) });
  });

  router.delete('/inboxes/:inboxId/members/:userId', async (req, res) => {
    requireOwner(principalOf(res));
    await inboxes.setRole(param(req.params.inboxId), param(req.params.userId), null, now());
    res.status(204).end();
  });

  router.get('/inboxes/:inboxId/audit', async (req, res) => {
    const inboxId = param(req.params.inboxId);
    requireInboxRole(principalOf(res), inboxId, 'member');
    const query = parseOrThrow(auditQuery, req.query, 'query');
    res.json({ entries: (await links.store.audit.list(inboxId, query.limit)).map(auditView) });
  });
}
