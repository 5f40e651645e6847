// Deposit addresses: each payment gets its own address, derived from the rail's watch-only
// extended public key (no private key in the service), at an index handed out atomically.
import { HDNodeWallet, computeAddress } from 'ethers';
import type { DbClient } from './db.js';
import type { RailConfig } from './config.js';
import { tronFromHex20 } from './chain/tron-address.js';

/** External chain (…/0/index) under the account xpub, as wallets derive receive addresses. */
const externalChains = new Map<string, HDNodeWallet>();

function externalChain(rail: RailConfig): HDNodeWallet {
  let node = externalChains.get(rail.xpub);
  if (!node) {
    node = HDNodeWallet.fromExtendedKey(rail.xpub).deriveChild(0) as HDNodeWallet;
    externalChains.set(rail.xpub, node);
  }
  return node;
}

export function deriveDepositAddress(rail: RailConfig, index: bigint): string {
  if (index < 0n || index >= 2n ** 31n) throw new RangeError(`address index ${index} is outside the non-hardened range`);
  const child = externalChain(rail).deriveChild(Number(index));
  // computeAddress hashes the uncompressed key, as both Ethereum and TRON require.
  const evm = computeAddress(child.publicKey);
  // TRON addresses are base58check of 0x41 followed by the same 20 bytes an EVM address uses.
  return rail.kind === 'tron' ? tronFromHex20(evm) : evm;
}

export const sequenceNameFor = (railId: string): string => `deposit_index_${railId.replace(/[^a-z0-9]/g, '_')}`;

/** One sequence per rail: nextval never blocks another payment and never hands out an index twice. */
export async function ensureAddressSequences(c: { query: DbClient['query'] }, rails: RailConfig[]): Promise<void> {
  for (const r of rails) await c.query(`CREATE SEQUENCE IF NOT EXISTS "${sequenceNameFor(r.id)}" AS bigint MINVALUE 0 START 0`);
}

/**
 * Take an address for a payment inside its creation transaction: first a released address
 * from the pool (its monitoring window is over), else a fresh index. Returns index and address.
 */
export async function allocateDepositAddress(c: DbClient, rail: RailConfig, paymentId: string): Promise<{ index: bigint; address: string }> {
  const reused = await c.query<{ address_index: string; address: string }>(
    `UPDATE deposit_addresses d SET payment_id = $2, assigned_at = now(), released_at = NULL
      WHERE (d.rail, d.address_index) = (
        SELECT rail, address_index FROM deposit_addresses
         WHERE rail = $1 AND payment_id IS NULL
         ORDER BY released_at LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING d.address_index::text, d.address`,
    [rail.id, paymentId],
  );
  if (reused.rows[0]) return { index: BigInt(reused.rows[0].address_index), address: reused.rows[0].address };
  const seq = await c.query<{ idx: string }>(`SELECT nextval('"${sequenceNameFor(rail.id)}"')::text AS idx`);
  const index = BigInt(seq.rows[0]!.idx);
  const address = deriveDepositAddress(rail, index);
  await c.query(
    `INSERT INTO deposit_addresses (rail, address_index, address, payment_id, assigned_at) VALUES ($1, $2, $3, $4, now())`,
    [rail.id, index.toString(), address, paymentId],
  );
  return { index, address };
}

/** Return a payment's address to the pool once nothing more can arrive for it. */
export async function releaseDepositAddress(c: { query: DbClient['query'] }, paymentId: string): Promise<number> {
  const r = await c.query(`UPDATE deposit_addresses SET payment_id = NULL, released_at = now() WHERE payment_id = $1`, [paymentId]);
  return r.rowCount ?? 0;
}
