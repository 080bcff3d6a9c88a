import { dmlError, SalesforceFault, type DmlError } from './errors';
import { canonicalId, keyPrefixOf } from './ids';
import type { StoredRecord } from './records';
import type { FieldDef, ObjectDef } from './schema';
import { coerceInput, dateToMs, formatDate, type FieldValue } from './values';

/**
 * What a DML insert or update checks, in Salesforce's order: the body first (unknown
 * fields and unparseable values fail the whole request), then each record: field access,
 * required fields, lengths and formats, references, object rules (Event timing, Lead and
 * WhatId, converted leads), the org's validation rules, and unique fields.
 */

export interface ValidationRule {
  object: string;
  name: string;
  message: string;
  /** The field the error is shown on; none = top of the page. */
  field?: string;
  /** True when the record is invalid. */
  when: (record: Readonly<Record<string, FieldValue>>) => boolean;
}

export interface OrgRules {
  eventMaxSpanDays: number | null;
  leadWithWhatIdAllowed: boolean;
  convertedLeadAsWhoAllowed: boolean;
}

/** What validation needs to know about the org it runs in. */
export interface ValidationContext {
  rules: OrgRules;
  validationRules: readonly ValidationRule[];
  lookup(id: string): StoredRecord | undefined;
  objectOfPrefix(prefix: string): ObjectDef | undefined;
  /** The first live record of `object` whose `field` equals `value`, if any. */
  findByField(object: ObjectDef, field: FieldDef, value: FieldValue): StoredRecord | undefined;
}

export type RecordInput = Map<FieldDef, FieldValue>;

/** Reads a JSON record body; unknown fields and bad values fail the whole request. */
export function deserializeRecord(object: ObjectDef, body: Record<string, unknown>): RecordInput {
  const input: RecordInput = new Map();
  for (const [key, raw] of Object.entries(body)) {
    if (key === 'attributes') continue;
    const field = object.fields.get(key.toLowerCase());
    if (field === undefined) {
      throw new SalesforceFault(400, 'INVALID_FIELD', `No such column '${key}' on sobject of type ${object.name}`);
    }
    const coerced = coerceInput(field, raw);
    if (!coerced.ok) {
      throw new SalesforceFault(
        400,
        'JSON_PARSER_ERROR',
        `Cannot deserialize instance of ${coerced.reason} from ${jsonKind(raw)} value ${JSON.stringify(raw)} or request ` +
          `may be missing a required field`,
      );
    }
    input.set(field, typeof coerced.value === 'string' && coerced.value === '' ? null : coerced.value);
  }
  return input;
}

function jsonKind(raw: unknown): string {
  if (typeof raw === 'string') return 'VALUE_STRING';
  if (typeof raw === 'number') return 'VALUE_NUMBER_INT';
  if (typeof raw === 'boolean') return raw ? 'VALUE_TRUE' : 'VALUE_FALSE';
  if (Array.isArray(raw)) return 'START_ARRAY';
  return 'START_OBJECT';
}

type Outcome = { ok: true; fields: Record<string, FieldValue> } | { ok: false; errors: DmlError[] };

const fail = (error: DmlError): Outcome => ({ ok: false, errors: [error] });

function fieldAccessError(fields: FieldDef[]): DmlError {
  const names = fields.map((field) => field.name);
  return dmlError(
    'INVALID_FIELD_FOR_INSERT_UPDATE',
    `Unable to create/update fields: ${names.join(', ')}. Please check the security settings of this field and verify ` +
      `that it is read/write for your profile or permission set.`,
    names,
  );
}

export function validateInsert(
  ctx: ValidationContext,
  object: ObjectDef,
  input: RecordInput,
  runningUserId: string,
  id: string,
  now: number,
): Outcome {
  if (!object.createable) {
    return fail(dmlError('INVALID_TYPE_FOR_OPERATION', `entity type cannot be inserted: ${object.name}`));
  }
  const forbidden = [...input.keys()].filter((field) => !field.createable);
  if (forbidden.length > 0) return fail(fieldAccessError(forbidden));

  const fields: Record<string, FieldValue> = {};
  for (const field of object.fields.values()) {
    // Checkboxes are never null in Salesforce.
    if (field.defaultValue !== undefined) fields[field.name] = field.defaultValue;
    else if (field.type === 'boolean') fields[field.name] = false;
  }
  for (const [field, value] of input) fields[field.name] = value;
  Object.assign(fields, {
    Id: id,
    IsDeleted: false,
    CreatedDate: now,
    CreatedById: runningUserId,
    LastModifiedDate: now,
    LastModifiedById: runningUserId,
    SystemModstamp: now,
  });
  if (object.fields.has('ownerid') && (fields.OwnerId ?? null) === null) fields.OwnerId = runningUserId;
  return finishRecord(ctx, object, fields, [...input.keys()], null);
}

export function validateUpdate(
  ctx: ValidationContext,
  object: ObjectDef,
  record: StoredRecord,
  input: RecordInput,
  runningUserId: string,
  now: number,
): Outcome {
  if (object.name === 'Lead' && record.fields.IsConverted === true) {
    return fail(dmlError('CANNOT_UPDATE_CONVERTED_LEAD', 'cannot reference converted lead', []));
  }
  const forbidden = [...input.keys()].filter((field) => !field.updateable);
  if (forbidden.length > 0) return fail(fieldAccessError(forbidden));
  const fields: Record<string, FieldValue> = { ...record.fields };
  for (const [field, value] of input) fields[field.name] = value;
  if (object.name === 'Event') {
    // A changed start, end or duration is recomputed from what the caller sent.
    const sent = new Set([...input.keys()].map((field) => field.name));
    if (sent.has('DurationInMinutes') && !sent.has('EndDateTime')) fields.EndDateTime = null;
    if (sent.has('EndDateTime') && !sent.has('DurationInMinutes')) fields.DurationInMinutes = null;
  }
  Object.assign(fields, { LastModifiedDate: now, LastModifiedById: runningUserId, SystemModstamp: now });
  return finishRecord(ctx, object, fields, [...input.keys()], record.id);
}

function finishRecord(
  ctx: ValidationContext,
  object: ObjectDef,
  fields: Record<string, FieldValue>,
  touched: FieldDef[],
  existingId: string | null,
): Outcome {
  const missing = [...object.fields.values()].filter(
    (field) => field.required && (fields[field.name] ?? null) === null,
  );
  if (missing.length > 0) {
    const names = missing.map((field) => field.name);
    return fail(dmlError('REQUIRED_FIELD_MISSING', `Required fields are missing: [${names.join(', ')}]`, names));
  }
  for (const field of touched) {
    const error = checkValue(field, fields[field.name] ?? null);
    if (error !== null) return fail(error);
  }
  for (const field of object.fields.values()) {
    if (field.type !== 'reference' || !field.createable) continue;
    const error = checkReference(ctx, object, field, fields);
    if (error !== null) return fail(error);
  }
  const objectError = applyObjectRules(ctx, object, fields);
  if (objectError !== null) return fail(objectError);
  for (const rule of ctx.validationRules) {
    if (rule.object.toLowerCase() === object.name.toLowerCase() && rule.when(fields)) {
      return fail(
        dmlError('FIELD_CUSTOM_VALIDATION_EXCEPTION', rule.message, rule.field === undefined ? [] : [rule.field]),
      );
    }
  }
  for (const field of object.fields.values()) {
    const value = fields[field.name] ?? null;
    if (!field.unique || value === null) continue;
    const other = ctx.findByField(object, field, value);
    if (other !== undefined && other.id !== existingId) {
      return fail(
        dmlError(
          'DUPLICATE_VALUE',
          `duplicate value found: ${field.name} duplicates value on record with id: ${other.id}`,
          [field.name],
        ),
      );
    }
  }
  return { ok: true, fields };
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function checkValue(field: FieldDef, value: FieldValue): DmlError | null {
  if (typeof value !== 'string') return null;
  if (field.length !== undefined && [...value].length > field.length) {
    const shown = value.length > 100 ? `${value.slice(0, 100)}(TRUNCATED)` : value;
    return dmlError('STRING_TOO_LONG', `${field.label}: data value too large: ${shown} (max length=${field.length})`, [
      field.name,
    ]);
  }
  if (field.type === 'email' && !EMAIL.test(value)) {
    return dmlError('INVALID_EMAIL_ADDRESS', `${field.label}: invalid email address: ${value}`, [field.name]);
  }
  if (field.restrictedValues !== undefined && !field.restrictedValues.includes(value)) {
    return dmlError(
      'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
      `${field.label}: bad value for restricted picklist field: ${value}`,
      [field.name],
    );
  }
  return null;
}

function checkReference(
  ctx: ValidationContext,
  object: ObjectDef,
  field: FieldDef,
  fields: Record<string, FieldValue>,
): DmlError | null {
  const raw = fields[field.name] ?? null;
  if (raw === null) return null;
  const id = typeof raw === 'string' ? canonicalId(raw) : null;
  if (id === null) {
    return dmlError('MALFORMED_ID', `${field.label}: id value of incorrect type: ${String(raw)}`, [field.name]);
  }
  fields[field.name] = id;
  const target = ctx.objectOfPrefix(keyPrefixOf(id));
  if (target === undefined || !(field.referenceTo ?? []).includes(target.name)) {
    return dmlError('FIELD_INTEGRITY_EXCEPTION', `${field.label}: id value of incorrect type: ${id}`, [field.name]);
  }
  const record = ctx.lookup(id);
  if (record === undefined) return dmlError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', [field.name]);
  if (record.fields.IsDeleted === true) return dmlError('ENTITY_IS_DELETED', 'entity is deleted', [field.name]);
  if (target.name === 'User' && record.fields.IsActive !== true) {
    return dmlError(
      'INACTIVE_OWNER_OR_USER',
      `operation performed with inactive user [${id}] as owner of ${object.name.toLowerCase()}`,
      [field.name],
    );
  }
  if (
    field.name === 'WhoId' &&
    target.name === 'Lead' &&
    record.fields.IsConverted === true &&
    !ctx.rules.convertedLeadAsWhoAllowed
  ) {
    return dmlError('CANNOT_UPDATE_CONVERTED_LEAD', 'cannot reference converted lead', [field.name]);
  }
  return null;
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

function applyObjectRules(
  ctx: ValidationContext,
  object: ObjectDef,
  fields: Record<string, FieldValue>,
): DmlError | null {
  switch (object.name) {
    case 'Contact':
    case 'Lead':
      fields.Name = personName(fields.FirstName, fields.LastName);
      return null;
    case 'Event':
      return applyActivityRules(ctx, fields) ?? applyEventTiming(ctx.rules, fields);
    case 'Task':
      fields.IsClosed = fields.Status === 'Completed';
      return applyActivityRules(ctx, fields);
    default:
      return null;
  }
}

/** Japanese names read family name first; western ones given name first. */
function personName(first: FieldValue | undefined, last: FieldValue | undefined): string {
  const given = typeof first === 'string' ? first : '';
  const family = typeof last === 'string' ? last : '';
  if (given === '') return family;
  const western = /^[\x20-\x7e]*$/.test(given + family);
  return western ? `${given} ${family}` : `${family} ${given}`;
}

function applyActivityRules(ctx: ValidationContext, fields: Record<string, FieldValue>): DmlError | null {
  const whoId = typeof fields.WhoId === 'string' ? fields.WhoId : null;
  const whatId = typeof fields.WhatId === 'string' ? fields.WhatId : null;
  const who = whoId === null ? undefined : ctx.lookup(whoId);
  if (who?.type === 'Lead' && whatId !== null && !ctx.rules.leadWithWhatIdAllowed) {
    return dmlError(
      'FIELD_INTEGRITY_EXCEPTION',
      'Related To ID: You can\u2019t associate a lead with a Related To record.',
      ['WhatId'],
    );
  }
  const what = whatId === null ? undefined : ctx.lookup(whatId);
  if (what?.type === 'Account') fields.AccountId = what.id;
  else if (who?.type === 'Contact') fields.AccountId = who.fields.AccountId ?? null;
  else fields.AccountId = null;
  return null;
}

function applyEventTiming(rules: OrgRules, fields: Record<string, FieldValue>): DmlError | null {
  const number = (name: string) => (typeof fields[name] === 'number' ? (fields[name] as number) : null);
  const activity = number('ActivityDateTime');
  const startAlias = number('StartDateTime');
  if (activity !== null && startAlias !== null && activity !== startAlias) {
    return dmlError('FIELD_INTEGRITY_EXCEPTION', 'ActivityDateTime and StartDateTime must be the same', [
      'ActivityDateTime',
      'StartDateTime',
    ]);
  }
  let start = activity ?? startAlias;
  let duration = number('DurationInMinutes');
  let end = number('EndDateTime');
  if (fields.IsAllDayEvent === true) {
    const date =
      typeof fields.ActivityDate === 'string' ? fields.ActivityDate : start === null ? null : formatDate(start);
    if (date === null)
      return dmlError('REQUIRED_FIELD_MISSING', 'Required fields are missing: [ActivityDate]', ['ActivityDate']);
    start = dateToMs(date);
    if (duration === null) duration = end === null ? 1440 : Math.max(1440, Math.round((end - start) / MINUTE_MS));
    end = start + duration * MINUTE_MS;
  } else {
    if (start === null) {
      return dmlError('REQUIRED_FIELD_MISSING', 'Required fields are missing: [ActivityDateTime]', [
        'ActivityDateTime',
      ]);
    }
    if (duration === null && end === null) {
      return dmlError('REQUIRED_FIELD_MISSING', 'Required fields are missing: [DurationInMinutes]', [
        'DurationInMinutes',
      ]);
    }
    if (duration !== null && duration < 0) {
      return dmlError('FIELD_INTEGRITY_EXCEPTION', 'Duration must be greater than or equal to 0', [
        'DurationInMinutes',
      ]);
    }
    if (end !== null && end < start) {
      return dmlError('FIELD_INTEGRITY_EXCEPTION', 'End Date Time cannot be earlier than Start Date Time', [
        'EndDateTime',
      ]);
    }
    if (duration !== null && end !== null && start + duration * MINUTE_MS !== end) {
      return dmlError('FIELD_INTEGRITY_EXCEPTION', 'EndDateTime and DurationInMinutes are inconsistent', [
        'EndDateTime',
        'DurationInMinutes',
      ]);
    }
    end = end ?? start + (duration ?? 0) * MINUTE_MS;
    duration = duration ?? Math.round((end - start) / MINUTE_MS);
  }
  if (rules.eventMaxSpanDays !== null && end - start > rules.eventMaxSpanDays * DAY_MS) {
    return dmlError('FIELD_INTEGRITY_EXCEPTION', `Event duration cannot exceed ${rules.eventMaxSpanDays} days`, [
      'DurationInMinutes',
      'EndDateTime',
    ]);
  }
  Object.assign(fields, {
    ActivityDateTime: start,
    StartDateTime: start,
    EndDateTime: end,
    DurationInMinutes: duration,
    ActivityDate: formatDate(start),
  });
  return null;
}
