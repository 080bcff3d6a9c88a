import { t } from './i18n';
import { errorKey, hasMessage } from './messages';

/**
 * The console's only way to the bridge: the documented JSON admin API (docs/openapi.json)
 * with the session cookie, and the session's CSRF token on every state-changing request.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown,
  ) {
    super(message);
  }

  /** The text to show, in the console's language (never the API's English). */
  describe(): string {
    if (this.code === 'too_many_attempts') {
      const seconds = (this.details as { retryAfterSeconds?: number } | null)?.retryAfterSeconds ?? 60;
      return t('error.too_many_attempts', { wait: formatWait(seconds) });
    }
    if (this.code === 'invalid_request' || this.code === 'invalid_my_domain') {
      const message = Array.isArray(this.details)
        ? (this.details as ValidationDetail[])
            .map((detail) => detailText(detail, this.code === 'invalid_request'))
            .join(' ')
        : t('rule.other');
      return t(this.code === 'invalid_request' ? 'error.invalid_request' : 'error.invalid_my_domain', { message });
    }
    const key = errorKey(this.code);
    return key === null ? t('error.generic', { message: this.message }) : t(key, placeholders(this.details));
  }
}

/** One broken rule as the API details it: a code of the bridge's own, or zod's issue with its limit. */
interface ValidationDetail {
  path: string;
  message: string;
  code?: string;
  issue?: string;
  minimum?: number;
  maximum?: number;
  format?: string;
}

/** A wait in minutes (rounded up) from a minute on, else in seconds. */
function formatWait(seconds: number): string {
  if (seconds >= 60) {
    const minutes = Math.ceil(seconds / 60);
    return t(minutes === 1 ? 'time.minute' : 'time.minutes', { count: minutes });
  }
  return t(seconds === 1 ? 'time.second' : 'time.seconds', { count: seconds });
}

function fieldLabel(path: string): string {
  const key = `field.${path.split('.').at(-1) ?? ''}`;
  return hasMessage(key) ? t(key) : t('field.other');
}

function ruleText(detail: ValidationDetail): string {
  const known = detail.code === undefined ? null : errorKey(detail.code);
  if (known !== null) return t(known);
  switch (detail.issue) {
    case 'too_small':
      return detail.minimum === undefined || detail.minimum <= 1
        ? t('rule.required')
        : t('rule.too_small', { minimum: detail.minimum });
    case 'too_big':
      return detail.maximum === undefined ? t('rule.other') : t('rule.too_big', { maximum: detail.maximum });
    case 'invalid_format':
      return detail.format === 'email' ? t('rule.email') : t('rule.format');
    case 'invalid_type':
      return t('rule.required');
    default:
      return t('rule.other');
  }
}

/** What was wrong with one field, in the console's language: the field, then the rule. */
function detailText(detail: ValidationDetail, withField: boolean): string {
  return withField ? `${fieldLabel(detail.path)}: ${ruleText(detail)}` : ruleText(detail);
}

/** The values an error's details give its text (`{host}`, `{username}`, …). */
function placeholders(details: unknown): Record<string, string | number> {
  if (details === null || typeof details !== 'object' || Array.isArray(details)) return {};
  return Object.fromEntries(
    Object.entries(details).filter(
      (entry): entry is [string, string | number] => typeof entry[1] === 'string' || typeof entry[1] === 'number',
    ),
  );
}

let csrfToken: string | null = null;
let onSignedOut: () => void = () => undefined;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when the bridge says the session has ended. */
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, 'network', t('error.network'), null);
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    const error = (parsed ?? {}) as { error?: string; message?: string; details?: unknown };
    const failure = new ApiError(
      response.status,
      error.error ?? `http_${response.status}`,
      error.message ?? response.statusText,
      error.details ?? null,
    );
    if (response.status === 401 && path !== '/session') onSignedOut();
    throw failure;
  }
  return parsed as T;
}

export function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(name, value);
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
