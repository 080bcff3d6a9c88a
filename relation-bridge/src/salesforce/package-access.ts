import { BridgeError } from '../core/errors';
import { PACKAGE_PERMISSION_SETS, packageApiNames } from './package-names';
import { soqlString } from './soql';
import type { SObjectDescribe, SObjectRecord } from './types';

/**
 * Whether the user the bridge writes as can write the package's Activity fields, which every
 * Event carries: without the package, or without field-level security for them (the
 * Integration permission set), every Event fails. One describe of Event, with the user's own
 * session, shows which of the fields exist for the user and are createable; the package's
 * PackageLicense record, which every internal user can read whatever their permissions,
 * tells a package that is not installed from fields the user cannot see. Both are GETs that
 * Composite takes, so a check shares one call with other queries.
 */

/** What is wrong, and so what fixes it: install the package, or assign the permission set. */
export type PackageProblem = 'package_missing' | 'field_access_missing';

export type PackageAccess =
  | { state: 'ok' }
  | { state: 'package_missing' }
  | {
      state: 'field_access_missing';
      /** Packaged fields the user cannot see at all. */
      missingFields: string[];
      /** Packaged fields the user can see but not create (e.g. the Admin permission set only). */
      readOnlyFields: string[];
    };

/** Access that keeps Events from being written: a missing package, or fields out of the user's reach. */
export type PackageRefusal = Exclude<PackageAccess, { state: 'ok' }>;

export const PACKAGE_PROBLEMS: readonly PackageProblem[] = ['package_missing', 'field_access_missing'];

export function isPackageProblem(code: string): code is PackageProblem {
  return (PACKAGE_PROBLEMS as readonly string[]).includes(code);
}

/** The reads one check needs: a describe of Event and, for a namespaced package, its license. */
export function packageAccessReads(namespace: string): { queries: string[]; describes: string[] } {
  return {
    describes: ['Event'],
    // A package deployed without a namespace has no license record to look for.
    queries:
      namespace === ''
        ? []
        : [`SELECT NamespacePrefix FROM PackageLicense WHERE NamespacePrefix = ${soqlString(namespace)}`],
  };
}

/**
 * What the reads of `packageAccessReads` show. A describe that failed on its own is returned
 * as its error (nothing can be told); a license query that failed leaves the license unknown,
 * and then fields missing altogether are taken for a missing package.
 */
export function assessPackageAccess(
  namespace: string,
  describe: SObjectDescribe | BridgeError,
  license: SObjectRecord[] | BridgeError | undefined,
): PackageAccess | BridgeError {
  if (describe instanceof BridgeError) return describe;
  const fields = new Map(describe.fields.map((field) => [field.name.toLowerCase(), field]));
  const packaged = Object.values(packageApiNames(namespace).activity);
  const missingFields = packaged.filter((name) => !fields.has(name.toLowerCase()));
  const readOnlyFields = packaged.filter((name) => fields.get(name.toLowerCase())?.createable === false);
  if (missingFields.length === 0 && readOnlyFields.length === 0) return { state: 'ok' };
  const licensed = Array.isArray(license) ? license.length > 0 : null;
  if (missingFields.length === packaged.length && licensed !== true) return { state: 'package_missing' };
  return { state: 'field_access_missing', missingFields, readOnlyFields };
}

export interface PackageFixText {
  ja: string;
  en: string;
}

const PERMISSION_SET = PACKAGE_PERMISSION_SETS.integration.label;

/**
 * The fix, in both languages, for the user who authorised (`username`): what the wizard, the
 * link health, the notice e-mail and the action log say.
 */
export function packageFixText(problem: PackageProblem, username: string): PackageFixText {
  if (problem === 'package_missing') {
    return {
      ja:
        `Salesforce 組織に Re:lation Inbox Bridge パッケージがインストールされていないため、行動にヘルプデスクの項目を書き込めません。` +
        `パッケージをインストールし、権限セット「${PERMISSION_SET}」を ${username} に割り当ててください。`,
      en:
        `The Re:lation Inbox Bridge package is not installed in the Salesforce org, so Events cannot carry their ` +
        `helpdesk fields. Install the package, then assign the permission set "${PERMISSION_SET}" to ${username}.`,
    };
  }
  return {
    ja:
      `Salesforce ユーザー ${username} には、行動のヘルプデスク項目 (パッケージの項目) を書き込む権限がありません。` +
      `権限セット「${PERMISSION_SET}」を ${username} に割り当ててください (設定 → 権限セット → 割り当ての管理)。`,
    en:
      `The Salesforce user ${username} may not write the package's helpdesk fields on Events (no field-level ` +
      `access). Assign the permission set "${PERMISSION_SET}" to ${username} (Setup → Permission Sets → Manage ` +
      `Assignments).`,
  };
}

/** What the action log keeps for an action held for the package: the fix, and which fields are out of reach. */
export function packageHoldMessage(access: PackageRefusal, username: string): string {
  const fix = packageFixText(access.state, username).en;
  if (access.state === 'package_missing') return fix;
  const missing = access.missingFields.length > 0 ? ` Not visible: ${access.missingFields.join(', ')}.` : '';
  const readOnly = access.readOnlyFields.length > 0 ? ` Read-only: ${access.readOnlyFields.join(', ')}.` : '';
  return `${fix}${missing}${readOnly}`;
}
