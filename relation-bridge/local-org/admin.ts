import { SalesforceFault } from './errors';
import type { FaultHandle, RequestMatch } from './faults';
import type { HttpResult } from './oauth';
import { RecordRejected, type LocalOrg, type OrgSettings } from './org';
import { seedDemoOrg } from './seed';
import type { LocalSalesforce } from './server';

/**
 * The control API at `/__local/…` (JSON in, JSON out), for the demo and for tests that
 * drive the local org from another process. Not part of the Salesforce emulation: never
 * counted, never subject to faults. README.md lists every route.
 */

class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function reply(status: number, body: unknown): HttpResult {
  return { status, headers: { 'Content-Type': 'application/json;charset=UTF-8' }, body: JSON.stringify(body) };
}

function objectBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AdminError(400, 'body must be JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new AdminError(400, 'body must be a JSON object');
  return parsed as Record<string, unknown>;
}

export function orgSummary(sf: LocalSalesforce, org: LocalOrg) {
  return {
    orgId: org.orgId,
    name: org.name,
    slug: org.slug,
    sandbox: org.sandbox,
    namespace: org.namespace,
    packageInstalled: org.packageInstalled,
    instanceUrl: org.instanceUrl,
    loginUrl: sf.loginUrlFor(org),
    myDomainLoginUrl: org.instanceUrl,
    settings: org.settings,
    apiUsage: org.apiUsage(),
    users: org.allUsers().map((user) => ({
      id: user.id,
      username: user.username,
      email: user.email,
      name: user.name,
      isActive: user.isActive,
      apiEnabled: user.apiEnabled,
      frozen: user.frozen,
      manageUsers: user.manageUsers,
      permissionSets: [...user.permissionSets],
    })),
  };
}

const SETTING_TYPES: Record<keyof OrgSettings, 'boolean' | 'number' | 'nullableNumber' | 'refusal'> = {
  apiEnabled: 'boolean',
  appInstalled: 'boolean',
  dailyApiMax: 'number',
  accessTokenLifetimeMs: 'number',
  refreshTokenRotation: 'boolean',
  refreshTokenLifetimeMs: 'nullableNumber',
  refreshTokenExpiresImmediately: 'boolean',
  refreshTokenIdleLifetimeMs: 'nullableNumber',
  requireSecretForRefresh: 'boolean',
  searchIndexLagMs: 'number',
  userLoginRefusal: 'refusal',
  eventMaxSpanDays: 'nullableNumber',
  leadWithWhatIdAllowed: 'boolean',
  convertedLeadAsWhoAllowed: 'boolean',
};

function applySettings(org: LocalOrg, changes: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(changes)) {
    const type = SETTING_TYPES[name as keyof OrgSettings];
    if (type === undefined) throw new AdminError(400, `unknown setting ${name}`);
    const ok =
      type === 'refusal'
        ? value === 'INVALID_TYPE' || value === 'INSUFFICIENT_ACCESS'
        : type === 'boolean'
          ? typeof value === 'boolean'
          : typeof value === 'number' || (type === 'nullableNumber' && value === null);
    if (!ok) throw new AdminError(400, `setting ${name} must be a ${type}`);
  }
  Object.assign(org.settings, changes);
}

function requestMatch(body: Record<string, unknown>): RequestMatch {
  const match: RequestMatch = {};
  if (typeof body.path === 'string') match.path = body.path;
  if (typeof body.pathRegex === 'string') match.path = new RegExp(body.pathRegex);
  if (typeof body.method === 'string') match.method = body.method;
  if (typeof body.orgId === 'string') match.orgId = body.orgId;
  if (typeof body.count === 'number') match.count = body.count;
  if (body.count === null) match.count = Infinity;
  return match;
}

function addFault(sf: LocalSalesforce, body: Record<string, unknown>): FaultHandle {
  const match = requestMatch(body);
  switch (body.type) {
    case 'fail':
      if (typeof body.status !== 'number') throw new AdminError(400, 'fail needs a numeric status');
      return sf.faults.failNext({
        ...match,
        status: body.status,
        body: body.body ?? '',
        ...(body.headers !== undefined ? { headers: body.headers as Record<string, string> } : {}),
      });
    case 'serverError':
      return sf.faults.serverError({
        ...match,
        ...(body.status === 500 || body.status === 502 ? { status: body.status } : {}),
      });
    case 'lockRequests':
      return sf.faults.lockRequests(match);
    case 'lockRecords':
      return sf.faults.lockRecords({
        ...(typeof body.count === 'number' ? { count: body.count } : {}),
        ...(typeof body.objectType === 'string' ? { objectType: body.objectType } : {}),
        ...(typeof body.orgId === 'string' ? { orgId: body.orgId } : {}),
      });
    case 'hang':
      return sf.faults.hangNext(match);
    case 'latency':
      if (typeof body.ms !== 'number') throw new AdminError(400, 'latency needs ms');
      return sf.faults.addLatency({ ...match, ms: body.ms });
    case 'holdAfterCommit':
      return sf.faults.holdAfterCommit(match);
    default:
      throw new AdminError(
        400,
        'type must be fail, serverError, lockRequests, lockRecords, hang, latency or holdAfterCommit',
      );
  }
}

export async function handleAdmin(sf: LocalSalesforce, method: string, url: URL, rawBody: Buffer): Promise<HttpResult> {
  try {
    return await route(sf, method, url, rawBody);
  } catch (error) {
    if (error instanceof AdminError) return reply(error.status, { error: error.message });
    if (error instanceof RecordRejected) return reply(400, { error: error.message, errors: error.errors });
    if (error instanceof SalesforceFault) return reply(error.status, error.toBody());
    // The org's helpers throw plain errors for unknown ids and objects: the caller's mistake.
    if (error instanceof Error) return reply(400, { error: error.message });
    throw error;
  }
}

async function route(sf: LocalSalesforce, method: string, url: URL, rawBody: Buffer): Promise<HttpResult> {
  const parts = url.pathname
    .split('/')
    .filter((part) => part !== '')
    .slice(1);
  const body = objectBody(rawBody);
  const [first, second, third, fourth] = parts;
  const is = (verb: string, length: number) => method === verb && parts.length === length;

  if (first === undefined && method === 'GET') {
    return reply(200, {
      baseUrl: sf.baseUrl,
      productionLoginUrl: sf.productionLoginUrl,
      sandboxLoginUrl: sf.sandboxLoginUrl,
      app: { name: sf.app.name, clientId: sf.app.clientId, callbackUrls: sf.app.callbackUrls, scopes: sf.app.scopes },
      orgs: sf.orgs().map((org) => orgSummary(sf, org)),
    });
  }
  if (first === 'app' && is('PATCH', 1)) {
    if (Array.isArray(body.callbackUrls)) sf.app.callbackUrls.splice(0, Infinity, ...body.callbackUrls.map(String));
    if (typeof body.pkceRequired === 'boolean') sf.app.pkceRequired = body.pkceRequired;
    if (Array.isArray(body.scopes)) sf.app.scopes.splice(0, Infinity, ...body.scopes.map(String));
    return reply(200, { callbackUrls: sf.app.callbackUrls, pkceRequired: sf.app.pkceRequired, scopes: sf.app.scopes });
  }
  if (first === 'faults') {
    if (is('GET', 1)) return reply(200, sf.faults.list());
    if (is('POST', 1)) return reply(201, { id: addFault(sf, body).id });
    if (is('DELETE', 1)) {
      sf.faults.clear();
      return reply(200, { cleared: true });
    }
    if (second !== undefined && is('DELETE', 2)) return reply(sf.faults.remove(second) ? 200 : 404, { id: second });
    if (second !== undefined && third === 'release' && is('POST', 3)) {
      return reply(sf.faults.release(second) ? 200 : 404, { id: second });
    }
  }
  if (first === 'commits' && is('GET', 1)) {
    return reply(200, sf.commits(Number(url.searchParams.get('after') ?? 0)));
  }
  if (first === 'orgs') {
    if (is('GET', 1))
      return reply(
        200,
        sf.orgs().map((org) => orgSummary(sf, org)),
      );
    if (is('POST', 1)) {
      if (typeof body.name !== 'string') throw new AdminError(400, 'name is required');
      const org = sf.createOrg({
        name: body.name,
        ...(typeof body.sandbox === 'boolean' ? { sandbox: body.sandbox } : {}),
        ...(typeof body.namespace === 'string' ? { namespace: body.namespace } : {}),
        ...(typeof body.dailyApiMax === 'number' ? { dailyApiMax: body.dailyApiMax } : {}),
        ...(typeof body.packageInstalled === 'boolean' ? { packageInstalled: body.packageInstalled } : {}),
        ...(typeof body.linkPolicyAndHealth === 'boolean' ? { linkPolicyAndHealth: body.linkPolicyAndHealth } : {}),
      });
      const seeded = body.seed === true ? seedDemoOrg(org) : null;
      return reply(201, { ...orgSummary(sf, org), seeded });
    }
    const org = second === undefined ? undefined : sf.org(second);
    if (org === undefined) throw new AdminError(404, `no org ${second ?? ''}`);
    return orgRoute(sf, org, method, parts.slice(2), url, body, third, fourth);
  }
  throw new AdminError(404, `no route ${method} ${url.pathname}`);
}

function orgRoute(
  sf: LocalSalesforce,
  org: LocalOrg,
  method: string,
  rest: string[],
  url: URL,
  body: Record<string, unknown>,
  third: string | undefined,
  fourth: string | undefined,
): HttpResult {
  const is = (verb: string, length: number) => method === verb && rest.length === length;
  if (is('GET', 0)) return reply(200, orgSummary(sf, org));
  switch (third) {
    case 'settings':
      if (is('GET', 1)) return reply(200, org.settings);
      if (is('PATCH', 1)) {
        applySettings(org, body);
        return reply(200, org.settings);
      }
      break;
    case 'users':
      if (is('POST', 1)) {
        if (typeof body.username !== 'string' || typeof body.email !== 'string' || typeof body.lastName !== 'string') {
          throw new AdminError(400, 'username, email and lastName are required');
        }
        const user = org.addUser({
          username: body.username,
          email: body.email,
          lastName: body.lastName,
          ...(typeof body.firstName === 'string' ? { firstName: body.firstName } : {}),
          ...(typeof body.password === 'string' ? { password: body.password } : {}),
          ...(typeof body.isActive === 'boolean' ? { isActive: body.isActive } : {}),
          ...(typeof body.apiEnabled === 'boolean' ? { apiEnabled: body.apiEnabled } : {}),
          ...(typeof body.frozen === 'boolean' ? { frozen: body.frozen } : {}),
          ...(typeof body.manageUsers === 'boolean' ? { manageUsers: body.manageUsers } : {}),
          ...(Array.isArray(body.permissionSets) ? { permissionSets: body.permissionSets.map(String) } : {}),
        });
        return reply(201, { id: user.id, username: user.username, permissionSets: [...user.permissionSets] });
      }
      if (fourth !== undefined && rest[2] === 'permission-sets' && rest[3] !== undefined && rest.length === 4) {
        if (org.user(fourth) === undefined) throw new AdminError(404, `no user ${fourth}`);
        if (method === 'PUT') org.assignPermissionSet(fourth, rest[3]);
        else if (method === 'DELETE') org.removePermissionSet(fourth, rest[3]);
        else break;
        return reply(200, { id: fourth, permissionSets: [...(org.user(fourth)?.permissionSets ?? [])] });
      }
      if (fourth !== undefined && is('PATCH', 2)) {
        if (org.user(fourth) === undefined) throw new AdminError(404, `no user ${fourth}`);
        if (typeof body.isActive === 'boolean') org.setUserActive(fourth, body.isActive);
        if (typeof body.apiEnabled === 'boolean') org.setUserApiEnabled(fourth, body.apiEnabled);
        if (typeof body.frozen === 'boolean') org.setUserFrozen(fourth, body.frozen);
        if (typeof body.manageUsers === 'boolean') org.setUserManageUsers(fourth, body.manageUsers);
        if (typeof body.password === 'string') org.setUserPassword(fourth, body.password);
        return reply(200, { id: fourth });
      }
      break;
    case 'package':
      if (is('PUT', 1)) {
        org.installPackage();
        return reply(200, { packageInstalled: true });
      }
      if (is('DELETE', 1)) {
        org.uninstallPackage();
        return reply(200, { packageInstalled: false });
      }
      break;
    case 'expire-access-tokens':
      if (is('POST', 1)) return reply(200, { expired: org.expireAccessTokens() });
      break;
    case 'revoke-refresh-tokens':
      if (is('POST', 1)) {
        return reply(200, {
          revoked: org.revokeRefreshTokens(typeof body.userId === 'string' ? body.userId : undefined),
        });
      }
      break;
    case 'api-usage':
      if (is('GET', 1)) return reply(200, { ...org.apiUsage(), calls: org.apiCalls() });
      if (is('PUT', 1)) {
        if (body.exhausted === true) org.exhaustApiBudget();
        else if (typeof body.used === 'number') org.setApiUsage(body.used);
        else throw new AdminError(400, 'give used (a number) or exhausted: true');
        return reply(200, org.apiUsage());
      }
      break;
    case 'api-calls':
      if (is('GET', 1)) return reply(200, org.apiCalls());
      if (is('DELETE', 1)) {
        org.resetApiCalls();
        return reply(200, org.apiCalls());
      }
      break;
    case 'query':
      if (is('GET', 1)) return reply(200, org.query(url.searchParams.get('q') ?? ''));
      break;
    case 'records':
      if (fourth !== undefined && is('GET', 2))
        return reply(200, org.records(fourth, { includeDeleted: url.searchParams.get('includeDeleted') === 'true' }));
      if (fourth !== undefined && is('POST', 2)) return reply(201, { id: org.insert(fourth, body) });
      if (fourth !== undefined && is('DELETE', 2)) {
        org.deleteRecord(fourth);
        return reply(200, { id: fourth, deleted: true });
      }
      break;
    case 'leads':
      if (fourth !== undefined && rest[2] === 'convert' && is('POST', 3)) return reply(200, org.convertLead(fourth));
      break;
    case 'custom-metadata': {
      const developerName = rest[2];
      if (fourth !== undefined && is('GET', 2)) return reply(200, org.customMetadata(fourth));
      if (fourth !== undefined && developerName !== undefined && is('PUT', 3)) {
        return reply(200, { id: org.setCustomMetadata(fourth, developerName, body) });
      }
      if (fourth !== undefined && developerName !== undefined && is('DELETE', 3)) {
        org.deleteCustomMetadata(fourth, developerName);
        return reply(200, { developerName, deleted: true });
      }
      break;
    }
    default:
      break;
  }
  throw new AdminError(404, `no route ${method} ${url.pathname}`);
}
