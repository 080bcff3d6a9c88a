import type { SalesforceApi, SObjectRecord } from '../salesforce/types';

/** An active Salesforce user an admin can choose as a link's default owner (割り当て先). */
export interface SalesforceUser {
  id: string;
  name: string;
  username: string;
  email: string | null;
}

/** Enough for a choice list; an org with more users is served by typing the User id instead. */
export const MAX_LISTED_USERS = 500;

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** One SOQL call: the org's active users by name. */
export async function listActiveUsers(api: SalesforceApi): Promise<SalesforceUser[]> {
  const records: SObjectRecord[] = await api.query(
    `SELECT Id, Name, Username, Email FROM User WHERE IsActive = true ORDER BY Name LIMIT ${MAX_LISTED_USERS}`,
  );
  return records.map((record) => ({
    id: record.Id,
    name: text(record.Name) ?? text(record.Username) ?? record.Id,
    username: text(record.Username) ?? '',
    email: text(record.Email),
  }));
}
