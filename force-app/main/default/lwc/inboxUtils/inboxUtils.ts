/**
 * Helpers shared by the package's components: label formatting, error messages, safe links, and
 * platform event payloads.
 */

/** Fills `{0}`, `{1}`, … of a custom label with the given values. */
export function formatLabel(template: string, ...values: Array<string | number>): string {
  return template.replace(/\{(\d+)\}/g, (placeholder: string, index: string) => {
    const value = values[Number(index)];
    return value === undefined ? placeholder : String(value);
  });
}

/** The message to show for an error from Apex or the wire service, or the fallback. */
export function errorMessage(error: unknown, fallback: string): string {
  if (typeof error !== 'object' || error === null) {
    return fallback;
  }
  const { body, message } = error as ApexError;
  const bodyMessages = (Array.isArray(body) ? body : [body])
    .map((entry) => entry?.message)
    .filter((entry): entry is string => typeof entry === 'string' && entry.length > 0);
  if (bodyMessages.length > 0) {
    return bodyMessages.join(' ');
  }
  return typeof message === 'string' && message.length > 0 ? message : fallback;
}

/**
 * The URL when it is an absolute https URL, otherwise null. Links built from record data must
 * neither run script (`javascript:`, `data:`) nor leave TLS.
 */
export function httpsUrl(value: string | null | undefined): string | null {
  if (!value) {
    return null;
  }
  try {
    const url = new URL(value.trim());
    return url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * A field of a platform event payload. In an org where the package is installed the field
 * names carry its namespace prefix (`inbx__Job_Id__c`); in a development org they do not.
 */
export function payloadField(payload: Record<string, unknown>, fieldName: string): unknown {
  if (fieldName in payload) {
    return payload[fieldName];
  }
  const suffix = `__${fieldName}`;
  const key = Object.keys(payload).find((candidate) => candidate.endsWith(suffix));
  return key === undefined ? undefined : payload[key];
}
