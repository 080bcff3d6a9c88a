import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_SYNCED_KINDS } from './core/channels';
import { PACKAGE_NAMESPACE } from './salesforce/package-names';
import { checkWebhookSecret } from './intake/signature';

// The whole configuration, read once from the environment (and `.env`) and validated at boot.
// No other module reads process.env.

/**
 * Each setting is described once, here: the README's configuration table and
 * config/bridge.example.env are generated from these (npm run docs:generate -w relation-bridge),
 * and a test fails when they drift.
 */
export type SettingGroup = 'service' | 'webhooks' | 'salesforce' | 'sync' | 'console' | 'notices';

export interface SettingInfo {
  group: SettingGroup;
  /** What the setting does, for the README table and the example file. */
  description: string;
  /** The default as a reader should see it, when the schema has none of its own (computed, or unset). */
  defaultText?: string;
  /** The value shown in config/bridge.example.env; absent: the line is there, commented out, with the default. */
  example?: string;
  /** Another spelling of the setting named here (`https_proxy` of `HTTPS_PROXY`): documented with it. */
  aliasOf?: string;
  /** Unset, this is what does not work: the bridge warns at start. */
  whenUnset?: string;
}

export const settingInfo = z.registry<SettingInfo>();

function setting<T extends z.ZodType>(schema: T, info: SettingInfo): T {
  settingInfo.add(schema, info);
  return schema;
}

const list = (fallback: readonly string[]) =>
  z
    .string()
    .optional()
    .transform((value) =>
      value === undefined || value.trim() === ''
        ? [...fallback]
        : value
            .split(/[\s,]+/)
            .map((item) => item.trim())
            .filter((item) => item.length > 0),
    );

/** Empty (`NAME=` in a settings file) is unset. */
const unsetWhenEmpty = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optionalText = (min = 1) => z.preprocess(unsetWhenEmpty, z.string().trim().min(min).optional());

const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);
const url = (fallback?: string) => (fallback === undefined ? z.url() : z.url().default(fallback));

const schema = z.object({
  BRIDGE_ENV_FILE: setting(z.string().optional(), {
    group: 'service',
    description:
      'The settings file read at start, in the `.env` format, before everything else; variables of the real environment win over it. `none`: read no file. Only the real environment can set this one.',
    defaultText: '`.env` where `npm start` was run, else in the working directory',
  }),
  BRIDGE_HOST: setting(z.string().default('127.0.0.1'), {
    group: 'service',
    description: 'Interface to listen on (`0.0.0.0` for every interface; keep `127.0.0.1` behind a local proxy).',
    example: '127.0.0.1',
  }),
  BRIDGE_PORT: setting(int(8080), { group: 'service', description: 'Port to listen on.', example: '8080' }),
  BRIDGE_PUBLIC_URL: setting(z.url().optional(), {
    group: 'service',
    description:
      'Public base URL of the bridge, as the helpdesk, the admins’ browsers and Salesforce reach it. The OAuth callback is `<url>/oauth/callback` and must be registered on the External Client App; with `https` the console’s cookie is `Secure` and host-bound.',
    defaultText: '`http://<host>:<port>`',
    example: 'https://bridge.example.co.jp',
    whenUnset:
      'the OAuth callback is http://<host>:<port>/oauth/callback, which Salesforce reaches only on this machine',
  }),
  BRIDGE_DATA_DIR: setting(z.string().default('./data'), {
    group: 'service',
    description:
      'Folder of the SQLite database (and of `master.key` when no encryption key is given); made private (0700) at start.',
    example: '/var/lib/relation-bridge',
  }),
  BRIDGE_DATABASE_URL: setting(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
    {
      group: 'service',
      description:
        '`postgres://user:password@host:5432/database`: keep the state in PostgreSQL, shared by several bridge instances (needs `BRIDGE_ENCRYPTION_KEY`). Unset: the embedded SQLite file in `BRIDGE_DATA_DIR`.',
      defaultText: 'unset (SQLite)',
    },
  ),
  BRIDGE_DATABASE_POOL_SIZE: setting(int(10, 2), {
    group: 'service',
    description: 'Connections each bridge instance keeps to PostgreSQL.',
  }),
  BRIDGE_INSTANCE_ID: setting(z.string().min(1).max(100).optional(), {
    group: 'service',
    description: 'This instance’s name in leases, logs and metrics.',
    defaultText: 'host name, process id and a random part',
  }),
  BRIDGE_STOP_TIMEOUT_MS: setting(int(15_000, 100), {
    group: 'service',
    description:
      'On `SIGTERM`, how long the batch in flight may take to commit before the process exits anyway (leases make that safe). Give the process manager a little more before it kills.',
  }),
  BRIDGE_ENCRYPTION_KEY: setting(z.string().optional(), {
    group: 'service',
    description:
      'base64 of 32 random bytes (`openssl rand -base64 32`); encrypts OAuth tokens, PKCE verifiers and console-added webhook secrets at rest. **Set it in production** and keep it out of the data folder’s backups.',
    defaultText: 'generated into `<data>/master.key`',
    whenUnset: 'tokens are encrypted with a key file in the data folder: whoever copies the folder can read them',
  }),
  BRIDGE_ADMIN_TOKEN: setting(z.string().min(16).optional(), {
    group: 'service',
    description:
      'Bearer token (at least 16 characters, `openssl rand -hex 24`) for the JSON admin API, the CLI and `/metrics`; it acts as an owner.',
    defaultText: 'unset (admin API off)',
    whenUnset: 'the admin API, the CLI and /metrics answer 503; only console users can sign in',
  }),
  BRIDGE_TRUST_PROXY: setting(
    z
      .string()
      .default('false')
      .transform((value): boolean | number | string => {
        const trimmed = value.trim();
        if (trimmed === 'false' || trimmed === '') return false;
        if (/^\d+$/.test(trimmed)) return Number(trimmed);
        return trimmed;
      }),
    {
      group: 'service',
      description:
        'Proxies to believe about the client’s address (sign-in throttling and the access log use it): `false`, a hop count such as `1`, or addresses, subnets and `loopback`, comma-separated. Behind a reverse proxy, set it, or every user shares the proxy’s address.',
      example: 'loopback',
    },
  ),
  BRIDGE_METRICS_PORT: setting(
    z
      .string()
      .optional()
      // Empty (`BRIDGE_METRICS_PORT=` in a settings file) is unset, not port 0.
      .transform((value) => (value === undefined || value.trim() === '' ? undefined : Number(value)))
      .pipe(z.number().int().min(0).max(65_535).optional()),
    {
      group: 'service',
      description:
        'A second port that serves only `GET /metrics`, without a token, for a Prometheus on a private network. Unset: `/metrics` is served on the main port to `BRIDGE_ADMIN_TOKEN` only.',
      defaultText: 'unset',
    },
  ),
  BRIDGE_METRICS_HOST: setting(z.string().default('127.0.0.1'), {
    group: 'service',
    description: 'Interface of `BRIDGE_METRICS_PORT`.',
  }),
  LOG_LEVEL: setting(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'), {
    group: 'service',
    description:
      'pino level of the JSON log on stdout (`fatal`, `error`, `warn`, `info`, `debug`, `trace`, `silent`); secrets are redacted. The access log is at `info`.',
    example: 'info',
  }),

  WEBHOOK_SECRETS: setting(list([]), {
    group: 'webhooks',
    description:
      'Space- or comma-separated `whsec_<base64>` secrets (24 random bytes or more) the helpdesk signs with; several at once during rotation. More can be added in the console.',
    defaultText: 'none',
    whenUnset: 'every webhook is refused (401) until a secret is added in the console',
  }),
  WEBHOOK_TOLERANCE_SECONDS: setting(int(300, 1), {
    group: 'webhooks',
    description: 'Accepted clock difference of `webhook-timestamp`.',
  }),
  WEBHOOK_MAX_BODY_BYTES: setting(int(1024 * 1024, 1024), {
    group: 'webhooks',
    description: 'Larger webhook bodies get 413.',
  }),

  SF_CLIENT_ID: setting(z.string().min(1).optional(), {
    group: 'salesforce',
    description: 'Consumer key of the packaged External Client App.',
    defaultText: '—',
    whenUnset: 'no inbox can be linked or re-authenticated (Salesforce refuses the OAuth flow)',
  }),
  SF_CLIENT_SECRET: setting(z.string().min(1).optional(), {
    group: 'salesforce',
    description: 'Consumer secret of the packaged External Client App.',
    defaultText: '—',
    whenUnset: 'no inbox can be linked and no token can be refreshed',
  }),
  SF_LOGIN_URL_PRODUCTION: setting(url('https://login.salesforce.com'), {
    group: 'salesforce',
    description: 'OAuth host for production and Developer Edition orgs.',
  }),
  SF_LOGIN_URL_SANDBOX: setting(url('https://test.salesforce.com'), {
    group: 'salesforce',
    description: 'OAuth host for sandboxes (a My Domain can be given per link).',
  }),
  SF_API_VERSION: setting(
    z
      .string()
      .regex(/^\d{2}\.0$/)
      .default('66.0'),
    { group: 'salesforce', description: 'REST API version.' },
  ),
  SF_NAMESPACE: setting(
    z
      .string()
      .regex(/^([A-Za-z][A-Za-z0-9]{0,14})?$/)
      .default(PACKAGE_NAMESPACE),
    {
      group: 'salesforce',
      description: 'Namespace prefix of the package’s fields and objects, without `__`; empty for none.',
    },
  ),
  SF_OAUTH_SCOPES: setting(z.string().default('api refresh_token'), {
    group: 'salesforce',
    description: 'OAuth scopes asked for.',
  }),
  SF_REQUEST_TIMEOUT_MS: setting(int(30_000, 100), {
    group: 'salesforce',
    description: 'Timeout of each call to Salesforce, by the sync and while linking.',
  }),
  SF_EVENT_LANGUAGE: setting(z.enum(['ja', 'en']).default('ja'), {
    group: 'salesforce',
    description:
      'Language of the Event’s Subject label, the channel and the direction (`[メール・受信]` or `[Email, received]`): `ja` or `en`.',
  }),
  SF_POLICY_CACHE_MS: setting(int(5 * 60_000, 1000), {
    group: 'salesforce',
    description:
      'How long the link policy records (`Inbox_Link__mdt`) read from an org, or the package’s absence, are trusted before they are read again.',
  }),
  SF_HEALTH_INTERVAL_MS: setting(int(60_000, 100), {
    group: 'salesforce',
    description:
      'At most one sync health upsert (`Inbox_Sync_Health__c`, all inboxes of the org in one call) per org in this time.',
  }),
  HTTPS_PROXY: setting(z.string().optional(), {
    group: 'salesforce',
    description:
      'The CONNECT proxy every call to Salesforce (OAuth and REST) goes through, `http://[user:password@]host:port`; TLS runs end to end through the tunnel.',
    defaultText: 'unset (direct)',
    example: 'http://proxy.example.co.jp:3128',
  }),
  https_proxy: setting(z.string().optional(), {
    group: 'salesforce',
    description: 'Read when `HTTPS_PROXY` is unset.',
    aliasOf: 'HTTPS_PROXY',
  }),
  NO_PROXY: setting(z.string().optional(), {
    group: 'salesforce',
    description:
      'Hosts reached without the proxy, comma-separated: names (`salesforce.com` and `.salesforce.com` cover subdomains), `host:port`, IP addresses, CIDR ranges, or `*`.',
    defaultText: 'none',
    example: 'localhost,127.0.0.1,.intranet.example.co.jp',
  }),
  no_proxy: setting(z.string().optional(), {
    group: 'salesforce',
    description: 'Read when `NO_PROXY` is unset.',
    aliasOf: 'NO_PROXY',
  }),

  SYNC_KINDS: setting(list(DEFAULT_SYNCED_KINDS), {
    group: 'sync',
    description: 'Action kinds that are synced, space- or comma-separated.',
    defaultText: `\`${DEFAULT_SYNCED_KINDS.join(' ')}\``,
  }),
  SYNC_POLL_MS: setting(int(1000, 10), {
    group: 'sync',
    description: 'How often the engine looks for due retries.',
  }),
  SYNC_LINGER_MS: setting(int(500, 0), {
    group: 'sync',
    description: 'Quiet time to wait for more actions before syncing a partial batch (at most 4× this).',
  }),
  SYNC_BATCH_SIZE: setting(int(1000, 1), { group: 'sync', description: 'Actions per batch and org.' }),
  SYNC_LEASE_MS: setting(int(45_000, 1000), {
    group: 'sync',
    description:
      'Lease on claimed actions, renewed while their batch runs; a dead instance’s actions are taken over after it.',
  }),
  SYNC_UNCERTAIN_WAIT_MS: setting(int(10 * 60_000, 0), {
    group: 'sync',
    description:
      'After a send whose answer never came (a timeout, a crash), how long to wait before looking the actions up in Salesforce and sending what is not there: Salesforce may still be working on that request until its own 10-minute limit.',
  }),
  SYNC_REMATCH_INTERVAL_MS: setting(int(15 * 60_000, 0), {
    group: 'sync',
    description:
      'How often actions left unmatched are matched again, so that one syncs by itself once its Contact or Lead exists (0: never). Each round costs an org a few API calls at most (`SYNC_REMATCH_BATCH`).',
  }),
  SYNC_REMATCH_WINDOW_DAYS: setting(int(7, 1), {
    group: 'sync',
    description: 'Unmatched actions received within this many days are matched again; older ones wait for a retry.',
  }),
  SYNC_REMATCH_BATCH: setting(int(200, 1), {
    group: 'sync',
    description: 'Most unmatched actions of one org matched again per round, those waiting longest first.',
  }),
  SYNC_MAX_ATTEMPTS: setting(int(12, 1), {
    group: 'sync',
    description: 'Retryable failures before an action is marked failed (it can still be retried by hand).',
  }),
  SYNC_BACKOFF_BASE_MS: setting(int(2000, 1), {
    group: 'sync',
    description: 'First delay of the exponential backoff (with jitter) between retries.',
  }),
  SYNC_BACKOFF_MAX_MS: setting(int(30 * 60_000, 1), {
    group: 'sync',
    description: 'Longest delay between retries.',
  }),
  SYNC_API_BUDGET_SHARE: setting(z.coerce.number().gt(0).max(1).default(0.1), {
    group: 'sync',
    description:
      'Share (0..1] of the org’s daily API requests (from `Sforce-Limit-Info`) the bridge may use in any 24 hours.',
    example: '0.1',
  }),
  SYNC_BUDGET_PAUSE_MS: setting(int(15 * 60_000, 10), {
    group: 'sync',
    description: 'How long an org pauses when its budget (or the bridge’s share of it) is used up.',
  }),
  MATCH_CACHE_SIZE: setting(int(10_000, 0), {
    group: 'sync',
    description: 'Entries of the bounded cache of what each email or phone matched.',
  }),
  MATCH_CACHE_TTL_MS: setting(int(10 * 60_000, 0), {
    group: 'sync',
    description: 'How long a cached match is trusted.',
  }),
  RETENTION_DAYS: setting(int(90, 1), {
    group: 'sync',
    description:
      'Finished actions older than this are purged, and so are failed and unmatched ones from the error log; held actions stay until they sync.',
  }),

  CONSOLE_SESSION_IDLE_MINUTES: setting(int(60, 1), {
    group: 'console',
    description: 'A console session ends after this many minutes without a request.',
  }),
  CONSOLE_SESSION_MAX_HOURS: setting(int(12, 1), {
    group: 'console',
    description: 'A console session ends this many hours after sign-in, whatever the activity.',
  }),

  NOTICE_SMTP_HOST: setting(optionalText(), {
    group: 'notices',
    description:
      'SMTP server the notice e-mails go through: an inbox’s admins are told, once per incident and in their language, when its link needs re-authentication, is paused for the API budget, or is about to break (see `docs/operations.md`).',
    defaultText: 'unset (no e-mail)',
    whenUnset:
      'no notice e-mail is sent: a link that needs re-authentication, is paused or is about to break shows only in the console',
  }),
  NOTICE_SMTP_PORT: setting(z.preprocess(unsetWhenEmpty, z.coerce.number().int().min(1).max(65_535).optional()), {
    group: 'notices',
    description: 'Port of the SMTP server.',
    defaultText: '587 (465 with `NOTICE_SMTP_SECURITY=tls`, 25 with `none`)',
  }),
  NOTICE_SMTP_SECURITY: setting(z.enum(['starttls', 'tls', 'none']).default('starttls'), {
    group: 'notices',
    description:
      '`starttls`: the connection must be upgraded with STARTTLS before anything is sent (submission, port 587); `tls`: TLS from the start (port 465); `none`: no TLS, only for a relay on this machine or its private network. The server’s certificate is always verified.',
  }),
  NOTICE_SMTP_USER: setting(optionalText(), {
    group: 'notices',
    description: 'User name for SMTP authentication; unset: none.',
    defaultText: 'unset (no authentication)',
  }),
  NOTICE_SMTP_PASSWORD: setting(z.preprocess(unsetWhenEmpty, z.string().min(1).optional()), {
    group: 'notices',
    description:
      'Password for SMTP authentication (with `NOTICE_SMTP_USER`). A secret: never logged, and not stored by the bridge.',
    defaultText: '—',
  }),
  NOTICE_SMTP_CA_FILE: setting(optionalText(), {
    group: 'notices',
    description:
      'A PEM file of the certificate authority that signed the SMTP server’s certificate, for a relay with a private CA; unset: the system’s trusted authorities.',
    defaultText: 'unset',
  }),
  NOTICE_MAIL_FROM: setting(optionalText(3), {
    group: 'notices',
    description:
      'Sender of the notice e-mails, e.g. `Re:lation 連携 <bridge@example.co.jp>`; required with `NOTICE_SMTP_HOST`.',
    defaultText: '—',
  }),
  NOTICE_CONSOLE_URL: setting(z.preprocess(unsetWhenEmpty, z.url().optional()), {
    group: 'notices',
    description: 'The console’s address in the e-mails’ links, as the admins’ browsers reach it.',
    defaultText: '`<BRIDGE_PUBLIC_URL>/console`',
  }),
  NOTICE_CHECK_INTERVAL_MS: setting(int(60 * 60_000, 1000), {
    group: 'notices',
    description:
      'How often each Salesforce authorisation is checked for what would break its links before they break (its user deactivated, frozen or without API access, its token about to expire, one approval short of revoking it): one API call per authorisation and check, on the share of the health record.',
  }),
  NOTICE_EXPIRY_WARNING_DAYS: setting(int(7, 1), {
    group: 'notices',
    description: 'A refresh token that the org’s policy ends within this many days is warned about.',
  }),
});

/** Every setting, in the order the documentation lists them. */
export const SETTINGS = schema.shape;

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const config = parsed.data;
  if (config.BRIDGE_DATABASE_URL !== undefined && (config.BRIDGE_ENCRYPTION_KEY ?? '').trim() === '') {
    throw new ConfigError([
      'BRIDGE_ENCRYPTION_KEY: required with BRIDGE_DATABASE_URL: every bridge instance on the database needs the same key',
    ]);
  }
  salesforceProxy(config);
  const noticeProblems = noticeSettingsProblems(config);
  if (noticeProblems.length > 0) throw new ConfigError(noticeProblems);
  for (const [index, secret] of config.WEBHOOK_SECRETS.entries()) {
    const check = checkWebhookSecret(secret);
    if (!check.ok) throw new ConfigError([`WEBHOOK_SECRETS: secret ${index + 1} ${check.message}`]);
  }
  return config;
}

/**
 * The outbound proxy for Salesforce calls from HTTPS_PROXY / NO_PROXY (upper case first, as
 * most tools do). A proxy given without a scheme is taken as `http://`; it must be a CONNECT
 * proxy reached over http.
 */
export function salesforceProxy(config: Config): { httpsProxy: string | null; noProxy: string[] } {
  const raw = (config.HTTPS_PROXY ?? config.https_proxy ?? '').trim();
  const noProxy = (config.NO_PROXY ?? config.no_proxy ?? '')
    .split(/[\s,]+/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (raw === '') return { httpsProxy: null, noProxy };
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConfigError(['HTTPS_PROXY: not a URL (expected http://host:port)']);
  }
  if (url.protocol !== 'http:' || url.hostname === '') {
    throw new ConfigError(['HTTPS_PROXY: must be an http:// CONNECT proxy, e.g. http://proxy.example.jp:3128']);
  }
  return { httpsProxy: url.toString(), noProxy };
}

/**
 * Reads the settings file (BRIDGE_ENV_FILE, else `.env` where `npm start` was run, else in the
 * working directory) into the environment with Node's own parser; a variable already in the
 * real environment keeps its value. Returns the file read, or null when there is none.
 */
export function loadEnvFile(env: NodeJS.ProcessEnv = process.env): string | null {
  const named = env.BRIDGE_ENV_FILE?.trim();
  if (named === 'none') return null;
  const file = path.resolve(named || path.join(env.INIT_CWD ?? process.cwd(), '.env'));
  if (named === undefined || named === '') {
    if (!fs.existsSync(file)) return null;
  }
  try {
    process.loadEnvFile(file);
  } catch (error) {
    throw new ConfigError([
      `BRIDGE_ENV_FILE: ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`,
    ]);
  }
  return file;
}

/** What is missing among the notice settings that are given (each an issue of a ConfigError). */
function noticeSettingsProblems(config: Config): string[] {
  if (config.NOTICE_SMTP_HOST === undefined) return [];
  const problems: string[] = [];
  if (config.NOTICE_MAIL_FROM === undefined) problems.push('NOTICE_MAIL_FROM: required with NOTICE_SMTP_HOST');
  if ((config.NOTICE_SMTP_USER === undefined) !== (config.NOTICE_SMTP_PASSWORD === undefined)) {
    problems.push('NOTICE_SMTP_USER and NOTICE_SMTP_PASSWORD: give both, or neither');
  }
  if (config.NOTICE_SMTP_USER !== undefined && config.NOTICE_SMTP_SECURITY === 'none') {
    problems.push(
      'NOTICE_SMTP_SECURITY: `none` sends the SMTP password in the clear; use `starttls` or `tls` with a login',
    );
  }
  return problems;
}

/** A setting left unset that turns something off, and what. */
export interface UnsetSettingWarning {
  setting: keyof Config;
  consequence: string;
}

/** Every setting that is unset although something needs it, for the warnings at start. */
export function unsetSettings(config: Config): UnsetSettingWarning[] {
  const warnings: UnsetSettingWarning[] = [];
  for (const [key, setting] of Object.entries(SETTINGS)) {
    const consequence = settingInfo.get(setting)?.whenUnset;
    const value = config[key as keyof Config];
    const unset = value === undefined || (Array.isArray(value) && value.length === 0);
    if (consequence !== undefined && unset) warnings.push({ setting: key as keyof Config, consequence });
  }
  return warnings;
}

export function publicUrl(config: Config): string {
  return (config.BRIDGE_PUBLIC_URL ?? `http://${config.BRIDGE_HOST}:${config.BRIDGE_PORT}`).replace(/\/$/, '');
}
