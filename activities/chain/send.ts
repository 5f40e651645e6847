// Signing and sending a transfer, crash-safe. The order is the point:
// 1. sign: allocate the nonce and record the signed bytes and their hash in PostgreSQL before
//    anything leaves the process; a retried sign finds the record and never signs again, so a
//    crash between signing and broadcasting cannot produce a second, different transaction;
// 2. broadcast: look the hash up on chain first, then send the recorded bytes (the same ones,
//    however often this runs);
// 3. await: poll the receipt until it has the rail's confirmations, rebroadcasting the same
//    bytes now and then in case a node dropped them.
import { heartbeat, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from '../db.js';
import { withTx } from '../db.js';
import * as sends from '../repositories/chain-sends.js';
import type { SendRow } from '../repositories/chain-sends.js';
import { nativeAssetOf, railById, stuckSendPolicy, type RailConfig, type StablerailConfig } from '../config.js';
import { appendEvidence } from '../evidence.js';
import { postEntries } from '../ledger.js';
import { networkFeePosting } from '../payout.js';
import { crashPoint } from '../faults.js';
import type { KeyRef, Signer, SignedTx, UnsignedTx } from '../signer/signer.js';
import { SignerRefusedError } from '../signer/signer.js';
import { BroadcastRejectedError, type TxOutcome } from './rail-sender.js';
import type { RailSenders } from './senders.js';
import type { ReplaceOutcome, SendRecord, SendRequest, TransferOutcomePayload, WatchOutcome } from '../../workflows/payout-shared.js';

/** Receipt polling: often enough that a devnet payout confirms in about a second. */
const POLL_INTERVAL_MS = 500;
/** Rebroadcast the recorded bytes after this many polls without a receipt. */
const REBROADCAST_EVERY_POLLS = 20;
/** Nonce fills of one wallet looked up per settling pass (a gap is a handful of nonces, never thousands). */
const NONCE_FILLS_PER_PASS_MAX = 50;

/** Every send's row as the activities read it. */

/** The key that signed a send; rows from before key_ref was kept were the treasury's (sweeps' token sends never replace). */
function keyOfSend(r: SendRow, rail: RailConfig): KeyRef {
  return r.key_ref ? (JSON.parse(r.key_ref) as KeyRef) : { rail: rail.id, kind: rail.kind, role: 'treasury' };
}

export interface SendDeps {
  pool: Pool;
  config: StablerailConfig;
  signer: Signer | null;
  senders: RailSenders;
}

function railOf(config: StablerailConfig, id: string): RailConfig {
  const rail = railById(config, id);
  if (!rail) throw ApplicationFailure.nonRetryable(`rail ${id} is not configured`, 'rail_unknown');
  return rail;
}

export function outcomePayload(o: TxOutcome): TransferOutcomePayload {
  return {
    txHash: o.txHash,
    blockHeight: o.blockHeight,
    blockHash: o.blockHash,
    executed: o.executed,
    feeMinor: o.feeMinor,
    confirmations: o.confirmations,
    transfers: o.transfers.map((t) => ({ logIndex: t.logIndex, from: t.from, to: t.to, amountMinor: t.amountMinor.toString() })),
  };
}

export function createSendActivities(deps: SendDeps) {
  const { pool, config, senders } = deps;
  function signer(): Signer {
    if (!deps.signer) throw ApplicationFailure.nonRetryable('no signer is configured (payouts.signer)', 'signer_not_configured');
    return deps.signer;
  }

  async function recorded(sendKey: string): Promise<SendRow | undefined> {
    return sends.sendByKey(pool, sendKey);
  }

  /** Every signed version of a send, oldest first: the first signature alone until one was replaced. */
  async function candidates(r: SendRow): Promise<Array<{ attempt: number; tx_hash: string; raw: string }>> {
    const rows = await sends.versionsOf(pool, r.send_key);
    return rows.length ? rows : [{ attempt: 0, tx_hash: r.tx_hash, raw: r.raw }];
  }

  /** The first of a send's versions the chain shows mined, with its outcome. */
  async function minedVersion(r: SendRow): Promise<{ raw: string; out: TxOutcome } | null> {
    const sender = senders.get(railOf(config, r.rail));
    for (const c of await candidates(r)) {
      const out = await sender.outcome(c.tx_hash);
      if (out) return { raw: c.raw, out };
    }
    return null;
  }

  /** The mined version wins: the send row carries it, the other versions are marked replaced. */
  async function adoptWinner(r: SendRow, raw: string, out: TxOutcome): Promise<void> {
    await withTx(pool, (c) => sends.adoptMined(c, r.send_key, out.txHash, raw, out));
  }

  /**
   * Sign and send a zero-value self-transfer at a nonce the node refused, so the wallet's later
   * nonces can be mined. It takes the same nonce as the refused transaction, so at most one of
   * the two can ever be mined.
   */
  async function fillNonce(rail: RailConfig, environment: 'sandbox' | 'live', from: string, nonce: number, key: KeyRef, cause: string): Promise<string> {
    const sendKey = `nonce_fill:${rail.id}:${from}:${nonce}`;
    const sender = senders.get(rail);
    let r = await recorded(sendKey);
    if (!r) {
      const unsigned = await sender.buildNativeTransfer({ from, to: from, amountMinor: 0n, nonce });
      const signed = await signer().sign(key, unsigned);
      await withTx(pool, async (c) => {
        await sends.lockSendKey(c, sendKey);
        if (await sends.sendAtNonce(c, rail.id, from, nonce)) return;
        await sends.insertSend(c, {
          sendKey, rail: rail.id, environment, purpose: 'nonce_fill', from, to: from, asset: nativeAssetOf(rail), amountMinor: '0', nonce,
          txHash: signed.txHash.toLowerCase(), raw: signed.raw, feeAsset: nativeAssetOf(rail), keyRef: JSON.stringify(key),
        });
        await appendEvidence(c, { kind: 'chain_send.nonce_fill', subject: sendKey, actor: 'system', payload: { rail: rail.id, from, nonce, tx_hash: signed.txHash.toLowerCase(), cause }, dedupeKey: `nonce-fill:${sendKey}` });
      });
      r = await recorded(sendKey);
      if (!r || r.send_key !== sendKey) return sendKey;
    }
    if (r.status === 'signed') {
      if (!(await sender.outcome(r.tx_hash))) await sender.broadcast(asSigned(r));
      await sends.markBroadcast(pool, sendKey);
    }
    return sendKey;
  }

  /**
   * Nonces below `below` that block this wallet: each one the chain has not mined that no live
   * send holds (refused by the node, or never recorded) is filled. Sends that hold one are
   * their own workflow's to replace.
   */
  async function repairNonceGaps(rail: RailConfig, environment: 'sandbox' | 'live', from: string, below: number, key: KeyRef): Promise<number[]> {
    const sender = senders.get(rail);
    const mined = await sender.minedNonce(from);
    const filled: number[] = [];
    for (let n = mined; n < below; n++) {
      if (await sends.sendAtNonce(pool, rail.id, from, n)) continue;
      await fillNonce(rail, environment, from, n, key, 'nonce_gap');
      filled.push(n);
    }
    return filled;
  }
  /**
   * A fill's network fee is money the treasury spent: post it (platform network_fees ← rail
   * custody in ETH, as a payout's fee) once the fill is final, so no reorg can change the fee
   * after it is posted. Fills are nobody's workflow: whoever sees a later nonce of the same
   * wallet mined settles the fills below it (a payout at finality, a sweep's or refund's wait).
   * Idempotent: the entry's cause is the fill's hash, and the row moves out of `broadcast` in
   * the same transaction.
   */
  async function settleNonceFills(rail: RailConfig, from: string, below: number): Promise<string[]> {
    if (rail.kind !== 'evm') return [];
    const rows = await sends.nonceFillsBelow(pool, rail.id, from, below, NONCE_FILLS_PER_PASS_MAX);
    const sender = senders.get(rail);
    const posted: string[] = [];
    for (const f of rows) {
      const out = await sender.outcome(f.tx_hash);
      // Not mined (the refused transaction took the nonce after all) or not final yet: a later pass looks again.
      if (!out || out.confirmations < rail.finality_confirmations) continue;
      await withTx(pool, async (c) => {
        const moved = await sends.recordOutcome(c, f.send_key, out, true);
        const fee = BigInt(out.feeMinor);
        if (!moved || fee === 0n) return;
        await postEntries(c, [networkFeePosting(f.environment, rail, nativeAssetOf(rail), fee, out.txHash, `nonce fill of ${from} at nonce ${f.nonce}`)]);
        posted.push(f.send_key);
      });
    }
    return posted;
  }

  const asSigned = (r: { rail: string; tx_hash: string; from_address: string; raw: string }): SignedTx =>
    ({ kind: railOf(config, r.rail).kind, from: r.from_address, txHash: r.tx_hash, raw: r.raw });

  return {
    async signTransfer(req: SendRequest): Promise<SendRecord> {
      const done = await recorded(req.sendKey);
      if (done) return { sendKey: done.send_key, txHash: done.tx_hash, nonce: done.nonce, from: done.from_address };
      const rail = railOf(config, req.rail);
      const sender = senders.get(rail);
      const s = signer();
      const refused = (err: unknown): never => {
        if (err instanceof SignerRefusedError) throw ApplicationFailure.nonRetryable(`signer refused: ${err.message}`, 'signer_refused', err.code);
        throw err;
      };
      const from = await s.address(req.key).catch(refused);
      // The signer's key and the service's watch-only derivation must agree, or the money is elsewhere.
      if (req.expectFrom && req.expectFrom !== from) throw ApplicationFailure.nonRetryable(`signer key ${JSON.stringify(req.key)} is ${from}, expected ${req.expectFrom}`, 'signer_key_mismatch');
      const amount = BigInt(req.amountMinor);
      const out = await withTx(pool, async (c) => {
        // One attempt at a time per send key (a timed-out attempt may still be running), and
        // another attempt may have won the race while we asked the signer.
        await sends.lockSendKey(c, req.sendKey);
        const again = await sends.sendByKey(c, req.sendKey);
        if (again) return { sendKey: req.sendKey, txHash: again.tx_hash, nonce: again.nonce, from };
        let nonce: number | undefined;
        if (rail.kind === 'evm') {
          // The row lock serializes every send from this address: nonces are handed out once.
          const next = await sends.lockedNextNonce(c, rail.id, from);
          // The chain's count covers anything sent from this address outside Stablerail.
          nonce = Math.max(next, await sender.nextNonce(from));
          await sends.setNextNonce(c, rail.id, from, nonce + 1);
        }
        const unsigned = req.asset === 'token'
          ? await sender.buildTokenTransfer({ from, to: req.to, amountMinor: amount, nonce })
          : await sender.buildNativeTransfer({ from, to: req.to, amountMinor: amount, nonce });
        const signed: SignedTx = await s.sign(req.key, unsigned).catch(refused);
        if (signed.from !== from) throw ApplicationFailure.nonRetryable(`signer signed from ${signed.from}, expected ${from}`, 'signer_refused');
        await sends.insertSend(c, {
          sendKey: req.sendKey, rail: rail.id, environment: req.environment, purpose: req.purpose, from, to: req.to, asset: req.asset === 'token' ? rail.asset : nativeAssetOf(rail),
          amountMinor: req.amountMinor, nonce: nonce ?? null, txHash: signed.txHash.toLowerCase(), raw: signed.raw, feeAsset: nativeAssetOf(rail), keyRef: JSON.stringify(req.key),
        });
        return { sendKey: req.sendKey, txHash: signed.txHash.toLowerCase(), nonce: nonce ?? null, from };
      });
      // The signed bytes are committed and nothing is on the wire: the moment a crash test kills us.
      crashPoint('EXIT_AFTER_SIGN', req.sendKey);
      return out;
    },

    async broadcastTransfer(o: { sendKey: string }): Promise<void> {
      const r = await recorded(o.sendKey);
      if (!r) throw ApplicationFailure.nonRetryable(`nothing signed for ${o.sendKey}`, 'send_not_signed');
      if (r.status === 'rejected') throw ApplicationFailure.nonRetryable(`the node rejected ${r.tx_hash} before`, 'broadcast_rejected');
      if (r.status !== 'signed') return;
      const sender = senders.get(railOf(config, r.rail));
      // Already on chain (sent before a crash): never send anything else for this key.
      if (!(await sender.outcome(r.tx_hash))) {
        try {
          await sender.broadcast(asSigned(r));
          // On the wire, not yet marked: a retry must find it on chain and send nothing else.
          crashPoint('EXIT_AFTER_BROADCAST', o.sendKey);
        } catch (err) {
          if (!(err instanceof BroadcastRejectedError)) throw err;
          const gaveBack = await withTx(pool, async (c) => {
            await sends.markRejected(c, o.sendKey);
            // Give the nonce back when it was the last one handed out, so no gap stalls later sends.
            if (r.nonce === null) return true;
            return sends.giveBackNonce(c, r.rail, r.from_address, r.nonce);
          });
          // A later nonce is signed already: fill this one so those can be mined (best effort here;
          // a stuck later send repairs the gap again from the node's nonces).
          if (!gaveBack && r.nonce !== null) {
            const rail = railOf(config, r.rail);
            await fillNonce(rail, r.environment, r.from_address, r.nonce, keyOfSend(r, rail), `rejected:${o.sendKey}`).catch(() => undefined);
          }
          throw ApplicationFailure.nonRetryable(`the node rejected the transaction: ${(err as Error).message}`, 'broadcast_rejected');
        }
      }
      await sends.markBroadcast(pool, o.sendKey);
    },

    /**
     * Wait for any version of the send to be mined with `confirmations`, or report it stuck:
     * nothing mined after the rail's stuck-send window (blocks or seconds, whichever first).
     */
    async watchTransfer(o: { sendKey: string; confirmations: number }): Promise<WatchOutcome> {
      const r = await recorded(o.sendKey);
      if (!r) throw ApplicationFailure.nonRetryable(`nothing signed for ${o.sendKey}`, 'send_not_signed');
      const rail = railOf(config, r.rail);
      const sender = senders.get(rail);
      const policy = stuckSendPolicy(rail);
      const startHead = await sender.headHeight();
      const started = Date.now();
      for (let poll = 1; ; poll++) {
        const mined = await minedVersion(r);
        if (mined && mined.out.confirmations >= o.confirmations) {
          await adoptWinner(r, mined.raw, mined.out);
          if (r.nonce !== null) await settleNonceFills(rail, r.from_address, r.nonce);
          return { kind: 'mined', outcome: outcomePayload(mined.out) };
        }
        if (!mined) {
          const waited = (await sender.headHeight()) - startHead;
          if (waited >= policy.after_blocks || Date.now() - started >= policy.after_s * 1000) return { kind: 'stuck', waitedBlocks: waited };
        }
        heartbeat({ poll, seen: !!mined });
        await sleep(POLL_INTERVAL_MS);
      }
    },

    /**
     * A stuck send, re-checked against the chain, then replaced: on EVM at the same nonce with
     * bumped fees, on TRON rebuilt once expired. Signed through the signer and recorded (with
     * evidence) before it is broadcast. Whatever cannot be sent answers `blocked` with a code.
     */
    async replaceTransfer(req: SendRequest): Promise<ReplaceOutcome> {
      const r = await recorded(req.sendKey);
      if (!r) throw ApplicationFailure.nonRetryable(`nothing signed for ${req.sendKey}`, 'send_not_signed');
      const rail = railOf(config, r.rail);
      const sender = senders.get(rail);
      const policy = stuckSendPolicy(rail);
      if (await minedVersion(r)) return { kind: 'mined' };
      const key = keyOfSend(r, rail);
      if (rail.kind === 'evm' && r.nonce !== null) {
        const mined = await sender.minedNonce(r.from_address);
        if (mined < r.nonce) {
          // An earlier nonce holds this one back: fill it if no live send owns it, then wait.
          const filled = await repairNonceGaps(rail, r.environment, r.from_address, r.nonce, key).catch((e: Error) => { throw ApplicationFailure.retryable(`nonce gap repair: ${e.message}`, 'nonce_gap_repair'); });
          return { kind: 'waiting', reason: filled.length ? `filled nonces ${filled.join(', ')}` : 'earlier_nonce_pending' };
        }
        if (mined > r.nonce) {
          // The nonce is spent and none of our versions shows mined: a reorg in between, or
          // another transaction took it. Look once more before saying so.
          if (await minedVersion(r)) return { kind: 'mined' };
          return { kind: 'blocked', code: 'nonce_used_elsewhere', message: `nonce ${r.nonce} of ${r.from_address} was used by another transaction` };
        }
      }
      const versions = await candidates(r);
      const last = versions.at(-1)!;
      let unsigned: UnsignedTx | null;
      try {
        unsigned = await sender.buildReplacement({ raw: last.raw, from: r.from_address, to: r.to_address, asset: req.asset, amountMinor: BigInt(r.amount_minor), bumpPct: policy.fee_bump_pct });
      } catch (err) {
        if (err instanceof BroadcastRejectedError) return { kind: 'blocked', code: 'balance_short', message: err.message };
        throw err;
      }
      if (!unsigned) return { kind: 'waiting', reason: 'not_expired' };
      let signed: SignedTx;
      try {
        signed = await signer().sign(key, unsigned);
      } catch (err) {
        return { kind: 'blocked', code: 'signer_unavailable', message: (err as Error).message.slice(0, 300) };
      }
      if (signed.from !== r.from_address) return { kind: 'blocked', code: 'signer_refused', message: `signer signed from ${signed.from}, expected ${r.from_address}` };
      const txHash = signed.txHash.toLowerCase();
      const attempt = last.attempt + 1;
      await withTx(pool, async (c) => {
        await sends.lockSendKey(c, req.sendKey);
        await sends.insertVersion(c, req.sendKey, 0, r.tx_hash, r.raw, 'first signature');
        await sends.insertVersion(c, req.sendKey, attempt, txHash, signed.raw, 'stuck');
        await appendEvidence(c, {
          kind: 'chain_send.replacement',
          subject: req.sendKey,
          actor: 'system',
          payload: { rail: rail.id, nonce: r.nonce, attempt, replaces: last.tx_hash, tx_hash: txHash, ...(unsigned!.kind === 'evm' ? { max_fee_per_gas: unsigned!.maxFeePerGas, max_priority_fee_per_gas: unsigned!.maxPriorityFeePerGas } : {}) },
          dedupeKey: `chain-send-replacement:${req.sendKey}:${attempt}`,
        });
      });
      try {
        await sender.broadcast(signed);
      } catch (err) {
        const msg = (err as Error).message ?? '';
        if (/insufficient funds/i.test(msg)) return { kind: 'blocked', code: 'balance_short', message: msg.slice(0, 300) };
        // The node keeps the old version (its fees rose again meanwhile): the next round bumps from this one.
        if (/underpriced|replacement/i.test(msg)) return { kind: 'waiting', reason: 'replacement_underpriced' };
        if (err instanceof BroadcastRejectedError) {
          if (await minedVersion(r)) return { kind: 'mined' };
          return { kind: 'blocked', code: 'replacement_rejected', message: msg.slice(0, 300) };
        }
        throw err;
      }
      await sends.markBroadcast(pool, req.sendKey);
      return { kind: 'replaced', txHash };
    },

    /**
     * After `confirmed`: wait for the rail's finality, or answer `reorged` as soon as the
     * transaction is no longer in the block it was confirmed in.
     */
    async awaitFinality(o: { sendKey: string; blockHash: string }): Promise<{ kind: 'final'; outcome: TransferOutcomePayload } | { kind: 'reorged' }> {
      const r = await recorded(o.sendKey);
      if (!r) throw ApplicationFailure.nonRetryable(`nothing signed for ${o.sendKey}`, 'send_not_signed');
      const rail = railOf(config, r.rail);
      const sender = senders.get(rail);
      for (let poll = 1; ; poll++) {
        const out = await sender.outcome(r.tx_hash);
        if (!out || out.blockHash !== o.blockHash) return { kind: 'reorged' };
        if (out.confirmations >= rail.finality_confirmations) {
          // Every nonce below this one is final too: a fill among them has its fee posted now.
          if (r.nonce !== null) await settleNonceFills(rail, r.from_address, r.nonce);
          return { kind: 'final', outcome: outcomePayload(out) };
        }
        heartbeat({ poll, confirmations: out.confirmations });
        await sleep(POLL_INTERVAL_MS);
      }
    },

    /** A reorged send is open again: its row says broadcast, and the node gets the bytes back if it lost them. */
    async reopenTransfer(o: { sendKey: string }): Promise<void> {
      const r = await recorded(o.sendKey);
      if (!r) throw ApplicationFailure.nonRetryable(`nothing signed for ${o.sendKey}`, 'send_not_signed');
      const sender = senders.get(railOf(config, r.rail));
      await sends.reopenSend(pool, o.sendKey, r.tx_hash);
      if (await sender.outcome(r.tx_hash)) return;
      if (await sender.knows(r.tx_hash)) return;
      // Refused now (nonce spent by a competing version, fees too low): the stuck-send policy takes over.
      await sender.broadcast(asSigned(r)).catch(() => undefined);
    },

    /** Wait for the receipt at the rail's confirmations; heartbeats so a dead worker is noticed fast. */
    async awaitTransfer(o: { sendKey: string; confirmations: number }): Promise<TransferOutcomePayload> {
      const r = await recorded(o.sendKey);
      if (!r) throw ApplicationFailure.nonRetryable(`nothing signed for ${o.sendKey}`, 'send_not_signed');
      const rail = railOf(config, r.rail);
      const sender = senders.get(rail);
      for (let poll = 1; ; poll++) {
        const out = await sender.outcome(r.tx_hash);
        if (out && out.confirmations >= o.confirmations) {
          await sends.recordOutcome(pool, o.sendKey, out, false);
          if (r.nonce !== null) await settleNonceFills(rail, r.from_address, r.nonce);
          return outcomePayload(out);
        }
        if (!out && poll % REBROADCAST_EVERY_POLLS === 0) await sender.broadcast(asSigned(r)).catch(() => undefined);
        heartbeat({ poll, seen: !!out, confirmations: out?.confirmations ?? 0 });
        await sleep(POLL_INTERVAL_MS);
      }
    },
  };
}

export type SendActivities = ReturnType<typeof createSendActivities>;
