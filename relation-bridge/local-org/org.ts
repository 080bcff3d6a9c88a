import type { DmlError } from './errors';
import { canonicalId, type IdFactory } from './ids';
import { RecordStore, type StoredRecord } from './records';
import { combinedGrant, grantKey, isPackagePermissionSet, schemaSeenWith, type PackageComponents } from './package';
import {
  activityFieldNames,
  buildSchema,
  objectByKeyPrefix,
  packageObjectNames,
  type FieldDef,
  type ObjectDef,
  type Schema,
} from './schema';
import { parseSoql, selectRows } from './soql';
import type { RefreshToken, TokenStore } from './tokens';
import {
  deserializeRecord,
  validateInsert,
  validateUpdate,
  type ValidationContext,
  type ValidationRule,
} from './validation';
import { coerceInput, formatDate, parseDateTime, toWire, type FieldValue } from './values';
import { PACKAGE_NAMESPACE, PACKAGE_PERMISSION_SETS } from '../src/salesforce/package-names';

/** Switches an org's admin (or a test) can flip; each mirrors a Salesforce setting or policy. */
export interface OrgSettings {
  /** False: every REST call answers 403 API_DISABLED_FOR_ORG (e.g. Professional Edition without API). */
  apiEnabled: boolean;
  /** False: authorization redirects with `invalid_client` "app must be installed into org". */
  appInstalled: boolean;
  dailyApiMax: number;
  /** Session timeout: access tokens die this long after issue (then 401 INVALID_SESSION_ID). */
  accessTokenLifetimeMs: number;
  /** On: each refresh returns a new refresh token and kills the one used. */
  refreshTokenRotation: boolean;
  /** Refresh-token policy "expire after N"; null = valid until revoked (the default). */
  refreshTokenLifetimeMs: number | null;
  /** Refresh-token policy "immediately expire refresh token": no refresh token can ever be used. */
  refreshTokenExpiresImmediately: boolean;
  /** Refresh-token policy "expire refresh token if not used for N"; null = no idle limit. */
  refreshTokenIdleLifetimeMs: number | null;
  /** "Require secret for refresh token flow". */
  requireSecretForRefresh: boolean;
  /** Records created less than this long ago are not yet in the SOSL index. */
  searchIndexLagMs: number;
  /**
   * How a user without Manage Users is refused UserLogin: as an object they cannot see
   * (INVALID_TYPE, the default), or with 403 INSUFFICIENT_ACCESS [M: which one Salesforce gives].
   */
  userLoginRefusal: 'INVALID_TYPE' | 'INSUFFICIENT_ACCESS';
  /** Longest Event span; null = no limit. */
  eventMaxSpanDays: number | null;
  leadWithWhatIdAllowed: boolean;
  convertedLeadAsWhoAllowed: boolean;
}

export interface CreateOrgOptions {
  name: string;
  sandbox?: boolean;
  /** Namespace of the packaged Activity fields; '' = no prefix. Default 'inbx'. */
  namespace?: string;
  /**
   * False: the package is not installed, so its Activity fields, link policy type, health
   * object and permission sets do not exist (`installPackage()` installs it later).
   */
  packageInstalled?: boolean;
  /**
   * False: the package's link policy type and sync health object do not exist while its
   * Activity fields do (a package version from before them, or an integration user who
   * cannot see them). Default: as `packageInstalled`.
   */
  linkPolicyAndHealth?: boolean;
  /** Makes the Action Id field a unique external id (an unverified packaging option). */
  actionIdUnique?: boolean;
  dailyApiMax?: number;
  settings?: Partial<OrgSettings>;
}

export interface AddUserOptions {
  username: string;
  email: string;
  lastName: string;
  firstName?: string;
  /** Default `password`. */
  password?: string;
  isActive?: boolean;
  /** The "API Enabled" permission; false → API_DISABLED_FOR_ORG on REST calls. */
  apiEnabled?: boolean;
  /** Frozen (UserLogin.IsFrozen): cannot log in, though still active. */
  frozen?: boolean;
  /** The "Manage Users" permission: sees every user's UserLogin and OauthToken records. */
  manageUsers?: boolean;
  languageLocaleKey?: string;
  /**
   * The package's permission sets assigned to the user (their API names, e.g.
   * `Inbox_Bridge_Integration`). Default: the integration permission set when the package is
   * installed, none otherwise.
   */
  permissionSets?: string[];
}

export interface LocalUser {
  id: string;
  username: string;
  email: string;
  name: string;
  isActive: boolean;
  apiEnabled: boolean;
  frozen: boolean;
  manageUsers: boolean;
  password: string;
  languageLocaleKey: string;
  /** The package's permission sets assigned to the user; they decide what of the package the user sees. */
  permissionSets: Set<string>;
}

export interface ApiCallCounts {
  total: number;
  /** Per endpoint, e.g. `POST /composite`, `GET /query/{locator}`. */
  byEndpoint: Record<string, number>;
}

/** Everything an org shares with the server: ids, tokens, the clock, its URLs. */
export interface OrgEnvironment {
  ids: IdFactory;
  tokens: TokenStore;
  now(): number;
  instanceUrl(slug: string): string;
  /** The connected app: its client id and its name (OauthToken.AppName). */
  app(): { clientId: string; name: string };
}

export interface QueryCursor {
  object: ObjectDef;
  fields: FieldDef[];
  rows: StoredRecord[];
  batchSize: number;
  totalSize: number;
}

/** A failed insert through the test helpers. */
export class RecordRejected extends Error {
  constructor(readonly errors: DmlError[]) {
    super(errors.map((error) => `${error.statusCode}: ${error.message}`).join('; '));
    this.name = 'RecordRejected';
  }
}

const DEFAULT_SETTINGS: OrgSettings = {
  apiEnabled: true,
  appInstalled: true,
  dailyApiMax: 15_000,
  accessTokenLifetimeMs: 2 * 60 * 60_000,
  refreshTokenRotation: false,
  refreshTokenLifetimeMs: null,
  refreshTokenExpiresImmediately: false,
  refreshTokenIdleLifetimeMs: null,
  requireSecretForRefresh: true,
  searchIndexLagMs: 0,
  userLoginRefusal: 'INVALID_TYPE',
  eventMaxSpanDays: 14,
  leadWithWhatIdAllowed: false,
  convertedLeadAsWhoAllowed: false,
};

type HelperFields = Record<string, unknown> & { CreatedDate?: string | Date };

export class LocalOrg {
  readonly orgId: string;
  readonly name: string;
  readonly sandbox: boolean;
  readonly namespace: string;
  readonly slug: string;
  readonly instanceUrl: string;
  readonly settings: OrgSettings;
  readonly store = new RecordStore();
  readonly cursors = new Map<string, QueryCursor>();
  /** The org's first user, who owns what the helpers create. */
  readonly adminUser: LocalUser;
  private readonly users = new Map<string, LocalUser>();
  private readonly rules: ValidationRule[] = [];
  private dailyApiUsed = 0;
  private callTotal = 0;
  private readonly callsByEndpoint = new Map<string, number>();
  private installed: boolean;
  private readonly schemaOptions: { namespace: string; actionIdUnique: boolean; linkPolicyAndHealth: boolean };
  /** The full schema and each user's view of it, for the current install state. */
  private readonly schemas = new Map<string, Schema>();

  constructor(
    private readonly env: OrgEnvironment,
    options: CreateOrgOptions,
    slug: string,
  ) {
    this.orgId = env.ids.next('00D');
    this.name = options.name;
    this.sandbox = options.sandbox ?? false;
    this.namespace = options.namespace ?? PACKAGE_NAMESPACE;
    this.slug = slug;
    this.instanceUrl = env.instanceUrl(slug);
    this.settings = { ...DEFAULT_SETTINGS, ...options.settings };
    if (options.dailyApiMax !== undefined) this.settings.dailyApiMax = options.dailyApiMax;
    this.installed = options.packageInstalled ?? true;
    this.schemaOptions = {
      namespace: this.namespace,
      actionIdUnique: options.actionIdUnique ?? false,
      linkPolicyAndHealth: options.linkPolicyAndHealth ?? true,
    };
    this.addOrganization();
    if (this.installed) this.addPackageLicense();
    this.adminUser = this.addUser({
      username: `admin@${slug}.example.com`,
      email: `admin@${slug}.example.com`,
      lastName: 'Admin',
      firstName: 'Org',
      password: 'admin-password',
      manageUsers: true,
    });
  }

  /** The 15-character org id, as it starts every access token. */
  get orgId15(): string {
    return this.orgId.slice(0, 15);
  }

  now(): number {
    return this.env.now();
  }

  // ── Users ─────────────────────────────────────────────────────────────────────────

  addUser(options: AddUserOptions): LocalUser {
    const id = this.env.ids.next('005');
    const now = this.now();
    const first = options.firstName ?? '';
    const name = /^[\x20-\x7e]*$/.test(first + options.lastName)
      ? `${first} ${options.lastName}`.trim()
      : `${options.lastName} ${first}`.trim();
    const user: LocalUser = {
      id,
      username: options.username,
      email: options.email,
      name,
      isActive: options.isActive ?? true,
      apiEnabled: options.apiEnabled ?? true,
      frozen: options.frozen ?? false,
      manageUsers: options.manageUsers ?? false,
      password: options.password ?? 'password',
      languageLocaleKey: options.languageLocaleKey ?? 'ja',
      permissionSets: new Set(),
    };
    const permissionSets = options.permissionSets ?? (this.installed ? [PACKAGE_PERMISSION_SETS.integration.name] : []);
    for (const name of permissionSets) this.checkPermissionSet(name);
    for (const name of permissionSets) user.permissionSets.add(name);
    this.users.set(id, user);
    this.store.insert({
      type: 'User',
      id,
      createdAt: now,
      fields: {
        Id: id,
        IsDeleted: false,
        Username: user.username,
        Email: user.email,
        FirstName: first === '' ? null : first,
        LastName: options.lastName,
        Name: name,
        IsActive: user.isActive,
        LanguageLocaleKey: user.languageLocaleKey,
        TimeZoneSidKey: 'Asia/Tokyo',
        CreatedDate: now,
        LastModifiedDate: now,
        SystemModstamp: now,
      },
    });
    const loginId = this.env.ids.next('0Yw');
    this.store.insert({
      type: 'UserLogin',
      id: loginId,
      createdAt: now,
      fields: { Id: loginId, UserId: id, IsFrozen: user.frozen, IsPasswordLocked: false, LastModifiedDate: now },
    });
    this.store.commit();
    return user;
  }

  user(id: string): LocalUser | undefined {
    const canonical = canonicalId(id);
    return canonical === null ? undefined : this.users.get(canonical);
  }

  allUsers(): LocalUser[] {
    return [...this.users.values()];
  }

  setUserActive(userId: string, active: boolean): void {
    const user = this.requireUser(userId);
    user.isActive = active;
    const record = this.store.get(user.id);
    if (record !== undefined) this.store.update(record, { IsActive: active });
    this.store.commit();
  }

  setUserApiEnabled(userId: string, enabled: boolean): void {
    this.requireUser(userId).apiEnabled = enabled;
  }

  /**
   * Freezes (or unfreezes) a user, as Setup's Freeze button does: their logins are refused
   * while they stay active; sessions already open live on until they expire.
   */
  setUserFrozen(userId: string, frozen: boolean): void {
    const user = this.requireUser(userId);
    user.frozen = frozen;
    const login = this.store.all('UserLogin').find((record) => record.fields.UserId === user.id);
    if (login !== undefined) this.store.update(login, { IsFrozen: frozen, LastModifiedDate: this.now() });
    this.store.commit();
  }

  /** Grants or takes away the "Manage Users" permission. */
  setUserManageUsers(userId: string, manageUsers: boolean): void {
    this.requireUser(userId).manageUsers = manageUsers;
  }

  setUserPassword(userId: string, password: string): void {
    this.requireUser(userId).password = password;
    // Salesforce ends a user's OAuth grants when the password changes.
    this.revokeRefreshTokens(userId);
  }

  // ── The managed package ───────────────────────────────────────────────────────────

  get packageInstalled(): boolean {
    return this.installed;
  }

  /**
   * Installs the package: its fields, objects and permission sets appear, and a
   * PackageLicense record. Nobody holds its permission sets yet (assign them next), as after
   * an install for admins only on Salesforce.
   */
  installPackage(): void {
    if (this.installed) throw new Error(`the package is already installed in org ${this.name}`);
    this.installed = true;
    this.schemas.clear();
    this.addPackageLicense();
  }

  /**
   * Uninstalls the package, as Salesforce does: its fields, objects, records and field
   * values go for good, and with its permission sets their assignments. (On Salesforce the
   * packaged External Client App goes too; `settings.appInstalled` is left to the caller.)
   */
  uninstallPackage(): void {
    if (!this.installed) throw new Error(`the package is not installed in org ${this.name}`);
    const components = this.packageComponents();
    const cleared = Object.fromEntries(components.activityFields.map((name) => [name, null]));
    for (const type of ['Event', 'Task']) {
      for (const record of this.store.all(type, true)) this.store.update(record, cleared);
    }
    for (const type of [components.linkPolicy, components.syncHealth, 'PackageLicense']) {
      for (const record of this.store.all(type, true)) {
        if (type !== 'PackageLicense' || record.fields.NamespacePrefix === this.namespace) this.store.remove(record);
      }
    }
    this.store.commit();
    for (const user of this.users.values()) user.permissionSets.clear();
    this.installed = false;
    this.schemas.clear();
  }

  /** Assigns one of the package's permission sets (Setup → Permission Sets → Manage Assignments). */
  assignPermissionSet(userId: string, permissionSet: string): void {
    this.checkPermissionSet(permissionSet);
    this.requireUser(userId).permissionSets.add(permissionSet);
  }

  removePermissionSet(userId: string, permissionSet: string): void {
    this.requireUser(userId).permissionSets.delete(permissionSet);
  }

  private checkPermissionSet(name: string): void {
    if (!isPackagePermissionSet(name)) throw new Error(`no permission set ${name} in the package`);
    if (!this.installed) throw new Error(`no permission set ${name} in org ${this.name}: the package is not installed`);
  }

  /** The org's own record, as `SELECT Name, IsSandbox FROM Organization` reads it. */
  private addOrganization(): void {
    this.store.insert({
      type: 'Organization',
      id: this.orgId,
      createdAt: this.now(),
      fields: {
        Id: this.orgId,
        Name: this.name,
        IsSandbox: this.sandbox,
        InstanceName: this.sandbox ? 'CS99' : 'AP99',
        OrganizationType: 'Enterprise Edition',
        LanguageLocaleKey: 'ja',
      },
    });
    this.store.commit();
  }

  private addPackageLicense(): void {
    // An unmanaged deployment (no namespace) has no license record.
    if (this.namespace === '') return;
    const id = this.env.ids.next('050');
    this.store.insert({
      type: 'PackageLicense',
      id,
      createdAt: this.now(),
      fields: {
        Id: id,
        NamespacePrefix: this.namespace,
        Status: 'Free',
        AllowedLicenses: -1,
        UsedLicenses: 0,
        ExpirationDate: null,
        IsProvisioned: true,
        CreatedDate: this.now(),
      },
    });
    this.store.commit();
  }

  private packageComponents(): PackageComponents {
    const objects = packageObjectNames(this.namespace);
    return {
      activityFields: activityFieldNames(this.namespace),
      linkPolicy: objects.inboxLink,
      syncHealth: objects.syncHealth,
    };
  }

  /** Every object and field of the org, as the system (and the test helpers) see them. */
  get schema(): Schema {
    let schema = this.schemas.get('full');
    if (schema === undefined) {
      schema = buildSchema({ ...this.schemaOptions, packageInstalled: this.installed });
      this.schemas.set('full', schema);
    }
    return schema;
  }

  /**
   * The schema as this user sees it: the package's components through the permission sets
   * they hold, and UserLogin only with Manage Users.
   */
  schemaFor(user: LocalUser): Schema {
    const grant = combinedGrant(user.permissionSets);
    const key = `${grantKey(grant)}/${user.manageUsers ? 'manage-users' : ''}`;
    let schema = this.schemas.get(key);
    if (schema === undefined) {
      schema = schemaSeenWith(this.schema, grant, this.packageComponents());
      if (!user.manageUsers) schema.delete('userlogin');
      this.schemas.set(key, schema);
    }
    return schema;
  }

  /**
   * The records of a type a user's query reads: OauthToken is made from the app's live
   * approvals in the org, the user's own only unless they have Manage Users; other types are
   * the stored records.
   */
  recordsVisibleTo(user: LocalUser, object: ObjectDef, includeDeleted: boolean): StoredRecord[] {
    if (object.name !== 'OauthToken') return this.store.all(object.name, includeDeleted);
    const app = this.env.app();
    return this.env.tokens
      .approvalsOfOrg(this.orgId, app.clientId)
      .filter((approval) => user.manageUsers || approval.userId === user.id)
      .map((approval) => ({
        type: 'OauthToken',
        id: `0CQ${approval.approvalId}`,
        createdAt: approval.approvedAt,
        fields: {
          Id: null,
          UserId: approval.userId,
          AppName: app.name,
          CreatedDate: approval.approvedAt,
          LastUsedDate: approval.lastUsedAt,
          UseCount: approval.useCount,
        },
      }));
  }

  objectDefFor(user: LocalUser, type: string): ObjectDef | undefined {
    return this.schemaFor(user).get(type.toLowerCase());
  }

  private requireUser(userId: string): LocalUser {
    const user = this.user(userId);
    if (user === undefined) throw new Error(`no user ${userId} in org ${this.name}`);
    return user;
  }

  // ── Records ───────────────────────────────────────────────────────────────────────

  objectDef(type: string): ObjectDef | undefined {
    return this.schema.get(type.toLowerCase());
  }

  validationContext(): ValidationContext {
    return {
      rules: this.settings,
      validationRules: this.rules,
      lookup: (id) => this.store.get(id),
      objectOfPrefix: (prefix) => objectByKeyPrefix(this.schema, prefix),
      findByField: (object, field, value) =>
        this.store.all(object.name).find((record) => record.fields[field.name] === value),
    };
  }

  /** Inserts one record as the API does; the outcome is final unless a caller rolls back. */
  insertValidated(object: ObjectDef, body: Record<string, unknown>, runningUserId: string) {
    const input = deserializeRecord(object, body);
    const id = this.env.ids.next(object.keyPrefix);
    const now = this.now();
    const outcome = validateInsert(this.validationContext(), object, input, runningUserId, id, now);
    if (!outcome.ok) return outcome;
    const record: StoredRecord = { type: object.name, id, fields: outcome.fields, createdAt: now };
    this.store.insert(record);
    return { ok: true as const, record };
  }

  /** Updates one record as the API does, through `object` as the running user sees it. */
  updateValidated(object: ObjectDef, record: StoredRecord, body: Record<string, unknown>, runningUserId: string) {
    const input = deserializeRecord(object, body);
    const outcome = validateUpdate(this.validationContext(), object, record, input, runningUserId, this.now());
    if (!outcome.ok) return outcome;
    this.store.update(record, outcome.fields);
    return { ok: true as const, record };
  }

  /** Test helper: inserts with API validation, as the admin user; `CreatedDate` may be backdated. */
  insert(type: string, fields: HelperFields): string {
    const object = this.objectDef(type);
    if (object === undefined) throw new Error(`unknown object ${type}`);
    const { CreatedDate: createdDate, ...body } = fields;
    const outcome = this.insertValidated(object, body, this.adminUser.id);
    if (!outcome.ok) {
      this.store.commit();
      throw new RecordRejected(outcome.errors);
    }
    if (createdDate !== undefined) {
      const ms = createdDate instanceof Date ? createdDate.getTime() : parseDateTime(createdDate);
      if (ms === null) throw new Error(`bad CreatedDate ${String(createdDate)}`);
      this.store.update(outcome.record, { CreatedDate: ms, LastModifiedDate: ms, SystemModstamp: ms });
      outcome.record.createdAt = ms;
    }
    this.store.commit();
    return outcome.record.id;
  }

  addAccount(fields: HelperFields & { Name: string }): string {
    return this.insert('Account', fields);
  }

  addContact(fields: HelperFields & { LastName: string }): string {
    return this.insert('Contact', fields);
  }

  addLead(fields: HelperFields & { LastName: string; Company: string }): string {
    return this.insert('Lead', fields);
  }

  /**
   * Converts a lead the way the convert page does: an Account (from Company) and a
   * Contact (from the lead's name, email and phones) unless existing ones are given.
   */
  convertLead(
    leadId: string,
    options: { contactId?: string; accountId?: string } = {},
  ): { contactId: string; accountId: string } {
    const lead = this.requireRecord(leadId, 'Lead');
    if (lead.fields.IsConverted === true) throw new Error(`lead ${lead.id} is already converted`);
    const accountId = options.accountId ?? this.addAccount({ Name: String(lead.fields.Company) });
    const contactId =
      options.contactId ??
      this.addContact({
        LastName: String(lead.fields.LastName),
        FirstName: lead.fields.FirstName ?? null,
        Email: lead.fields.Email ?? null,
        Phone: lead.fields.Phone ?? null,
        MobilePhone: lead.fields.MobilePhone ?? null,
        AccountId: accountId,
      });
    this.store.update(lead, {
      IsConverted: true,
      ConvertedContactId: contactId,
      ConvertedAccountId: accountId,
      ConvertedDate: formatDate(this.now()),
      Status: 'Closed - Converted',
    });
    this.store.commit();
    return { contactId, accountId };
  }

  /** Moves a record to the recycle bin: still there for queryAll, ENTITY_IS_DELETED when referenced. */
  deleteRecord(id: string): void {
    const record = this.requireRecord(id);
    this.store.update(record, { IsDeleted: true });
    this.store.commit();
  }

  undeleteRecord(id: string): void {
    const record = this.requireRecord(id);
    this.store.update(record, { IsDeleted: false });
    this.store.commit();
  }

  private requireRecord(id: string, type?: string): StoredRecord {
    const canonical = canonicalId(id);
    const record = canonical === null ? undefined : this.store.get(canonical);
    if (record === undefined || (type !== undefined && record.type !== type)) {
      throw new Error(`no ${type ?? 'record'} ${id} in org ${this.name}`);
    }
    return record;
  }

  /** Every live record of a type (all fields), in creation order: for tests to inspect. */
  records(type: string, options: { includeDeleted?: boolean } = {}): Array<Record<string, FieldValue>> {
    const object = this.objectDef(type);
    if (object === undefined) throw new Error(`unknown object ${type}`);
    return this.store.all(object.name, options.includeDeleted ?? false).map((record) => this.plain(object, record));
  }

  record(id: string): Record<string, FieldValue> | undefined {
    const canonical = canonicalId(id);
    const record = canonical === null ? undefined : this.store.get(canonical);
    if (record === undefined) return undefined;
    return this.plain(this.objectDef(record.type) as ObjectDef, record);
  }

  /** Runs SOQL without counting an API call; all rows, no paging. */
  query(soql: string): Array<Record<string, FieldValue>> {
    const parsed = parseSoql(soql, this.schema, this.now());
    const rows = selectRows(parsed, this.recordsVisibleTo(this.adminUser, parsed.object, false));
    return rows.map((record) => this.plain(parsed.object, record, parsed.fields));
  }

  private plain(object: ObjectDef, record: StoredRecord, fields?: FieldDef[]): Record<string, FieldValue> {
    const out: Record<string, FieldValue> = {};
    for (const field of fields ?? object.fields.values()) out[field.name] = toWire(field, record.fields[field.name]);
    return out;
  }

  // ── Custom metadata ───────────────────────────────────────────────────────────────

  /**
   * Creates or changes a custom metadata record, as a deployment or Setup would (the data
   * APIs cannot). `type` may leave out the namespace and `__mdt` (`'Inbox_Link'`); field
   * names may leave out the namespace. Fields not given keep their value. Returns the Id.
   */
  setCustomMetadata(type: string, developerName: string, values: Record<string, unknown> = {}): string {
    const object = this.customMetadataType(type);
    if (!/^[A-Za-z](?:[A-Za-z0-9]|_(?!_)){0,39}$/.test(developerName) || developerName.endsWith('_')) {
      throw new Error(`bad DeveloperName ${developerName}: letters, digits and single underscores, at most 40`);
    }
    const changes: Record<string, FieldValue> = {};
    for (const [key, raw] of Object.entries(values)) {
      const field = this.customMetadataField(object, key);
      const coerced = coerceInput(field, raw);
      if (!coerced.ok) throw new Error(`${field.name} must be a ${coerced.reason}`);
      const value = coerced.value === '' ? null : coerced.value;
      if (
        typeof value === 'string' &&
        field.restrictedValues !== undefined &&
        !field.restrictedValues.includes(value)
      ) {
        throw new Error(`${field.name}: bad value for restricted picklist field: ${value}`);
      }
      if (typeof value === 'string' && field.length !== undefined && [...value].length > field.length) {
        throw new Error(`${field.name}: data value too large (max length=${field.length})`);
      }
      changes[field.name] = value;
    }
    if (typeof changes.MasterLabel === 'string') changes.Label = changes.MasterLabel;
    const existing = this.store.all(object.name).find((record) => record.fields.DeveloperName === developerName);
    if (existing !== undefined) {
      this.store.update(existing, changes);
      this.store.commit();
      return existing.id;
    }
    const id = this.env.ids.next(object.keyPrefix);
    const fields: Record<string, FieldValue> = {};
    for (const field of object.fields.values()) {
      if (field.type === 'boolean') fields[field.name] = field.defaultValue === true;
    }
    Object.assign(fields, {
      Id: id,
      DeveloperName: developerName,
      MasterLabel: developerName,
      Label: developerName,
      QualifiedApiName: developerName,
      NamespacePrefix: this.namespace === '' ? null : this.namespace,
      Language: 'ja',
      ...changes,
    });
    this.store.insert({ type: object.name, id, fields, createdAt: this.now() });
    this.store.commit();
    return id;
  }

  /** Removes a custom metadata record (Setup can; Apex and the data APIs cannot). */
  deleteCustomMetadata(type: string, developerName: string): void {
    const object = this.customMetadataType(type);
    const record = this.store.all(object.name).find((r) => r.fields.DeveloperName === developerName);
    if (record === undefined) throw new Error(`no ${object.name} record ${developerName} in org ${this.name}`);
    this.store.update(record, { IsDeleted: true });
    this.store.commit();
  }

  /** The records of a custom metadata type, by DeveloperName. */
  customMetadata(type: string): Array<Record<string, FieldValue>> {
    return this.records(this.customMetadataType(type).name);
  }

  private customMetadataType(type: string): ObjectDef {
    const prefix = this.namespace === '' ? '' : `${this.namespace}__`;
    const base = type.replace(/__mdt$/i, '');
    for (const name of [`${base}__mdt`, `${prefix}${base}__mdt`]) {
      const object = this.objectDef(name);
      if (object?.customMetadata === true) return object;
    }
    throw new Error(`no custom metadata type ${type} in org ${this.name} (is the package installed?)`);
  }

  private customMetadataField(object: ObjectDef, key: string): FieldDef {
    const prefix = this.namespace === '' ? '' : `${this.namespace}__`;
    const field = object.fields.get(key.toLowerCase()) ?? object.fields.get(`${prefix}${key}`.toLowerCase());
    if (field === undefined || ['Id', 'DeveloperName', 'QualifiedApiName', 'NamespacePrefix'].includes(field.name)) {
      throw new Error(`${object.name} has no settable field ${key}`);
    }
    return field;
  }

  addValidationRule(rule: ValidationRule): () => void {
    this.rules.push(rule);
    return () => {
      const index = this.rules.indexOf(rule);
      if (index >= 0) this.rules.splice(index, 1);
    };
  }

  // ── API usage ─────────────────────────────────────────────────────────────────────

  /** Counted REST calls since the last reset, in all and per endpoint. */
  apiCalls(): ApiCallCounts {
    return { total: this.callTotal, byEndpoint: Object.fromEntries(this.callsByEndpoint) };
  }

  resetApiCalls(): void {
    this.callTotal = 0;
    this.callsByEndpoint.clear();
  }

  /** The rolling daily usage Salesforce reports in Sforce-Limit-Info. */
  apiUsage(): { used: number; max: number } {
    return { used: this.dailyApiUsed, max: this.settings.dailyApiMax };
  }

  setApiUsage(used: number): void {
    this.dailyApiUsed = Math.max(0, Math.floor(used));
  }

  exhaustApiBudget(): void {
    this.dailyApiUsed = this.settings.dailyApiMax;
  }

  resetApiBudget(): void {
    this.dailyApiUsed = 0;
  }

  budgetExhausted(): boolean {
    return this.dailyApiUsed >= this.settings.dailyApiMax;
  }

  recordApiCall(endpoint: string): void {
    this.dailyApiUsed += 1;
    this.callTotal += 1;
    this.callsByEndpoint.set(endpoint, (this.callsByEndpoint.get(endpoint) ?? 0) + 1);
  }

  // ── Sessions ──────────────────────────────────────────────────────────────────────

  /** Every access token of the org dies now; refresh tokens live on. */
  expireAccessTokens(): number {
    return this.env.tokens.expireAccessTokens(this.orgId, this.now());
  }

  /** Revokes refresh tokens (and their access tokens): of one user, or of everyone. */
  revokeRefreshTokens(userId?: string): number {
    const canonical = userId === undefined ? null : canonicalId(userId);
    return this.env.tokens.revokeRefreshTokens(this.orgId, canonical);
  }

  /** A user's live OAuth approvals for the app, oldest first. */
  approvals(userId: string): RefreshToken[] {
    return this.env.tokens.approvals(this.orgId, canonicalId(userId) ?? userId);
  }
}
