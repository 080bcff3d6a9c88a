import { packageApiNames } from '../src/salesforce/package-names';

/**
 * The objects and fields the local org knows, shaped like describe results. Field and
 * object names are case-insensitive in SOQL and in REST bodies, so lookups go through
 * lower-cased keys while records and responses use the canonical names.
 */

export type FieldType =
  | 'id'
  | 'reference'
  | 'string'
  | 'textarea'
  | 'email'
  | 'phone'
  | 'url'
  | 'picklist'
  | 'boolean'
  | 'datetime'
  | 'date'
  | 'int'
  | 'double';

export interface FieldDef {
  name: string;
  label: string;
  type: FieldType;
  length?: number;
  createable: boolean;
  updateable: boolean;
  nillable: boolean;
  /** Required on create: non-nillable, createable and without a default. */
  required?: boolean;
  referenceTo?: string[];
  defaultValue?: string | boolean;
  /** For restricted picklists: the only values accepted. */
  restrictedValues?: string[];
  externalId?: boolean;
  unique?: boolean;
}

export interface ObjectDef {
  name: string;
  label: string;
  keyPrefix: string;
  createable: boolean;
  /** Custom metadata (`__mdt`): queryable, but never written through the data APIs. */
  customMetadata?: boolean;
  /** False: SOSL never returns it (setup objects such as PackageLicense). */
  searchable?: boolean;
  /** Fields searched by SOSL `IN NAME FIELDS`. */
  nameFields: string[];
  fields: Map<string, FieldDef>;
}

type FieldSpec = Omit<FieldDef, 'label' | 'createable' | 'updateable' | 'nillable'> &
  Partial<Pick<FieldDef, 'label' | 'createable' | 'updateable' | 'nillable'>>;

function field(spec: FieldSpec): FieldDef {
  const systemManaged = spec.type === 'id';
  return {
    label: spec.name,
    createable: !systemManaged,
    updateable: !systemManaged,
    nillable: !spec.required,
    ...spec,
  };
}

const readOnly = (name: string, type: FieldType, extra: Partial<FieldSpec> = {}): FieldDef =>
  field({ name, type, createable: false, updateable: false, ...extra });

const text = (name: string, length: number, extra: Partial<FieldSpec> = {}): FieldDef =>
  field({ name, type: 'string', length, ...extra });

function systemFields(withOwner: boolean): FieldDef[] {
  const fields = [
    readOnly('Id', 'id'),
    readOnly('IsDeleted', 'boolean'),
    readOnly('CreatedDate', 'datetime'),
    readOnly('CreatedById', 'reference', { referenceTo: ['User'] }),
    readOnly('LastModifiedDate', 'datetime'),
    readOnly('LastModifiedById', 'reference', { referenceTo: ['User'] }),
    readOnly('SystemModstamp', 'datetime'),
  ];
  if (withOwner) fields.push(field({ name: 'OwnerId', type: 'reference', referenceTo: ['User'] }));
  return fields;
}

/** The packaged Activity fields, shared by Task and Event, under the org's namespace. */
export function activityFieldNames(namespace: string): string[] {
  return Object.values(packageApiNames(namespace).activity);
}

function activityCustomFields(namespace: string, actionIdUnique: boolean): FieldDef[] {
  const names = packageApiNames(namespace).activity;
  return activityFieldNames(namespace).map((name) => {
    if (name === names.ticketUrl) return field({ name, type: 'url', length: 255 });
    if (name === names.actionId) return text(name, 255, actionIdUnique ? { externalId: true, unique: true } : {});
    return text(name, 255);
  });
}

function objectDef(name: string, keyPrefix: string, nameFields: string[], fields: FieldDef[], createable = true) {
  return {
    name,
    label: name,
    keyPrefix,
    createable,
    nameFields,
    fields: new Map(fields.map((def) => [def.name.toLowerCase(), def])),
  } satisfies ObjectDef;
}

/** The packaged custom metadata type and custom object, under the namespace prefix ('' = none). */
export function packageObjectNames(namespace: string): { inboxLink: string; syncHealth: string } {
  const names = packageApiNames(namespace);
  return { inboxLink: names.linkPolicy.type, syncHealth: names.syncHealth.type };
}

/**
 * The per-inbox link policy (custom metadata type `Inbox_Link__mdt`): records are set by
 * deployments (here `org.setCustomMetadata`), read by SOQL, and every field is read-only
 * to the data APIs.
 */
function inboxLinkPolicy(namespace: string): ObjectDef {
  const names = packageApiNames(namespace).linkPolicy;
  const metadataField = (spec: FieldSpec) => field({ createable: false, updateable: false, ...spec });
  const fields = [
    readOnly('Id', 'id'),
    metadataField({ name: 'DeveloperName', type: 'string', length: 40, required: true }),
    metadataField({ name: 'MasterLabel', type: 'string', length: 40, required: true }),
    metadataField({ name: 'Label', type: 'string', length: 40 }),
    metadataField({ name: 'QualifiedApiName', type: 'string', length: 70 }),
    metadataField({ name: 'NamespacePrefix', type: 'string', length: 15 }),
    metadataField({ name: 'Language', type: 'string', length: 40 }),
    metadataField({ name: names.inboxId, type: 'string', length: 255 }),
    metadataField({ name: names.active, type: 'boolean', defaultValue: false }),
    metadataField({
      name: names.target,
      type: 'picklist',
      length: 255,
      restrictedValues: ['Contact', 'Lead', 'Contact_Then_Lead'],
    }),
    metadataField({
      name: names.bodyCapture,
      type: 'picklist',
      length: 255,
      restrictedValues: ['Full', 'First_N', 'None'],
    }),
    metadataField({ name: names.bodyMaxChars, type: 'double' }),
    metadataField({ name: names.defaultOwnerId, type: 'string', length: 18 }),
  ];
  return {
    ...objectDef(names.type, 'm01', ['MasterLabel'], fields, false),
    customMetadata: true,
  };
}

/** The bridge's per-inbox sync health (custom object `Inbox_Sync_Health__c`), upserted by Inbox Id. */
function inboxSyncHealth(namespace: string): ObjectDef {
  const names = packageApiNames(namespace).syncHealth;
  return objectDef(
    names.type,
    'a01',
    ['Name'],
    [
      ...systemFields(true),
      text('Name', 80, { required: true }),
      text(names.inboxId, 255, { externalId: true, unique: true }),
      field({
        name: names.linkState,
        type: 'picklist',
        length: 255,
        restrictedValues: ['Active', 'Needs_Reauth', 'Paused', 'Disabled'],
      }),
      field({ name: names.lastSuccessAt, type: 'datetime' }),
      field({ name: names.lastErrorAt, type: 'datetime' }),
      field({ name: names.lastErrorMessage, type: 'textarea', length: 4000 }),
      field({ name: names.synced24h, type: 'double' }),
      field({ name: names.pending, type: 'double' }),
      field({ name: names.failed24h, type: 'double' }),
      field({ name: names.unmatched24h, type: 'double' }),
      field({ name: names.bridgeUpdatedAt, type: 'datetime' }),
    ],
  );
}

/**
 * `Organization`: the org's one record (its Id is the org id), readable by every user: its
 * name, and whether it is a sandbox.
 */
function organization(): ObjectDef {
  return {
    ...objectDef(
      'Organization',
      '00D',
      ['Name'],
      [
        readOnly('Id', 'id'),
        readOnly('Name', 'string', { length: 80 }),
        readOnly('IsSandbox', 'boolean'),
        readOnly('InstanceName', 'string', { length: 5 }),
        readOnly('OrganizationType', 'string', { length: 40 }),
        readOnly('LanguageLocaleKey', 'string', { length: 40 }),
      ],
      false,
    ),
    searchable: false,
  };
}

/**
 * `PackageLicense`: one record per installed managed package, readable by every internal
 * user whatever their permissions (only Customer Portal users cannot see it), so it tells
 * an installed package from one whose components the user cannot see.
 */
function packageLicense(): ObjectDef {
  return {
    ...objectDef(
      'PackageLicense',
      '050',
      [],
      [
        readOnly('Id', 'id'),
        readOnly('NamespacePrefix', 'string', { length: 15 }),
        readOnly('Status', 'picklist', { length: 40, restrictedValues: ['Active', 'Expired', 'Free', 'Trial'] }),
        readOnly('AllowedLicenses', 'int'),
        readOnly('UsedLicenses', 'int'),
        readOnly('ExpirationDate', 'datetime'),
        readOnly('IsProvisioned', 'boolean'),
        readOnly('CreatedDate', 'datetime'),
      ],
      false,
    ),
    searchable: false,
  };
}

/**
 * `UserLogin`: the settings that decide whether a user can log in; `IsFrozen` blocks their logins
 * while the user stays active. Only users with the Manage Users permission can see the object
 * (the others get INVALID_TYPE, as for any object they cannot access).
 */
function userLogin(): ObjectDef {
  return {
    ...objectDef(
      'UserLogin',
      '0Yw',
      [],
      [
        readOnly('Id', 'id'),
        readOnly('UserId', 'reference', { referenceTo: ['User'] }),
        readOnly('IsFrozen', 'boolean'),
        readOnly('IsPasswordLocked', 'boolean'),
        readOnly('LastModifiedDate', 'datetime'),
      ],
      false,
    ),
    searchable: false,
  };
}

/**
 * `OauthToken`: one record per approval of a connected app (a refresh token), queryable by
 * everyone: a user sees their own, a user with Manage Users everybody's. `Id` is always null
 * on Salesforce; the token columns (`AccessToken`, `DeleteToken`, `RequestToken`) are left out
 * here, since nothing should read them.
 */
function oauthToken(): ObjectDef {
  return {
    ...objectDef(
      'OauthToken',
      '0CQ',
      [],
      [
        readOnly('Id', 'id'),
        readOnly('UserId', 'reference', { referenceTo: ['User'] }),
        readOnly('AppName', 'string', { length: 255 }),
        readOnly('CreatedDate', 'datetime'),
        readOnly('LastUsedDate', 'datetime'),
        readOnly('UseCount', 'int'),
      ],
      false,
    ),
    searchable: false,
  };
}

export interface SchemaOptions {
  namespace: string;
  actionIdUnique: boolean;
  /** False: the managed package is absent, so the Activity fields do not exist. */
  packageInstalled: boolean;
  /** False: the link policy type and the health object do not exist (an older package, or no access). */
  linkPolicyAndHealth: boolean;
}

export type Schema = Map<string, ObjectDef>;

export function buildSchema(options: SchemaOptions): Schema {
  const activity = options.packageInstalled ? activityCustomFields(options.namespace, options.actionIdUnique) : [];
  const who = field({ name: 'WhoId', type: 'reference', referenceTo: ['Contact', 'Lead'] });
  const what = field({ name: 'WhatId', type: 'reference', referenceTo: ['Account'] });
  const objects: ObjectDef[] = [
    objectDef(
      'User',
      '005',
      ['Name', 'FirstName', 'LastName', 'Username'],
      [
        ...systemFields(false),
        text('Username', 80, { createable: false, updateable: false }),
        field({ name: 'Email', type: 'email', length: 128, createable: false, updateable: false }),
        text('FirstName', 40, { createable: false, updateable: false }),
        text('LastName', 80, { createable: false, updateable: false }),
        readOnly('Name', 'string', { length: 121 }),
        readOnly('IsActive', 'boolean'),
        readOnly('LanguageLocaleKey', 'string', { length: 40 }),
        readOnly('TimeZoneSidKey', 'string', { length: 40 }),
      ],
      false,
    ),
    objectDef(
      'Account',
      '001',
      ['Name'],
      [
        ...systemFields(true),
        text('Name', 255, { required: true }),
        field({ name: 'Phone', type: 'phone', length: 40 }),
        field({ name: 'Website', type: 'url', length: 255 }),
      ],
    ),
    objectDef(
      'Contact',
      '003',
      ['Name', 'FirstName', 'LastName'],
      [
        ...systemFields(true),
        text('FirstName', 40),
        text('LastName', 80, { required: true }),
        readOnly('Name', 'string', { length: 121 }),
        field({ name: 'Email', type: 'email', length: 80 }),
        field({ name: 'Phone', type: 'phone', length: 40 }),
        field({ name: 'MobilePhone', type: 'phone', length: 40 }),
        text('Title', 128),
        text('Department', 80),
        field({ name: 'AccountId', type: 'reference', referenceTo: ['Account'] }),
      ],
    ),
    objectDef(
      'Lead',
      '00Q',
      ['Name', 'FirstName', 'LastName', 'Company'],
      [
        ...systemFields(true),
        text('FirstName', 40),
        text('LastName', 80, { required: true }),
        readOnly('Name', 'string', { length: 121 }),
        text('Company', 255, { required: true }),
        field({ name: 'Email', type: 'email', length: 80 }),
        field({ name: 'Phone', type: 'phone', length: 40 }),
        field({ name: 'MobilePhone', type: 'phone', length: 40 }),
        field({ name: 'Status', type: 'picklist', length: 255, defaultValue: 'Open - Not Contacted' }),
        field({ name: 'LeadSource', type: 'picklist', length: 255 }),
        readOnly('IsConverted', 'boolean'),
        readOnly('ConvertedContactId', 'reference', { referenceTo: ['Contact'] }),
        readOnly('ConvertedAccountId', 'reference', { referenceTo: ['Account'] }),
        readOnly('ConvertedDate', 'date'),
      ],
    ),
    objectDef(
      'Event',
      '00U',
      ['Subject'],
      [
        ...systemFields(true),
        text('Subject', 255),
        field({ name: 'Description', type: 'textarea', length: 32000 }),
        text('Location', 255),
        field({ name: 'ActivityDateTime', type: 'datetime' }),
        field({ name: 'StartDateTime', type: 'datetime' }),
        field({ name: 'EndDateTime', type: 'datetime' }),
        field({ name: 'ActivityDate', type: 'date' }),
        field({ name: 'DurationInMinutes', type: 'int' }),
        field({ name: 'IsAllDayEvent', type: 'boolean', defaultValue: false }),
        field({ name: 'IsPrivate', type: 'boolean', defaultValue: false }),
        // Show Time As: how the Event marks its owner on the calendar (API values; Busy by default).
        field({
          name: 'ShowAs',
          type: 'picklist',
          length: 40,
          defaultValue: 'Busy',
          restrictedValues: ['Busy', 'OutOfOffice', 'Free'],
        }),
        field({ name: 'Type', type: 'picklist', length: 40 }),
        who,
        what,
        readOnly('AccountId', 'reference', { referenceTo: ['Account'] }),
        ...activity,
      ],
    ),
    objectDef(
      'Task',
      '00T',
      ['Subject'],
      [
        ...systemFields(true),
        field({ name: 'Subject', type: 'string', length: 255 }),
        field({ name: 'Description', type: 'textarea', length: 32000 }),
        field({ name: 'Status', type: 'picklist', length: 40, defaultValue: 'Not Started' }),
        field({ name: 'Priority', type: 'picklist', length: 40, defaultValue: 'Normal' }),
        field({ name: 'ActivityDate', type: 'date' }),
        readOnly('IsClosed', 'boolean'),
        field({
          name: 'TaskSubtype',
          type: 'picklist',
          length: 40,
          updateable: false,
          restrictedValues: ['Task', 'Email', 'ListEmail', 'Cadence', 'Call', 'LinkedIn'],
        }),
        field({
          name: 'CallType',
          type: 'picklist',
          length: 40,
          restrictedValues: ['Inbound', 'Internal', 'Outbound'],
        }),
        field({ name: 'CallDurationInSeconds', type: 'int' }),
        text('CallDisposition', 255),
        text('CallObject', 255),
        who,
        what,
        readOnly('AccountId', 'reference', { referenceTo: ['Account'] }),
        ...activity,
      ],
    ),
  ];
  objects.push(packageLicense(), userLogin(), oauthToken());
  objects.push(organization());
  if (options.packageInstalled && options.linkPolicyAndHealth) {
    objects.push(inboxLinkPolicy(options.namespace), inboxSyncHealth(options.namespace));
  }
  return new Map(objects.map((def) => [def.name.toLowerCase(), def]));
}

export function objectByKeyPrefix(schema: Schema, keyPrefix: string): ObjectDef | undefined {
  for (const def of schema.values()) if (def.keyPrefix === keyPrefix) return def;
  return undefined;
}
