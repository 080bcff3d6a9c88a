import { createInboxesRepository, type InboxesRepository } from './admin/inboxes-repository';
import { createAccountsRepository, type AccountsRepository } from './auth/accounts-repository';
import type { SecretBox } from './crypto/secret-box';
import { createWebhookSecretsRepository, type WebhookSecretsRepository } from './intake/webhook-secrets-repository';
import { createAuditRepository, type AuditRepository } from './links/audit-repository';
import { createLinksRepository, type LinksRepository } from './links/links-repository';
import { createOAuthFlowsRepository, type OAuthFlowsRepository } from './links/oauth-flows-repository';
import { createPendingLinksRepository, type PendingLinksRepository } from './links/pending-links-repository';
import type { Logger } from './logging';
import { createLinkChecksRepository, type LinkChecksRepository } from './notices/link-checks-repository';
import { createLinkNoticesRepository, type LinkNoticesRepository } from './notices/link-notices-repository';
import type { Database, SqlExecutor } from './store/database';
import { openDatabase, type DatabaseSettings } from './store/open';
import { createStore, type Store } from './store/store';
import { createActionsRepository, type ActionsRepository } from './sync/actions-repository';
import { createOrgRepository, type OrgRepository } from './sync/org-repository';

/** Every repository of the bridge, one per aggregate, each owned by the feature that uses it. */
export interface Repositories {
  actions: ActionsRepository;
  orgs: OrgRepository;
  links: LinksRepository;
  oauthFlows: OAuthFlowsRepository;
  pendingLinks: PendingLinksRepository;
  audit: AuditRepository;
  accounts: AccountsRepository;
  inboxes: InboxesRepository;
  webhookSecrets: WebhookSecretsRepository;
  linkChecks: LinkChecksRepository;
  linkNotices: LinkNoticesRepository;
}

/** The bridge's store: every repository, units of work across them, and the database under them. */
export type BridgeStore = Store<Repositories> & {
  readonly database: Database;
  /** A cheap round trip, for readiness checks; throws when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
};

export function repositoriesOn(db: SqlExecutor, secretBox: SecretBox): Repositories {
  return {
    actions: createActionsRepository(db),
    orgs: createOrgRepository(db),
    links: createLinksRepository(db, secretBox),
    oauthFlows: createOAuthFlowsRepository(db, secretBox),
    pendingLinks: createPendingLinksRepository(db, secretBox),
    audit: createAuditRepository(db),
    accounts: createAccountsRepository(db),
    inboxes: createInboxesRepository(db),
    webhookSecrets: createWebhookSecretsRepository(db, secretBox),
    linkChecks: createLinkChecksRepository(db),
    linkNotices: createLinkNoticesRepository(db),
  };
}

export function bridgeStoreOn(database: Database, secretBox: SecretBox): BridgeStore {
  return {
    ...createStore(database, (executor) => repositoriesOn(executor, secretBox)),
    database,
    ping: () => database.ping(),
    close: () => database.close(),
  };
}

/** Opens (and migrates) the configured database: PostgreSQL when a URL is given, else SQLite in the data folder. */
export async function openBridgeStore(
  settings: DatabaseSettings & { secretBox: SecretBox; logger?: Logger },
): Promise<BridgeStore> {
  return bridgeStoreOn(await openDatabase(settings), settings.secretBox);
}
