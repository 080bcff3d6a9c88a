import { z } from 'zod';
import { DEFAULT_SYNCED_KINDS } from './core/channels';

/**
 * The whole configuration, read once from the environment and validated at boot.
 * No other module reads process.env. Every variable is documented in README.md.
 */
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

const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);
const url = (fallback?: string) => (fallback === undefined ? z.url() : z.url().default(fallback));

const schema = z.object({
  BRIDGE_HOST: z.string().default('127.0.0.1'),
  BRIDGE_PORT: int(8080),
  /** Public base URL of the bridge; the OAuth callback is `${BRIDGE_PUBLIC_URL}/oauth/callback`. */
  BRIDGE_PUBLIC_URL: z.url().optional(),
  BRIDGE_DATA_DIR: z.string().default('./data'),
  /**
   * `postgres://user:password@host:5432/database`: keep the state in PostgreSQL, shared by
   * several bridge instances. Unset: the embedded SQLite file in BRIDGE_DATA_DIR.
   */
  BRIDGE_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  /** Connections each bridge instance keeps to PostgreSQL. */
  BRIDGE_DATABASE_POOL_SIZE: int(10, 2),
  /** This instance's name in leases and logs; default: host name, process id and a random part. */
  BRIDGE_INSTANCE_ID: z.string().min(1).max(100).optional(),
  /** On SIGTERM, how long to finish the batch in flight before exiting anyway (leases make that safe). */
  BRIDGE_STOP_TIMEOUT_MS: int(15_000, 100),
  /** base64 of 32 random bytes; encrypts tokens and secrets at rest. */
  BRIDGE_ENCRYPTION_KEY: z.string().optional(),
  /** Bearer token for the JSON admin API. */
  BRIDGE_ADMIN_TOKEN: z.string().min(16).optional(),
  /**
   * Which proxies in front of the bridge to believe about the client's address (sign-in
   * throttling is per address): `false` (none), a hop count, or addresses/subnets/`loopback`.
   */
  BRIDGE_TRUST_PROXY: z
    .string()
    .default('false')
    .transform((value): boolean | number | string => {
      const trimmed = value.trim();
      if (trimmed === 'false' || trimmed === '') return false;
      if (/^\d+$/.test(trimmed)) return Number(trimmed);
      return trimmed;
    }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  WEBHOOK_SECRETS: list([]),
  WEBHOOK_TOLERANCE_SECONDS: int(300, 1),
  WEBHOOK_MAX_BODY_BYTES: int(1024 * 1024, 1024),

  SF_CLIENT_ID: z.string().min(1).optional(),
  SF_CLIENT_SECRET: z.string().min(1).optional(),
  SF_LOGIN_URL_PRODUCTION: url('https://login.salesforce.com'),
  SF_LOGIN_URL_SANDBOX: url('https://test.salesforce.com'),
  SF_API_VERSION: z
    .string()
    .regex(/^\d{2}\.0$/)
    .default('66.0'),
  /** Namespace prefix of the packaged Activity fields, without `__`; empty for none. */
  SF_NAMESPACE: z
    .string()
    .regex(/^([A-Za-z][A-Za-z0-9]{0,14})?$/)
    .default('inbx'),
  SF_OAUTH_SCOPES: z.string().default('api refresh_token'),
  SF_REQUEST_TIMEOUT_MS: int(30_000, 100),
  /** Language of the Event Subject's channel label: ja or en. */
  SF_EVENT_LANGUAGE: z.enum(['ja', 'en']).default('ja'),
  /** How long the link policy records read from an org (or their absence) are trusted. */
  SF_POLICY_CACHE_MS: int(5 * 60_000, 1000),
  /** At most one sync health upsert per org (and so per inbox) in this time. */
  SF_HEALTH_INTERVAL_MS: int(60_000, 100),
  /**
   * The CONNECT proxy every call to Salesforce (OAuth and REST) goes through; the lower-case
   * `https_proxy` is read too. NO_PROXY (or `no_proxy`) lists what is reached directly.
   */
  HTTPS_PROXY: z.string().optional(),
  https_proxy: z.string().optional(),
  NO_PROXY: z.string().optional(),
  no_proxy: z.string().optional(),

  SYNC_KINDS: list(DEFAULT_SYNCED_KINDS),
  SYNC_POLL_MS: int(1000, 10),
  /** How long to wait for more actions before syncing a partial batch. */
  SYNC_LINGER_MS: int(500, 0),
  SYNC_BATCH_SIZE: int(1000, 1),
  /** A claim's lease; renewed while its batch runs, so a dead instance's work is taken over after it. */
  SYNC_LEASE_MS: int(45_000, 1000),
  SYNC_MAX_ATTEMPTS: int(12, 1),
  SYNC_BACKOFF_BASE_MS: int(2000, 1),
  SYNC_BACKOFF_MAX_MS: int(30 * 60_000, 1),
  /** Share of the org's daily API requests this bridge may use (0..1]. */
  SYNC_API_BUDGET_SHARE: z.coerce.number().gt(0).max(1).default(0.1),
  /** How long an org stays paused after REQUEST_LIMIT_EXCEEDED. */
  SYNC_BUDGET_PAUSE_MS: int(15 * 60_000, 10),
  MATCH_CACHE_SIZE: int(10_000, 0),
  MATCH_CACHE_TTL_MS: int(10 * 60_000, 0),
  RETENTION_DAYS: int(90, 1),

  /** A console session ends after this many minutes without a request. */
  CONSOLE_SESSION_IDLE_MINUTES: int(60, 1),
  /** A console session ends this many hours after sign-in, whatever the activity. */
  CONSOLE_SESSION_MAX_HOURS: int(12, 1),
});

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
  for (const secret of config.WEBHOOK_SECRETS) {
    if (!/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret)) {
      throw new ConfigError(['WEBHOOK_SECRETS: each secret must look like whsec_<base64>']);
    }
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

export function publicUrl(config: Config): string {
  return (config.BRIDGE_PUBLIC_URL ?? `http://${config.BRIDGE_HOST}:${config.BRIDGE_PORT}`).replace(/\/$/, '');
}
