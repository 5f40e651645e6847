// STAND-IN, NOT A TRON NODE. No TRON node can run here, so the devnet and the tests use this
// small in-memory chain that speaks exactly the endpoints Stablerail uses, over HTTP on loopback:
// - reading (the TRON adapter): the Ethereum-compatible JSON-RPC subset (eth_chainId,
//   eth_blockNumber, eth_getBlockByNumber, eth_getLogs, with 20-byte hex addresses as TRON's
//   /jsonrpc answers) and the solidity API's /walletsolidity/getnowblock (solidified = head − 19);
// - sending (the TRON sender): a full node's /wallet/… subset, in tron-standin-wallet.ts, with
//   TRX accounts, TRC20 balances and a documented fee model (docs/tron-sending.md).
// It is out of the production code path: only scripts/stack.ts and tests start it.
// Test helpers, all answering JSON: /standin/transfer records a TRC20 transfer arriving from
// outside (a Transfer log in a new block, and the recipient's balance credited; the sender is not
// debited); /standin/fund_trx credits TRX from outside (no block); /standin/mine adds empty blocks.
// Test controls, which no node has: /standin/drop_next_broadcasts (`count`) makes the next
// broadcasts that pass every check answer `result: true` and then vanish (a transaction the
// network lost: never included), and /standin/advance_clock (`ms`) moves the chain's clock
// forward (so a test can pass a transaction's expiration without waiting ten minutes).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { TronWeb } from 'tronweb';
import { createStandinWallet, isWalletInputError, type StandinLog, type WalletState } from './tron-standin-wallet.js';
import { LauncherError } from './launcher-error.js';

export const STANDIN_SOLIDIFY_DEPTH = 19;
/** TRON mainnet's JSON-RPC chain id, so a client that asks gets the same answer. */
const TRON_MAINNET_CHAIN_ID = '0x2b6653dc';
const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';
const BODY_BYTES_MAX = 1 << 20;
const LOGS_PER_ANSWER_MAX = 10_000;
/** Interval-sealed empty blocks between two writes of the state file. */
const INTERVAL_BLOCKS_PER_SAVE = 3;

interface StandinBlock {
  number: number;
  hash: string;
  parentHash: string;
  timestamp: number;
  logs: StandinLog[];
  /** Transactions broadcast through /wallet/broadcasttransaction (absent in older state files). */
  txIDs?: string[];
}
/** What stateFile holds. Older files hold the block list alone (no balances then). */
interface StandinState extends WalletState {
  blocks: StandinBlock[];
}

export interface TronStandin {
  url: string;
  port: number;
  /** Record a TRC20 transfer of `token` in a new block. Addresses base58check. */
  transfer(o: { token: string; from: string; to: string; amountMinor: bigint }): { txHash: string; block: number };
  mine(count: number): number;
  head(): number;
  /** TEST CONTROL: the next `count` broadcasts that pass every check are answered as accepted and never included. */
  dropNextBroadcasts(count: number): void;
  /** txIDs (hex, no 0x) dropped by dropNextBroadcasts, oldest first. */
  dropped(): string[];
  /** TEST CONTROL: move the chain's clock forward by `ms` (block times, expiration, bandwidth recovery); never back. */
  advanceClock(ms: number): number;
  /** The chain's clock now (ms). */
  now(): number;
  /** Credit TRX (sun) from outside, activating the account. Address base58check. */
  fundTrx(address: string, amountSun: bigint): void;
  trxBalance(address: string): bigint;
  tokenBalance(token: string, address: string): bigint;
  stop(): Promise<void>;
}

const hex20 = (base58: string): string => {
  if (!TronWeb.isAddress(base58)) throw new Error(`not a TRON address: ${base58}`);
  return TronWeb.address.toHex(base58).toLowerCase().replace(/^41/, '');
};
const word = (hex: string) => '0x' + hex.padStart(64, '0');
const q = (n: number) => '0x' + n.toString(16);

const loadState = (stateFile: string | undefined): StandinState => {
  const empty = { blocks: [], accounts: {}, tokens: {}, txs: {} };
  if (!stateFile || !existsSync(stateFile)) return empty;
  const raw = JSON.parse(readFileSync(stateFile, 'utf8'));
  return Array.isArray(raw) ? { ...empty, blocks: raw } : { ...empty, ...raw };
};

export async function startTronStandin(o: {
  port: number;
  /** Keeps the chain and balances across restarts (npm start); omitted: in memory. */
  stateFile?: string;
  /** The chain's clock (block times, expiration, bandwidth recovery); tests move it. Date.now by default. */
  now?: () => number;
  /** Milliseconds between empty blocks sealed on their own (as anvil's interval mining); 0 or omitted: only on demand. */
  blockTimeMs?: number;
}): Promise<TronStandin> {
  const baseNow = o.now ?? Date.now;
  // Test controls (see the header): a forward offset on the clock, and broadcasts to lose.
  let clockOffsetMs = 0;
  const now = () => baseNow() + clockOffsetMs;
  let dropBudget = 0;
  const droppedTxIDs: string[] = [];
  const state = loadState(o.stateFile);
  const blocks = state.blocks;
  const save = () => {
    if (o.stateFile) writeFileSync(o.stateFile, JSON.stringify(state));
  };
  const seal = (logs: StandinLog[], txIDs: string[] = []): StandinBlock => {
    const parent = blocks[blocks.length - 1];
    const number = parent ? parent.number + 1 : 0;
    const parentHash = parent?.hash ?? '0x' + '0'.repeat(64);
    // TRON block ids start with the height; the rest is a hash over the parent and contents.
    const digest = createHash('sha256').update(parentHash + JSON.stringify(logs) + randomBytes(8).toString('hex')).digest('hex');
    const hash = '0x' + number.toString(16).padStart(16, '0') + digest.slice(16);
    const b: StandinBlock = { number, hash, parentHash, timestamp: now(), logs, ...(txIDs.length > 0 ? { txIDs } : {}) };
    blocks.push(b);
    return b;
  };
  if (blocks.length === 0) {
    seal([]);
    save(); // the genesis too: a restarted devnet must be the same chain the watcher stored
  }

  const head = () => blocks[blocks.length - 1]!.number;
  const wallet = createStandinWallet(
    {
      now,
      head: () => blocks[blocks.length - 1]!,
      blockAt: (h) => blocks[h],
      seal,
      save,
      dropsBroadcast: (txID) => {
        if (dropBudget <= 0) return false;
        dropBudget -= 1;
        droppedTxIDs.push(txID);
        return true;
      },
    },
    state,
  );
  const blockAt = (tag: unknown): StandinBlock | null => {
    if (tag === 'latest' || tag === 'pending') return blocks[blocks.length - 1]!;
    if (tag === 'earliest') return blocks[0]!;
    if (typeof tag !== 'string' || !/^0x[0-9a-f]+$/i.test(tag)) throw new Error('invalid block tag');
    return blocks[Number.parseInt(tag, 16)] ?? null;
  };

  function rpc(method: string, params: unknown[]): unknown {
    switch (method) {
      case 'eth_chainId':
        return TRON_MAINNET_CHAIN_ID;
      case 'eth_blockNumber':
        return q(head());
      case 'eth_getBlockByNumber': {
        const b = blockAt(params[0]);
        return b && { number: q(b.number), hash: b.hash, parentHash: b.parentHash, timestamp: q(Math.floor(b.timestamp / 1000)), transactions: (b.txIDs ?? []).map((id) => '0x' + id) };
      }
      case 'eth_getLogs': {
        const f = (params[0] ?? {}) as { fromBlock?: string; toBlock?: string; address?: string | string[]; topics?: Array<string | string[] | null> };
        const from = f.fromBlock ? blockAt(f.fromBlock)?.number ?? head() + 1 : head();
        const to = f.toBlock ? blockAt(f.toBlock)?.number ?? head() : head();
        const addrs = f.address ? (Array.isArray(f.address) ? f.address : [f.address]).map((a) => a.toLowerCase()) : null;
        const out: unknown[] = [];
        for (let h = from; h <= Math.min(to, head()); h++) {
          const b = blocks[h]!;
          for (const l of b.logs) {
            if (addrs && !addrs.includes(l.address)) continue;
            const topicsOk = (f.topics ?? []).every((t, i) => t === null || t === undefined || (Array.isArray(t) ? t.map((x) => x.toLowerCase()).includes(l.topics[i]!) : t.toLowerCase() === l.topics[i]));
            if (!topicsOk) continue;
            out.push({ ...l, logIndex: q(l.logIndex), blockNumber: q(b.number), blockHash: b.hash, transactionIndex: '0x0', removed: false });
            if (out.length > LOGS_PER_ANSWER_MAX) throw new Error('query returned more than 10000 results');
          }
        }
        return out;
      }
      default:
        throw Object.assign(new Error(`the method ${method} does not exist/is not available`), { code: -32601 });
    }
  }

  const api = {
    transfer(t: { token: string; from: string; to: string; amountMinor: bigint }) {
      const txHash = '0x' + randomBytes(32).toString('hex');
      wallet.creditToken(hex20(t.token), hex20(t.to), t.amountMinor);
      const b = seal([{ address: '0x' + hex20(t.token), topics: [TRANSFER_TOPIC, word(hex20(t.from)), word(hex20(t.to))], data: word(t.amountMinor.toString(16)), transactionHash: txHash, logIndex: 0 }]);
      save();
      return { txHash, block: b.number };
    },
    mine(count: number) {
      for (let i = 0; i < Math.min(Math.max(count, 1), 10_000); i++) seal([]);
      save();
      return head();
    },
    head,
    dropNextBroadcasts(count: number) {
      if (!Number.isSafeInteger(count) || count < 0 || count > 1000) throw new Error('count must be 0..1000');
      dropBudget = count;
    },
    dropped: () => [...droppedTxIDs],
    advanceClock(ms: number) {
      if (!Number.isSafeInteger(ms) || ms < 0) throw new Error('ms must be a non-negative integer');
      clockOffsetMs += ms;
      return now();
    },
    now,
    fundTrx(address: string, amountSun: bigint) {
      wallet.fundTrx('41' + hex20(address), amountSun);
      save();
    },
    trxBalance: (address: string) => wallet.trxBalance('41' + hex20(address)),
    tokenBalance: (token: string, address: string) => wallet.tokenBalance(hex20(token), hex20(address)),
  };
  /** A block in /wallet's shape: the id without 0x, the header's raw_data. */
  const blockJson = (b: StandinBlock) => ({
    blockID: b.hash.slice(2),
    block_header: { raw_data: { number: b.number, timestamp: b.timestamp, parentHash: b.parentHash.slice(2) } },
  });

  const readBody = (req: IncomingMessage) => new Promise<string>((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > BODY_BYTES_MAX) reject(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const server: Server = createServer(async (req, res) => {
    try {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const text = req.method === 'POST' ? await readBody(req) : '';
      if (path === '/walletsolidity/getnowblock') return json(res, 200, blockJson(blocks[Math.max(0, head() - STANDIN_SOLIDIFY_DEPTH)]!));
      if (path === '/wallet/getnowblock') return json(res, 200, blockJson(blocks[blocks.length - 1]!));
      if (path === '/wallet/getblockbynum') {
        const n = JSON.parse(text || '{}').num;
        const b = Number.isSafeInteger(n) ? blocks[n] : undefined;
        return json(res, 200, b ? { ...blockJson(b), ...(b.txIDs ? { transactions: b.txIDs.map((id) => wallet.routes['/wallet/gettransactionbyid']!({ value: id })) } : {}) } : {});
      }
      const walletRoute = wallet.routes[path];
      if (walletRoute) {
        // A real node answers a request it cannot parse with 200 and {"Error": "…"}.
        try {
          return json(res, 200, walletRoute(text.trim() === '' ? {} : JSON.parse(text)));
        } catch (err) {
          if (isWalletInputError(err) || err instanceof SyntaxError) return json(res, 200, { Error: `class java.lang.IllegalArgumentException : ${(err as Error).message}` });
          throw err;
        }
      }
      if (path === '/standin/fund_trx') {
        const body = JSON.parse(text || '{}');
        api.fundTrx(body.address, BigInt(body.amount_sun));
        return json(res, 200, { address: body.address, balance_sun: api.trxBalance(body.address).toString() });
      }
      if (path === '/standin/transfer') {
        const body = JSON.parse(text || '{}');
        return json(res, 200, api.transfer({ token: body.token, from: body.from, to: body.to, amountMinor: BigInt(body.amount_minor) }));
      }
      if (path === '/standin/mine') return json(res, 200, { head: api.mine(Number(JSON.parse(text || '{}').count ?? 1)) });
      // Test controls (see the header): a node has neither.
      if (path === '/standin/drop_next_broadcasts') {
        api.dropNextBroadcasts(Number(JSON.parse(text || '{}').count ?? 1));
        return json(res, 200, { dropped: api.dropped() });
      }
      if (path === '/standin/advance_clock') return json(res, 200, { now: api.advanceClock(Number(JSON.parse(text || '{}').ms ?? 0)) });
      if (path === '/' || path === '/jsonrpc') {
        const msg = JSON.parse(text);
        try {
          return json(res, 200, { jsonrpc: '2.0', id: msg.id, result: rpc(msg.method, msg.params ?? []) });
        } catch (err) {
          return json(res, 200, { jsonrpc: '2.0', id: msg.id, error: { code: (err as { code?: number }).code ?? -32000, message: (err as Error).message } });
        }
      }
      return json(res, 404, { error: 'not found' });
    } catch (err) {
      return json(res, 400, { error: (err as Error).message });
    }
  });
  await new Promise<void>((resolve, reject) => {
    // A taken port is the operator's to change (npm start says which), not a crash to debug.
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new LauncherError(`TRON stand-in port ${o.port} (the devnet's port + 1) is in use; set STABLERAIL_DEVNET_PORT to a port whose next one is free`) : err));
    server.listen(o.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  // Interval blocks are empty: written to the state file every few blocks rather than each one,
  // as anvil dumps its state every few seconds; stop() writes the rest.
  let unsaved = 0;
  const ticker = o.blockTimeMs && o.blockTimeMs > 0
    ? setInterval(() => {
      seal([]);
      if (++unsaved >= INTERVAL_BLOCKS_PER_SAVE) {
        unsaved = 0;
        save();
      }
    }, o.blockTimeMs)
    : null;
  ticker?.unref();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    ...api,
    async stop() {
      if (ticker) clearInterval(ticker);
      save();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
