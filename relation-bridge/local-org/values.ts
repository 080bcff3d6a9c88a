import type { FieldDef } from './schema';

/**
 * Field values inside the org: datetimes as ms epoch numbers, dates as `YYYY-MM-DD`
 * strings, everything else as its JSON value; null when unset. The wire shows datetimes
 * the way Salesforce does: `2024-05-01T09:30:00.000+0000`.
 */
export type FieldValue = string | number | boolean | null;

export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

export function formatDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function toWire(def: FieldDef, value: FieldValue | undefined): FieldValue {
  if (value === undefined || value === null) return null;
  if (def.type === 'datetime' && typeof value === 'number') return formatDateTime(value);
  return value;
}

const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function parseDateTime(text: string): number | null {
  if (!DATETIME.test(text)) return null;
  const withZone = /(Z|[+-]\d{2}:?\d{2})$/.test(text) ? text : `${text}Z`;
  // Date.parse wants the offset as ±hh:mm; Salesforce also writes ±hhmm.
  const normalized = withZone.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(normalized);
  return Number.isNaN(ms) ? null : ms;
}

export function parseDate(text: string): string | null {
  if (!DATE.test(text)) return null;
  const ms = Date.parse(`${text}T00:00:00Z`);
  if (Number.isNaN(ms) || formatDate(ms) !== text) return null;
  return text;
}

export function dateToMs(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

/** Why a JSON value cannot go into a field, or null when it can; `coerced` holds the stored form. */
export function coerceInput(
  def: FieldDef,
  raw: unknown,
): { ok: true; value: FieldValue } | { ok: false; reason: string } {
  if (raw === null) return { ok: true, value: null };
  switch (def.type) {
    case 'boolean':
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      if (raw === 'true' || raw === 'false') return { ok: true, value: raw === 'true' };
      return { ok: false, reason: 'boolean' };
    case 'int':
    case 'double': {
      const number = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(number)) return { ok: false, reason: def.type === 'int' ? 'int' : 'double' };
      if (def.type === 'int' && !Number.isInteger(number)) return { ok: false, reason: 'int' };
      return { ok: true, value: number };
    }
    case 'datetime': {
      const ms = typeof raw === 'string' ? parseDateTime(raw) : null;
      return ms === null ? { ok: false, reason: 'datetime' } : { ok: true, value: ms };
    }
    case 'date': {
      const date = typeof raw === 'string' ? parseDate(raw) : null;
      return date === null ? { ok: false, reason: 'date' } : { ok: true, value: date };
    }
    default:
      if (typeof raw === 'string') return { ok: true, value: raw };
      if (typeof raw === 'number' || typeof raw === 'boolean') return { ok: true, value: String(raw) };
      return { ok: false, reason: 'String' };
  }
}
