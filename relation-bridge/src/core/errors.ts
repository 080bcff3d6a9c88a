/**
 * Every failure in the bridge is a value with a kind; callers decide from the kind,
 * never from message text.
 *
 * - retryable: try again later with backoff (5xx, timeouts, network, UNABLE_TO_LOCK_ROW)
 * - needs_reauth: the Salesforce authorisation is dead (invalid_grant, session refused
 *   after a refresh, API disabled for the user or org); hold the work until an admin acts
 * - api_budget: the org's API budget (or our share of it) is used up; pause the org
 * - permanent: this item can never succeed as it is (validation rule, deleted record)
 * - bad_input: the caller sent something invalid (4xx to the caller)
 */
export type FailureKind = 'retryable' | 'needs_reauth' | 'api_budget' | 'permanent' | 'bad_input';

/**
 * How a failure reaches an HTTP caller, beside its kind: the one error mapping
 * (http/errors.ts) answers with the status of the reason, or, without one, of the kind.
 * The sync engine never looks at it.
 */
export type HttpReason =
  | 'bad_input'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'request_timeout'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'too_many_requests'
  | 'internal'
  | 'unavailable';

export interface BridgeErrorOptions {
  /** A stable machine-readable code, e.g. Salesforce's errorCode or `invalid_grant`. */
  code: string;
  /** How it reaches an HTTP caller; default: from the kind. */
  reason?: HttpReason;
  /** The HTTP status of the remote answer (Salesforce) this error comes from; never what our callers get. */
  remoteStatus?: number;
  /** Salesforce's own message, kept verbatim for the error log. */
  remoteMessage?: string;
  /** When a retry makes sense at the earliest (ms epoch). */
  retryAt?: number;
  /** Structured details safe to show to the caller (never secrets). */
  details?: unknown;
  cause?: unknown;
}

export class BridgeError extends Error {
  readonly kind: FailureKind;
  readonly code: string;
  readonly reason: HttpReason | undefined;
  readonly remoteStatus: number | undefined;
  readonly remoteMessage: string | undefined;
  readonly retryAt: number | undefined;
  readonly details: unknown;

  constructor(kind: FailureKind, message: string, options: BridgeErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BridgeError';
    this.kind = kind;
    this.code = options.code;
    this.reason = options.reason;
    this.remoteStatus = options.remoteStatus;
    this.remoteMessage = options.remoteMessage;
    this.retryAt = options.retryAt;
    this.details = options.details;
  }
}

export function isBridgeError(value: unknown): value is BridgeError {
  return value instanceof BridgeError;
}

/** Something the caller asked for that cannot be done as asked (a 4xx): not found, forbidden, a conflict… */
export function refused(
  reason: Exclude<HttpReason, 'internal' | 'unavailable'>,
  code: string,
  message: string,
  details?: unknown,
): BridgeError {
  return new BridgeError('bad_input', message, { code, reason, ...(details === undefined ? {} : { details }) });
}
