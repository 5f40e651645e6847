// What is sealed with the master key (webhook signing secrets, operators' TOTP seeds), read and
// re-sealed by the key's rotation: TypedSQL on the rotation's one pg transaction, which locks
// every row it re-seals and may run longer than a Prisma interactive transaction's bound.
import type { AnyTx } from '../db.js';
import { typedRows } from '../db.js';
import { operatorTotpReseal } from './sql/operatorTotpReseal.js';
import { operatorTotpSeedsLocked } from './sql/operatorTotpSeedsLocked.js';
import { webhookSecretReseal } from './sql/webhookSecretReseal.js';
import { webhookSecretsAllLocked } from './sql/webhookSecretsAllLocked.js';

export const lockedWebhookSecrets = (c: AnyTx) => typedRows(c, webhookSecretsAllLocked());
export const lockedTotpSeeds = async (c: AnyTx) => (await typedRows(c, operatorTotpSeedsLocked())).map((r) => ({ id: r.id, sealed: r.totp_secret_sealed! }));

export async function resealWebhookSecret(c: AnyTx, id: string, ciphertext: string): Promise<void> {
  await typedRows(c, webhookSecretReseal(id, ciphertext));
}

export async function resealTotpSeed(c: AnyTx, operatorId: string, sealed: string): Promise<void> {
  await typedRows(c, operatorTotpReseal(operatorId, sealed));
}
