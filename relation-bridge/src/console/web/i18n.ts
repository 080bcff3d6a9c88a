import { format, type Language, type MessageKey } from './messages';

/** The display language: Japanese unless this browser chose English before. */
const STORAGE_KEY = 'relation-bridge.console.language';

let current: Language = readStoredLanguage();

function readStoredLanguage(): Language {
  try {
    return window.localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'ja';
  } catch {
    return 'ja';
  }
}

export function language(): Language {
  return current;
}

/** Whether this browser chose a language itself (else the account's is taken at sign-in). */
export function hasChosenLanguage(): boolean {
  try {
    return window.localStorage.getItem(STORAGE_KEY) !== null;
  } catch {
    return false;
  }
}

/** Shows the console in the account's language without making it this browser's own choice. */
export function adoptLanguage(next: Language): void {
  current = next;
  document.documentElement.lang = next;
}

export function setLanguage(next: Language): void {
  current = next;
  try {
    window.localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // A browser that refuses storage keeps the choice for this page only.
  }
  document.documentElement.lang = next;
}

export function t(key: MessageKey, values?: Record<string, string | number>): string {
  return format(current, key, values);
}

export function formatDateTime(iso: string | null): string {
  if (iso === null) return t('common.never');
  return new Intl.DateTimeFormat(current === 'ja' ? 'ja-JP' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(new Date(iso));
}

export function formatNumber(value: number): string {
  return new Intl.NumberFormat(current === 'ja' ? 'ja-JP' : 'en-GB').format(value);
}
