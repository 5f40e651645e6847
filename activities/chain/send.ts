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
import { nativeAssetOf, railById, type RailConfig, type StablerailConfig } from '../config.js';
import { crashPoint } from '../faults.js';
import type { Signer, SignedTx } from '../signer/signer.js';
import { SignerRefusedError } from '../signer/signer.js';
import { BroadcastRejectedError, type TxOutcome } from './rail-sender.js';
import type { RailSenders } from './senders.js';
import type { SendRecord, SendRequest, TransferOutcomePayload } from '../../workflows/payout-shared.js';

/** Receipt polling: often enough that a devnet payout confirms in about a second. */
const POLL_INTERVAL_MS = 500;
/** Rebroadcast the recorded bytes after this many polls without a receipt. */
const REBROADCAST_EVERY_POLLS = 20;

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

  async function recorded(sendKey: string) {
    const { rows } = await pool.query(`SELECT send_key, rail, tx_hash, nonce, from_address, raw, status FROM chain_sends WHERE send_key = $1`, [sendKey]);
    return rows[0] as { send_key: string; rail: string; tx_hash: string; nonce: number | null; from_address: string; raw: string; status: string } | undefined;
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
        await c.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 11))`, [req.sendKey]);
        const again = await c.query(`SELECT tx_hash, nonce FROM chain_sends WHERE send_key = $1`, [req.sendKey]);
        if (again.rows[0]) return { sendKey: req.sendKey, txHash: again.rows[0].tx_hash as string, nonce: again.rows[0].nonce as number | null, from };
        let nonce: number | undefined;
        if (rail.kind === 'evm') {
          // The row lock serializes every send from this address: nonces are handed out once.
          await c.query(`INSERT INTO signer_nonces (rail, address, next_nonce) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING`, [rail.id, from]);
          const { rows } = await c.query<{ next_nonce: number }>(`SELECT next_nonce FROM signer_nonces WHERE rail = $1 AND address = $2 FOR UPDATE`, [rail.id, from]);
          // The chain's count covers anything sent from this address outside Stablerail.
          nonce = Math.max(rows[0]!.next_nonce, await sender.nextNonce(from));
          await c.query(`UPDATE signer_nonces SET next_nonce = $3, updated_at = now() WHERE rail = $1 AND address = $2`, [rail.id, from, nonce + 1]);
        }
        const unsigned = req.asset === 'token'
          ? await sender.buildTokenTransfer({ from, to: req.to, amountMinor: amount, nonce })
          : await sender.buildNativeTransfer({ from, to: req.to, amountMinor: amount, nonce });
        const signed: SignedTx = await s.sign(req.key, unsigned).catch(refused);
        if (signed.from !== from) throw ApplicationFailure.nonRetryable(`signer signed from ${signed.from}, expected ${from}`, 'signer_refused');
        await c.query(
          `INSERT INTO chain_sends (send_key, rail, environment, purpose, from_address, to_address, asset, amount_minor, nonce, tx_hash, raw, status, fee_asset)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'signed', $12)`,
          [req.sendKey, rail.id, req.environment, req.purpose, from, req.to, req.asset === 'token' ? rail.asset : nativeAssetOf(rail), req.amountMinor,
            nonce ?? null, signed.txHash.toLowerCase(), signed.raw, nativeAssetOf(rail)],
        );
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
          await withTx(pool, async (c) => {
            await c.query(`UPDATE chain_sends SET status = 'rejected', updated_at = now() WHERE send_key = $1`, [o.sendKey]);
            // Give the nonce back when it was the last one handed out, so no gap stalls later sends.
            if (r.nonce !== null) {
              await c.query(`UPDATE signer_nonces SET next_nonce = $3 WHERE rail = $1 AND address = $2 AND next_nonce = $3 + 1`, [r.rail, r.from_address, r.nonce]);
            }
          });
          throw ApplicationFailure.nonRetryable(`the node rejected the transaction: ${(err as Error).message}`, 'broadcast_rejected');
        }
      }
      await pool.query(`UPDATE chain_sends SET status = 'broadcast', updated_at = now() WHERE send_key = $1 AND status = 'signed'`, [o.sendKey]);
    },

    /** Wait for the receipt at the rail's confirmations; heartbeats so a dead worker is noticed fast. */
    async awaitTransfer(o: { sendKey: string; confirmations: number }): Promise<TransferOutcomePayload> {
      const r = await recorded(o.sendKey);
      if (!r) throw ApplicationFailure.nonRetryable(`nothing signed for ${o.sendKey}`, 'send_not_signed');
      const sender = senders.get(railOf(config, r.rail));
      for (let poll = 1; ; poll++) {
        const out = await sender.outcome(r.tx_hash);
        if (out && out.confirmations >= o.confirmations) {
          await pool.query(
            `UPDATE chain_sends SET status = $2, fee_minor = $3, block_height = $4, block_hash = $5, updated_at = now() WHERE send_key = $1`,
            [o.sendKey, out.executed ? 'executed' : 'reverted', out.feeMinor, out.blockHeight, out.blockHash],
          );
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
