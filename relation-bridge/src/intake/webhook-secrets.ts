import { createHash, randomBytes } from 'node:crypto';
import { BridgeError } from '../core/errors';
import type { Logger } from '../logging';
import type { Actor } from '../core/types';
import { checkWebhookSecret } from './signature';
import type { WebhookSecretRecord, WebhookSecretsRepository } from './webhook-secrets-repository';

/** A secret as an owner sees it: never the secret itself, only a fingerprint to tell them apart. */
export interface WebhookSecretSummary {
  id: string;
  label: string;
  fingerprint: string;
  /** `config`: from WEBHOOK_SECRETS (change it there); `console`: added by an owner here. */
  source: 'config' | 'console';
  createdAt: number | null;
  createdBy: string | null;
}

export function fingerprintOf(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 12);
}

export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * The secrets the webhook intake accepts: WEBHOOK_SECRETS from the configuration plus those
 * owners add in the console (stored encrypted). Several are active at once, so a secret is
 * rotated by adding the new one, switching the helpdesk over, then revoking the old one.
 * The intake reads `current()` on every request; the list is re-read from the store after
 * each change here and by the console's housekeeping, so that other bridge instances follow.
 */
export class WebhookSecrets {
  private fromStore: WebhookSecretRecord[] = [];
  /** Stored secrets already reported as too weak, so that each is reported once per process. */
  private readonly reportedWeak = new Set<string>();

  constructor(
    private readonly deps: {
      repository: WebhookSecretsRepository;
      configured: readonly string[];
      logger: Logger;
      now?: () => number;
    },
  ) {}

  current(): readonly string[] {
    return [...this.deps.configured, ...this.fromStore.map((record) => record.secret)];
  }

  async load(): Promise<void> {
    this.fromStore = await this.deps.repository.list();
    // Secrets added before the 24-byte rule still verify (refusing them would drop webhooks
    // without warning); the owner is told to rotate them.
    for (const record of this.fromStore) {
      if (this.reportedWeak.has(record.id) || checkWebhookSecret(record.secret).ok) continue;
      this.reportedWeak.add(record.id);
      this.deps.logger.warn(
        { id: record.id, fingerprint: record.fingerprint, label: record.label },
        'webhook secret shorter than 24 bytes: add a new one, switch the helpdesk to it, and revoke this one',
      );
    }
  }

  list(): WebhookSecretSummary[] {
    return [
      ...this.deps.configured.map((secret, index) => ({
        id: `config-${index + 1}`,
        label: 'WEBHOOK_SECRETS',
        fingerprint: fingerprintOf(secret),
        source: 'config' as const,
        createdAt: null,
        createdBy: null,
      })),
      ...this.fromStore.map((record) => ({
        id: record.id,
        label: record.label,
        fingerprint: record.fingerprint,
        source: 'console' as const,
        createdAt: record.createdAt,
        createdBy: record.createdBy,
      })),
    ];
  }

  /** Adds the given secret, or a generated one; a generated secret is returned once, to give to the helpdesk. */
  async add(
    label: string,
    secret: string | undefined,
    actor: Actor,
  ): Promise<{ summary: WebhookSecretSummary; secret: string | null }> {
    if (secret !== undefined) {
      const check = checkWebhookSecret(secret);
      if (!check.ok) {
        throw new BridgeError('bad_input', `The webhook secret ${check.message}.`, {
          code: 'weak_webhook_secret',
          reason: 'bad_input',
          details: { problem: check.problem },
        });
      }
    }
    const value = secret ?? generateWebhookSecret();
    const record = await this.deps.repository.add({
      label,
      secret: value,
      fingerprint: fingerprintOf(value),
      createdBy: actor.name,
      now: (this.deps.now ?? Date.now)(),
    });
    await this.load();
    this.deps.logger.info({ id: record.id, fingerprint: record.fingerprint, by: actor.name }, 'webhook secret added');
    const summary = this.list().find((entry) => entry.id === record.id) as WebhookSecretSummary;
    return { summary, secret: secret === undefined ? value : null };
  }

  async revoke(id: string, actor: Actor): Promise<void> {
    const record = await this.deps.repository.revoke(id, (this.deps.now ?? Date.now)());
    await this.load();
    this.deps.logger.info({ id, fingerprint: record.fingerprint, by: actor.name }, 'webhook secret revoked');
  }
}
