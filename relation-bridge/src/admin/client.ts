import type { z } from 'zod';
import type { ActionReason, ActionState } from '../core/types';
import type {
  ActionsPageView,
  ActionWithPayloadView,
  AuthorizationStartedView,
  CreatedUserView,
  DeleteResultView,
  InboxHealthView,
  LinkView,
} from './contract';
import type { createUserBody } from '../auth/routes';
import type { authorizeLinkBody, retryActionsBody, updateLinkBody } from './schemas';
import type { RetryReport } from '../sync/retry';

/**
 * A typed caller of the admin API over HTTP, used by the CLI (and usable by scripts). Its
 * request and answer types are the API's own schemas (schemas.ts, contract.ts), so the
 * client cannot drift from the server.
 */

export type { ActionView, ConsoleUserView, LinkView } from './contract';
export type HealthView = InboxHealthView;
export type AuthorizeLinkRequest = z.input<typeof authorizeLinkBody>;

export type CreateUserRequest = z.input<typeof createUserBody>;

export interface ActionsQuery {
  inboxId?: string;
  state?: ActionState[];
  reason?: ActionReason[];
  since?: string;
  limit?: number;
  before?: string;
}

/** The server's `{ error, message, details? }`, or a transport failure (status 0). */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

export interface AdminClientOptions {
  baseUrl: string;
  token: string;
  timeoutMs?: number;
}

export class AdminClient {
  private readonly baseUrl: string;
  private readonly token: string;
  private readonly timeoutMs: number;

  constructor(options: AdminClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  authorizeLink(request: AuthorizeLinkRequest): Promise<AuthorizationStartedView> {
    return this.call('POST', '/links/authorize', request);
  }

  async listLinks(options: { inboxId?: string; includeDeleted?: boolean } = {}): Promise<LinkView[]> {
    const query = new URLSearchParams();
    if (options.inboxId !== undefined) query.set('inboxId', options.inboxId);
    if (options.includeDeleted) query.set('includeDeleted', 'true');
    const body = await this.call<{ links: LinkView[] }>('GET', `/links${suffix(query)}`);
    return body.links;
  }

  getLink(id: string): Promise<LinkView> {
    return this.call('GET', `/links/${encodeURIComponent(id)}`);
  }

  updateLink(id: string, changes: z.input<typeof updateLinkBody>): Promise<LinkView> {
    return this.call('PATCH', `/links/${encodeURIComponent(id)}`, changes);
  }

  deleteLink(id: string): Promise<DeleteResultView> {
    return this.call('DELETE', `/links/${encodeURIComponent(id)}`);
  }

  reauthorizeLink(id: string): Promise<AuthorizationStartedView> {
    return this.call('POST', `/links/${encodeURIComponent(id)}/reauthorize`);
  }

  inboxHealth(inboxId: string): Promise<InboxHealthView> {
    return this.call('GET', `/inboxes/${encodeURIComponent(inboxId)}/health`);
  }

  listActions(query: ActionsQuery = {}): Promise<ActionsPageView> {
    const params = new URLSearchParams();
    if (query.inboxId !== undefined) params.set('inboxId', query.inboxId);
    if (query.state !== undefined) params.set('state', query.state.join(','));
    if (query.reason !== undefined) params.set('reason', query.reason.join(','));
    if (query.since !== undefined) params.set('since', query.since);
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.before !== undefined) params.set('before', query.before);
    return this.call('GET', `/actions${suffix(params)}`);
  }

  getAction(actionId: string): Promise<ActionWithPayloadView> {
    return this.call('GET', `/actions/${encodeURIComponent(actionId)}`);
  }

  retryActions(actionIds: z.input<typeof retryActionsBody>['actionIds']): Promise<RetryReport> {
    return this.call('POST', '/actions/retry', { actionIds });
  }

  /** Creates a console user; without a password one is generated and returned once. */
  createUser(request: CreateUserRequest): Promise<CreatedUserView> {
    return this.call('POST', '/users', request);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.baseUrl}/api/v1${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new AdminApiError(
        0,
        'unreachable',
        `Could not reach the bridge at ${this.baseUrl}: ${transportReason(error)}`,
      );
    }
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = null;
    }
    if (!response.ok) {
      const error = (parsed ?? {}) as { error?: unknown; message?: unknown; details?: unknown };
      throw new AdminApiError(
        response.status,
        typeof error.error === 'string' ? error.error : `http_${response.status}`,
        typeof error.message === 'string'
          ? error.message
          : `The bridge answered ${response.status} ${response.statusText}.`,
        error.details,
      );
    }
    return parsed as T;
  }
}

function suffix(params: URLSearchParams): string {
  const query = params.toString();
  return query === '' ? '' : `?${query}`;
}

/** fetch's "fetch failed" says little; its cause (ECONNREFUSED, ENOTFOUND, bad port…) says why. */
export function transportReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : null;
  return why === null ? error.message : `${error.message} (${why})`;
}
