// The ingest benchmark (`npm run bench -- ingest [--watched N] [--logs N]`), on the real devnet,
// PostgreSQL and Temporal that `npm start` runs:
//  1. backfill throughput: N watched deposit addresses (default 1,000,000) in deposit_addresses,
//     Transfer logs generated in bulk on anvil (batchTransfer, 1,000 logs per tx) to addresses
//     drawn from that set, then the watcher's ingest activity backfills them from a cursor before
//     the first one: read blocks and logs, link hashes, match against the watched set in
//     PostgreSQL, store keyed transfers. Reported in logs/s beside the raw eth_getLogs ceiling
//     of the same node in the same run (fetch + JSON decode only).
//  2. live latency: payments created over the API, paid, and the block that completes their
//     confirmations mined; the time from that block to the payment being `confirmed` in
//     PostgreSQL, p50/p90/max.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Contract, JsonRpcProvider, Network, Wallet, getAddress, keccak256, toBeHex, toQuantity } from 'ethers';
import { parseConfig } from '../../activities/config.js';
import { createApiKey, createMerchant, SCOPES } from '../../activities/merchant.js';
import { createLogger } from '../../api/logger.js';
import { createWatcherActivities } from '../../activities/chain/watcher.js';
import { EvmAdapter, LOGS_PARALLEL_RANGES } from '../../activities/chain/evm-adapter.js';
import { createChainWorker, startWatchers } from '../../workers/chain-worker.js';
import { devnetRails } from '../devnet-rails.js';
import { startStack } from '../stack.js';
import { freePort } from '../embedded/temporal.js';
import { DEVNET_CHAIN_ID, tokenArtifact, ANVIL_MNEMONIC } from '../embedded/devnet.js';

const LOGS_PER_TX = 1_000;
const INSERT_CHUNK = 50_000;
const GETLOGS_BLOCKS_PER_CALL = 2_000;

function arg(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const say = (s: string) => process.stdout.write(s + '\n');

export async function run(args: string[]): Promise<void> {
  const watchedN = arg(args, 'watched', 1_000_000);
  const logsN = arg(args, 'logs', 100_000);
  const latencyN = arg(args, 'payments', 20);
  // anvil answers eth_getLogs much slower for a few huge blocks than for many ordinary ones.
  const txsPerBlock = arg(args, 'txs-per-block', 1);
  const root = mkdtempSync(join(tmpdir(), 'stablerail-bench-'));
  chmodSync(root, 0o755);
  const ports = { evm: await freePort(), tron: await freePort() };
  const baseUrl = 'http://127.0.0.1:0';
  const config = parseConfig(
    { base_url: baseUrl, rails: devnetRails({ mnemonic: ANVIL_MNEMONIC, evmRpcUrl: `http://127.0.0.1:${ports.evm}`, tronRpcUrl: `http://127.0.0.1:${ports.tron}` }), monitor_after_close_s: 60, rate_limit: { per_s: 10_000, burst: 10_000 } },
    { base_url: baseUrl },
  );
  const rail = config.rails.find((r) => r.id === 'usdt-erc20')!;
  const logger = createLogger(undefined, 'warn');
  const stack = await startStack({
    dataDir: join(root, 'data'), config, apiPort: 0, temporalPort: 0, logger, ephemeral: true, masterKey: randomBytes(32),
    devnet: { port: ports.evm, mnemonic: ANVIL_MNEMONIC }, chainWorkers: 0, watchers: false,
  });
  try {
    const devnet = stack.devnet!;
    const provider = new JsonRpcProvider(devnet.rpcUrl, Network.from(DEVNET_CHAIN_ID), { staticNetwork: true, cacheTimeout: -1, batchMaxCount: 1 });
    const payer = new Wallet(devnet.payerPrivateKey, provider);
    const token = new Contract(devnet.tokenAddress, tokenArtifact().abi as never, payer);

    // 1. The watched set: N addresses assigned to (benchmark) payments.
    let t0 = Date.now();
    const watched: string[] = new Array(watchedN);
    for (let i = 0; i < watchedN; i++) watched[i] = getAddress('0x' + keccak256(toBeHex(i + 1, 32)).slice(26));
    for (let i = 0; i < watchedN; i += INSERT_CHUNK) {
      const slice = watched.slice(i, i + INSERT_CHUNK);
      // Indexes far above the devnet's own, so the benchmark's set never meets a real allocation.
      await stack.pool.query(
        `INSERT INTO deposit_addresses (rail, address_index, address, payment_id, assigned_at)
         SELECT $1, $3::bigint + i, a, 'pay_bench_' || ($3::bigint + i), now() FROM unnest($2::text[]) WITH ORDINALITY AS u(a, i)`,
        [rail.id, slice, 1_000_000_000 + i],
      );
    }
    await stack.pool.query('ANALYZE deposit_addresses');
    say(`watched addresses: ${watchedN} inserted in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // 2. Logs in bulk: batchTransfer to addresses drawn from the watched set.
    const startHeight = await provider.getBlockNumber();
    const startBlock = await provider.getBlock(startHeight);
    t0 = Date.now();
    let nonce = await provider.getTransactionCount(payer.address);
    const pending: Array<Promise<unknown>> = [];
    await provider.send('evm_setAutomine', [false]);
    for (let sent = 0; sent < logsN; sent += LOGS_PER_TX) {
      const n = Math.min(LOGS_PER_TX, logsN - sent);
      const to = Array.from({ length: n }, (_, k) => watched[(sent + k) * 7919 % watchedN]!);
      pending.push(token.getFunction('batchTransfer')(to, to.map(() => 1n), { nonce: nonce++, gasLimit: 60_000_000 }));
      if (pending.length >= txsPerBlock) {
        await Promise.all(pending.splice(0));
        await provider.send('evm_mine', []);
      }
    }
    await Promise.all(pending.splice(0));
    await provider.send('evm_mine', []);
    await provider.send('evm_setAutomine', [true]);
    const endHeight = await provider.getBlockNumber();
    say(`generated ${logsN} Transfer logs in blocks ${startHeight + 1}..${endHeight} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // 3. The raw eth_getLogs ceiling of this node: fetch and JSON-decode only. One untimed pass
    // first, so neither the raw reads nor the backfill after them is measured on a cold node.
    await provider.send('eth_getLogs', [{ fromBlock: toQuantity(startHeight + 1), toBlock: toQuantity(endHeight), address: devnet.tokenAddress }]);
    t0 = performance.now();
    let raw = 0;
    for (let h = startHeight + 1; h <= endHeight; h += GETLOGS_BLOCKS_PER_CALL) {
      const logs = await provider.send('eth_getLogs', [{ fromBlock: toQuantity(h), toBlock: toQuantity(Math.min(endHeight, h + GETLOGS_BLOCKS_PER_CALL - 1)), address: devnet.tokenAddress }]);
      raw += logs.length;
    }
    const rawS = (performance.now() - t0) / 1000;
    // The same, as the adapter reads a wide range: a few sub-ranges at once.
    t0 = performance.now();
    let rawPar = 0;
    const span = endHeight - startHeight;
    const step = Math.ceil(span / LOGS_PARALLEL_RANGES);
    await Promise.all(Array.from({ length: LOGS_PARALLEL_RANGES }, async (_, k) => {
      const a = startHeight + 1 + k * step;
      const b = Math.min(endHeight, a + step - 1);
      if (a > b) return;
      const logs = await provider.send('eth_getLogs', [{ fromBlock: toQuantity(a), toBlock: toQuantity(b), address: devnet.tokenAddress }]);
      rawPar += logs.length;
    }));
    const rawParS = (performance.now() - t0) / 1000;

    // 4. Backfill through the watcher's ingest activity from a cursor just before the logs.
    await stack.pool.query(
      `INSERT INTO chain_cursors (rail, processed_height, processed_hash, head_height, finalized_height) VALUES ($1, $2, $3, $2, 0)
       ON CONFLICT (rail) DO UPDATE SET processed_height = EXCLUDED.processed_height, processed_hash = EXCLUDED.processed_hash`,
      [rail.id, startHeight, startBlock!.hash!.toLowerCase()],
    );
    await stack.pool.query(`INSERT INTO chain_blocks (rail, height, hash, parent_hash) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [rail.id, startHeight, startBlock!.hash!.toLowerCase(), startBlock!.parentHash.toLowerCase()]);
    // The same adapter the watcher uses, timed, so the report splits node time from Stablerail's.
    const adapter = new EvmAdapter(rail);
    let nodeMs = 0;
    const timed = <A extends unknown[], R>(f: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
      const t = performance.now();
      try { return await f(...a); } finally { nodeMs += performance.now() - t; }
    };
    adapter.block = timed(adapter.block.bind(adapter));
    adapter.transfers = timed(adapter.transfers.bind(adapter));
    adapter.headHeight = timed(adapter.headHeight.bind(adapter));
    const ingest = createWatcherActivities({ pool: stack.pool, config, client: stack.client, notify: false, adapters: new Map([[rail.id, adapter]]) });
    t0 = performance.now();
    let stored = 0;
    for (;;) {
      const r = await ingest.ingestChain({ railId: rail.id, cursor: null, longPollMs: 0 });
      stored += r.transfers;
      if (r.cursor >= endHeight) break;
    }
    const ingestS = (performance.now() - t0) / 1000;
    const rawRate = raw / rawS;
    const ingestRate = stored / ingestS;
    say(`raw eth_getLogs ceiling: ${raw} logs in ${rawS.toFixed(2)} s = ${Math.round(rawRate)} logs/s (one call at a time); ${rawPar} logs in ${rawParS.toFixed(2)} s = ${Math.round(rawPar / rawParS)} logs/s (${LOGS_PARALLEL_RANGES} sub-ranges at once)`);
    say(`backfill (read, link, match against ${watchedN} watched, store): ${stored} logs in ${ingestS.toFixed(2)} s = ${Math.round(ingestRate)} logs/s`);
    const ownS = ingestS - nodeMs / 1000;
    say(`  of which node calls (request, answer, decode) ${(nodeMs / 1000).toFixed(2)} s; Stablerail's own work (link, match, store) ${ownS.toFixed(2)} s = ${Math.round(stored / ownS)} logs/s`);

    // 5. Live latency: the watcher running on its worker, payments over the API.
    await stack.pool.query(`DELETE FROM payment_chain_views`);
    const worker = await createChainWorker({ connection: stack.nativeConnection, namespace: stack.namespace, pool: stack.pool, config, client: stack.client });
    const running = worker.run();
    await startWatchers(stack.client, [rail]);
    const m = await createMerchant(stack.pool, config, 'Bench merchant', 'bench');
    const key = await createApiKey(stack.pool, m.id, 'sandbox', [...SCOPES], 'bench');
    const latencies: number[] = [];
    for (let i = 0; i < latencyN; i++) {
      const res = await fetch(`${stack.apiUrl}/v1/payments`, {
        method: 'POST', headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ amount: '1.00', rail: rail.id, reference: `bench-${i}` }),
      });
      const p = (await res.json()) as { id: string; deposit_address: string };
      await (await token.getFunction('transfer')(p.deposit_address, 1_000_000n)).wait();
      await provider.send('anvil_mine', [toQuantity(rail.confirmations_required - 2)]);
      const tMined = performance.now();
      await provider.send('evm_mine', []); // the block that completes the confirmations
      for (;;) {
        const { rows } = await stack.pool.query(`SELECT status FROM payments WHERE id = $1`, [p.id]);
        if (rows[0]?.status === 'confirmed') break;
        if (performance.now() - tMined > 30_000) throw new Error(`payment ${p.id} not confirmed in 30 s`);
        await new Promise((r) => setTimeout(r, 10));
      }
      latencies.push(performance.now() - tMined);
    }
    say(`live latency, block completing the confirmations -> confirmed (${latencyN} payments): p50 ${Math.round(pct(latencies, 50))} ms, p90 ${Math.round(pct(latencies, 90))} ms, max ${Math.round(Math.max(...latencies))} ms`);
    worker.shutdown();
    await running;
    provider.destroy();
    // The last line: the figures and the backfill's ratio to this node's raw eth_getLogs ceiling.
    console.log(JSON.stringify({
      bench: 'ingest', raw_logs_per_s: Math.round(rawRate), ingest_logs_per_s: Math.round(ingestRate), ratio_to_raw: Number((ingestRate / rawRate).toFixed(2)),
      own_work_logs_per_s: Math.round(stored / ownS), live_p50_ms: Math.round(pct(latencies, 50)), live_p90_ms: Math.round(pct(latencies, 90)),
    }));
  } finally {
    await stack.stop();
  }
}
