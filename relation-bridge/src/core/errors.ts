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

export interface BridgeErrorOptions {
  /** A stable machine-readable code, e.g. Salesforce's errorCode or `invalid_grant`. */
  code: string;
  /** HTTP status to answer with when the error reaches an HTTP caller. */
  httpStatus?: number;
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
  readonly httpStatus: number | undefined;
  readonly remoteMessage: string | undefined;
  readonly retryAt: number | undefined;
  readonly details: unknown;

  constructor(kind: FailureKind, message: string, options: BridgeErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BridgeError';
    this.kind = kind;
    this.code = options.code;
    this.httpStatus = options.httpStatus;
    this.remoteMessage = options.remoteMessage;
    this.retryAt = options.retryAt;
    this.details = options.details;
  }
}

export function isBridgeError(value: unknown): value is BridgeError {
  return value instanceof BridgeError;
}
