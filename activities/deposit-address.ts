// Deposit addresses: each payment gets its own address, derived from the rail's watch-only
// extended public key (no private key in the service), at an index handed out atomically.
import { ECDH, createECDH, createHmac } from 'node:crypto';
import { HDNodeWallet, dataSlice, getAddress, keccak256 } from 'ethers';
import type { DbClient } from './db.js';
import type { RailConfig } from './config.js';
import { tronFromHex20 } from './chain/tron-address.js';

/** The field prime of secp256k1. */
const SECP256K1_P = 2n ** 256n - 2n ** 32n - 977n;

/** External chain (…/0/index) under the account xpub, as wallets derive receive addresses. */
interface ExternalChain {
  node: HDNodeWallet;
  chainCode: Buffer;
  /** The chain's public key, compressed (BIP32 hashes this form) and as an affine point. */
  compressed: Buffer;
  x: bigint;
  y: bigint;
}
const externalChains = new Map<string, ExternalChain>();

function externalChain(rail: RailConfig): ExternalChain {
  let chain = externalChains.get(rail.xpub);
  if (!chain) {
    const node = HDNodeWallet.fromExtendedKey(rail.xpub).deriveChild(0) as HDNodeWallet;
    const compressed = Buffer.from(node.publicKey.slice(2), 'hex');
    // OpenSSL's point decompression, once per chain.
    const point = ECDH.convertKey(compressed, 'secp256k1', undefined, undefined, 'uncompressed') as Buffer;
    chain = { node, chainCode: Buffer.from(node.chainCode.slice(2), 'hex'), compressed, x: bigAt(point, 1), y: bigAt(point, 33) };
    externalChains.set(rail.xpub, chain);
  }
  return chain;
}

const bigAt = (b: Buffer, offset: number): bigint => BigInt(`0x${b.subarray(offset, offset + 32).toString('hex')}`);
const modP = (a: bigint): bigint => ((a % SECP256K1_P) + SECP256K1_P) % SECP256K1_P;
function invModP(a: bigint): bigint {
  let [t, nextT, r, nextR] = [0n, 1n, SECP256K1_P, modP(a)];
  while (nextR !== 0n) {
    const q = r / nextR;
    [t, nextT] = [nextT, t - q * nextT];
    [r, nextR] = [nextR, r - q * nextR];
  }
  return modP(t);
}
/**
 * BIP32 public child derivation (non-hardened), the same steps ethers' HDNodeVoidWallet.deriveChild
 * takes: I = HMAC-SHA512(chain code, compressed parent key ‖ index), child = parent + IL·G. Here
 * IL·G is OpenSSL's (createECDH) and the addition is affine, because ethers' pure-JS point
 * arithmetic cost about 3 ms of the API process's CPU per payment (two point decompressions) (docs/benchmarks.md, payments,
 * 2026-12-02). Answers the child key's x ‖ y in hex, or null for the cases left to ethers (IL not a
 * valid scalar, or the two points sharing an x: probability about 2^-127).
 */
function childKeyXY(chain: ExternalChain, index: number): string | null {
  const data = Buffer.alloc(37);
  chain.compressed.copy(data, 0);
  data.writeUInt32BE(index, 33);
  const il = createHmac('sha512', chain.chainCode).update(data).digest().subarray(0, 32);
  let ilG: Buffer;
  try {
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(il);
    ilG = ecdh.getPublicKey();
  } catch {
    return null;
  }
  const x2 = bigAt(ilG, 1);
  const y2 = bigAt(ilG, 33);
  if (x2 === chain.x) return null;
  const lambda = modP((y2 - chain.y) * invModP(x2 - chain.x));
  const x3 = modP(lambda * lambda - chain.x - x2);
  const y3 = modP(lambda * (chain.x - x3) - chain.y);
  return `${x3.toString(16).padStart(64, '0')}${y3.toString(16).padStart(64, '0')}`;
}

export function deriveDepositAddress(rail: RailConfig, index: bigint): string {
  if (index < 0n || index >= 2n ** 31n) throw new RangeError(`address index ${index} is outside the non-hardened range`);
  const chain = externalChain(rail);
  const xy = childKeyXY(chain, Number(index));
  // The address is the last 20 bytes of keccak256(x ‖ y), as both Ethereum and TRON define it
  // (ethers' computeAddress, without parsing the key again).
  const evm = xy ? getAddress(dataSlice(keccak256(`0x${xy}`), 12)) : chain.node.deriveChild(Number(index)).address;
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
export async function releaseDepositAddress(c: { query: DbClient['query'] }, paymentId: string): Promise<number> {
  const r = await c.query(`UPDATE deposit_addresses SET payment_id = NULL, released_at = now() WHERE payment_id = $1`, [paymentId]);
  return r.rowCount ?? 0;
}
