// Rotating the master key: every secret sealed with it (webhook endpoint signing secrets, operator
// TOTP seeds) is opened with the current key and sealed again with the next one, in ONE
// transaction, and each is opened again with the next key before commit. Either every secret
// moves to the new key or none does; a failure leaves the database as it was.
import type { Pool } from './db.js';
import { withTx } from './db.js';
import { appendEvidence } from './evidence.js';
import { newId, sha256Hex } from './ids.js';
import { openSecret, sealSecret } from './webhooks/secret-box.js';
import * as sealed from './repositories/sealed-secrets.js';

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
    const secrets = await sealed.lockedWebhookSecrets(c);
    let done = 0;
    for (const s of secrets) {
      const resealed = sealSecret(next, openSecret(current, s.secret_ciphertext, s.endpoint_id), s.endpoint_id);
      openSecret(next, resealed, s.endpoint_id); // proven before it is written
      await sealed.resealWebhookSecret(c, s.id, resealed);
      progress(++done);
    }
    const seeds = await sealed.lockedTotpSeeds(c);
    for (const o of seeds) {
      const bound = `totp:${o.id}`;
      const resealed = sealSecret(next, openSecret(current, o.sealed, bound), bound);
      openSecret(next, resealed, bound);
      await sealed.resealTotpSeed(c, o.id, resealed);
      progress(++done);
    }
    const result = { webhookSecrets: secrets.length, totpSeeds: seeds.length };
    await appendEvidence(c, {
      kind: 'secrets.master_key_rotated', subject: 'master-key', actor,
      payload: { from: keyFingerprint(current), to: keyFingerprint(next), webhook_secrets: result.webhookSecrets, totp_seeds: result.totpSeeds },
      dedupeKey: `master-key-rotation:${newId('mkr')}`,
    });
    return result;
  });
}
