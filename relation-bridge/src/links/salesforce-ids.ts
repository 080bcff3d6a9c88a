const SALESFORCE_ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

/** A User id: 15 or 18 characters with the User key prefix 005. */
export function isUserId(value: string): boolean {
  return SALESFORCE_ID.test(value) && value.startsWith('005');
}

/** 15- and 18-character forms of one id are the same record; the first 15 are case-sensitive. */
export function sameSalesforceId(a: string, b: string): boolean {
  return SALESFORCE_ID.test(a) && SALESFORCE_ID.test(b) && a.slice(0, 15) === b.slice(0, 15);
}
