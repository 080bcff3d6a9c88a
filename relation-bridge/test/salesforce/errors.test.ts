import {
  classifyOAuthError,
  classifySalesforceError,
  OAUTH_RATE_LIMIT_BACKOFF_MS,
  transportError,
} from '../../src/salesforce/errors';

const sf = (errorCode: string, message = 'message') => [{ errorCode, message }];

describe('classifySalesforceError', () => {
  it.each([
    [503, sf('SERVER_UNAVAILABLE'), 'retryable'],
    [500, sf('UNKNOWN_EXCEPTION'), 'retryable'],
    [502, '<html>Bad Gateway</html>', 'retryable'],
    [400, sf('UNABLE_TO_LOCK_ROW'), 'retryable'],
    [429, null, 'retryable'],
    [403, sf('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'), 'api_budget'],
    [403, sf('REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded.'), 'retryable'],
    [401, sf('INVALID_SESSION_ID', 'Session expired or invalid'), 'needs_reauth'],
    [403, sf('API_DISABLED_FOR_ORG', 'The REST API is not enabled for this Organization.'), 'needs_reauth'],
    [403, sf('INSUFFICIENT_ACCESS', 'insufficient access'), 'needs_reauth'],
    [400, sf('INVALID_FIELD'), 'permanent'],
    [404, sf('INVALID_TYPE'), 'permanent'],
    [400, sf('MALFORMED_QUERY'), 'permanent'],
    [400, sf('JSON_PARSER_ERROR'), 'permanent'],
    [414, sf('URI_TOO_LONG'), 'permanent'],
  ])('maps %i %j to %s', (status, body, kind) => {
    expect(classifySalesforceError(status, body).kind).toBe(kind);
  });

  it('keeps Salesforce’s code, message and fields', () => {
    const error = classifySalesforceError(403, [
      { errorCode: 'API_DISABLED_FOR_ORG', message: 'The REST API is not enabled for this Organization.', fields: [] },
    ]);
    expect(error.code).toBe('API_DISABLED_FOR_ORG');
    expect(error.remoteMessage).toBe('The REST API is not enabled for this Organization.');
    expect(error.remoteStatus).toBe(403);
    expect(error.message).toContain('API access');
  });

  it('says what to check when a field or object is unknown (the package may be missing)', () => {
    const error = classifySalesforceError(400, [
      { errorCode: 'INVALID_FIELD', message: "No such column 'inbx__Action_Id__c' on sobject of type Event" },
    ]);
    expect(error.message).toContain('managed package');
    expect(error.remoteMessage).toContain('inbx__Action_Id__c');
  });

  it('reads an error body that is a single object, and an unreadable one', () => {
    expect(classifySalesforceError(400, { errorCode: 'INVALID_TYPE', message: 'x' }).code).toBe('INVALID_TYPE');
    expect(classifySalesforceError(418, 'teapot').code).toBe('HTTP_418');
  });
});

describe('classifyOAuthError', () => {
  it.each([
    [400, { error: 'invalid_grant', error_description: 'expired access/refresh token' }, 'needs_reauth'],
    [400, { error: 'inactive_user', error_description: 'user is inactive' }, 'needs_reauth'],
    [400, { error: 'inactive_org', error_description: 'org is inactive' }, 'needs_reauth'],
    [400, { error: 'invalid_client', error_description: 'invalid client credentials' }, 'permanent'],
    [400, { error: 'invalid_client_id', error_description: 'client identifier invalid' }, 'permanent'],
    [400, { error: 'unsupported_grant_type', error_description: 'grant type not supported' }, 'permanent'],
    [503, 'Service Unavailable', 'retryable'],
  ])('maps %i %j to %s', (status, body, kind) => {
    expect(classifyOAuthError(status, body).kind).toBe(kind);
  });

  it('retries rate_limit_exceeded no earlier than the backoff', () => {
    const now = Date.parse('2026-05-01T00:00:00Z');
    const error = classifyOAuthError(
      400,
      { error: 'rate_limit_exceeded', error_description: 'rate limit exceeded' },
      now,
    );
    expect(error.kind).toBe('retryable');
    expect(error.retryAt).toBe(now + OAUTH_RATE_LIMIT_BACKOFF_MS);
  });
});

describe('transportError', () => {
  it('tells a timeout from a network failure, both retryable', () => {
    const timeout = transportError(new DOMException('aborted', 'TimeoutError'), 'GET /query', 500);
    expect(timeout).toMatchObject({ kind: 'retryable', code: 'TIMEOUT' });
    const network = transportError(new TypeError('fetch failed'), 'GET /query', 500);
    expect(network).toMatchObject({ kind: 'retryable', code: 'NETWORK_ERROR' });
  });
});
