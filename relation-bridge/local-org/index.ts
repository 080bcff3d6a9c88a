/** The local Salesforce-compatible org: see README.md beside this file. */
export {
  startLocalSalesforce,
  LocalSalesforce,
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  MAX_REQUEST_HEAD_BYTES,
} from './server';
export type { LocalSalesforceOptions, CommitListener } from './server';
export { LocalOrg, RecordRejected } from './org';
export type { OrgSettings, CreateOrgOptions, AddUserOptions, LocalUser, ApiCallCounts } from './org';
export type { ValidationRule } from './validation';
export type { ConnectedApp } from './oauth';
export type {
  FaultInjector,
  FaultHandle,
  HangHandle,
  HoldHandle,
  CommitEvent,
  CommittedRecord,
  RequestMatch,
} from './faults';
export { createDemoSandbox, seedDemoOrg, DEMO_PASSWORD } from './seed';
export type { SeededOrg, SeededUser, SeededPerson } from './seed';
export { completeAuthorization, LoginFlowError } from './login-flow';
export type { LoginCredentials } from './login-flow';
export { activityFieldNames } from './schema';
export { canonicalId, toId18 } from './ids';
export { MAX_APPROVALS_PER_USER } from './tokens';
