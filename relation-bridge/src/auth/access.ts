import { BridgeError } from '../core/errors';
import type { InboxRole } from '../admin/inboxes-repository';
import type { Actor } from '../core/types';
import type { ConsoleUser } from './accounts-repository';

/**
 * Who is calling the admin API. A script with BRIDGE_ADMIN_TOKEN acts as an owner; a
 * console user is an owner or holds per-inbox roles.
 *
 * - owner: users, inboxes, roles, webhook secrets, and everything an inbox admin may do
 * - inbox admin: create, change, re-authenticate and delete the inbox's link; retry actions
 * - inbox member: read the inbox's link, health, audit and error log
 */
export type Principal =
  | { kind: 'token' }
  | {
      kind: 'user';
      user: ConsoleUser;
      sessionIdHash: string;
      /** Inbox id → role. */
      roles: ReadonlyMap<string, InboxRole>;
    };

export type EffectiveRole = 'owner' | InboxRole;

export const TOKEN_ACTOR: Actor = { kind: 'token', id: null, name: 'BRIDGE_ADMIN_TOKEN' };

export function isOwner(principal: Principal): boolean {
  return principal.kind === 'token' || principal.user.isOwner;
}

export function roleOn(principal: Principal, inboxId: string): EffectiveRole | null {
  if (isOwner(principal)) return 'owner';
  return principal.kind === 'user' ? (principal.roles.get(inboxId) ?? null) : null;
}

export function actorOf(principal: Principal): Actor {
  return principal.kind === 'token'
    ? TOKEN_ACTOR
    : { kind: 'user', id: principal.user.id, name: `${principal.user.name} <${principal.user.email}>` };
}

export function forbidden(message: string): BridgeError {
  return new BridgeError('bad_input', message, { code: 'forbidden', reason: 'forbidden' });
}

export function requireOwner(principal: Principal): void {
  if (!isOwner(principal)) throw forbidden('Only an owner may do this.');
}

/** @param needed `member` for reading, `admin` for changing the inbox's link and retrying its actions. */
export function requireInboxRole(principal: Principal, inboxId: string, needed: InboxRole): EffectiveRole {
  const role = roleOn(principal, inboxId);
  if (role === null) throw forbidden(`You have no role on inbox ${inboxId}.`);
  if (needed === 'admin' && role === 'member') {
    throw forbidden(`Only an admin of inbox ${inboxId} (or an owner) may do this; you are a member.`);
  }
  return role;
}

/** True when the principal is an owner or an admin of at least one inbox. */
export function administersAnyInbox(principal: Principal): boolean {
  if (isOwner(principal)) return true;
  return principal.kind === 'user' && [...principal.roles.values()].includes('admin');
}
