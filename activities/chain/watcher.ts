// The watcher's activities: follow a rail's head in bounded batches, keep the hashes of the
// blocks processed, detect a reorg by a hash mismatch and walk back to the common ancestor,
// store transfers to watched addresses keyed by (rail, tx hash, log index), and tell each
// payment workflow concerned its address's new view only when that view changed.
//
// Safety: the cursor row is locked FOR UPDATE for a whole batch, so two attempts of the same
// activity (a worker presumed dead that is not) serialize, and every write is an upsert, so a
// retry after a commit counts nothing twice. Confirmations and finality are counted on the
// watcher's own hash-linked chain (processed height), never on a node's claimed head, so a
// lagging or disagreeing node can delay a confirmation but never invent one.
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Pool, DbClient } from '../db.js';
import { withTx } from '../db.js';
import * as watch from '../repositories/chain-watch.js';
import type { RailConfig, StablerailConfig } from '../config.js';
import { railById } from '../config.js';
import { sha256Hex, canonicalJson } from '../ids.js';
import { recordChainException } from '../chain-exceptions.js';
import type { ChainBlock, ChainTransfer, RailAdapter } from './rail-adapter.js';
import { ChainDataError } from './rail-adapter.js';
import { firstCursorHeight } from './first-cursor.js';
import { createRailAdapter } from './adapters.js';
import type { ChainTransferView, TransferDepth } from '../../workflows/rules/matching.js';
import { paymentChainSignal, type PaymentChainUpdate } from '../../workflows/shared.js';

/** Blocks read per batch: bounds one activity's work and one transaction's size. */
export const BATCH_BLOCKS_MAX = 2_000;
/** Below this depth under the head a block is too deep to reorg; its hash need not be linked one by one. */
export const REORG_WINDOW_BLOCKS = 64;
/** A reorg deeper than this is refused (retried and alerted), never silently followed. */
export const REORG_DEPTH_MAX = REORG_WINDOW_BLOCKS;
/** Payment views recomputed per batch; the rest wait for the next batch. */
export const VIEWS_PER_BATCH_MAX = 1_000;
/** Parallel block fetches against one node. */
const BLOCK_FETCH_CONCURRENCY = 8;
/** Addresses looked up per query against deposit_addresses. */
const ADDRESS_LOOKUP_CHUNK = 10_000;

export interface IngestInput {
  railId: string;
  cursor: number | null;
  /** How long to wait for a new block before answering idle. */
  longPollMs?: number;
  pollMs?: number;
}

export interface IngestResult {
  cursor: number;
  headHeight: number;
  blocks: number;
  transfers: number;
  reorgDepth: number;
  signaled: number;
  exceptions: number;
}

export class ReorgTooDeepError extends Error {
  override name = 'ReorgTooDeepError';
}

/** A transfer as the watcher's records take it: the amount as a decimal string of minor units. */
const transferRow = (t: ChainTransfer): watch.TransferRow => ({ txHash: t.txHash, logIndex: t.logIndex, blockHeight: t.blockHeight, blockHash: t.blockHash, from: t.from, to: t.to, amountMinor: t.amountMinor.toString() });

function heartbeat(details?: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch { /* outside an activity (bench, direct calls): nothing to report to */ }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function mapBounded<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

export interface WatcherDeps {
  pool: Pool;
  config: StablerailConfig;
  client: Client;
  /** Tests and the bench may hand in adapters; otherwise one per rail from config. */
  adapters?: Map<string, RailAdapter>;
  /** false: ingest only, no payment signals (the ingest benchmark measures the data plane alone). */
  notify?: boolean;
  log?: (obj: Record<string, unknown>, msg: string) => void;
}

export function createWatcherActivities(deps: WatcherDeps) {
  const adapters = deps.adapters ?? new Map<string, RailAdapter>();
  const log = deps.log ?? (() => undefined);

  function railOf(railId: string): RailConfig {
    const rail = railById(deps.config, railId);
    if (!rail) throw new Error(`rail ${railId} is not configured`);
    return rail;
  }
  function adapterOf(rail: RailConfig): RailAdapter {
    let a = adapters.get(rail.id);
    if (!a) {
      a = createRailAdapter(rail);
      adapters.set(rail.id, a);
    }
    return a;
  }

  /**
   * A new rail's cursor: at `start_height`, or before its oldest payment (payments are made and
   * paid while no chain worker runs yet, e.g. the API started first), else at the head.
   */
  async function ensureCursor(rail: RailConfig, adapter: RailAdapter, head: number): Promise<void> {
    if (await watch.cursorOf(deps.pool, rail.id)) return;
    const oldestAt = await watch.oldestPaymentAt(deps.pool, rail.id);
    const height = await firstCursorHeight({
      startHeight: rail.start_height,
      oldestPaymentAt: oldestAt,
      head,
      timestampAt: async (h) => {
        const blk = await adapter.block(h);
        if (!blk) throw new ChainDataError(`node has no block at ${h} (head ${head})`);
        if (blk.timestamp === undefined) throw new ChainDataError(`node gave no timestamp for block ${h}: set the rail's start_height`);
        return blk.timestamp;
      },
    });
    const b = await adapter.block(height);
    if (!b) throw new ChainDataError(`node has no block at ${height} (head ${head})`);
    log({ rail: rail.id, height, head, start_height: rail.start_height ?? null, oldest_payment_at: oldestAt }, 'first cursor');
    await withTx(deps.pool, (c) => watch.insertFirstCursor(c, rail.id, b, head));
  }

  /** Walk back from `from` until the node and the stored chain agree; returns the common ancestor. */
  async function commonAncestor(c: DbClient, rail: RailConfig, adapter: RailAdapter, from: number): Promise<number> {
    for (const row of await watch.blocksNear(c, rail.id, from, REORG_DEPTH_MAX)) {
      const b = await adapter.block(Number(row.height));
      if (b && b.hash === row.hash) return b.height;
    }
    throw new ReorgTooDeepError(`rail ${rail.id}: no common ancestor within ${REORG_DEPTH_MAX} blocks below ${from}`);
  }

  async function ingestOnce(rail: RailConfig, adapter: RailAdapter, head: number): Promise<IngestResult | null> {
    return withTx(deps.pool, async (c) => {
      const cur = await watch.lockedCursor(c, rail.id);
      if (!cur) throw new Error(`rail ${rail.id} has no cursor`);
      let processed = Number(cur.processed_height);
      let processedHash = cur.processed_hash;
      let reorgDepth = 0;

      // Is what we processed still the node's chain? Compare at the highest height both have.
      const tipHeight = Math.min(head, processed);
      const storedTip = await watch.blockHashAt(c, rail.id, tipHeight);
      const nodeTip = await adapter.block(tipHeight);
      if (!nodeTip) throw new ChainDataError(`node reports head ${head} but has no block ${tipHeight}`);
      if (storedTip !== undefined && storedTip !== nodeTip.hash) {
        const ancestor = await commonAncestor(c, rail, adapter, tipHeight - 1);
        reorgDepth = processed - ancestor;
        await rollBack(c, rail, ancestor);
        processed = ancestor;
        processedHash = (await watch.blockHashAt(c, rail.id, ancestor))!;
        log({ rail: rail.id, ancestor, depth: reorgDepth }, 'reorg: rolled back to the common ancestor');
      }
      if (head <= processed && reorgDepth === 0) return null;

      const to = Math.min(head, processed + BATCH_BLOCKS_MAX);
      let blocks: ChainBlock[] = [];
      let transfers: ChainTransfer[] = [];
      if (to > processed) {
        // Deep under the head only the batch's ends are read; near it every block, linked by parent hash.
        const heights = to <= head - REORG_WINDOW_BLOCKS
          ? [...new Set([processed + 1, to])]
          : Array.from({ length: to - processed }, (_, i) => processed + 1 + i);
        blocks = (await mapBounded(heights, BLOCK_FETCH_CONCURRENCY, async (h) => {
          heartbeat({ rail: rail.id, height: h }); // a long batch on a slow node must not look like a dead worker
          return adapter.block(h);
        })).map((b, i) => {
          if (!b) throw new ChainDataError(`node lost block ${heights[i]} below its head ${head}`);
          return b;
        });
        if (blocks[0]!.parentHash !== processedHash) {
          // The chain moved under us between the tip check and now: the next attempt sees the reorg.
          throw new ChainDataError(`block ${blocks[0]!.height} does not extend processed block ${processed}`);
        }
        for (let i = 1; i < blocks.length; i++) {
          if (blocks[i]!.height === blocks[i - 1]!.height + 1 && blocks[i]!.parentHash !== blocks[i - 1]!.hash) {
            throw new ChainDataError(`blocks ${blocks[i - 1]!.height}..${blocks[i]!.height} are not linked: the node is mid-reorg`);
          }
        }
        transfers = await adapter.transfers(processed + 1, to);
        const hashAt = new Map(blocks.map((b) => [b.height, b.hash]));
        for (const t of transfers) {
          const h = hashAt.get(t.blockHeight);
          if (h !== undefined && h !== t.blockHash) throw new ChainDataError(`log ${t.txHash}:${t.logIndex} is from another branch than block ${t.blockHeight}`);
        }
        heartbeat({ rail: rail.id, to });
      }

      const matched = await storeTransfers(c, rail, transfers);
      if (blocks.length > 0) {
        await watch.storeBlocks(c, rail.id, blocks);
        const last = blocks[blocks.length - 1]!;
        processed = last.height;
        processedHash = last.hash;
        // Hashes deeper than the reorg window are never compared again.
        await watch.pruneBlocksBelow(c, rail.id, processed - 2 * REORG_WINDOW_BLOCKS);
      }
      const finalized = Math.min(processed, await adapter.finalizedHeight(processed));
      await watch.advanceCursor(c, rail.id, { processed, processedHash, head, finalized: Math.max(finalized, 0), reorged: reorgDepth > 0 });
      return { cursor: processed, headHeight: head, blocks: blocks.length, transfers: matched.stored, reorgDepth, signaled: 0, exceptions: matched.exceptions };
    });
  }

  /** Mark transfers above the ancestor removed and their payments' views for recomputation. */
  async function rollBack(c: DbClient, rail: RailConfig, ancestor: number): Promise<void> {
    await watch.rollBackTo(c, rail.id, ancestor);
  }

  /**
   * Keep every transfer leaving the rail's treasury wallet: the provider truth payouts are
   * reconciled against (payout_without_transfer, transfer_without_payout).
   */
  async function storeTreasuryTransfers(c: DbClient, rail: RailConfig, transfers: ChainTransfer[]): Promise<void> {
    const wallet = await watch.treasuryWallet(c, rail.id);
    if (!wallet) return;
    const out = transfers.filter((t) => t.from === wallet);
    if (out.length === 0) return;
    await watch.storeTreasuryTransfers(c, rail.id, out.map(transferRow));
  }

  /** Keep transfers to watched addresses; those matching no payment become exceptions. */
  async function storeTransfers(c: DbClient, rail: RailConfig, transfers: ChainTransfer[]): Promise<{ stored: number; exceptions: number }> {
    if (transfers.length === 0) return { stored: 0, exceptions: 0 };
    await storeTreasuryTransfers(c, rail, transfers);
    const addresses = [...new Set(transfers.map((t) => t.to))];
    const owner = new Map<string, string | null>();
    for (let i = 0; i < addresses.length; i += ADDRESS_LOOKUP_CHUNK) {
      for (const r of await watch.depositOwners(c, rail.id, addresses.slice(i, i + ADDRESS_LOOKUP_CHUNK))) owner.set(r.address, r.payment_id);
    }
    const watched = transfers.filter((t) => owner.has(t.to));
    if (watched.length === 0) return { stored: 0, exceptions: 0 };
    // Re-inclusion after a reorg revives the row (same key): it still counts once.
    await watch.storeTransfers(c, rail.id, watched.map((t) => ({ ...transferRow(t), paymentId: owner.get(t.to) ?? null })));
    const paymentIds = [...new Set(watched.map((t) => owner.get(t.to)).filter((x): x is string => !!x))];
    if (paymentIds.length) await watch.unsettleViews(c, rail.id, paymentIds);
    let exceptions = 0;
    for (const t of watched.filter((w) => !owner.get(w.to))) {
      if (await recordException(c, rail, t, 'unmatched_transfer', null, { reason: 'address_not_assigned' })) exceptions += 1;
    }
    return { stored: watched.length, exceptions };
  }

  function recordException(c: DbClient, rail: RailConfig, t: { txHash: string; logIndex: number; to: string; amountMinor: bigint | string }, code: string, paymentId: string | null, detail: Record<string, unknown>): Promise<boolean> {
    return recordChainException(c, { rail: rail.id, ...t, code, paymentId, actor: `watcher:${rail.id}`, detail });
  }

  /** Recompute unsettled payment views; signal those that changed, then remember what was sent. */
  async function notifyPayments(rail: RailConfig): Promise<{ signaled: number; exceptions: number }> {
    const cur = await watch.cursorOf(deps.pool, rail.id);
    if (!cur) return { signaled: 0, exceptions: 0 };
    const processed = Number(cur.processed_height);
    const finalized = Number(cur.finalized_height);
    const views = await watch.unsettledViews(deps.pool, rail.id, VIEWS_PER_BATCH_MAX);
    if (views.length === 0) return { signaled: 0, exceptions: 0 };
    const rows = await watch.transfersOfPayments(deps.pool, rail.id, views.map((v) => v.payment_id));
    const byPayment = new Map<string, typeof rows>();
    for (const r of rows) {
      const list = byPayment.get(r.payment_id!) ?? [];
      list.push(r);
      byPayment.set(r.payment_id!, list);
    }
    let signaled = 0;
    let exceptions = 0;
    for (const v of views) {
      const list = byPayment.get(v.payment_id) ?? [];
      const transfers: ChainTransferView[] = list.map((r) => {
        const h = Number(r.block_height);
        const depth: TransferDepth = h <= finalized ? 'final' : processed - h + 1 >= rail.confirmations_required ? 'confirmed' : 'pending';
        return { key: `${r.tx_hash}:${r.log_index}`, amountMinor: r.amount_minor!, blockHeight: h, blockHash: r.block_hash, depth };
      });
      // Heights are left out of the digest: only what the payment decides on counts as a change.
      // The block hash is in it: a transfer mined again in another block is a new inclusion for the ledger.
      const digest = sha256Hex(canonicalJson(transfers.map((t) => [t.key, t.amountMinor, t.depth, t.blockHash])));
      const settled = transfers.every((t) => t.depth === 'final');
      if (digest === v.digest) {
        if (settled) await watch.setView(deps.pool, v.payment_id, { version: null, digest: null, settled: true });
        continue;
      }
      const update: PaymentChainUpdate = { rail: rail.id, version: v.version + 1, processedHeight: processed, transfers };
      try {
        await deps.client.workflow.getHandle(v.payment_id).signal(paymentChainSignal, update);
        signaled += 1;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        // The payment's workflow has ended: the money is still recorded, as an exception.
        for (const r of list) {
          if (await withTx(deps.pool, (c) => recordException(c, rail, { txHash: r.tx_hash, logIndex: r.log_index, to: r.to_address, amountMinor: r.amount_minor! }, 'unmatched_transfer', v.payment_id, { reason: 'payment_closed' }))) exceptions += 1;
        }
      }
      await watch.setView(deps.pool, v.payment_id, { version: v.version + 1, digest, settled });
    }
    return { signaled, exceptions };
  }

  return {
    /**
     * One step of a rail's watcher: wait (long poll, bounded) for something new, ingest one
     * bounded batch, then signal the payments whose view changed. Idempotent and retry-safe.
     */
    async ingestChain(input: IngestInput): Promise<IngestResult> {
      const rail = railOf(input.railId);
      const adapter = adapterOf(rail);
      const deadline = Date.now() + (input.longPollMs ?? 2_000);
      for (;;) {
        const head = await adapter.headHeight();
        await ensureCursor(rail, adapter, head);
        const r = await ingestOnce(rail, adapter, head);
        // Views are notified even without new blocks: a retry after a crash must resend what it owed.
        const n = deps.notify === false ? { signaled: 0, exceptions: 0 } : await notifyPayments(rail);
        if (r || n.signaled > 0 || Date.now() >= deadline) {
          const cur = (await watch.cursorOf(deps.pool, rail.id))!;
          return {
            cursor: Number(cur.processed_height),
            headHeight: head,
            blocks: r?.blocks ?? 0,
            transfers: r?.transfers ?? 0,
            reorgDepth: r?.reorgDepth ?? 0,
            signaled: n.signaled,
            exceptions: (r?.exceptions ?? 0) + n.exceptions,
          };
        }
        heartbeat({ rail: rail.id, idle: true });
        await sleep(input.pollMs ?? 150);
      }
    },
  };
}

export type WatcherActivities = ReturnType<typeof createWatcherActivities>;
