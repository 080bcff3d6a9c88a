import { randomBytes } from 'node:crypto';
import { dmlError, notFound, SalesforceFault, type DmlError } from './errors';
import type { CommittedRecord, FaultInjector } from './faults';
import { canonicalId } from './ids';
import type { LocalOrg, LocalUser } from './org';
import type { StoredRecord } from './records';
import type { FieldDef, ObjectDef } from './schema';
import { parseSoql, selectRows } from './soql';
import { parseSosl, runSearch } from './sosl';
import { deserializeRecord } from './validation';
import { isSupportedVersion } from './versions';
import { toWire } from './values';

/**
 * The REST resources under `/services/data/vXX.X/`. Handlers are synchronous, so that a
 * request (and a whole composite) runs as one unit against the org's records; the HTTP
 * layer authenticates, counts the call and sends the result.
 */

export interface RestRequest {
  method: string;
  /** The path after `/services/data/vXX.X`, e.g. `/sobjects/Event`; '' for the version root. */
  path: string;
  version: string;
  query: URLSearchParams;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: unknown;
}

export interface RestResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RestContext {
  org: LocalOrg;
  user: LocalUser;
  faults: FaultInjector;
  /** Records written by this request, for the commit hook. */
  written: CommittedRecord[];
}

const MAX_COLLECTION_RECORDS = 200;
const MAX_COLLECTION_CHUNKS = 10;
const MAX_COMPOSITE_SUBREQUESTS = 25;
const MAX_COMPOSITE_QUERY_LIKE = 5;
const MAX_GRAPHS = 75;
const MAX_GRAPH_NODES = 500;
const MAX_GRAPH_NODE_TYPES = 15;
const MAX_GRAPH_FAILURES = 14;

const DEFAULT_BATCH_SIZE = 2000;
const MIN_BATCH_SIZE = 200;
const MAX_OPEN_CURSORS = 200;

const ROLLED_BACK = 'Record rolled back because not all records were valid and the request was using AllOrNone header';
const HALTED = 'The transaction was rolled back since another operation in the same transaction failed.';
const GRAPHS_HALTED = `Processing halted: more than ${MAX_GRAPH_FAILURES} graphs of this request failed.`;

export function handleRest(ctx: RestContext, request: RestRequest): RestResult {
  try {
    return route(ctx, request);
  } catch (error) {
    if (error instanceof SalesforceFault) return { status: error.status, body: error.toBody() };
    throw error;
  }
}

/** A stable name for counting, with ids and locators blanked: `GET /sobjects/Event/{id}`. */
export function endpointName(method: string, path: string): string {
  const normalized = path
    .split('/')
    .map((segment, index, segments) => {
      if (segments[index - 1] === 'query' || segments[index - 1] === 'queryAll') return '{locator}';
      if (segments[1] === 'sobjects' && index === 4) return '{value}';
      return canonicalId(segment) !== null && /\d/.test(segment) ? '{id}' : segment;
    })
    .join('/');
  return `${method} ${normalized === '' ? '/' : normalized}`;
}

function route(ctx: RestContext, request: RestRequest): RestResult {
  const segments = request.path.split('/').filter((segment) => segment !== '');
  const [resource, second, third, fourth] = segments;
  const method = request.method;
  switch (resource) {
    case undefined:
      return allowMethods(method, ['GET'], () => ({ status: 200, body: resourceList(request.version) }));
    case 'sobjects':
      if (second === undefined) return allowMethods(method, ['GET'], () => describeGlobal(ctx));
      if (third === undefined) {
        return allowMethods(method, ['GET', 'POST'], () =>
          method === 'POST' ? createOne(ctx, second, request) : objectInfo(ctx, second),
        );
      }
      if (third === 'describe' && fourth === undefined) {
        return allowMethods(method, ['GET'], () => ({ status: 200, body: describe(objectOf(ctx, second)) }));
      }
      if (fourth !== undefined) {
        if (segments.length > 4) throw notFound();
        return allowMethods(method, ['PATCH'], () => upsertByExternalId(ctx, second, third, fourth, request));
      }
      return allowMethods(method, ['GET', 'PATCH', 'DELETE'], () => recordResource(ctx, second, third, request));
    case 'query':
    case 'queryAll':
      if (third !== undefined) throw notFound();
      return allowMethods(method, ['GET'], () =>
        second === undefined ? runQuery(ctx, request, resource === 'queryAll') : nextPage(ctx, request, second),
      );
    case 'search':
      if (second !== undefined) throw notFound();
      return allowMethods(method, ['GET'], () => search(ctx, request));
    case 'composite':
      if (second === undefined) return allowMethods(method, ['POST'], () => composite(ctx, request));
      if (second === 'sobjects' && third === undefined) {
        return allowMethods(method, ['POST'], () => createCollection(ctx, request));
      }
      if (second === 'sobjects' && third !== undefined && fourth !== undefined && segments.length === 4) {
        return allowMethods(method, ['PATCH'], () => upsertCollection(ctx, third, fourth, request));
      }
      if (second === 'graph' && third === undefined) {
        return allowMethods(method, ['POST'], () => compositeGraph(ctx, request));
      }
      throw notFound();
    case 'limits':
      if (second !== undefined) throw notFound();
      return allowMethods(method, ['GET'], () => limits(ctx));
    default:
      throw notFound();
  }
}

function allowMethods(method: string, allowed: string[], handler: () => RestResult): RestResult {
  if (!allowed.includes(method)) {
    throw new SalesforceFault(
      405,
      'METHOD_NOT_ALLOWED',
      `HTTP Method '${method}' not allowed. Allowed are ${allowed.join(',')}`,
    );
  }
  return handler();
}

function resourceList(version: string): Record<string, string> {
  const base = `/services/data/v${version}`;
  return Object.fromEntries(
    ['sobjects', 'query', 'queryAll', 'search', 'composite', 'limits'].map((name) => [name, `${base}/${name}`]),
  );
}

/** The object as the running user sees it: fields and objects they have no access to are not there. */
function objectOf(ctx: RestContext, type: string): ObjectDef {
  const object = ctx.org.objectDefFor(ctx.user, type);
  if (object === undefined) throw notFound();
  return object;
}

function describeGlobal(ctx: RestContext): RestResult {
  const sobjects = [...ctx.org.schemaFor(ctx.user).values()].map((object) => objectSummary(object));
  return { status: 200, body: { encoding: 'UTF-8', maxBatchSize: MAX_COLLECTION_RECORDS, sobjects } };
}

function objectSummary(object: ObjectDef) {
  return {
    name: object.name,
    label: object.label,
    keyPrefix: object.keyPrefix,
    createable: object.createable,
    queryable: true,
    searchable: true,
    custom: false,
  };
}

function objectInfo(ctx: RestContext, type: string): RestResult {
  return { status: 200, body: { objectDescribe: objectSummary(objectOf(ctx, type)), recentItems: [] } };
}

function describe(object: ObjectDef) {
  return {
    ...objectSummary(object),
    fields: [...object.fields.values()].map((field) => ({
      name: field.name,
      label: field.label,
      type: field.type,
      length: field.length ?? 0,
      createable: field.createable,
      updateable: field.updateable,
      nillable: field.nillable,
      externalId: field.externalId ?? false,
      unique: field.unique ?? false,
      custom: field.name.endsWith('__c'),
      referenceTo: field.referenceTo ?? [],
      defaultValueFormula: null,
      defaultValue: field.defaultValue ?? null,
      picklistValues: (field.restrictedValues ?? []).map((value) => ({ active: true, label: value, value })),
    })),
  };
}

function wireRecord(version: string, object: ObjectDef, record: StoredRecord, fields: Iterable<FieldDef>) {
  const out: Record<string, unknown> = {
    attributes: { type: object.name, url: `/services/data/v${version}/sobjects/${object.name}/${record.id}` },
  };
  for (const field of fields) out[field.name] = toWire(field, record.fields[field.name]);
  return out;
}

function requireRecordBody(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new SalesforceFault(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function asRestErrors(errors: DmlError[]) {
  return errors.map((error) => ({ message: error.message, errorCode: error.statusCode, fields: error.fields }));
}

function createOne(ctx: RestContext, type: string, request: RestRequest): RestResult {
  const object = objectOf(ctx, type);
  const body = requireRecordBody(request.body);
  if (Object.keys(body).some((key) => key.toLowerCase() === 'id')) {
    return {
      status: 400,
      body: asRestErrors([dmlError('INVALID_FIELD', 'cannot specify Id in an insert call', ['Id'])]),
    };
  }
  const outcome = ctx.org.insertValidated(object, body, ctx.user.id);
  if (!outcome.ok) return { status: 400, body: asRestErrors(outcome.errors) };
  ctx.written.push({ id: outcome.record.id, type: object.name });
  return { status: 201, body: { id: outcome.record.id, success: true, errors: [] } };
}

function recordResource(ctx: RestContext, type: string, rawId: string, request: RestRequest): RestResult {
  const object = objectOf(ctx, type);
  const id = canonicalId(rawId);
  if (id === null) {
    throw new SalesforceFault(
      404,
      'NOT_FOUND',
      `Provided external ID field does not exist or is not accessible: ${rawId}`,
    );
  }
  const record = ctx.org.store.get(id);
  if (record === undefined || record.type !== object.name) throw notFound();
  if (record.fields.IsDeleted === true) throw new SalesforceFault(404, 'ENTITY_IS_DELETED', 'entity is deleted');
  if (request.method === 'GET') {
    const requested = request.query.get('fields');
    const fields =
      requested === null
        ? [...object.fields.values()]
        : requested.split(',').map((name) => {
            const field = object.fields.get(name.trim().toLowerCase());
            if (field === undefined) {
              throw new SalesforceFault(
                400,
                'INVALID_FIELD',
                `No such column '${name.trim()}' on entity '${object.name}'.`,
              );
            }
            return field;
          });
    return { status: 200, body: wireRecord(request.version, object, record, fields) };
  }
  if (object.customMetadata === true) {
    throw new SalesforceFault(
      400,
      'INVALID_TYPE_FOR_OPERATION',
      `entity type cannot be ${request.method === 'DELETE' ? 'deleted' : 'updated'}: ${object.name}`,
    );
  }
  if (request.method === 'DELETE') {
    ctx.org.store.update(record, { IsDeleted: true });
    ctx.written.push({ id: record.id, type: object.name });
    return { status: 204 };
  }
  const outcome = ctx.org.updateValidated(object, record, requireRecordBody(request.body), ctx.user.id);
  if (!outcome.ok) return { status: 400, body: asRestErrors(outcome.errors) };
  ctx.written.push({ id: record.id, type: object.name });
  return { status: 204 };
}

/**
 * `PATCH /sobjects/{T}/{ExtField}/{value}`: creates (201, created: true) when nothing
 * matches, updates (200, created: false) one match, answers 300 for several.
 */
function upsertByExternalId(
  ctx: RestContext,
  type: string,
  fieldName: string,
  rawValue: string,
  request: RestRequest,
): RestResult {
  const object = objectOf(ctx, type);
  const field = object.fields.get(fieldName.toLowerCase());
  if (field === undefined || !field.externalId) {
    throw new SalesforceFault(
      404,
      'NOT_FOUND',
      `Provided external ID field does not exist or is not accessible: ${fieldName}`,
    );
  }
  const value = decodeURIComponent(rawValue);
  const body = requireRecordBody(request.body);
  const found = ctx.org.store
    .all(object.name)
    .filter((record) => String(record.fields[field.name] ?? '').toLowerCase() === value.toLowerCase());
  if (found.length > 1) {
    return {
      status: 300,
      body: found.map((record) => `/services/data/v${request.version}/sobjects/${object.name}/${record.id}`),
    };
  }
  const existing = found[0];
  if (existing !== undefined) {
    const outcome = ctx.org.updateValidated(object, existing, body, ctx.user.id);
    if (!outcome.ok) return { status: 400, body: asRestErrors(outcome.errors) };
    ctx.written.push({ id: existing.id, type: object.name });
    return { status: 200, body: { id: existing.id, success: true, errors: [], created: false } };
  }
  if (request.query.get('updateOnly') === 'true') throw notFound();
  const outcome = ctx.org.insertValidated(object, { ...body, [field.name]: value }, ctx.user.id);
  if (!outcome.ok) return { status: 400, body: asRestErrors(outcome.errors) };
  ctx.written.push({ id: outcome.record.id, type: object.name });
  return { status: 201, body: { id: outcome.record.id, success: true, errors: [], created: true } };
}

// ── sObject Collections ─────────────────────────────────────────────────────────────

interface CollectionResult {
  id?: string;
  success: boolean;
  errors: DmlError[];
}

function createCollection(ctx: RestContext, request: RestRequest): RestResult {
  const body = requireRecordBody(request.body);
  const records = body.records;
  if (!Array.isArray(records)) {
    throw new SalesforceFault(400, 'JSON_PARSER_ERROR', "The request body must have a 'records' array");
  }
  if (records.length > MAX_COLLECTION_RECORDS) {
    throw new SalesforceFault(
      400,
      'EXCEEDED_ID_LIMIT',
      `record limit reached. cannot submit more than ${MAX_COLLECTION_RECORDS} records into this call`,
    );
  }
  const allOrNone = body.allOrNone === true;
  const parsed = records.map((raw) => {
    const record = requireRecordBody(raw);
    const attributes = record.attributes as { type?: unknown } | undefined;
    if (typeof attributes?.type !== 'string') {
      throw new SalesforceFault(
        400,
        'INVALID_TYPE',
        'When creating an sObject with the collections API, you must specify attributes.type for each record',
      );
    }
    const object = ctx.org.objectDefFor(ctx.user, attributes.type);
    if (object === undefined) {
      throw new SalesforceFault(400, 'INVALID_TYPE', `sObject type '${attributes.type}' is not supported.`);
    }
    return { object, record };
  });
  let chunks = 0;
  parsed.forEach((entry, index) => {
    if (index === 0 || parsed[index - 1]?.object !== entry.object) chunks += 1;
  });
  if (chunks > MAX_COLLECTION_CHUNKS) {
    throw new SalesforceFault(
      400,
      'INVALID_BATCH_REQUEST',
      `Cannot have more than ${MAX_COLLECTION_CHUNKS} chunks in a single operation. Please rearrange the data to reduce chunking.`,
    );
  }
  const savepoint = ctx.org.store.savepoint();
  const writtenBefore = ctx.written.length;
  const results: CollectionResult[] = [];
  const inserted: StoredRecord[] = [];
  preflight(parsed);
  parsed.forEach(({ object, record }) => {
    if (Object.keys(record).some((key) => key.toLowerCase() === 'id')) {
      results.push({
        success: false,
        errors: [dmlError('INVALID_FIELD', 'cannot specify Id in an insert call', ['Id'])],
      });
      return;
    }
    if (ctx.faults.takeRecordLock(ctx.org.orgId, object.name)) {
      results.push({
        success: false,
        errors: [dmlError('UNABLE_TO_LOCK_ROW', 'unable to obtain exclusive access to this record or 1 records')],
      });
      return;
    }
    const outcome = ctx.org.insertValidated(object, record, ctx.user.id);
    if (!outcome.ok) {
      results.push({ success: false, errors: outcome.errors });
      return;
    }
    inserted.push(outcome.record);
    results.push({ id: outcome.record.id, success: true, errors: [] });
  });
  if (allOrNone && results.some((result) => !result.success)) {
    ctx.org.store.rollbackTo(savepoint);
    ctx.written.length = writtenBefore;
    const rolledBack = results.map((result) =>
      result.success
        ? { success: false, errors: [dmlError('ALL_OR_NONE_OPERATION_ROLLED_BACK', ROLLED_BACK)] }
        : result,
    );
    return { status: 200, body: rolledBack };
  }
  for (const record of inserted) ctx.written.push({ id: record.id, type: record.type });
  return { status: 200, body: results };
}

/**
 * `PATCH /composite/sobjects/{T}/{ExtField}` (v46+): up to 200 records of type T, each
 * created or updated by its external id, in order; results carry `created`.
 */
function upsertCollection(ctx: RestContext, type: string, fieldName: string, request: RestRequest): RestResult {
  const object = ctx.org.objectDefFor(ctx.user, type);
  if (object === undefined) {
    throw new SalesforceFault(400, 'INVALID_TYPE', `sObject type '${type}' is not supported.`);
  }
  const field = object.fields.get(fieldName.toLowerCase());
  if (field === undefined || !field.externalId) {
    throw new SalesforceFault(
      404,
      'NOT_FOUND',
      `Provided external ID field does not exist or is not accessible: ${fieldName}`,
    );
  }
  const body = requireRecordBody(request.body);
  const records = body.records;
  if (!Array.isArray(records)) {
    throw new SalesforceFault(400, 'JSON_PARSER_ERROR', "The request body must have a 'records' array");
  }
  if (records.length > MAX_COLLECTION_RECORDS) {
    throw new SalesforceFault(
      400,
      'EXCEEDED_ID_LIMIT',
      `record limit reached. cannot submit more than ${MAX_COLLECTION_RECORDS} records into this call`,
    );
  }
  const parsed = records.map((raw) => {
    const record = requireRecordBody(raw);
    const attributes = record.attributes as { type?: unknown } | undefined;
    if (typeof attributes?.type !== 'string' || attributes.type.toLowerCase() !== object.name.toLowerCase()) {
      throw new SalesforceFault(
        400,
        'INVALID_TYPE',
        `Each record must have attributes.type ${object.name}, the type named in the request URI`,
      );
    }
    return { object, record };
  });
  preflight(parsed);
  const allOrNone = body.allOrNone === true;
  const savepoint = ctx.org.store.savepoint();
  const writtenBefore = ctx.written.length;
  const results: Array<CollectionResult & { created?: boolean }> = [];
  const written: StoredRecord[] = [];
  const seen = new Set<string>();
  for (const { record } of parsed) {
    const key = Object.keys(record).find((name) => name.toLowerCase() === field.name.toLowerCase());
    const raw = key === undefined ? null : record[key];
    const value = raw === null || raw === undefined ? '' : String(raw);
    if (Object.keys(record).some((name) => name.toLowerCase() === 'id')) {
      results.push({
        success: false,
        errors: [dmlError('INVALID_FIELD', 'cannot specify Id in an upsert call', ['Id'])],
      });
      continue;
    }
    if (value === '') {
      results.push({ success: false, errors: [dmlError('MISSING_ARGUMENT', `${field.name} not specified`, [])] });
      continue;
    }
    if (seen.has(value.toLowerCase())) {
      results.push({
        success: false,
        errors: [dmlError('DUPLICATE_EXTERNAL_ID', `Duplicate external id specified: ${value}`, [field.name])],
      });
      continue;
    }
    seen.add(value.toLowerCase());
    if (ctx.faults.takeRecordLock(ctx.org.orgId, object.name)) {
      results.push({
        success: false,
        errors: [dmlError('UNABLE_TO_LOCK_ROW', 'unable to obtain exclusive access to this record or 1 records')],
      });
      continue;
    }
    const fields = Object.fromEntries(Object.entries(record).filter(([name]) => name !== 'attributes'));
    const existing = ctx.org.store
      .all(object.name)
      .filter((candidate) => String(candidate.fields[field.name] ?? '').toLowerCase() === value.toLowerCase());
    if (existing.length > 1) {
      results.push({
        success: false,
        errors: [
          dmlError('DUPLICATE_EXTERNAL_ID', `more than one record found for external id field: ${value}`, [field.name]),
        ],
      });
      continue;
    }
    const match = existing[0];
    const outcome =
      match === undefined
        ? ctx.org.insertValidated(object, fields, ctx.user.id)
        : ctx.org.updateValidated(object, match, fields, ctx.user.id);
    if (!outcome.ok) {
      results.push({ success: false, errors: outcome.errors });
      continue;
    }
    written.push(outcome.record);
    results.push({ id: outcome.record.id, success: true, errors: [], created: match === undefined });
  }
  if (allOrNone && results.some((result) => !result.success)) {
    ctx.org.store.rollbackTo(savepoint);
    ctx.written.length = writtenBefore;
    return {
      status: 200,
      body: results.map((result) =>
        result.success
          ? { success: false, errors: [dmlError('ALL_OR_NONE_OPERATION_ROLLED_BACK', ROLLED_BACK)] }
          : result,
      ),
    };
  }
  for (const record of written) ctx.written.push({ id: record.id, type: record.type });
  return { status: 200, body: results };
}

/** Deserializes every record first, so that a body error fails the request with nothing written. */
function preflight(parsed: Array<{ object: ObjectDef; record: Record<string, unknown> }>): void {
  for (const { object, record } of parsed) deserializeRecord(object, record);
}

// ── Query ───────────────────────────────────────────────────────────────────────────

function batchSizeOf(request: RestRequest): number {
  const header = request.headers['sforce-query-options'] ?? '';
  const match = /batchSize\s*=\s*(\d+)/i.exec(header);
  if (match === null) return DEFAULT_BATCH_SIZE;
  return Math.min(DEFAULT_BATCH_SIZE, Math.max(MIN_BATCH_SIZE, Number(match[1])));
}

function runQuery(ctx: RestContext, request: RestRequest, includeDeleted: boolean): RestResult {
  const statement = request.query.get('q');
  if (statement === null || statement.trim() === '') {
    throw new SalesforceFault(400, 'MALFORMED_QUERY', 'A query string has to be specified');
  }
  if (
    ctx.org.settings.userLoginRefusal === 'INSUFFICIENT_ACCESS' &&
    !ctx.user.manageUsers &&
    /\bFROM\s+UserLogin\b/i.test(statement)
  ) {
    throw new SalesforceFault(403, 'INSUFFICIENT_ACCESS', 'insufficient access rights on object id');
  }
  const parsed = parseSoql(statement, ctx.org.schemaFor(ctx.user), ctx.org.now());
  const rows = selectRows(parsed, ctx.org.recordsVisibleTo(ctx.user, parsed.object, includeDeleted));
  if (parsed.count) return { status: 200, body: { totalSize: rows.length, done: true, records: [] } };
  const batchSize = batchSizeOf(request);
  const cursorId = `01g${ctx.org.slug.length}${randomBytes(8).toString('hex').slice(0, 15)}`;
  if (rows.length > batchSize) {
    ctx.org.cursors.set(cursorId, {
      object: parsed.object,
      fields: parsed.fields,
      rows,
      batchSize,
      totalSize: rows.length,
    });
    while (ctx.org.cursors.size > MAX_OPEN_CURSORS) {
      const oldest = ctx.org.cursors.keys().next().value as string;
      ctx.org.cursors.delete(oldest);
    }
  }
  return { status: 200, body: page(request, parsed.object, parsed.fields, rows, 0, batchSize, cursorId) };
}

function page(
  request: RestRequest,
  object: ObjectDef,
  fields: FieldDef[],
  rows: StoredRecord[],
  offset: number,
  batchSize: number,
  cursorId: string,
) {
  const end = offset + batchSize;
  const done = end >= rows.length;
  const body: Record<string, unknown> = {
    totalSize: rows.length,
    done,
    records: rows.slice(offset, end).map((record) => wireRecord(request.version, object, record, fields)),
  };
  if (!done) body.nextRecordsUrl = `/services/data/v${request.version}/query/${cursorId}-${end}`;
  return body;
}

function nextPage(ctx: RestContext, request: RestRequest, locator: string): RestResult {
  const match = /^(01g[A-Za-z0-9]+)-(\d+)$/.exec(locator);
  const cursor = match === null ? undefined : ctx.org.cursors.get(match[1] as string);
  if (match === null || cursor === undefined) {
    throw new SalesforceFault(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
  }
  const offset = Number(match[2]);
  return {
    status: 200,
    body: page(request, cursor.object, cursor.fields, cursor.rows, offset, cursor.batchSize, match[1] as string),
  };
}

function search(ctx: RestContext, request: RestRequest): RestResult {
  const statement = request.query.get('q');
  if (statement === null || statement.trim() === '') {
    throw new SalesforceFault(
      400,
      'MALFORMED_SEARCH',
      'No search term found. The search term must be enclosed in braces.',
    );
  }
  const now = ctx.org.now();
  const parsed = parseSosl(statement, ctx.org.schemaFor(ctx.user), now);
  const indexedBefore = now - ctx.org.settings.searchIndexLagMs;
  const hits = runSearch(parsed, (object) =>
    ctx.org.store
      .all(object.name)
      .filter((record) => ctx.org.settings.searchIndexLagMs <= 0 || record.createdAt <= indexedBefore),
  );
  const searchRecords = hits.map(({ spec, record }) =>
    wireRecord(
      request.version,
      spec.object,
      record,
      spec.fields.length > 0 ? spec.fields : [spec.object.fields.get('id') as FieldDef],
    ),
  );
  return { status: 200, body: { searchRecords } };
}

function limits(ctx: RestContext): RestResult {
  const usage = ctx.org.apiUsage();
  return {
    status: 200,
    body: {
      DailyApiRequests: { Max: usage.max, Remaining: Math.max(0, usage.max - usage.used) },
      DailyAsyncApexExecutions: { Max: 250000, Remaining: 250000 },
      DailyBulkApiBatches: { Max: 15000, Remaining: 15000 },
      DataStorageMB: { Max: 5, Remaining: 5 },
      FileStorageMB: { Max: 20, Remaining: 20 },
      SingleEmail: { Max: 15, Remaining: 15 },
    },
  };
}

// ── Composite ───────────────────────────────────────────────────────────────────────

interface SubrequestInput {
  method: string;
  url: string;
  referenceId: string;
  body?: unknown;
  httpHeaders?: Record<string, string>;
}

interface SubrequestOutput {
  body: unknown;
  httpHeaders: Record<string, string>;
  httpStatusCode: number;
  referenceId: string;
}

/**
 * What a composite subrequest addresses. Composite accepts sObject resources, Query and
 * QueryAll (their next pages too) and sObject Collections (v43.0 and later, so every version
 * served here); Composite Graph only sObject resources. Anything else (Search, Limits, a
 * nested composite…) is refused, the whole request with it.
 */
type CompositeResource = 'sobject' | 'query' | 'collection';

const SUBREQUEST_URL = /^\/services\/data\/v(\d+\.\d)(\/[^?]*)?(\?.*)?$/;

function compositeResource(url: string): { kind: CompositeResource | null; version: string; object: string | null } {
  const match = SUBREQUEST_URL.exec(url);
  if (match === null) return { kind: null, version: '', object: null };
  const version = match[1] as string;
  const segments = (match[2] ?? '').split('/').filter((segment) => segment !== '');
  const [first, second, third] = segments;
  if (first === 'sobjects') return { kind: 'sobject', version, object: second?.toLowerCase() ?? null };
  if (first === 'query' || first === 'queryAll') return { kind: 'query', version, object: null };
  if (first === 'composite' && second === 'sobjects') {
    return { kind: 'collection', version, object: third?.toLowerCase() ?? null };
  }
  return { kind: null, version, object: null };
}

function unsupportedSubrequest(input: SubrequestInput, where: string, accepted: string): SalesforceFault {
  const path = input.url.split('?')[0] ?? input.url;
  return new SalesforceFault(
    400,
    'INVALID_INPUT',
    `The subrequest '${input.referenceId}' (${input.method} ${path}) is not supported in ${where}. ` +
      `${where} accepts ${accepted}.`,
  );
}

function composite(ctx: RestContext, request: RestRequest): RestResult {
  const body = requireRecordBody(request.body);
  const inputs = checkSubrequests(body.compositeRequest, MAX_COMPOSITE_SUBREQUESTS);
  let queryLike = 0;
  for (const input of inputs) {
    const { kind } = compositeResource(input.url);
    if (kind === null) {
      throw unsupportedSubrequest(
        input,
        'a composite request',
        'sObject resources, sObject Collections, Query and QueryAll',
      );
    }
    if (kind !== 'sobject') queryLike += 1;
  }
  if (queryLike > MAX_COMPOSITE_QUERY_LIKE) {
    throw new SalesforceFault(
      400,
      'INVALID_BATCH_REQUEST',
      `A composite request can contain at most ${MAX_COMPOSITE_QUERY_LIKE} query and sObject Collections ` +
        `subrequests, found ${queryLike}`,
    );
  }
  const { outputs } = runSubrequests(ctx, inputs, body.allOrNone === true);
  return { status: 200, body: { compositeResponse: outputs } };
}

/**
 * Composite Graph: each graph is all-or-nothing on its own, and the whole request is one
 * call. At most 75 graphs and 500 nodes.
 */
function compositeGraph(ctx: RestContext, request: RestRequest): RestResult {
  const body = requireRecordBody(request.body);
  const graphs = body.graphs;
  if (!Array.isArray(graphs) || graphs.length === 0) {
    throw new SalesforceFault(400, 'JSON_PARSER_ERROR', "The request body must have a non-empty 'graphs' array");
  }
  if (graphs.length > MAX_GRAPHS) {
    throw new SalesforceFault(400, 'INVALID_BATCH_REQUEST', `A request can contain at most ${MAX_GRAPHS} graphs`);
  }
  const parsed = graphs.map((raw) => {
    const graph = requireRecordBody(raw);
    if (typeof graph.graphId !== 'string')
      throw new SalesforceFault(400, 'JSON_PARSER_ERROR', 'Each graph needs a graphId');
    return { graphId: graph.graphId, inputs: checkSubrequests(graph.compositeRequest, MAX_GRAPH_NODES) };
  });
  const nodes = parsed.reduce((sum, graph) => sum + graph.inputs.length, 0);
  if (nodes > MAX_GRAPH_NODES) {
    throw new SalesforceFault(
      400,
      'INVALID_BATCH_REQUEST',
      `A request can contain at most ${MAX_GRAPH_NODES} nodes in all graphs, found ${nodes}`,
    );
  }
  const nodeTypes = new Set<string>();
  for (const { inputs } of parsed) {
    for (const input of inputs) {
      const { kind, version, object } = compositeResource(input.url);
      if (kind !== 'sobject' || object === null) {
        throw unsupportedSubrequest(input, 'a composite graph', 'sObject resources only');
      }
      nodeTypes.add(`${version} ${input.method} ${object}`);
    }
  }
  if (nodeTypes.size > MAX_GRAPH_NODE_TYPES) {
    throw new SalesforceFault(
      400,
      'INVALID_BATCH_REQUEST',
      `A request can contain at most ${MAX_GRAPH_NODE_TYPES} different nodes (API version, method and object), ` +
        `found ${nodeTypes.size}`,
    );
  }
  let failures = 0;
  const responses = parsed.map(({ graphId, inputs }) => {
    if (failures > MAX_GRAPH_FAILURES) {
      return {
        graphId,
        graphResponse: { compositeResponse: inputs.map((input) => halted(input.referenceId, GRAPHS_HALTED)) },
        isSuccessful: false,
      };
    }
    const { outputs, failed } = runSubrequests(ctx, inputs, true);
    if (failed) failures += 1;
    return { graphId, graphResponse: { compositeResponse: outputs }, isSuccessful: !failed };
  });
  return { status: 200, body: { graphs: responses } };
}

function checkSubrequests(raw: unknown, max: number): SubrequestInput[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new SalesforceFault(
      400,
      'JSON_PARSER_ERROR',
      "The request body must have a non-empty 'compositeRequest' array",
    );
  }
  if (raw.length > max) {
    throw new SalesforceFault(
      400,
      'INVALID_BATCH_REQUEST',
      `Exceeded max limit of subrequests allowed in a composite request: ${max}`,
    );
  }
  const inputs = raw.map((entry) => checkSubrequest(entry));
  const seen = new Set<string>();
  for (const input of inputs) {
    if (seen.has(input.referenceId)) {
      throw new SalesforceFault(
        400,
        'INVALID_BATCH_REQUEST',
        `Duplicate referenceId provided in the request: ${input.referenceId}`,
      );
    }
    seen.add(input.referenceId);
  }
  return inputs;
}

/** Runs subrequests in order; with allOrNone, the first failure halts and rolls back the rest. */
function runSubrequests(
  ctx: RestContext,
  inputs: SubrequestInput[],
  allOrNone: boolean,
): { outputs: SubrequestOutput[]; failed: boolean } {
  const savepoint = ctx.org.store.savepoint();
  const writtenBefore = ctx.written.length;
  const outputs: SubrequestOutput[] = [];
  const results = new Map<string, SubrequestOutput>();
  let failed = false;
  for (const input of inputs) {
    if (failed && allOrNone) {
      outputs.push(halted(input.referenceId, HALTED));
      continue;
    }
    const output = runSubrequest(ctx, input, results);
    outputs.push(output);
    results.set(input.referenceId, output);
    if (output.httpStatusCode >= 400) failed = true;
  }
  if (failed && allOrNone) {
    ctx.org.store.rollbackTo(savepoint);
    ctx.written.length = writtenBefore;
    return {
      outputs: outputs.map((output) => (output.httpStatusCode < 400 ? halted(output.referenceId, HALTED) : output)),
      failed,
    };
  }
  return { outputs, failed };
}

function checkSubrequest(raw: unknown): SubrequestInput {
  const input = requireRecordBody(raw);
  const { method, url, referenceId } = input;
  if (typeof method !== 'string' || typeof url !== 'string' || typeof referenceId !== 'string') {
    throw new SalesforceFault(400, 'JSON_PARSER_ERROR', 'Each subrequest needs method, url and referenceId');
  }
  if (!/^[A-Za-z0-9_]+$/.test(referenceId)) {
    throw new SalesforceFault(400, 'INVALID_BATCH_REQUEST', `Invalid referenceId: ${referenceId}`);
  }
  const headers = input.httpHeaders;
  return {
    method: method.toUpperCase(),
    url,
    referenceId,
    body: input.body,
    httpHeaders: headers !== null && typeof headers === 'object' ? (headers as Record<string, string>) : {},
  };
}

function halted(referenceId: string, message: string): SubrequestOutput {
  return {
    body: [{ errorCode: 'PROCESSING_HALTED', message }],
    httpHeaders: {},
    httpStatusCode: 400,
    referenceId,
  };
}

const REFERENCE = /@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}/g;

class UnresolvedReference extends Error {}

function resolveReferences(text: string, results: Map<string, SubrequestOutput>): string {
  return text.replace(REFERENCE, (whole, referenceId: string, path: string) => {
    const output = results.get(referenceId);
    if (output === undefined || output.httpStatusCode >= 400) {
      throw new UnresolvedReference(
        `Invalid reference specified. No value for ${whole.slice(2, -1)} found in ${referenceId}. ` +
          `Provided referenceId ('${referenceId}') must be an existing, successful subrequest.`,
      );
    }
    let value: unknown = output.body;
    for (const step of path.match(/\.[A-Za-z0-9_]+|\[\d+\]/g) ?? []) {
      const key = step.startsWith('.') ? step.slice(1) : Number(step.slice(1, -1));
      value =
        value !== null && typeof value === 'object' ? (value as Record<string | number, unknown>)[key] : undefined;
    }
    if (value === undefined || value === null || typeof value === 'object') {
      throw new UnresolvedReference(
        `Invalid reference specified. No value for ${whole.slice(2, -1)} found in ${referenceId}.`,
      );
    }
    return String(value);
  });
}

function resolveBody(body: unknown, results: Map<string, SubrequestOutput>): unknown {
  if (typeof body === 'string') return resolveReferences(body, results);
  if (Array.isArray(body)) return body.map((item) => resolveBody(item, results));
  if (body !== null && typeof body === 'object') {
    return Object.fromEntries(Object.entries(body).map(([key, value]) => [key, resolveBody(value, results)]));
  }
  return body;
}

function runSubrequest(
  ctx: RestContext,
  input: SubrequestInput,
  results: Map<string, SubrequestOutput>,
): SubrequestOutput {
  let url: string;
  let body: unknown;
  try {
    url = resolveReferences(input.url, results);
    body = resolveBody(input.body, results);
  } catch (error) {
    if (error instanceof UnresolvedReference) return halted(input.referenceId, error.message);
    throw error;
  }
  const parsed = new URL(url, 'http://composite.invalid');
  const match = /^\/services\/data\/v(\d+\.\d)(\/.*)?$/.exec(parsed.pathname);
  const respond = (result: RestResult): SubrequestOutput => ({
    body: result.body ?? null,
    httpHeaders: result.headers ?? {},
    httpStatusCode: result.status,
    referenceId: input.referenceId,
  });
  if (match === null || !isSupportedVersion(match[1] as string)) return respond(errorResult(notFound()));
  const path = match[2] ?? '';
  const injected = ctx.faults.subrequestFailure({ method: input.method, path: parsed.pathname, orgId: ctx.org.orgId });
  if (injected !== null) return respond({ status: injected.status, body: injected.body });
  const headers = Object.fromEntries(
    Object.entries(input.httpHeaders ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]),
  );
  const result = handleRest(ctx, {
    method: input.method,
    path,
    version: match[1] as string,
    query: parsed.searchParams,
    headers,
    body,
  });
  if (result.status === 201 && typeof (result.body as { id?: unknown })?.id === 'string') {
    const objectType = path.split('/')[2] ?? '';
    result.headers = {
      ...result.headers,
      Location: `/services/data/v${match[1]}/sobjects/${objectType}/${(result.body as { id: string }).id}`,
    };
  }
  return respond(result);
}

function errorResult(error: SalesforceFault): RestResult {
  return { status: error.status, body: error.toBody() };
}
