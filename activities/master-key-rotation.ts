// Rotating the master key: every secret sealed with it (webhook endpoint signing secrets, operator
// TOTP seeds) is opened with the current key and sealed again with the next one, in ONE
// transaction, and each is opened again with the next key before commit. Either every secret
// moves to the new key or none does; a failure leaves the database as it was.
import type { Pool } from './db.js';
import { withTx } from './db.js';
import { appendEvidence } from './evidence.js';
import { newId, sha256Hex } from './ids.js';
import { openSecret, sealSecret } from './webhooks/secret-box.js';

export interface RotationResult {
  webhookSecrets: number;
  totpSeeds: number;
}

/** A fingerprint to name a key in evidence without revealing it. */
export const keyFingerprint = (key: Buffer): string => sha256Hex(Buffer.concat([Buffer.from('stablerail-master-key:'), key])).slice(0, 16);

export async function rotateMasterKey(pool: Pool, current: Buffer, next: Buffer, actor: string, progress: (done: number) => void = () => undefined): Promise<RotationResult> {
  if (current.equals(next)) throw new Error('the new master key is the current one');
  return withTx(pool, async (c) => {
    // Lock what is re-sealed, so a secret rotated or an endpoint created meanwhile waits for this commit.
    const secrets = await c.query<{ id: string; endpoint_id: string; secret_ciphertext: string }>(`SELECT id, endpoint_id, secret_ciphertext FROM webhook_secrets ORDER BY id FOR UPDATE`);
    let done = 0;
    for (const s of secrets.rows) {
      const sealed = sealSecret(next, openSecret(current, s.secret_ciphertext, s.endpoint_id), s.endpoint_id);
      openSecret(next, sealed, s.endpoint_id); // proven before it is written
      await c.query(`UPDATE webhook_secrets SET secret_ciphertext = $2 WHERE id = $1`, [s.id, sealed]);
      progress(++done);
    }
    const seeds = await c.query<{ id: string; totp_secret_sealed: string }>(`SELECT id, totp_secret_sealed FROM operators WHERE totp_secret_sealed IS NOT NULL ORDER BY id FOR UPDATE`);
    for (const o of seeds.rows) {
      const bound = `totp:${o.id}`;
      const sealed = sealSecret(next, openSecret(current, o.totp_secret_sealed, bound), bound);
      openSecret(next, sealed, bound);
      await c.query(`UPDATE operators SET totp_secret_sealed = $2 WHERE id = $1`, [o.id, sealed]);
      progress(++done);
    }
    const result = { webhookSecrets: secrets.rows.length, totpSeeds: seeds.rows.length };
    await appendEvidence(c, {
      kind: 'secrets.master_key_rotated', subject: 'master-key', actor,
      payload: { from: keyFingerprint(current), to: keyFingerprint(next), webhook_secrets: result.webhookSecrets, totp_seeds: result.totpSeeds },
      dedupeKey: `master-key-rotation:${newId('mkr')}`,
    });
    return result;
  });
}
