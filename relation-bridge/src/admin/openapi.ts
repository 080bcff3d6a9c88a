import { OpenApiGeneratorV31, OpenAPIRegistry, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { changePasswordBody, createUserBody, setLanguageBody, signInBody, updateUserBody } from '../auth/routes';
import * as contract from './contract';
import {
  auditQuery,
  authorizeLinkBody,
  completePendingLinkBody,
  createLinkBody,
  inboxQuery,
  listActionsQuery,
  listLinksQuery,
  memberBody,
  registerInboxBody,
  renameInboxBody,
  retryActionsBody,
  startPendingLinkBody,
  updateLinkBody,
  webhookSecretBody,
} from './schemas';

/**
 * The admin API's OpenAPI document, made from the same zod schemas that validate its
 * requests (schemas.ts) and type its answers (contract.ts). `npm run docs:generate -w
 * relation-bridge` writes it to docs/openapi.json; a test fails when that file drifts, and
 * another when a route of the router is not in it.
 */

type Responses = RouteConfig['responses'];

const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/** A refusal in the one error shape; `description` names its codes. */
const refusal = (description: string) => json(contract.ErrorBody, description);

/** The refusals every authenticated endpoint can answer. */
const AUTH: Responses = {
  401: refusal(
    '`unauthorized`: no session and no (or a wrong) bearer token; `session_expired`: the console session ended.',
  ),
  403: refusal('`forbidden` (the role does not allow it) or `csrf_failed` (a session request without its CSRF token).'),
  503: refusal('`admin_api_disabled` (a bearer token, and no BRIDGE_ADMIN_TOKEN configured), or a dependency is down.'),
};
const BAD_REQUEST: Responses = {
  400: refusal(
    "`invalid_request` (with path-level `details`: each `{ path, message }` with `code` for a rule of the bridge, or zod's `issue` and its `minimum`, `maximum` or `format`), `invalid_json`, or an operation-specific code (`invalid_my_domain` with a `code` per detail, `my_domain_unreachable`, `invalid_owner_id`, `owner_not_found`, …).",
  ),
};
const notFound = (codes: string) => ({ 404: refusal(codes) });
const conflict = (codes: string) => ({ 409: refusal(codes) });

const id = (name: string, example: string) =>
  z.object({ [name]: z.string().meta({ example }) }) as z.ZodObject<Record<string, z.ZodString>>;
const linkId = id('id', 'lnk_3f9c0a1b2c3d4e5f60718293');
const inboxId = id('inboxId', '12');
const pendingId = id('id', 'pnd_3f9c0a1b2c3d4e5f60718293');

const body = (schema: z.ZodType) => ({ body: { required: true, content: { 'application/json': { schema } } } });

function operations(registry: OpenAPIRegistry): void {
  const add = (route: RouteConfig) => registry.registerPath(route);

  // links
  add({
    method: 'post',
    path: '/links/authorize',
    tags: ['links'],
    operationId: 'authorizeLink',
    summary: 'Start linking an inbox to a Salesforce org (inbox admin)',
    description:
      "Returns the Salesforce authorisation URL (PKCE + state, valid 10 minutes). Open it in a browser, sign in and allow access; Salesforce then sends the browser to the bridge's `GET /oauth/callback`, which checks that the org and the user have API access and creates the link. Poll `GET /links?inboxId=` to see it.",
    request: body(authorizeLinkBody),
    responses: {
      201: json(contract.AuthorizationStarted, 'The authorisation has started'),
      ...BAD_REQUEST,
      ...AUTH,
      ...conflict('`link_exists`: the inbox already has a link (one per inbox)'),
    },
  });
  add({
    method: 'get',
    path: '/links',
    tags: ['links'],
    operationId: 'listLinks',
    summary: 'Links of the inboxes the caller holds a role on, oldest first',
    request: { query: listLinksQuery },
    responses: { 200: json(contract.LinkList, 'The links'), ...BAD_REQUEST, ...AUTH },
  });
  add({
    method: 'get',
    path: '/links/{id}',
    tags: ['links'],
    operationId: 'getLink',
    summary: 'One link (deleted links too) (member)',
    request: { params: linkId },
    responses: { 200: json(contract.Link, 'The link'), ...AUTH, ...notFound('`link_not_found`') },
  });
  add({
    method: 'patch',
    path: '/links/{id}',
    tags: ['links'],
    operationId: 'updateLink',
    summary: 'Change the target or the default owner in place (inbox admin)',
    description:
      "Takes effect for actions synced from now on; no re-authorisation is needed. A new default owner who is not an active user of the org is refused with 400 `owner_not_found` when the bridge's current Salesforce session can check it (tokens are never refreshed for this); their name and email are kept with the link when it could. With `version` (the link's, as the page showed it), a link changed meanwhile in another tab or by another admin is not overwritten: 409 `link_changed`, and nothing changes.",
    request: { params: linkId, ...body(updateLinkBody) },
    responses: {
      200: json(contract.Link, 'The changed link'),
      ...BAD_REQUEST,
      ...AUTH,
      ...notFound('`link_not_found`'),
      ...conflict('`link_deleted`: a deleted link cannot change; `link_changed`: changed meanwhile, try again'),
    },
  });
  add({
    method: 'delete',
    path: '/links/{id}',
    tags: ['links'],
    operationId: 'deleteLink',
    summary: 'Delete a link and revoke its Salesforce authorisation (inbox admin)',
    description:
      'The link is deleted in every case; later actions of the inbox are recorded as `no_link`. The refresh token is revoked at Salesforce unless another link uses the same authorisation (same org and user). A failed revoke is reported, not fatal. Deleting an already deleted link answers 200 with `revokeSkipped: already_deleted`.',
    request: { params: linkId },
    responses: { 200: json(contract.DeleteResult, 'Deleted'), ...AUTH, ...notFound('`link_not_found`') },
  });
  add({
    method: 'post',
    path: '/links/{id}/reauthorize',
    tags: ['links'],
    operationId: 'reauthorizeLink',
    summary: 'Re-authenticate a link (needs_reauth, or active to rotate its tokens) (inbox admin)',
    description:
      'Returns an authorisation URL like `POST /links/authorize`. Sign in as the user who authorised the link, in the same org. On success the link (and any other link of the same authorisation) becomes active and its held actions are synced.',
    request: { params: linkId },
    responses: {
      201: json(contract.AuthorizationStarted, 'The authorisation has started'),
      ...AUTH,
      ...notFound('`link_not_found`'),
      ...conflict('`link_deleted` or `link_not_reauthorizable` (disabled)'),
    },
  });
  add({
    method: 'get',
    path: '/links/{id}/salesforce-users',
    tags: ['wizard'],
    operationId: 'linkSalesforceUsers',
    summary: "The org's active users, to choose the link's default owner (inbox admin)",
    description: "One SOQL call with the link's authorisation (refreshed with the sync engine's session if needed).",
    request: { params: linkId },
    responses: {
      200: json(contract.SalesforceUserList, 'The users'),
      ...AUTH,
      ...notFound('`link_not_found`'),
      ...conflict('`auth_needs_reauth`: Salesforce refused the authorisation'),
    },
  });
  add({
    method: 'post',
    path: '/links',
    tags: ['wizard'],
    operationId: 'createLinkWithAuthorization',
    summary:
      'Link an inbox by reusing an authorisation the bridge holds; no OAuth round-trip (inbox admin, registered inbox)',
    description:
      'One API call proves the authorisation still works and that the default owner (the authorising user unless given) is an active user of the org.',
    request: body(createLinkBody),
    responses: {
      201: json(contract.Link, 'The link'),
      ...BAD_REQUEST,
      ...AUTH,
      ...notFound('`inbox_not_found` or `auth_not_found`'),
      ...conflict('`link_exists`, or `auth_needs_reauth` (re-authenticate a link of it first)'),
    },
  });

  // health and actions
  add({
    method: 'get',
    path: '/inboxes/{inboxId}/health',
    tags: ['health'],
    operationId: 'inboxHealth',
    summary: 'Link status, action counts of the last 24 h, org API usage and problems (member)',
    request: { params: inboxId },
    responses: { 200: json(contract.InboxHealth, 'The health of the inbox (also without a link)'), ...AUTH },
  });
  add({
    method: 'get',
    path: '/actions',
    tags: ['actions'],
    operationId: 'listActions',
    summary: 'The action log, newest change first, paged',
    description:
      "Without `inboxId`, only an owner may list (403 otherwise). Inbox members and admins read their inbox's actions. `state` and `reason` take one or more values, comma-separated or repeated.",
    request: { query: listActionsQuery },
    responses: { 200: json(contract.ActionsPage, 'One page'), ...BAD_REQUEST, ...AUTH },
  });
  add({
    method: 'get',
    path: '/actions/{actionId}',
    tags: ['actions'],
    operationId: 'getAction',
    summary: 'One action, with the webhook body it arrived with (member)',
    request: { params: id('actionId', 'act_01J9Z8Q6') },
    responses: { 200: json(contract.ActionWithPayload, 'The action'), ...AUTH, ...notFound('`action_not_found`') },
  });
  add({
    method: 'post',
    path: '/actions/retry',
    tags: ['actions'],
    operationId: 'retryActions',
    summary: 'Send failed, held or unmatched actions through the sync again (inbox admin)',
    description: 'Other states are left as they are and not counted.',
    request: body(retryActionsBody),
    responses: { 200: json(contract.RetryResult, 'How many actions are pending again'), ...BAD_REQUEST, ...AUTH },
  });

  // session and users
  add({
    method: 'post',
    path: '/session',
    tags: ['session'],
    operationId: 'signIn',
    summary: 'Sign in to the console',
    description:
      'Sets the session cookie. Repeated failures lock further attempts for a while (429 with Retry-After) for the account and address, the account, and the address, whatever the password. The body must be JSON, so a cross-site form cannot sign anyone in.',
    security: [],
    request: body(signInBody),
    responses: {
      200: json(contract.Session, 'Signed in (Set-Cookie: the session cookie, httpOnly, SameSite=Lax)'),
      ...BAD_REQUEST,
      401: refusal('`invalid_credentials`: the email or the password is wrong'),
      429: refusal('`too_many_attempts` (details.retryAfterSeconds, and Retry-After)'),
    },
  });
  add({
    method: 'get',
    path: '/session',
    tags: ['session'],
    operationId: 'getSession',
    summary: "The signed-in user, their roles and the session's CSRF token",
    description: 'For the admin token, `user` is null and `isOwner` true.',
    responses: { 200: json(contract.Session, 'The session'), ...AUTH },
  });
  add({
    method: 'delete',
    path: '/session',
    tags: ['session'],
    operationId: 'signOut',
    summary: 'Sign out (the session ends in the store, the cookie is cleared)',
    responses: { 204: { description: 'Signed out' }, ...AUTH },
  });
  add({
    method: 'put',
    path: '/session/password',
    tags: ['session'],
    operationId: 'changePassword',
    summary: "Change one's own password; every other session of the user ends",
    request: body(changePasswordBody),
    responses: {
      204: { description: 'Changed' },
      400: refusal(
        '`wrong_current_password` (the session stays), `invalid_request` (details: `code` `common_password` for one of the commonest passwords)',
      ),
      ...AUTH,
    },
  });
  add({
    method: 'put',
    path: '/session/language',
    tags: ['session'],
    operationId: 'setLanguage',
    summary: "Choose one's own language: of one's notice e-mails, and of the console at sign-in",
    request: body(setLanguageBody),
    responses: {
      200: json(contract.ConsoleUser, 'The user, with the language chosen'),
      400: refusal('`invalid_request`; `no_session` for the admin token, which has no language'),
      ...AUTH,
    },
  });
  add({
    method: 'get',
    path: '/users',
    tags: ['users'],
    operationId: 'listUsers',
    summary: 'Console users with their inbox roles (owner)',
    responses: { 200: json(contract.UserList, 'The users'), ...AUTH },
  });
  add({
    method: 'post',
    path: '/users',
    tags: ['users'],
    operationId: 'createUser',
    summary: 'Add a console user (owner); the first-run `users create-owner` of the CLI calls this',
    description: 'Without `password` one is generated and returned once in `generatedPassword`.',
    request: body(createUserBody),
    responses: {
      201: json(contract.CreatedUser, 'Created'),
      ...BAD_REQUEST,
      ...AUTH,
      ...conflict('`email_taken`'),
    },
  });
  add({
    method: 'patch',
    path: '/users/{userId}',
    tags: ['users'],
    operationId: 'updateUser',
    summary: "Rename, make or unmake an owner, or set a new password (which ends the user's sessions) (owner)",
    request: { params: id('userId', 'usr_3f9c0a1b2c3d4e5f'), ...body(updateUserBody) },
    responses: {
      200: json(contract.ConsoleUser, 'The user'),
      ...BAD_REQUEST,
      ...AUTH,
      ...notFound('`user_not_found`'),
      ...conflict('`last_owner`: the console must keep one owner'),
    },
  });
  add({
    method: 'delete',
    path: '/users/{userId}',
    tags: ['users'],
    operationId: 'deleteUser',
    summary: 'Delete a user with their sessions and roles (owner)',
    request: { params: id('userId', 'usr_3f9c0a1b2c3d4e5f') },
    responses: {
      204: { description: 'Deleted' },
      ...AUTH,
      ...notFound('`user_not_found`'),
      ...conflict('`last_owner`'),
    },
  });

  // inboxes
  add({
    method: 'get',
    path: '/inboxes',
    tags: ['inboxes'],
    operationId: 'listInboxes',
    summary: 'Registered inboxes the caller holds a role on; for owners also those seen but not registered',
    responses: { 200: json(contract.InboxList, 'The inboxes'), ...AUTH },
  });
  add({
    method: 'post',
    path: '/inboxes',
    tags: ['inboxes'],
    operationId: 'registerInbox',
    summary: 'Register an inbox with the id and name the helpdesk gives it (owner)',
    request: body(registerInboxBody),
    responses: {
      201: json(contract.Inbox, 'Registered'),
      ...BAD_REQUEST,
      ...AUTH,
      ...conflict('`inbox_exists`'),
    },
  });
  add({
    method: 'get',
    path: '/inboxes/{inboxId}',
    tags: ['inboxes'],
    operationId: 'getInbox',
    summary: "One registered inbox with the caller's role (member)",
    request: { params: inboxId },
    responses: { 200: json(contract.Inbox, 'The inbox'), ...AUTH, ...notFound('`inbox_not_found`') },
  });
  add({
    method: 'patch',
    path: '/inboxes/{inboxId}',
    tags: ['inboxes'],
    operationId: 'renameInbox',
    summary: 'Rename a registered inbox (owner)',
    request: { params: inboxId, ...body(renameInboxBody) },
    responses: {
      200: json(contract.Inbox, 'The inbox'),
      ...BAD_REQUEST,
      ...AUTH,
      ...notFound('`inbox_not_found`'),
    },
  });
  add({
    method: 'delete',
    path: '/inboxes/{inboxId}',
    tags: ['inboxes'],
    operationId: 'unregisterInbox',
    summary: 'Remove the registration and its roles (owner); a link of the inbox keeps syncing',
    request: { params: inboxId },
    responses: { 204: { description: 'Removed' }, ...AUTH, ...notFound('`inbox_not_found`') },
  });
  add({
    method: 'get',
    path: '/inboxes/{inboxId}/members',
    tags: ['inboxes'],
    operationId: 'listInboxMembers',
    summary: 'Who holds which role on the inbox (member)',
    request: { params: inboxId },
    responses: { 200: json(contract.MemberList, 'The members'), ...AUTH },
  });
  add({
    method: 'put',
    path: '/inboxes/{inboxId}/members/{userId}',
    tags: ['inboxes'],
    operationId: 'setInboxRole',
    summary: 'Give a user a role on the inbox, or change it (owner)',
    request: {
      params: z.object({ inboxId: z.string().meta({ example: '12' }), userId: z.string() }),
      ...body(memberBody),
    },
    responses: {
      200: json(contract.Member, 'The membership'),
      ...BAD_REQUEST,
      ...AUTH,
      ...notFound('`inbox_not_found` or `user_not_found`'),
    },
  });
  add({
    method: 'delete',
    path: '/inboxes/{inboxId}/members/{userId}',
    tags: ['inboxes'],
    operationId: 'removeInboxRole',
    summary: "Take the user's role on the inbox away (owner)",
    request: { params: z.object({ inboxId: z.string().meta({ example: '12' }), userId: z.string() }) },
    responses: { 204: { description: 'Removed' }, ...AUTH },
  });
  add({
    method: 'get',
    path: '/inboxes/{inboxId}/audit',
    tags: ['inboxes'],
    operationId: 'inboxLinkAudit',
    summary: "Who created, changed, re-authorised or deleted the inbox's links, when, from and to (member)",
    request: { params: inboxId, query: auditQuery },
    responses: { 200: json(contract.AuditLog, 'Newest first'), ...BAD_REQUEST, ...AUTH },
  });

  // the wizard
  add({
    method: 'post',
    path: '/pending-links',
    tags: ['wizard'],
    operationId: 'startPendingLink',
    summary: '新しい認証を追加 → 認証; the target is chosen after Salesforce (inbox admin, registered inbox)',
    description:
      'Returns the Salesforce authorisation URL (PKCE + state, valid 10 minutes). After the login and allow pages, `GET /oauth/callback` verifies API access and keeps the authorisation as a pending link (tokens encrypted) for 30 minutes; nothing syncs through it. Started from a console session, the callback must come with the same session and sends the browser back into the console at the target step; otherwise it is refused (`session_mismatch`) and nothing is saved. A pending link not completed in time is revoked at Salesforce and removed.',
    request: body(startPendingLinkBody),
    responses: {
      201: json(contract.AuthorizationStarted, 'The authorisation has started'),
      ...BAD_REQUEST,
      ...AUTH,
      ...notFound('`inbox_not_found`: an owner registers the inbox first'),
      ...conflict('`link_exists`: the inbox already has a link'),
    },
  });
  add({
    method: 'get',
    path: '/pending-links',
    tags: ['wizard'],
    operationId: 'listPendingLinks',
    summary:
      'Pending links that have not expired and can still complete (inbox admin with inboxId; owner without); one whose inbox was linked meanwhile is revoked and removed instead',
    request: { query: inboxQuery },
    responses: { 200: json(contract.PendingLinkList, 'The pending links'), ...BAD_REQUEST, ...AUTH },
  });
  add({
    method: 'get',
    path: '/pending-links/{id}',
    tags: ['wizard'],
    operationId: 'getPendingLink',
    summary: 'One pending link (inbox admin)',
    request: { params: pendingId },
    responses: {
      200: json(contract.PendingLink, 'The pending link'),
      ...AUTH,
      ...notFound('`pending_link_not_found` (or expired)'),
    },
  });
  add({
    method: 'delete',
    path: '/pending-links/{id}',
    tags: ['wizard'],
    operationId: 'discardPendingLink',
    summary: "キャンセル; revokes the pending link's grant at Salesforce and forgets it (inbox admin)",
    request: { params: pendingId },
    responses: {
      200: json(contract.DiscardResult, 'Discarded'),
      ...AUTH,
      ...notFound('`pending_link_not_found`'),
    },
  });
  add({
    method: 'get',
    path: '/pending-links/{id}/salesforce-users',
    tags: ['wizard'],
    operationId: 'pendingLinkSalesforceUsers',
    summary: "The org's active users, to choose the default owner (inbox admin)",
    request: { params: pendingId },
    responses: {
      200: json(contract.SalesforceUserList, 'The users'),
      ...AUTH,
      ...notFound('`pending_link_not_found`'),
    },
  });
  add({
    method: 'post',
    path: '/pending-links/{id}/complete',
    tags: ['wizard'],
    operationId: 'completePendingLink',
    summary: '完了; the chosen target ([リード] and/or [取引先責任者]) and default owner make the link (inbox admin)',
    request: { params: pendingId, ...body(completePendingLinkBody) },
    responses: {
      201: json(contract.Link, 'The link'),
      ...BAD_REQUEST,
      ...AUTH,
      ...notFound('`pending_link_not_found`'),
      ...conflict('`link_exists`'),
    },
  });
  add({
    method: 'get',
    path: '/salesforce-auths',
    tags: ['wizard'],
    operationId: 'listSalesforceAuthorizations',
    summary:
      'The Salesforce authorisations the bridge holds, to reuse for another inbox (inbox admin of any inbox, or owner)',
    responses: { 200: json(contract.AuthorizationList, 'The authorisations (never their tokens)'), ...AUTH },
  });
  add({
    method: 'get',
    path: '/salesforce-auths/{authId}/salesforce-users',
    tags: ['wizard'],
    operationId: 'authorizationSalesforceUsers',
    summary: "The org's active users, for a link that reuses this authorisation",
    request: { params: id('authId', 'auth_3f9c0a1b2c3d4e5f') },
    responses: {
      200: json(contract.SalesforceUserList, 'The users'),
      ...AUTH,
      ...notFound('`auth_not_found`'),
      ...conflict('`auth_needs_reauth`'),
    },
  });

  // webhook secrets
  add({
    method: 'get',
    path: '/webhook-secrets',
    tags: ['webhook-secrets'],
    operationId: 'listWebhookSecrets',
    summary: 'Active secrets, from WEBHOOK_SECRETS and from the console (owner); never the secrets themselves',
    responses: { 200: json(contract.WebhookSecretList, 'The secrets'), ...AUTH },
  });
  add({
    method: 'post',
    path: '/webhook-secrets',
    tags: ['webhook-secrets'],
    operationId: 'addWebhookSecret',
    summary: 'Add a secret (stored encrypted), or generate one, returned once (owner)',
    description:
      'It is accepted at once, next to the others; revoke the old one after the helpdesk switched. A given secret must hold at least 24 random bytes.',
    request: body(webhookSecretBody),
    responses: {
      201: json(contract.AddedWebhookSecret, 'Added'),
      ...BAD_REQUEST,
      ...AUTH,
    },
  });
  add({
    method: 'delete',
    path: '/webhook-secrets/{id}',
    tags: ['webhook-secrets'],
    operationId: 'revokeWebhookSecret',
    summary: 'Revoke a console secret (owner); webhooks signed with it are refused from now on',
    request: { params: id('id', 'whs_3f9c0a1b2c3d4e5f') },
    responses: {
      204: { description: 'Revoked' },
      ...AUTH,
      ...notFound('`webhook_secret_not_found`'),
      ...conflict('`configured_secret`: it comes from WEBHOOK_SECRETS; remove it there'),
    },
  });
}

/** The whole document, as docs/openapi.json holds it. */
export function adminApiDocument(): ReturnType<OpenApiGeneratorV31['generateDocument']> {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'adminToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'The value of BRIDGE_ADMIN_TOKEN (acts as an owner).',
  });
  registry.registerComponent('securitySchemes', 'consoleSession', {
    type: 'apiKey',
    in: 'cookie',
    name: 'relation_bridge_session',
    description:
      'Set by `POST /session`: httpOnly, SameSite=Lax, Path=/; named `__Host-relation_bridge_session` and Secure when BRIDGE_PUBLIC_URL is https. Ends after CONSOLE_SESSION_IDLE_MINUTES without a request and CONSOLE_SESSION_MAX_HOURS after sign-in.',
  });
  registry.registerComponent('securitySchemes', 'csrfToken', {
    type: 'apiKey',
    in: 'header',
    name: 'X-CSRF-Token',
    description:
      'The `csrfToken` of `POST /session` or `GET /session`; required with the cookie on every request that is not GET.',
  });
  operations(registry);
  return new OpenApiGeneratorV31(registry.definitions, { sortComponents: 'alphabetically' }).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'relation-bridge admin API',
      version: '1.0.0',
      description:
        'Links (inbox → Salesforce org), inbox health, the action log, and the console\'s accounts, inboxes and roles. Every endpoint but `POST /session` needs either `Authorization: Bearer <BRIDGE_ADMIN_TOKEN>` (scripts and the CLI; acts as an owner) or the console\'s session cookie, with the session\'s CSRF token in `X-CSRF-Token` on every request that is not GET. Roles: an owner may do everything; an inbox admin manages the inbox\'s link and retries its actions; an inbox member reads. Anything else is 403 `forbidden`. Errors are `{ "error", "message", "details"? }`. Times are ISO 8601 in UTC. No response ever carries a token, a password hash or a client secret. Generated from relation-bridge/src/admin (npm run docs:generate -w relation-bridge); the prose guide is docs/admin-api.md.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: 'http://127.0.0.1:8080/api/v1', description: 'A bridge on its default address' }],
    security: [{ adminToken: [] }, { consoleSession: [], csrfToken: [] }],
    tags: [
      { name: 'links', description: 'Inbox → Salesforce org links, created through the OAuth 2.0 web-server flow' },
      { name: 'health' },
      { name: 'actions', description: 'The error and audit log of received actions' },
      { name: 'session', description: 'Signing in to the console, and the signed-in user' },
      { name: 'users', description: 'Console accounts (owners only)' },
      { name: 'inboxes', description: 'Registered inboxes, roles on them, and the link audit log' },
      { name: 'wizard', description: "The console's link wizard, step by step (also scriptable)" },
      {
        name: 'webhook-secrets',
        description: 'The secrets the webhook intake accepts, several at once for rotation (owners only)',
      },
    ],
  });
}
