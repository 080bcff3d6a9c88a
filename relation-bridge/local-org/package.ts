import { PACKAGE_PERMISSION_SETS, type PackagePermissionSet } from '../src/salesforce/package-names';
import type { FieldDef, ObjectDef, Schema } from './schema';

/**
 * What the managed package's permission sets let a user see and do, and the schema as that
 * user sees it. On Salesforce a packaged field the user has no field-level security for is
 * not there for them at all: describe leaves it out, SOQL answers "No such column", a write
 * naming it fails as for an unknown field; a field they may only read is described as
 * neither createable nor updateable. A packaged object without object permission is
 * missing the same way.
 */

export type PackageAccess = 'none' | 'read' | 'edit';

/** What one permission set of the package grants (force-app/main/default/permissionsets). */
export interface PackageGrant {
  /** The packaged Activity fields, on Event and Task. */
  activityFields: PackageAccess;
  /** The link policy custom metadata type (`customMetadataTypeAccesses`). */
  linkPolicy: boolean;
  /** The sync health object and its fields. */
  syncHealth: PackageAccess;
}

export const PACKAGE_GRANTS: Record<PackagePermissionSet, PackageGrant> = {
  [PACKAGE_PERMISSION_SETS.integration.name]: { activityFields: 'edit', linkPolicy: true, syncHealth: 'edit' },
  [PACKAGE_PERMISSION_SETS.admin.name]: { activityFields: 'read', linkPolicy: true, syncHealth: 'read' },
  [PACKAGE_PERMISSION_SETS.salesRep.name]: { activityFields: 'read', linkPolicy: false, syncHealth: 'none' },
};

export const NO_GRANT: PackageGrant = { activityFields: 'none', linkPolicy: false, syncHealth: 'none' };
export const FULL_GRANT: PackageGrant = { activityFields: 'edit', linkPolicy: true, syncHealth: 'edit' };

export function isPackagePermissionSet(name: string): name is PackagePermissionSet {
  return Object.prototype.hasOwnProperty.call(PACKAGE_GRANTS, name);
}

const RANK: Record<PackageAccess, number> = { none: 0, read: 1, edit: 2 };
const wider = (a: PackageAccess, b: PackageAccess): PackageAccess => (RANK[a] >= RANK[b] ? a : b);

/** Permission sets add up: the widest access any of them grants. */
export function combinedGrant(permissionSets: Iterable<string>): PackageGrant {
  let grant = NO_GRANT;
  for (const name of permissionSets) {
    if (!isPackagePermissionSet(name)) continue;
    const more = PACKAGE_GRANTS[name];
    grant = {
      activityFields: wider(grant.activityFields, more.activityFields),
      linkPolicy: grant.linkPolicy || more.linkPolicy,
      syncHealth: wider(grant.syncHealth, more.syncHealth),
    };
  }
  return grant;
}

export function grantKey(grant: PackageGrant): string {
  return `${grant.activityFields}/${grant.linkPolicy}/${grant.syncHealth}`;
}

/** The package's components in a schema, by their (namespaced) API names. */
export interface PackageComponents {
  activityFields: readonly string[];
  linkPolicy: string;
  syncHealth: string;
}

function readOnlyField(field: FieldDef): FieldDef {
  return { ...field, createable: false, updateable: false };
}

function withFields(object: ObjectDef, fields: FieldDef[], createable = object.createable): ObjectDef {
  return { ...object, createable, fields: new Map(fields.map((def) => [def.name.toLowerCase(), def])) };
}

/** The full schema as a user with this grant sees it. */
export function schemaSeenWith(full: Schema, grant: PackageGrant, components: PackageComponents): Schema {
  const packaged = new Set(components.activityFields.map((name) => name.toLowerCase()));
  const seen: Schema = new Map();
  for (const [key, object] of full) {
    if (key === components.linkPolicy.toLowerCase()) {
      if (grant.linkPolicy) seen.set(key, object);
      continue;
    }
    if (key === components.syncHealth.toLowerCase()) {
      if (grant.syncHealth === 'edit') seen.set(key, object);
      else if (grant.syncHealth === 'read') {
        seen.set(key, withFields(object, [...object.fields.values()].map(readOnlyField), false));
      }
      continue;
    }
    if (key !== 'event' && key !== 'task') {
      seen.set(key, object);
      continue;
    }
    const fields: FieldDef[] = [];
    for (const field of object.fields.values()) {
      if (!packaged.has(field.name.toLowerCase())) fields.push(field);
      else if (grant.activityFields === 'edit') fields.push(field);
      else if (grant.activityFields === 'read') fields.push(readOnlyField(field));
    }
    seen.set(key, withFields(object, fields));
  }
  return seen;
}
