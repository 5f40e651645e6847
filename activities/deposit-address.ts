// Deposit addresses: each payment gets its own address, derived from the rail's watch-only
// extended public key (no private key in the service), at an index handed out atomically.
import { HDNodeWallet } from 'ethers';
import type { AnyTx, DbClient, Pool } from './db.js';
import { releaseAddressOf } from './repositories/payments.js';
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

/**
 * The deposit address at `index`, by ethers' BIP32 public derivation. A faster derivation by
 * hand (OpenSSL's scalar multiplication plus an affine addition) saved about 3 ms of CPU per
 * payment but did not move the benchmark's ratio; money goes to these addresses, so the
 * well-kept library's arithmetic stays (docs/benchmarks.md, payments).
 */
export function deriveDepositAddress(rail: RailConfig, index: bigint): string {
  if (index < 0n || index >= 2n ** 31n) throw new RangeError(`address index ${index} is outside the non-hardened range`);
  // The child node computes its address (keccak of the uncompressed key, as both Ethereum and
  // TRON define it) when it is made: read it rather than hashing again.
  const evm = externalChain(rail).deriveChild(Number(index)).address;
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
 * from the pool (its monitoring window is over), else a fresh index. Returns index and address;
 * `fresh` means no row exists for it yet: the caller writes it with the payment row
 * (insertPaymentWithDeliveries), so the whole allocation costs one statement.
 */
export async function takeDepositAddress(c: DbClient, rail: RailConfig, paymentId: string): Promise<{ index: bigint; address: string; fresh: boolean }> {
  // Raw pg, one round trip for reuse-or-next-index: the create transaction's statement count bounds payments/s (docs/benchmarks.md, payments, 2026-12-02).
  // nextval runs only when no released address was taken: a one-time filter is checked before the SELECT list.
  const { rows } = await c.query<{ address_index: string; address: string | null }>({
    name: `take_deposit_address_${sequenceNameFor(rail.id)}`,
    text: `WITH reused AS (
         UPDATE deposit_addresses d SET payment_id = $2, assigned_at = now(), released_at = NULL
          WHERE (d.rail, d.address_index) = (
            SELECT rail, address_index FROM deposit_addresses
             WHERE rail = $1 AND payment_id IS NULL
             ORDER BY released_at LIMIT 1 FOR UPDATE SKIP LOCKED)
          RETURNING d.address_index, d.address)
       SELECT address_index::text, address FROM reused
       UNION ALL
       SELECT nextval('"${sequenceNameFor(rail.id)}"')::text, NULL WHERE NOT EXISTS (SELECT 1 FROM reused)`,
    values: [rail.id, paymentId],
  });
  const r = rows[0]!;
  const index = BigInt(r.address_index);
  if (r.address !== null) return { index, address: r.address, fresh: false };
  return { index, address: deriveDepositAddress(rail, index), fresh: true };
}

/** Return a payment's address to the pool once nothing more can arrive for it. */
export async function releaseDepositAddress(c: AnyTx | Pool, paymentId: string): Promise<number> {
  return releaseAddressOf(c, paymentId);
}
