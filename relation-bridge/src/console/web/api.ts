import { t } from './i18n';
import { errorKey } from './messages';

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

  /** The text to show, in the console's language. */
  describe(): string {
    if (this.code === 'too_many_attempts') {
      const seconds = (this.details as { retryAfterSeconds?: number } | null)?.retryAfterSeconds ?? 60;
      return t('error.too_many_attempts', { seconds });
    }
    if (this.code === 'invalid_request' || this.code === 'invalid_my_domain') {
      // A detail with a code the console knows is said in the console's language.
      const detail = Array.isArray(this.details)
        ? (this.details as Array<{ path: string; message: string; code?: string }>)
            .map((d) => {
              const known = d.code === undefined ? null : errorKey(d.code);
              return `${d.path}: ${known === null ? d.message : t(known)}`;
            })
            .join('; ')
        : this.message;
      return t(this.code === 'invalid_request' ? 'error.invalid_request' : 'error.invalid_my_domain', {
        message: detail,
      });
    }
    const key = errorKey(this.code);
    return key === null ? t('error.generic', { message: this.message }) : t(key);
  }
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
