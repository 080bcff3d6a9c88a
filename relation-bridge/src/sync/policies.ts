import type { BridgeError } from '../core/errors';
import type { AppliedPolicy, BodyCapture, Link, LinkTarget } from '../core/types';
import { isUserId, sameSalesforceId } from '../links/salesforce-ids';
import type { Logger } from '../logging';
import { soqlString } from '../salesforce/soql';
import type { SObjectRecord } from '../salesforce/types';
import type { Lookup } from './lookups';
import { packageApiNames, type PolicyNames } from '../salesforce/package-names';

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

/**
 * Each org's policy records, read with SOQL at most once per TTL (as part of a batch's
 * first query round, or on their own while actions wait on a disabled inbox). An org
 * without the policy type is remembered as such for the TTL too, and logged once.
 */
export class PolicyCache {
  private readonly entries = new Map<string, CacheEntry>();
  readonly names: PolicyNames;

  constructor(private readonly deps: { namespace: string; ttlMs: number; now: () => number; logger: Logger }) {
    this.names = policyNames(deps.namespace);
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
