// The devnet's funded payer, paying a sandbox payment the way a payer's wallet does: a real
// token transfer on the rail (the local EVM devnet or the TRON stand-in), built, signed with the
// payer's key and broadcast through the rail's sender. `stablerail devnet pay` and the
// "Simulate payment" route both use it; it refuses any rail that is not a devnet rail, so a
// live payment can never be "simulated".
import { HDNodeWallet, Transaction, Wallet } from 'ethers';
import type { RailConfig } from '../config.js';
import { createRailSender } from './senders.js';
import type { RailSender } from './rail-sender.js';
import { tronFromHex20 } from './tron-address.js';
import { evmTransaction, signTronTxId, tronSignedRaw } from '../signer/transactions.js';
import type { SignedTx, UnsignedTx } from '../signer/signer.js';

/** What a third party needs to pay once: gas (wei) on the devnet, TRX (sun) for energy on the stand-in. */
const THIRD_PARTY_GAS_WEI = 10n ** 17n; // 0.1 ETH
const THIRD_PARTY_TRX_SUN = 100n * 1_000_000n; // 100 TRX

export class NotDevnetRailError extends Error {
  override name = 'NotDevnetRailError';
}

/** The payer's address on a rail, in the rail's form (EVM checksum, TRON base58check). */
export function payerAddressOn(rail: RailConfig, privateKey: string): string {
  const evm = new Wallet(privateKey).address;
  return rail.kind === 'tron' ? tronFromHex20(evm) : evm;
}

async function sign(rail: RailConfig, privateKey: string, tx: UnsignedTx): Promise<SignedTx> {
  const from = payerAddressOn(rail, privateKey);
  if (tx.kind === 'evm') {
    const raw = await new Wallet(privateKey).signTransaction(evmTransaction(tx));
    return { kind: 'evm', from, txHash: Transaction.from(raw).hash!.toLowerCase(), raw };
  }
  return { kind: 'tron', from, txHash: '0x' + tx.txID.toLowerCase(), raw: tronSignedRaw(tx, signTronTxId(privateKey, tx.txID)) };
}

/** One process pays one transfer at a time per key, so two clicks never race for a nonce. */
const queues = new Map<string, Promise<unknown>>();
function serially<T>(key: string, f: () => Promise<T>): Promise<T> {
  const prev = queues.get(key) ?? Promise.resolve();
  const next = prev.catch(() => undefined).then(f);
  queues.set(key, next);
  return next;
}

async function transfer(sender: RailSender, rail: RailConfig, privateKey: string, o: { to: string; amountMinor: bigint; native?: boolean }): Promise<SignedTx> {
  const from = payerAddressOn(rail, privateKey);
  const nonce = await sender.nextNonce(from);
  const unsigned = o.native
    ? await sender.buildNativeTransfer({ from, to: o.to, amountMinor: o.amountMinor, nonce })
    : await sender.buildTokenTransfer({ from, to: o.to, amountMinor: o.amountMinor, nonce });
  const signed = await sign(rail, privateKey, unsigned);
  await sender.broadcast(signed);
  return signed;
}

/** Wait until the chain shows the transaction (the devnet mines it at once; the stand-in seals it on broadcast). */
async function included(sender: RailSender, txHash: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await sender.outcome(txHash))) {
    if (Date.now() > deadline) throw new Error(`transaction ${txHash} was not included within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface DevnetPayment {
  txHash: string;
  from: string;
  to: string;
  amountMinor: bigint;
}

/**
 * Pay `amountMinor` of the rail's token to `to` from the devnet payer, or, with `thirdParty`,
 * from a fresh address the payer funds first (money arriving from a wallet nobody announced).
 */
export async function payFromDevnetPayer(rail: RailConfig, payerPrivateKey: string, o: { to: string; amountMinor: bigint; thirdParty?: boolean }): Promise<DevnetPayment> {
  if (!rail.devnet) throw new NotDevnetRailError(`rail ${rail.id} is not a devnet rail: only the local devnet and the TRON stand-in can be paid from the devnet payer`);
  if (o.amountMinor <= 0n) throw new RangeError('the amount must be positive');
  const sender = createRailSender(rail);
  try {
    return await serially(`${rail.id}:${payerAddressOn(rail, payerPrivateKey)}`, async () => {
      let key = payerPrivateKey;
      if (o.thirdParty) {
        const stranger = HDNodeWallet.createRandom();
        const addr = payerAddressOn(rail, stranger.privateKey);
        const gas = await transfer(sender, rail, payerPrivateKey, { to: addr, amountMinor: rail.kind === 'tron' ? THIRD_PARTY_TRX_SUN : THIRD_PARTY_GAS_WEI, native: true });
        const float = await transfer(sender, rail, payerPrivateKey, { to: addr, amountMinor: o.amountMinor });
        await included(sender, gas.txHash);
        await included(sender, float.txHash);
        key = stranger.privateKey;
      }
      const paid = await transfer(sender, rail, key, { to: o.to, amountMinor: o.amountMinor });
      await included(sender, paid.txHash);
      return { txHash: paid.txHash, from: paid.from, to: o.to, amountMinor: o.amountMinor };
    });
  } finally {
    sender.close();
  }
}

export const SIMULATED_OUTCOMES = ['exact', 'underpay', 'overpay'] as const;
export type SimulatedOutcome = (typeof SIMULATED_OUTCOMES)[number];

/**
 * What a simulated payer sends: exactly what is still owed, or a tenth less or more (at least
 * one minor unit), so an underpay or overpay is one whatever the tolerance of a devnet rail.
 */
export function simulatedAmountMinor(outcome: SimulatedOutcome, amountMinor: bigint, receivedMinor: bigint): bigint {
  const owed = amountMinor - receivedMinor > 0n ? amountMinor - receivedMinor : amountMinor;
  const tenth = owed / 10n > 0n ? owed / 10n : 1n;
  if (outcome === 'overpay') return owed + tenth;
  if (outcome === 'underpay') return owed - tenth > 0n ? owed - tenth : 1n;
  return owed;
}
