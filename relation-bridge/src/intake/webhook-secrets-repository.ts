import { BridgeError } from '../core/errors';
import { newId } from '../core/ids';
import type { SecretBox } from '../crypto/secret-box';
import type { SqlExecutor } from '../store/database';
import { sql } from '../store/sql';

/** A webhook secret managed in the console; sealed at rest, the plaintext exists in memory only. */
export interface WebhookSecretRecord {
  id: string;
  label: string;
  secret: string;
  fingerprint: string;
  createdAt: number;
  createdBy: string;
  revokedAt: number | null;
}

export interface WebhookSecretsRepository {
  add(secret: {
    label: string;
    secret: string;
    fingerprint: string;
    createdBy: string;
    now: number;
  }): Promise<WebhookSecretRecord>;
  list(options?: { includeRevoked?: boolean }): Promise<WebhookSecretRecord[]>;
  /** @throws BridgeError `webhook_secret_not_found` (404). */
  revoke(id: string, now: number): Promise<WebhookSecretRecord>;
}

interface SecretRow {
  id: string;
  label: string;
  secret_enc: string;
  fingerprint: string;
  created_at: number;
  created_by: string;
  revoked_at: number | null;
}

const COLUMNS = sql.raw('id, label, secret_enc, fingerprint, created_at, created_by, revoked_at');

export function createWebhookSecretsRepository(db: SqlExecutor, secretBox: SecretBox): WebhookSecretsRepository {
  const toSecret = (row: SecretRow): WebhookSecretRecord => ({
    id: row.id,
    label: row.label,
    secret: secretBox.decrypt(row.secret_enc),
    fingerprint: row.fingerprint,
    createdAt: row.created_at,
    createdBy: row.created_by,
    revokedAt: row.revoked_at,
  });

  return {
    async add(secret) {
      const id = newId('whs');
      await db.run(sql`
        INSERT INTO webhook_secrets (${COLUMNS})
        VALUES (${id}, ${secret.label}, ${secretBox.encrypt(secret.secret)}, ${secret.fingerprint}, ${secret.now},
                ${secret.createdBy}, NULL)`);
      return {
        id,
        label: secret.label,
        secret: secret.secret,
        fingerprint: secret.fingerprint,
        createdAt: secret.now,
        createdBy: secret.createdBy,
        revokedAt: null,
      };
    },

    async list(options = {}) {
      const active = options.includeRevoked === true ? sql.empty : sql`WHERE revoked_at IS NULL`;
      const rows = await db.all<SecretRow>(
        sql`SELECT ${COLUMNS} FROM webhook_secrets ${active} ORDER BY created_at, id`,
      );
      return rows.map(toSecret);
    },

    revoke(id, now) {
      return db.atomic(async (tx) => {
        await tx.run(sql`UPDATE webhook_secrets SET revoked_at = ${now} WHERE id = ${id} AND revoked_at IS NULL`);
        const row = await tx.one<SecretRow>(sql`SELECT ${COLUMNS} FROM webhook_secrets WHERE id = ${id}`);
        if (row === null) {
          throw new BridgeError('bad_input', `No webhook secret has the id "${id}".`, {
            code: 'webhook_secret_not_found',
            reason: 'not_found',
          });
        }
        return toSecret(row);
      });
    },
  };
}
