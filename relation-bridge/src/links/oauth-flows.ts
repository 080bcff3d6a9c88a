import { randomBytes } from 'node:crypto';
import { TOKEN_ACTOR } from '../auth/access';
import { BridgeError } from '../core/errors';
import type { Actor, Link, LinkTarget, SfEnvironment } from '../core/types';
import type { OAuthClient } from '../salesforce/oauth-client';
import type { Identity } from '../salesforce/types';
import { type Grant, type LinkContext, type LinkLifecycle } from './link-lifecycle';
import { invalidOwner, linkError, type LinkingFacts } from './linking-salesforce';
import { type CustomHostPolicy, type LoginUrls, requireAnsweringLoginHost, resolveLoginUrl } from './login-host';
import type { OAuthFlow, OAuthFlowMode } from './oauth-flows-repository';
import type { PendingLink } from './pending-links-repository';
import type { PendingLinks } from './pending-links';
import { isUserId, sameSalesforceId } from './salesforce-ids';

/** Who starts an OAuth flow, and the console session it must come back to (null: none). */
export interface FlowInitiator {
  actor: Actor;
  sessionHash: string | null;
}

const SCRIPT_INITIATOR: FlowInitiator = { actor: TOKEN_ACTOR, sessionHash: null };
const DEFAULT_FLOW_TTL_MS = 10 * 60 * 1000;
/** The OAuth flow of a pending link needs a target column; the admin chooses the real one afterwards. */
const TARGET_CHOSEN_LATER: LinkTarget = 'contact_then_lead';

export interface StartLinkInput {
  inboxId: string;
  inboxName?: string | null;
  environment: SfEnvironment;
  myDomain?: string;
  target: LinkTarget;
  defaultOwnerId?: string | null;
}

export interface StartPendingLinkInput {
  inboxId: string;
  inboxName?: string | null;
  environment: SfEnvironment;
  myDomain?: string;
}

export interface AuthorizationStart {
  authorizeUrl: string;
  state: string;
  /** ms epoch after which the callback is refused. */
  expiresAt: number;
}

export interface CallbackInput {
  state?: string | undefined;
  code?: string | undefined;
  error?: string | undefined;
  errorDescription?: string | undefined;
  /** Hash of the console session the callback request carries (null: none). */
  sessionHash?: string | null;
}

/** Who started the flow, as the callback's result tells the console. */
export interface FlowStarter {
  mode: OAuthFlowMode;
  inboxId: string;
  actor: Actor;
  sessionHash: string | null;
}

export interface LinkCallbackResult {
  kind: 'link';
  link: Link;
  /** true for a new link, false for a re-authentication. */
  created: boolean;
  /** Held actions moved back to pending (re-authentication, a renewed shared grant, or a re-made link). */
  resumedActions: number;
  initiator: FlowStarter;
}

export interface PendingLinkCallbackResult {
  kind: 'pending_link';
  pendingLink: PendingLink;
  initiator: FlowStarter;
}

export type CallbackResult = LinkCallbackResult | PendingLinkCallbackResult;

/** What the callback page needs to know about a flow before completing it. */
export interface FlowPeek {
  mode: OAuthFlowMode;
  inboxId: string;
  /** Started from a console session: the browser goes back into the console. */
  fromConsole: boolean;
}

export interface OAuthFlowsOptions {
  oauth: OAuthClient;
  loginUrls: LoginUrls;
  customHosts: CustomHostPolicy;
  /** SF_REQUEST_TIMEOUT_MS: how long a My Domain may take to answer before the browser is sent there. */
  requestTimeoutMs: number;
  /** How long an authorisation started here may be completed. */
  ttlMs?: number;
}

/**
 * The OAuth 2.0 web-server flow (PKCE + state) that links, re-authorises, or starts a
 * pending link. Nothing reaches the store before Salesforce has shown that the org and the
 * user can use the API; a failed callback saves nothing and revokes the token it obtained.
 */
export class OAuthFlows {
  private readonly ttlMs: number;

  constructor(
    private readonly context: LinkContext,
    private readonly lifecycle: LinkLifecycle,
    private readonly pendingLinks: PendingLinks,
    private readonly options: OAuthFlowsOptions,
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_FLOW_TTL_MS;
  }

  async startLink(input: StartLinkInput, initiator: FlowInitiator = SCRIPT_INITIATOR): Promise<AuthorizationStart> {
    if (input.defaultOwnerId != null && !isUserId(input.defaultOwnerId)) throw invalidOwner(input.defaultOwnerId);
    const loginUrl = this.loginUrl(input.environment, input.myDomain);
    await this.refuseSecondLink(input.inboxId);
    await this.requireAnswering(input.environment, loginUrl);
    return this.begin(initiator, {
      mode: 'link',
      inboxId: input.inboxId,
      inboxName: input.inboxName ?? null,
      environment: input.environment,
      loginUrl,
      target: input.target,
      defaultOwnerId: input.defaultOwnerId ?? null,
      linkId: null,
    });
  }

  async startPendingLink(input: StartPendingLinkInput, initiator: FlowInitiator): Promise<AuthorizationStart> {
    const loginUrl = this.loginUrl(input.environment, input.myDomain);
    await this.refuseSecondLink(input.inboxId);
    await this.requireAnswering(input.environment, loginUrl);
    return this.begin(initiator, {
      mode: 'pending_link',
      inboxId: input.inboxId,
      inboxName: input.inboxName ?? null,
      environment: input.environment,
      loginUrl,
      target: TARGET_CHOSEN_LATER,
      defaultOwnerId: null,
      linkId: null,
    });
  }

  /** Renews the authorisation of a link that needs it (or rotates an active one). */
  async startReauth(linkId: string, initiator: FlowInitiator = SCRIPT_INITIATOR): Promise<AuthorizationStart> {
    const link = await this.lifecycle.requireLive(linkId);
    if (link.status !== 'needs_reauth' && link.status !== 'active') {
      throw new BridgeError(
        'bad_input',
        `The link is ${link.status}; only an active link or one that needs re-authentication can be re-authorised.`,
        { code: 'link_not_reauthorizable', reason: 'conflict', details: { linkId, status: link.status } },
      );
    }
    const auth = await this.lifecycle.requireAuth(link);
    return this.begin(initiator, {
      mode: 'reauth',
      inboxId: link.inboxId,
      inboxName: link.inboxName,
      environment: auth.environment,
      loginUrl: auth.loginUrl,
      target: link.target,
      defaultOwnerId: link.defaultOwnerId,
      linkId: link.id,
    });
  }

  /** Who started the flow with this state, without consuming anything. */
  async peek(state: string | undefined): Promise<FlowPeek | null> {
    if (state === undefined || state === '') return null;
    const flow = await this.context.store.oauthFlows.peek(state, this.context.now());
    return flow === null ? null : { mode: flow.mode, inboxId: flow.inboxId, fromConsole: flow.sessionHash !== null };
  }

  async completeCallback(input: CallbackInput): Promise<CallbackResult> {
    const { store, salesforce, logger, now } = this.context;
    const sessionHash = input.sessionHash ?? null;
    const state = input.state ?? '';
    if (state !== '') {
      // Bound to the console session that started it: a callback completed in another browser
      // (or after signing out) must not attach someone's Salesforce user to the inbox, nor
      // use up the flow of the one who started it.
      const peeked = await store.oauthFlows.peek(state, now());
      if (peeked?.sessionHash != null && peeked.sessionHash !== sessionHash) {
        logger.warn({ inboxId: peeked.inboxId, mode: peeked.mode }, 'oauth callback from another session refused');
        throw linkError('session_mismatch', 'bad_input', { inboxId: peeked.inboxId });
      }
    }
    const flow = state === '' ? null : await store.oauthFlows.take(state, sessionHash, now());
    if (input.error !== undefined && input.error !== '') {
      logger.info(
        { oauthError: input.error, mode: flow?.mode, inboxId: flow?.inboxId },
        'salesforce did not authorise the link',
      );
      if (input.error === 'access_denied') throw linkError('access_denied', 'bad_input');
      throw linkError('authorization_failed', 'bad_input', {
        salesforceError: input.error,
        salesforceDescription: input.errorDescription ?? null,
      });
    }
    if (flow === null) throw linkError('invalid_state', 'bad_input');
    if (input.code === undefined || input.code === '') throw linkError('invalid_callback', 'bad_input');

    const tokens = await salesforce.exchangeCode(flow.loginUrl, input.code, flow.codeVerifier, flow.inboxId);
    let identity: Identity;
    let facts: LinkingFacts;
    try {
      if (tokens.refreshToken === null) throw linkError('no_refresh_token', 'bad_input');
      identity = await salesforce.identity(tokens);
      const renewing = flow.mode === 'reauth' ? await this.checkSameOrg(flow, identity) : null;
      facts = await salesforce.verifyApiAccess(tokens, identity, ownerFor(flow, identity, renewing));
    } catch (error) {
      await salesforce.revokeQuietly(flow.loginUrl, tokens.refreshToken ?? tokens.accessToken);
      throw error;
    }
    const grant: Grant = { ...tokens, refreshToken: tokens.refreshToken as string };
    const initiator: FlowStarter = {
      mode: flow.mode,
      inboxId: flow.inboxId,
      actor: flow.actor,
      sessionHash: flow.sessionHash,
    };
    if (flow.mode === 'pending_link') {
      const pendingLink = await this.pendingLinks.keepFromGrant(flow, grant, identity, flow.actor, facts);
      return { kind: 'pending_link', pendingLink, initiator };
    }
    if (flow.mode === 'reauth') {
      const renewed = await this.lifecycle.renewFromGrant(
        flow.linkId as string,
        flow,
        grant,
        identity,
        flow.actor,
        facts,
      );
      return { kind: 'link', link: renewed.link, created: false, resumedActions: renewed.resumedActions, initiator };
    }
    const created = await this.lifecycle.createFromGrant(
      flow,
      {
        inboxId: flow.inboxId,
        inboxName: flow.inboxName,
        target: flow.target,
        defaultOwnerId: facts.owner.id,
        defaultOwnerName: facts.owner.name,
        defaultOwnerEmail: facts.owner.email,
      },
      grant,
      identity,
      flow.actor,
      facts,
    );
    return { kind: 'link', link: created.link, created: true, resumedActions: created.resumedActions, initiator };
  }

  /** A re-authorisation must come from the link's org; any of its users may give it. */
  private async checkSameOrg(flow: OAuthFlow, identity: Identity): Promise<Link> {
    const link = flow.linkId === null ? null : await this.context.store.links.getLink(flow.linkId);
    if (link === null || link.status === 'deleted')
      throw linkError('link_not_found', 'not_found', { linkId: flow.linkId });
    if (!sameSalesforceId(link.orgId, identity.organizationId)) {
      throw linkError('org_mismatch', 'bad_input', {
        expectedOrgId: link.orgId,
        signedInOrgId: identity.organizationId,
      });
    }
    return link;
  }

  private loginUrl(environment: SfEnvironment, myDomain: string | undefined): string {
    return resolveLoginUrl(environment, myDomain, this.options.loginUrls, this.options.customHosts);
  }

  /** A My Domain typed by the admin is asked first; the configured login hosts are trusted. */
  private async requireAnswering(environment: SfEnvironment, loginUrl: string): Promise<void> {
    if (environment !== 'custom') return;
    await requireAnsweringLoginHost(this.options.oauth.http, loginUrl, this.options.requestTimeoutMs);
  }

  private async refuseSecondLink(inboxId: string): Promise<void> {
    const existing = await this.context.store.links.getLinkForInbox(inboxId);
    if (existing !== null) {
      throw linkError('link_exists', 'conflict', { inboxId, linkId: existing.id, status: existing.status });
    }
  }

  private async begin(
    initiator: FlowInitiator,
    flow: Omit<OAuthFlow, 'state' | 'codeVerifier' | 'actor' | 'sessionHash' | 'createdAt' | 'expiresAt'>,
  ): Promise<AuthorizationStart> {
    const { store, logger, now } = this.context;
    const at = now();
    const state = randomBytes(32).toString('base64url');
    const pkce = this.options.oauth.createPkce();
    const expiresAt = at + this.ttlMs;
    await store.oauthFlows.save({
      ...flow,
      state,
      codeVerifier: pkce.verifier,
      actor: initiator.actor,
      sessionHash: initiator.sessionHash,
      createdAt: at,
      expiresAt,
    });
    // prompt=login makes the admin choose the Salesforce user and org deliberately instead
    // of silently reusing whatever session the browser already has.
    const authorizeUrl = this.options.oauth.authorizeUrl(flow.loginUrl, {
      state,
      codeChallenge: pkce.challenge,
      prompt: 'login',
    });
    logger.info(
      { mode: flow.mode, inboxId: flow.inboxId, linkId: flow.linkId, loginUrl: flow.loginUrl },
      'link authorisation started',
    );
    return { authorizeUrl, state, expiresAt };
  }
}

/**
 * The default owner the flow will give the link: the one asked for, else the user who
 * authorises. When another user re-authorises a link whose default owner was the previous
 * user (who may have left), the new user becomes the default owner.
 */
function ownerFor(flow: OAuthFlow, identity: Identity, renewing: Link | null): string {
  if (renewing !== null && sameSalesforceId(renewing.defaultOwnerId, renewing.authorizedUserId)) return identity.userId;
  return flow.defaultOwnerId ?? identity.userId;
}
