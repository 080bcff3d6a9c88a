import { BridgeError } from '../core/errors';
import type { AppliedPolicy, BodyCapture, Link, LinkTarget } from '../core/types';
import { isUserId, sameSalesforceId } from '../links/salesforce-ids';
import type { Logger } from '../logging';
import { soqlString } from '../salesforce/soql';
import type { SalesforceApi, SObjectRecord } from '../salesforce/types';
import type { Lookup } from './lookups';
import { packageApiNames, type PolicyNames } from '../salesforce/package-names';
import {
  assessPackageAccess,
  packageAccessReads,
  packageHoldMessage,
  type PackageAccess,
  type PackageRefusal,
} from '../salesforce/package-access';

/**
 * The Salesforce admin's per-inbox link policy: one `Inbox_Link__mdt` record (custom
 * metadata of the managed package) per inbox, applied over the helpdesk-side link.
 */
export interface InboxPolicy {
  developerName: string;
  inboxId: string;
  active: boolean;
  /** null: the record leaves the target to the helpdesk link. */
  target: LinkTarget | null;
  bodyCapture: BodyCapture;
  bodyMaxChars: number | null;
  /** null: the record leaves the default owner to the helpdesk link. */
  defaultOwnerId: string | null;
}

/** What the bridge knows of one org's policies. */
export type OrgPolicies =
  | {
      installed: true;
      byInbox: ReadonlyMap<string, InboxPolicy>;
      /** The policies' default owners that are active Users; null until checked. */
      activeOwners: ReadonlySet<string> | null;
    }
  /** The org cannot show the policy type (package not installed, or no access): helpdesk settings apply. */
  | { installed: false; code: string; message: string };

/** The link settings in force for one action. */
export interface EffectiveLink {
  active: boolean;
  target: LinkTarget;
  bodyCapture: BodyCapture;
  bodyMaxChars: number | null;
  defaultOwnerId: string;
  applied: AppliedPolicy;
}

export type { PolicyNames };

/** The packaged custom metadata type and its fields under the namespace prefix ('' = none). */
export function policyNames(namespace: string): PolicyNames {
  return packageApiNames(namespace).linkPolicy;
}

const TARGETS: Record<string, LinkTarget> = {
  contact: 'contact',
  lead: 'lead',
  contact_then_lead: 'contact_then_lead',
};

const BODY_CAPTURES: Record<string, BodyCapture> = { full: 'full', first_n: 'first_n', none: 'none' };

/**
 * Rejections that mean "this org has no such type, object or field for us": the package
 * (or this version of it) is not installed, or the integration user cannot see it.
 */
export const PACKAGE_ABSENT_CODES: ReadonlySet<string> = new Set(['INVALID_TYPE', 'INVALID_FIELD', 'NOT_FOUND']);

function picklist<T>(values: Record<string, T>, raw: unknown): T | null {
  return typeof raw === 'string' ? (values[raw.trim().toLowerCase()] ?? null) : null;
}

/** Reads one policy record; null when it names no inbox. */
export function parsePolicy(record: SObjectRecord, names: PolicyNames): InboxPolicy | null {
  const inboxId = typeof record[names.inboxId] === 'string' ? (record[names.inboxId] as string).trim() : '';
  if (inboxId === '') return null;
  const maxChars = record[names.bodyMaxChars];
  const owner = typeof record[names.defaultOwnerId] === 'string' ? (record[names.defaultOwnerId] as string).trim() : '';
  return {
    developerName: typeof record.DeveloperName === 'string' ? record.DeveloperName : String(record.Id ?? ''),
    inboxId,
    active: record[names.active] === true,
    target: picklist(TARGETS, record[names.target]),
    // A record without a capture keeps the helpdesk behaviour: the whole body.
    bodyCapture: picklist(BODY_CAPTURES, record[names.bodyCapture]) ?? 'full',
    bodyMaxChars: typeof maxChars === 'number' && Number.isFinite(maxChars) ? Math.max(0, Math.floor(maxChars)) : null,
    defaultOwnerId: owner === '' ? null : owner,
  };
}

/**
 * The settings for an action of this link: the inbox's policy record over the link's own
 * settings, field by field; no record (or no package) leaves the link's settings.
 */
export function applyPolicy(link: Link, policies: OrgPolicies | undefined): EffectiveLink {
  const policy = policies?.installed === true ? policies.byInbox.get(link.inboxId) : undefined;
  if (policy === undefined) {
    return {
      active: true,
      target: link.target,
      bodyCapture: 'full',
      bodyMaxChars: null,
      defaultOwnerId: link.defaultOwnerId,
      applied: {
        source: 'helpdesk',
        record: null,
        target: link.target,
        bodyCapture: 'full',
        bodyMaxChars: null,
        defaultOwnerId: link.defaultOwnerId,
        note: null,
      },
    };
  }
  const owner = policyOwner(policy, policies?.installed === true ? policies.activeOwners : null);
  const defaultOwnerId = owner.id ?? link.defaultOwnerId;
  const target = policy.target ?? link.target;
  const bodyMaxChars = policy.bodyCapture === 'first_n' ? (policy.bodyMaxChars ?? 0) : null;
  return {
    active: policy.active,
    target,
    bodyCapture: policy.bodyCapture,
    bodyMaxChars,
    defaultOwnerId,
    applied: {
      source: 'salesforce',
      record: policy.developerName,
      target,
      bodyCapture: policy.bodyCapture,
      bodyMaxChars,
      defaultOwnerId,
      note: owner.note,
    },
  };
}

function policyOwner(
  policy: InboxPolicy,
  activeOwners: ReadonlySet<string> | null,
): { id: string | null; note: string | null } {
  const id = policy.defaultOwnerId;
  if (id === null) return { id: null, note: null };
  if (!isUserId(id)) {
    return { id: null, note: `the policy's default owner ${id} is not a User id; the link's default owner is used` };
  }
  const active = activeOwners === null ? undefined : [...activeOwners].find((owner) => sameSalesforceId(owner, id));
  if (activeOwners !== null && active === undefined) {
    return {
      id: null,
      note: `the policy's default owner ${id} is not an active User; the link's default owner is used`,
    };
  }
  return { id: active ?? id, note: null };
}

interface CacheEntry {
  policies: OrgPolicies;
  readAt: number;
}

/** What the last check found of one authorisation's access to the package; `unknown`: the describe failed. */
export type KnownPackageAccess = PackageAccess | { state: 'unknown' };

interface AccessEntry {
  access: KnownPackageAccess;
  readAt: number;
}

/**
 * What the org's Salesforce side says about syncing, renewed at most once per TTL: each org's
 * policy records (SOQL), and each authorisation's access to the package's fields (a describe
 * of Event with that user's session, and the package's license). `refresh` renews what is
 * stale in one call, before a batch and while actions wait held. An org without the policy
 * type is remembered as such for the TTL too, and logged once; so is a missing package or
 * missing field access, with its fix.
 */
export class PolicyCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly access = new Map<string, AccessEntry>();
  readonly names: PolicyNames;

  constructor(private readonly deps: { namespace: string; ttlMs: number; now: () => number; logger: Logger }) {
    this.names = policyNames(deps.namespace);
  }

  /**
   * Renews, in one call, what is stale (or everything, with `force`): the org's policies and
   * the package access of the authorisation `auth` (its user's describe of Event). Failures
   * of the session, the budget or the connection are thrown; a read Salesforce refuses on its
   * own is remembered as such.
   */
  async refresh(
    api: Pick<SalesforceApi, 'readSettled'>,
    orgId: string,
    auth: { id: string; username: string },
    options: { force?: boolean } = {},
  ): Promise<void> {
    const force = options.force === true;
    const policies = force || !this.isFresh(orgId) ? this.lookupFor(orgId) : null;
    const access = force || !this.accessIsFresh(auth.id) ? packageAccessReads(this.deps.namespace) : null;
    if (policies === null && access === null) return;
    const policyQueries = policies?.queries ?? [];
    const read = await api.readSettled({
      queries: [...policyQueries, ...(access?.queries ?? [])],
      describes: access?.describes ?? [],
    });
    if (policies !== null) {
      const own = read.queries.slice(0, policyQueries.length);
      const error = own.find((result): result is BridgeError => result instanceof BridgeError);
      if (error === undefined) policies.apply?.(own as SObjectRecord[][]);
      else policies.reject?.(error);
    }
    if (access !== null) {
      const described =
        read.describes[0] ??
        new BridgeError('retryable', 'Salesforce sent no describe of Event', { code: 'MALFORMED_RESPONSE' });
      const assessed = assessPackageAccess(this.deps.namespace, described, read.queries[policyQueries.length]);
      this.storeAccess(orgId, auth, assessed);
    }
  }

  /** Checked within the TTL: no need to ask Salesforce again. */
  accessIsFresh(authId: string): boolean {
    const entry = this.access.get(authId);
    return entry !== undefined && this.deps.now() - entry.readAt < this.deps.ttlMs;
  }

  /** What the last check found of the authorisation's access to the package; undefined when never checked. */
  accessOf(authId: string): KnownPackageAccess | undefined {
    return this.access.get(authId)?.access;
  }

  /** What keeps this authorisation from writing Events, as the last check found; null when nothing (or unknown). */
  refusalOf(authId: string): PackageRefusal | null {
    const access = this.accessOf(authId);
    return access === undefined || access.state === 'ok' || access.state === 'unknown' ? null : access;
  }

  private storeAccess(orgId: string, auth: { id: string; username: string }, assessed: PackageAccess | BridgeError) {
    const { logger } = this.deps;
    const previous = this.access.get(auth.id)?.access.state;
    const access: KnownPackageAccess = assessed instanceof BridgeError ? { state: 'unknown' } : assessed;
    this.access.set(auth.id, { access, readAt: this.deps.now() });
    if (assessed instanceof BridgeError) {
      logger.warn(
        { orgId, authId: auth.id, code: assessed.code, message: assessed.remoteMessage ?? assessed.message },
        'the describe of Event failed; access to the package fields is checked again later',
      );
    } else if (assessed.state !== 'ok' && previous !== assessed.state) {
      logger.warn(
        { orgId, authId: auth.id, username: auth.username, problem: assessed.state },
        `actions of this authorisation are held: ${packageHoldMessage(assessed, auth.username)}`,
      );
    } else if (assessed.state === 'ok' && previous !== undefined && previous !== 'ok' && previous !== 'unknown') {
      logger.info(
        { orgId, authId: auth.id, username: auth.username },
        'the package fields are writable again: held actions sync',
      );
    }
  }

  /** Read within the TTL: no need to ask Salesforce again. */
  isFresh(orgId: string): boolean {
    const entry = this.entries.get(orgId);
    return entry !== undefined && this.deps.now() - entry.readAt < this.deps.ttlMs;
  }

  /** The last policies read, however old; undefined when never read. */
  current(orgId: string): OrgPolicies | undefined {
    return this.entries.get(orgId)?.policies;
  }

  /** The query for the org's policy records; what it finds (or that the type is missing) is cached. */
  lookupFor(orgId: string): Lookup {
    const { names } = this;
    const fields = [
      'DeveloperName',
      names.inboxId,
      names.active,
      names.target,
      names.bodyCapture,
      names.bodyMaxChars,
      names.defaultOwnerId,
    ];
    return {
      queries: [`SELECT ${fields.join(', ')} FROM ${names.type}`],
      apply: ([records]) => this.store(orgId, this.parse(orgId, records ?? [])),
      reject: (error) => this.store(orgId, this.absent(orgId, error)),
    };
  }

  /**
   * The query checking which of the policies' default owners are active Users; null when
   * there is nothing to check (no owners, or already checked since the last read).
   */
  ownerCheckFor(orgId: string): Lookup | null {
    const policies = this.current(orgId);
    if (policies?.installed !== true || policies.activeOwners !== null) return null;
    const owners = [...policies.byInbox.values()]
      .map((policy) => policy.defaultOwnerId)
      .filter((id): id is string => id !== null && isUserId(id));
    const unique = [...new Set(owners)];
    if (unique.length === 0) {
      this.setActiveOwners(orgId, new Set());
      return null;
    }
    return {
      queries: [`SELECT Id FROM User WHERE IsActive = true AND Id IN (${unique.map(soqlString).join(', ')})`],
      apply: ([records]) => this.setActiveOwners(orgId, new Set((records ?? []).map((record) => record.Id))),
    };
  }

  private setActiveOwners(orgId: string, active: ReadonlySet<string>): void {
    const entry = this.entries.get(orgId);
    if (entry?.policies.installed !== true) return;
    entry.policies = { ...entry.policies, activeOwners: active };
    for (const policy of entry.policies.byInbox.values()) {
      const note = policyOwner(policy, active).note;
      if (note !== null) this.deps.logger.warn({ orgId, inboxId: policy.inboxId, policy: policy.developerName }, note);
    }
  }

  /** Salesforce refused a policy's default owner on a write: it is used no more until the next read. */
  forgetOwner(orgId: string, ownerId: string): void {
    const entry = this.entries.get(orgId);
    if (entry?.policies.installed !== true || entry.policies.activeOwners === null) return;
    const active = new Set([...entry.policies.activeOwners].filter((id) => !sameSalesforceId(id, ownerId)));
    entry.policies = { ...entry.policies, activeOwners: active };
  }

  private parse(orgId: string, records: SObjectRecord[]): OrgPolicies {
    const byInbox = new Map<string, InboxPolicy>();
    // Sorted so that, should two records name one inbox, the same one wins every time.
    const name = (record: SObjectRecord) => String(record.DeveloperName);
    const sorted = [...records].sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
    for (const record of sorted) {
      const policy = parsePolicy(record, this.names);
      if (policy === null) {
        this.deps.logger.warn({ orgId, policy: record.DeveloperName }, 'link policy record names no inbox; ignored');
        continue;
      }
      const earlier = byInbox.get(policy.inboxId);
      if (earlier !== undefined) {
        this.deps.logger.warn(
          { orgId, inboxId: policy.inboxId, used: earlier.developerName, ignored: policy.developerName },
          'two link policy records name the same inbox; the first by DeveloperName applies',
        );
        continue;
      }
      byInbox.set(policy.inboxId, policy);
    }
    return { installed: true, byInbox, activeOwners: null };
  }

  private absent(orgId: string, error: BridgeError): OrgPolicies {
    if (!PACKAGE_ABSENT_CODES.has(error.code)) {
      this.deps.logger.error(
        { orgId, code: error.code, message: error.remoteMessage ?? error.message },
        'Salesforce refused the link policy query; the helpdesk link settings apply',
      );
    }
    return { installed: false, code: error.code, message: error.remoteMessage ?? error.message };
  }

  private store(orgId: string, policies: OrgPolicies): void {
    const previous = this.entries.get(orgId)?.policies;
    this.entries.set(orgId, { policies, readAt: this.deps.now() });
    this.logChanges(orgId, previous, policies);
  }

  /** Logs what changed since the last read, so that an org without the package is logged once. */
  private logChanges(orgId: string, previous: OrgPolicies | undefined, next: OrgPolicies): void {
    const { logger } = this.deps;
    if (!next.installed) {
      if (previous === undefined || previous.installed) {
        logger.info(
          { orgId, code: next.code, message: next.message },
          `the org has no link policy type ${this.names.type} (managed package not installed, or no access to it); ` +
            'the helpdesk link settings apply',
        );
      }
      return;
    }
    const before = previous?.installed === true ? previous.byInbox : new Map<string, InboxPolicy>();
    for (const [inboxId, policy] of next.byInbox) {
      if (JSON.stringify(before.get(inboxId)) !== JSON.stringify(policy)) {
        logger.info({ orgId, inboxId, policy }, 'Salesforce link policy for the inbox applies');
      }
    }
    for (const [inboxId, policy] of before) {
      if (!next.byInbox.has(inboxId)) {
        logger.info(
          { orgId, inboxId, policy: policy.developerName },
          'Salesforce link policy removed; the helpdesk link settings apply',
        );
      }
    }
  }
}
