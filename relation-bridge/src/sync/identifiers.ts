/**
 * Normalisation of customer identifiers before matching. Salesforce stores phones as
 * free text, so both sides are reduced to one canonical form and compared client-side.
 */

/** Lower-cased, NFKC-normalised address, or null when it is not an address at all. */
export function normalizeEmail(raw: string): string | null {
  const value = raw.normalize('NFKC').trim().toLowerCase();
  if (value.length > 254 || !/^[^\s@'"\\]+@[^\s@'"\\]+\.[^\s@'"\\]+$/.test(value)) return null;
  return value;
}

/**
 * Canonical phone digits: full-width digits and symbols folded (NFKC), hyphens, spaces,
 * dots and brackets dropped, and Japanese numbers written in national form, so that
 * `+81 90-1234-5678`, `(090) 1234 5678` and `０９０－１２３４－５６７８` are all `09012345678`.
 * Other international numbers keep their `+` and country code. Null when fewer than 6 digits remain.
 */
export function normalizePhone(raw: string): string | null {
  let value = raw.normalize('NFKC').trim();
  // An extension is not part of the number that identifies the customer.
  value = value.replace(/\s*(ext\.?|x|内線)\s*\d+$/i, '');
  const international = value.startsWith('+') || value.startsWith('00');
  let digits = value.replace(/\D/g, '');
  if (value.startsWith('00')) digits = digits.slice(2);
  if (international) {
    if (digits.startsWith('81')) {
      // "+81 (0)3 …" writes the trunk zero in brackets; drop it before adding our own.
      const national = digits.slice(2).replace(/^0/, '');
      digits = `0${national}`;
    } else {
      digits = `+${digits}`;
    }
  }
  const digitCount = digits.replace(/\D/g, '').length;
  if (digitCount < 6 || digitCount > 15) return null;
  return digits;
}

/**
 * The terms to give SOSL for one canonical phone: the national form, and for Japanese
 * numbers also the international digits, since records may hold either.
 */
export function phoneSearchTerms(canonical: string): string[] {
  if (canonical.startsWith('+')) return [canonical.slice(1)];
  if (canonical.startsWith('0')) return [canonical, `81${canonical.slice(1)}`];
  return [canonical];
}
