import type { Logger } from '../logging';
import type { OAuthClient } from '../salesforce/oauth-client';
import type { SalesforceAuth } from '../core/types';
import type { SalesforceApi } from '../salesforce/types';
import { AuthorizationReuse } from './authorization-reuse';
import { inboxHealth, type InboxHealth } from './link-health';
import { LinkLifecycle, type LinksStore } from './link-lifecycle';
import { LinkingSalesforce } from './linking-salesforce';
import { type CustomHostPolicy, isLoopbackHost, type LoginUrls } from './login-host';
import { OAuthFlows } from './oauth-flows';
import { PendingLinks } from './pending-links';

export interface LinksOptions {
  store: LinksStore;
  oauth: OAuthClient;
  loginUrls: LoginUrls;
  /** e.g. "66.0"; used for the API-access check made before a link is saved. */
  apiVersion: string;
  /** SF_NAMESPACE: the package's namespace, whose fields the check before a link is saved looks for. */
  namespace?: string;
  /** SF_REQUEST_TIMEOUT_MS: how long a Salesforce call made while linking may take. */
  requestTimeoutMs: number;
  logger: Logger;
  now?: () => number;
  /** How long an OAuth flow may be completed. */
  flowTtlMs?: number;
  /** How long a pending link (authorised, target not chosen yet) waits before it is revoked. */
  pendingLinkTtlMs?: number;
  /**
   * Which custom (My Domain) login hosts are accepted. By default Salesforce's domains, and
   * loopback hosts only when the configured production login URL is itself on loopback,
   * i.e. when the bridge runs against the local org.
   */
  customHosts?: CustomHostPolicy;
  /** Called after an authorisation got new tokens from a fresh grant (drop cached sessions). */
  onReauthorized?: (authId: string) => void;
  /** The engine's refreshing Salesforce client for an authorisation (else the stored token alone). */
  salesforceFor?: (auth: SalesforceAuth) => SalesforceApi;
  /**
   * Adds to an inbox's health what other features know of its link (the notices: the link
   * check's warnings, and when the admins were e-mailed).
   */
  augmentHealth?: (health: InboxHealth) => Promise<InboxHealth>;
}

/** Linking inboxes to Salesforce orgs, by what an admin does. */
export interface Links {
  /** Starting and completing OAuth flows (link, wizard, re-authorisation). */
  flows: OAuthFlows;
  /** The wizard's authorised-but-unfinished links: 完了, 破棄, expiry. */
  pending: PendingLinks;
  /** Making, changing, re-authorising and deleting links. */
  lifecycle: LinkLifecycle;
  /** Reusing an authorisation the bridge holds. */
  reuse: AuthorizationReuse;
  store: LinksStore;
  health(inboxId: string): Promise<InboxHealth>;
}

export function createLinks(options: LinksOptions): Links {
  const now = options.now ?? Date.now;
  const salesforce = new LinkingSalesforce({
    oauth: options.oauth,
    orgs: options.store.orgs,
    apiVersion: options.apiVersion,
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    requestTimeoutMs: options.requestTimeoutMs,
    logger: options.logger,
    now,
    ...(options.salesforceFor === undefined ? {} : { salesforceFor: options.salesforceFor }),
  });
  const context = {
    store: options.store,
    salesforce,
    logger: options.logger,
    now,
    onReauthorized: options.onReauthorized ?? (() => undefined),
  };
  const lifecycle = new LinkLifecycle(context);
  const pending = new PendingLinks(context, lifecycle, {
    ...(options.pendingLinkTtlMs === undefined ? {} : { ttlMs: options.pendingLinkTtlMs }),
  });
  const flows = new OAuthFlows(context, lifecycle, pending, {
    oauth: options.oauth,
    loginUrls: options.loginUrls,
    customHosts: options.customHosts ?? {
      allowLoopback: isLoopbackHost(new URL(options.loginUrls.production).hostname),
    },
    requestTimeoutMs: options.requestTimeoutMs,
    ...(options.flowTtlMs === undefined ? {} : { ttlMs: options.flowTtlMs }),
  });
  const reuse = new AuthorizationReuse(context, lifecycle, pending);
  return {
    flows,
    pending,
    lifecycle,
    reuse,
    store: options.store,
    health: async (inboxId) => {
      const health = await inboxHealth(options.store, inboxId, now());
      return options.augmentHealth === undefined ? health : options.augmentHealth(health);
    },
  };
}
