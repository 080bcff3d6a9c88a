import { BridgeError } from '../core/errors';
import { ProxyTunnelError } from './http';

/**
 * Turns Salesforce's failures into BridgeError kinds. Pure functions: the same status and
 * body always give the same kind, so the sync engine can act on the kind alone. Salesforce's
 * own message is kept in `remoteMessage` for the error log; tokens and secrets never reach
 * an error message (Salesforce does not echo them, and the transport errors are described
 * without URLs or headers).
 */

export interface SalesforceErrorEntry {
  errorCode: string;
  message: string;
  fields: string[];
}

/** How long to stay away after the OAuth endpoint's per-user rate limit (~3,600 calls an hour). */
export const OAUTH_RATE_LIMIT_BACKOFF_MS = 10 * 60_000;

const RETRYABLE_CODES = new Set([
  'UNABLE_TO_LOCK_ROW',
  'SERVER_UNAVAILABLE',
  'UNKNOWN_EXCEPTION',
  'QUERY_TIMEOUT',
  'REQUEST_RUNNING_TOO_LONG',
  'TXN_SECURITY_POLICY_TIMEOUT',
]);

const ACCESS_CODES = new Set([
  'API_DISABLED_FOR_ORG',
  'API_CURRENTLY_DISABLED',
  'INSUFFICIENT_ACCESS',
  'INSUFFICIENT_ACCESS_OR_READONLY',
  'INSUFFICIENT_PRIVILEGES',
  'FUNCTIONALITY_NOT_ENABLED',
]);

const SCHEMA_CODES = new Set(['INVALID_FIELD', 'INVALID_TYPE', 'INVALID_FIELD_FOR_INSERT_UPDATE']);

const MAX_REMOTE_MESSAGE = 2000;

function asEntry(value: unknown): SalesforceErrorEntry | null {
  if (value === null || typeof value !== 'object') return null;
  const record = value as Record<string, unknown>;
  const code = record.errorCode ?? record.statusCode ?? record.error;
  if (typeof code !== 'string') return null;
  const message = record.message ?? record.error_description;
  const fields = Array.isArray(record.fields)
    ? record.fields.filter((field): field is string => typeof field === 'string')
    : [];
  return { errorCode: code, message: typeof message === 'string' ? message : '', fields };
}

/** The error entries of a Salesforce error body: an array, a single object, or OAuth's shape. */
export function parseErrorBody(body: unknown): SalesforceErrorEntry[] {
  const items = Array.isArray(body) ? body : [body];
  return items.map(asEntry).filter((entry): entry is SalesforceErrorEntry => entry !== null);
}

function remoteMessageOf(entries: SalesforceErrorEntry[], body: unknown): string | undefined {
  const text =
    entries.length > 0
      ? entries
          .map((entry) => entry.message)
          .filter((message) => message !== '')
          .join('; ')
      : typeof body === 'string'
        ? body.trim()
        : '';
  if (text === '') return undefined;
  return text.length > MAX_REMOTE_MESSAGE ? `${text.slice(0, MAX_REMOTE_MESSAGE)}…` : text;
}

/** A Salesforce REST error response (status and parsed body) as a BridgeError. */
export function classifySalesforceError(status: number, body: unknown): BridgeError {
  const entries = parseErrorBody(body);
  const first = entries[0];
  const code = first?.errorCode ?? `HTTP_${status}`;
  const remoteMessage = remoteMessageOf(entries, body);
  const options = {
    code,
    remoteStatus: status,
    ...(remoteMessage === undefined ? {} : { remoteMessage }),
    ...(first !== undefined && first.fields.length > 0 ? { details: { fields: first.fields } } : {}),
  };
  if (code === 'REQUEST_LIMIT_EXCEEDED') {
    // The concurrent long-running request limit clears in seconds; the daily total does not.
    if (/concurrent/i.test(remoteMessage ?? '')) {
      return new BridgeError('retryable', 'Salesforce is busy with too many long-running requests', options);
    }
    return new BridgeError('api_budget', "The Salesforce org's daily API request limit is used up", options);
  }
  if (code === 'INVALID_SESSION_ID' || status === 401) {
    return new BridgeError('needs_reauth', 'Salesforce refused the session; the org must be authorised again', options);
  }
  if (ACCESS_CODES.has(code)) {
    return new BridgeError(
      'needs_reauth',
      `Salesforce refused API access (${code}): an admin must give the org and the authorising user API access ` +
        `(the "API Enabled" permission), then authorise the link again`,
      options,
    );
  }
  if (RETRYABLE_CODES.has(code) || status >= 500 || status === 408 || status === 429) {
    return new BridgeError('retryable', `Salesforce could not handle the request for now (${code})`, options);
  }
  if (SCHEMA_CODES.has(code)) {
    return new BridgeError(
      'permanent',
      `Salesforce does not know a field or object the bridge writes (${code}): is the managed package installed, ` +
        `with the namespace the bridge is configured for, and can the authorising user see its fields?`,
      options,
    );
  }
  return new BridgeError('permanent', `Salesforce rejected the request (${code})`, options);
}

/** An OAuth endpoint's error (`{"error","error_description"}`) as a BridgeError. */
export function classifyOAuthError(status: number, body: unknown, now: number = Date.now()): BridgeError {
  const entry = parseErrorBody(body)[0];
  const code = entry?.errorCode ?? `HTTP_${status}`;
  const remoteMessage = remoteMessageOf(entry === undefined ? [] : [entry], body);
  const options = { code, remoteStatus: status, ...(remoteMessage === undefined ? {} : { remoteMessage }) };
  if (code === 'rate_limit_exceeded') {
    return new BridgeError('retryable', 'Salesforce limits how often this user may authenticate; trying again later', {
      ...options,
      retryAt: now + OAUTH_RATE_LIMIT_BACKOFF_MS,
    });
  }
  if (status >= 500 || status === 408 || status === 429) {
    return new BridgeError('retryable', `Salesforce's login service could not answer for now (${code})`, options);
  }
  if (code === 'invalid_grant' || code === 'inactive_user' || code === 'inactive_org') {
    return new BridgeError(
      'needs_reauth',
      'Salesforce no longer accepts this authorisation (revoked, expired, or the user or org is inactive); authorise again',
      options,
    );
  }
  return new BridgeError('permanent', `Salesforce's login service refused the request (${code})`, options);
}

/**
 * A 3xx from Salesforce. The bridge follows no redirect (a bearer token or the client
 * secret would go along); the org's address has changed (a new My Domain, say), and a new
 * authorisation brings the current `instance_url`.
 */
export function redirectRefused(status: number, what: string): BridgeError {
  return new BridgeError(
    'needs_reauth',
    `Salesforce answered ${what} with a redirect (${status}), which the bridge does not follow; authorise the link again`,
    { code: 'REDIRECT_REFUSED', remoteStatus: status },
  );
}

/** A request that never got an HTTP answer: a timeout, a network failure or a proxy that refused the tunnel. */
export function transportError(cause: unknown, what: string, timeoutMs: number): BridgeError {
  if (cause instanceof ProxyTunnelError) {
    return new BridgeError('retryable', `The proxy did not let the bridge through to Salesforce for ${what}`, {
      code: 'PROXY_ERROR',
      ...(cause.proxyStatus === null ? {} : { details: { proxyStatus: cause.proxyStatus } }),
      cause,
    });
  }
  // DOMException is not always an Error instance across realms, so look at the name only.
  const nameOf = (value: unknown) =>
    value !== null && typeof value === 'object' && 'name' in value ? String((value as { name: unknown }).name) : '';
  const inner =
    cause !== null && typeof cause === 'object' && 'cause' in cause ? (cause as { cause: unknown }).cause : null;
  const timedOut = [nameOf(cause), nameOf(inner)].some((name) => name === 'TimeoutError' || name === 'AbortError');
  if (timedOut) {
    return new BridgeError('retryable', `Salesforce did not answer ${what} within ${timeoutMs} ms`, {
      code: 'TIMEOUT',
      cause,
    });
  }
  return new BridgeError('retryable', `Could not reach Salesforce for ${what}`, { code: 'NETWORK_ERROR', cause });
}
