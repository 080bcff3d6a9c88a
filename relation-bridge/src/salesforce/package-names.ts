/**
 * The API names of the managed package's objects and fields the bridge reads and writes
 * (force-app/main/default/objects), in one place: the sync and the local org take them from
 * here, and a test checks them against force-app. Names carry the package's namespace
 * prefix (SF_NAMESPACE) when they are used in an org.
 */

/** The namespace of the package (sfdx-project.json), and SF_NAMESPACE's default. */
export const PACKAGE_NAMESPACE = 'inbx';

/** Without a prefix, as in force-app: the object (or, for Activity, the standard object the fields extend) and its fields. */
export const PACKAGE_OBJECTS = {
  /** The packaged Activity fields, shared by Event and Task. */
  activity: {
    object: 'Activity',
    fields: {
      actionId: 'Action_Id__c',
      ticketId: 'Ticket_Id__c',
      ticketUrl: 'Ticket_URL__c',
      inboxId: 'Inbox_Id__c',
      inboxName: 'Inbox_Name__c',
      channel: 'Channel__c',
      actionKind: 'Action_Kind__c',
      direction: 'Direction__c',
    },
  },
  /** The Salesforce admin's per-inbox link policy (custom metadata type). */
  linkPolicy: {
    object: 'Inbox_Link__mdt',
    fields: {
      inboxId: 'Inbox_Id__c',
      active: 'Active__c',
      target: 'Target__c',
      bodyCapture: 'Body_Capture__c',
      bodyMaxChars: 'Body_Max_Chars__c',
      defaultOwnerId: 'Default_Owner_Id__c',
    },
  },
  /** The bridge's per-inbox sync health (custom object), upserted by Inbox Id. */
  syncHealth: {
    object: 'Inbox_Sync_Health__c',
    fields: {
      inboxId: 'Inbox_Id__c',
      linkState: 'Link_State__c',
      lastSuccessAt: 'Last_Success_At__c',
      lastErrorAt: 'Last_Error_At__c',
      lastErrorMessage: 'Last_Error_Message__c',
      synced24h: 'Synced_24h__c',
      pending: 'Pending__c',
      failed24h: 'Failed_24h__c',
      unmatched24h: 'Unmatched_24h__c',
      bridgeUpdatedAt: 'Bridge_Updated_At__c',
    },
  },
} as const;

type Objects = typeof PACKAGE_OBJECTS;
type Prefixed<T extends Record<string, string>> = { [K in keyof T]: string };

export type ActivityFieldNames = Prefixed<Objects['activity']['fields']>;
/** The policy type's name (`type`) and its fields. */
export type PolicyNames = { type: string } & Prefixed<Objects['linkPolicy']['fields']>;
/** The health object's name (`type`) and its fields. */
export type HealthNames = { type: string } & Prefixed<Objects['syncHealth']['fields']>;

export interface PackageApiNames {
  activity: ActivityFieldNames;
  linkPolicy: PolicyNames;
  syncHealth: HealthNames;
}

function prefixed<T extends Record<string, string>>(fields: T, prefix: string): Prefixed<T> {
  return Object.fromEntries(Object.entries(fields).map(([key, name]) => [key, prefix + name])) as Prefixed<T>;
}

/** Every name under the namespace prefix (`''`: none, as in an org where the package is unmanaged). */
export function packageApiNames(namespace: string): PackageApiNames {
  const prefix = namespace === '' ? '' : `${namespace}__`;
  return {
    activity: prefixed(PACKAGE_OBJECTS.activity.fields, prefix),
    linkPolicy: {
      type: prefix + PACKAGE_OBJECTS.linkPolicy.object,
      ...prefixed(PACKAGE_OBJECTS.linkPolicy.fields, prefix),
    },
    syncHealth: {
      type: prefix + PACKAGE_OBJECTS.syncHealth.object,
      ...prefixed(PACKAGE_OBJECTS.syncHealth.fields, prefix),
    },
  };
}

/**
 * The label of the packaged External Client App (force-app/main/default/externalClientApps):
 * the `AppName` of a user's approvals of it in `OauthToken`.
 */
export const PACKAGE_APP_LABEL = 'Re:lation Inbox Bridge';

/**
 * The package's permission sets (force-app/main/default/permissionsets), by persona: their
 * API names (under the namespace in an org, like every packaged component) and the labels
 * an admin finds them by in Setup. Labels of permission sets are not translated.
 */
export const PACKAGE_PERMISSION_SETS = {
  /** The user who links an inbox: writes the Activity fields, reads the policies, upserts the sync health. */
  integration: { name: 'Inbox_Bridge_Integration', label: 'Re:lation Inbox Bridge: Integration' },
  /** Salesforce admins of the link: reads everything, saves policies. */
  admin: { name: 'Inbox_Bridge_Admin', label: 'Re:lation Inbox Bridge: Admin' },
  /** Sales reps: read the synced helpdesk activity. */
  salesRep: { name: 'Inbox_Bridge_Sales_Rep', label: 'Re:lation Inbox Bridge: Sales Rep' },
} as const;

export type PackagePermissionSet = (typeof PACKAGE_PERMISSION_SETS)[keyof typeof PACKAGE_PERMISSION_SETS]['name'];
