// The TRON sender against its own TRON stand-in (not the shared stack): build, sign with
// tronweb's signTransaction as a signer would, broadcast, and judge outcomes by receipt and log.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TronWeb, utils as tronUtils } from 'tronweb';
import type { RailConfig } from '../activities/config.js';
import { RpcUnavailableError } from '../activities/chain/rail-adapter.js';
import { BroadcastRejectedError } from '../activities/chain/rail-sender.js';
import { TronAdapter } from '../activities/chain/tron-adapter.js';
import {
  TRC20_TRANSFER_FEE_LIMIT_SUN,
  TRON_TX_EXPIRATION_MS,
  TronSender,
  USDT_TRC20_TRANSFER_ENERGY,
  USDT_TRC20_TRANSFER_ENERGY_NEW_HOLDER,
  balanceOfParameter,
  trc20TransferParameter,
  tronBandwidthBytes,
} from '../activities/chain/tron-sender.js';
import type { SignedTx, TronUnsignedTx } from '../activities/signer/signer.js';
import { startTronStandin, type TronStandin } from '../scripts/embedded/tron-standin.js';
import { STANDIN_CHAIN_PARAMETERS, STANDIN_TRC20_REVERT_ENERGY, encodeRawData } from '../scripts/embedded/tron-standin-wallet.js';
import { ChainDataError } from '../activities/chain/rail-adapter.js';
import { TRON_STANDIN_USDT } from '../scripts/devnet-rails.js';

const ENERGY_PRICE_SUN = BigInt(STANDIN_CHAIN_PARAMETERS.getEnergyFee);
const USDT_TRANSFER_BANDWIDTH_BYTES = 345; // what a USDT transfer takes on mainnet, too
const TRX = 1_000_000n;
const USDT = 1_000_000n;
/** Where /standin/transfer's money comes from: "outside". */
const OUTSIDE = 'T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb';

interface Key {
  privateKey: string;
  address: string;
}
const newKey = (): Key => {
  const privateKey = randomBytes(32).toString('hex');
  return { privateKey, address: TronWeb.address.fromPrivateKey(privateKey) as string };
};
/** What a signer hands back: tronweb's signTransaction over the txID (no `visible`: the sender infers it). */
const sign = (key: Key, tx: TronUnsignedTx): SignedTx => {
  const signed = tronUtils.crypto.signTransaction(key.privateKey, { txID: tx.txID, raw_data: tx.raw_data, raw_data_hex: tx.raw_data_hex });
  return { kind: 'tron', from: key.address, txHash: '0x' + tx.txID, raw: JSON.stringify(signed) };
};
const railOf = (url: string): RailConfig => ({
  id: 'usdt-trc20',
  asset: 'USDT',
  network: 'tron-standin',
  kind: 'tron',
  rpc_urls: [url],
  token_contract: TRON_STANDIN_USDT,
  decimals: 6,
  confirmations_required: 3,
  finality_confirmations: 19,
  payment_window_s: 900,
  underpay_tolerance_minor: '0',
  xpub: 'xpub-not-used-by-the-sender',
  environments: ['sandbox'],
});

describe('TRON sender on the TRON stand-in', function () {
  this.timeout(15_000);
  let standin: TronStandin;
  let sender: TronSender;
  let adapter: TronAdapter;
  let clockSkewMs = 0;

  before(async () => {
    standin = await startTronStandin({ port: 0, now: () => Date.now() + clockSkewMs });
    sender = new TronSender(railOf(standin.url));
    adapter = new TronAdapter(railOf(standin.url));
  });
  after(async () => {
    sender?.close();
    adapter?.close();
    await standin?.stop();
  });
  afterEach(() => {
    clockSkewMs = 0;
  });

  const post = async (path: string, body: unknown) => (await fetch(standin.url + path, { method: 'POST', body: JSON.stringify(body) })).json() as Promise<Record<string, any>>;
  /** A treasury holding `usdt` (from outside) and `trx` sun. */
  const treasury = (usdt: bigint, trx: bigint): Key => {
    const k = newKey();
    if (usdt > 0n) standin.transfer({ token: TRON_STANDIN_USDT, from: OUTSIDE, to: k.address, amountMinor: usdt });
    if (trx > 0n) standin.fundTrx(k.address, trx);
    return k;
  };

  it('a funded treasury’s USDT transfer executes: balances move, the log reaches TronAdapter.transfers(), executed although contractResult reads false', async () => {
    const from = treasury(100n * USDT, 50n * TRX);
    const to = newKey().address;
    const tx = await sender.buildTokenTransfer({ from: from.address, to, amountMinor: 12_500_000n });
    assert.equal(tx.txID, createHash('sha256').update(Buffer.from(tx.raw_data_hex, 'hex')).digest('hex'));
    assert.equal((tx.raw_data as { fee_limit: number }).fee_limit, TRC20_TRANSFER_FEE_LIMIT_SUN);
    const raw = tx.raw_data as { expiration: number; timestamp: number };
    assert.equal(raw.expiration - raw.timestamp, TRON_TX_EXPIRATION_MS);
    assert.equal(await sender.nextNonce(from.address), 0);

    const signed = sign(from, tx);
    await sender.broadcast(signed);
    const out = await sender.outcome(signed.txHash);
    assert.ok(out);
    assert.equal(out.executed, true);
    assert.equal(out.txHash, signed.txHash);
    assert.equal(out.confirmations, 1);
    // 130,000 energy (the recipient held no USDT) at 210 sun; the 345 bytes fit the free bandwidth.
    assert.equal(out.feeMinor, String(BigInt(USDT_TRC20_TRANSFER_ENERGY_NEW_HOLDER) * ENERGY_PRICE_SUN));
    assert.deepEqual(
      out.transfers.map((t) => ({ from: t.from, to: t.to, amountMinor: t.amountMinor, txHash: t.txHash, blockHash: t.blockHash })),
      [{ from: from.address, to, amountMinor: 12_500_000n, txHash: signed.txHash, blockHash: out.blockHash }],
    );

    // USDT's quirk, seen raw: the return word is all zeros (false) on success.
    const info = await post('/wallet/gettransactioninfobyid', { value: tx.txID });
    assert.equal(info.receipt.result, 'SUCCESS');
    assert.equal(BigInt('0x' + info.contractResult[0]), 0n);

    // The watcher's view of the same block shows the same transfer, log index and hash included.
    const seen = await adapter.transfers(out.blockHeight, out.blockHeight, [to]);
    assert.deepEqual(seen, out.transfers);

    assert.equal(await sender.tokenBalance(from.address), 87_500_000n);
    assert.equal(await sender.tokenBalance(to), 12_500_000n);
    assert.equal(await sender.nativeBalance(from.address), 50n * TRX - BigInt(out.feeMinor));
    assert.equal(await sender.nativeBalance(to), 0n); // a TRC20 transfer does not activate an account

    standin.mine(2);
    assert.equal((await sender.outcome(signed.txHash))!.confirmations, 3);
  });

  it('broadcasting the same signed transaction twice includes it once', async () => {
    const from = treasury(10n * USDT, 50n * TRX);
    const to = newKey().address;
    const signed = sign(from, await sender.buildTokenTransfer({ from: from.address, to, amountMinor: 4n * USDT }));
    await sender.broadcast(signed);
    const head = standin.head();
    await sender.broadcast(signed); // the node answers DUP_TRANSACTION_ERROR: not an error
    assert.equal(standin.head(), head);
    assert.equal(await sender.tokenBalance(to), 4n * USDT);
    assert.equal(await sender.tokenBalance(from.address), 6n * USDT);
    const out = await sender.outcome(signed.txHash);
    assert.equal(out!.transfers.length, 1);
  });

  it('a transaction signed by the wrong key is refused (BroadcastRejectedError) and changes nothing', async () => {
    const from = treasury(10n * USDT, 50n * TRX);
    const to = newKey().address;
    const tx = await sender.buildTokenTransfer({ from: from.address, to, amountMinor: USDT });
    const forged = sign(newKey(), tx);
    const head = standin.head();
    await assert.rejects(sender.broadcast(forged), (err: Error) => err instanceof BroadcastRejectedError && err.name === 'BroadcastRejectedError' && /SIGERROR/.test(err.message));
    assert.equal(standin.head(), head);
    assert.equal(await sender.outcome(forged.txHash), null);
    assert.equal(await sender.tokenBalance(from.address), 10n * USDT);
    assert.equal(await sender.nativeBalance(from.address), 50n * TRX);
  });

  it('too little USDT: included as REVERT, not executed, no transfer, and the energy used is still charged', async () => {
    const from = treasury(1n * USDT, 50n * TRX);
    const to = newKey().address;
    const signed = sign(from, await sender.buildTokenTransfer({ from: from.address, to, amountMinor: 5n * USDT }));
    await sender.broadcast(signed);
    const out = await sender.outcome(signed.txHash);
    assert.ok(out);
    assert.equal(out.executed, false);
    assert.deepEqual(out.transfers, []);
    assert.equal(out.feeMinor, String(BigInt(STANDIN_TRC20_REVERT_ENERGY) * ENERGY_PRICE_SUN));
    assert.equal((await post('/wallet/gettransactioninfobyid', { value: signed.txHash.slice(2) })).receipt.result, 'REVERT');
    assert.equal((await post('/wallet/gettransactionbyid', { value: signed.txHash.slice(2) })).ret[0].contractRet, 'REVERT');
    assert.equal(await sender.tokenBalance(from.address), 1n * USDT);
    assert.equal(await sender.tokenBalance(to), 0n);
    assert.equal(await sender.nativeBalance(from.address), 50n * TRX - BigInt(out.feeMinor));
  });

  it('too little TRX for the energy: included as OUT_OF_ENERGY, not executed, the TRX there is burned', async () => {
    const from = treasury(10n * USDT, 1n * TRX); // activated, but 1 TRX buys 4,761 energy of the 130,000 needed
    const to = newKey().address;
    const signed = sign(from, await sender.buildTokenTransfer({ from: from.address, to, amountMinor: USDT }));
    await sender.broadcast(signed);
    const out = await sender.outcome(signed.txHash);
    assert.ok(out);
    assert.equal(out.executed, false);
    assert.deepEqual(out.transfers, []);
    const energyLimit = (1n * TRX) / ENERGY_PRICE_SUN;
    assert.equal(out.feeMinor, String(energyLimit * ENERGY_PRICE_SUN));
    assert.equal((await post('/wallet/gettransactioninfobyid', { value: signed.txHash.slice(2) })).receipt.result, 'OUT_OF_ENERGY');
    assert.equal(await sender.tokenBalance(from.address), 10n * USDT);
    assert.equal(await sender.tokenBalance(to), 0n);
  });

  it('an address that never received TRX cannot send at all: refused, not included', async () => {
    const from = treasury(10n * USDT, 0n);
    const signed = sign(from, await sender.buildTokenTransfer({ from: from.address, to: newKey().address, amountMinor: USDT }));
    const head = standin.head();
    await assert.rejects(sender.broadcast(signed), (err: Error) => err instanceof BroadcastRejectedError && /CONTRACT_VALIDATE_ERROR/.test(err.message));
    assert.equal(standin.head(), head);
    assert.equal(await sender.outcome(signed.txHash), null);
  });

  it('estimateTokenTransferFee gives the documented figures: 130,000 or 65,000 energy at 210 sun, 345 bandwidth bytes at 1,000 sun', async () => {
    const from = treasury(10n * USDT, 50n * TRX);
    const holder = treasury(1n, 0n).address;
    const fresh = newKey().address;
    const bandwidthFee = BigInt(USDT_TRANSFER_BANDWIDTH_BYTES) * BigInt(STANDIN_CHAIN_PARAMETERS.getTransactionFee);

    const toFresh = await sender.estimateTokenTransferFee({ from: from.address, to: fresh, amountMinor: USDT });
    assert.equal(toFresh.nativeAsset, 'TRX');
    assert.equal(toFresh.nativeDecimals, 6);
    assert.deepEqual(toFresh.detail, {
      energy: '130000',
      energy_source: 'simulation',
      energy_price_sun: '210',
      energy_fee_sun: '27300000',
      fee_limit_sun: String(TRC20_TRANSFER_FEE_LIMIT_SUN),
      within_fee_limit: 'true',
      bandwidth_bytes: String(USDT_TRANSFER_BANDWIDTH_BYTES),
      bandwidth_price_sun: '1000',
      bandwidth_fee_sun: String(bandwidthFee),
      free_bandwidth_available_bytes: '600',
      total_sun: String(27_300_000n + bandwidthFee),
    });
    assert.equal(toFresh.feeMinor, String(27_300_000n + bandwidthFee));

    const toHolder = await sender.estimateTokenTransferFee({ from: from.address, to: holder, amountMinor: USDT });
    assert.equal(toHolder.detail.energy, String(USDT_TRC20_TRANSFER_ENERGY));
    assert.equal(toHolder.feeMinor, String(BigInt(USDT_TRC20_TRANSFER_ENERGY) * ENERGY_PRICE_SUN + bandwidthFee));

    // Before the USDT is there (a sweep planned ahead) the simulation reverts: USDT's figures stand in.
    const ahead = await sender.estimateTokenTransferFee({ from: from.address, to: fresh, amountMinor: 1_000n * USDT });
    assert.equal(ahead.detail.energy_source, 'usdt_recipient_new');
    assert.equal(ahead.detail.energy, String(USDT_TRC20_TRANSFER_ENERGY_NEW_HOLDER));

    // The estimate is what the transfer then burns (bandwidth aside: the free allowance covered it).
    const signed = sign(from, await sender.buildTokenTransfer({ from: from.address, to: holder, amountMinor: USDT }));
    assert.equal(tronBandwidthBytes(JSON.parse(signed.raw).raw_data_hex), USDT_TRANSFER_BANDWIDTH_BYTES);
    await sender.broadcast(signed);
    assert.equal((await sender.outcome(signed.txHash))!.feeMinor, toHolder.detail.energy_fee_sun);
  });

  it('a transaction broadcast after its expiration is refused and changes nothing', async () => {
    const from = treasury(10n * USDT, 50n * TRX);
    const signed = sign(from, await sender.buildTokenTransfer({ from: from.address, to: newKey().address, amountMinor: USDT }));
    clockSkewMs = TRON_TX_EXPIRATION_MS + 1_000;
    const head = standin.head();
    await assert.rejects(sender.broadcast(signed), (err: Error) => err instanceof BroadcastRejectedError && /TRANSACTION_EXPIRATION_ERROR/.test(err.message));
    assert.equal(standin.head(), head);
    assert.equal(await sender.tokenBalance(from.address), 10n * USDT);
  });

  it('a TRX transfer funds a fresh address: 1.1 TRX to create its account, and it executes with no token transfer', async () => {
    const from = treasury(0n, 50n * TRX);
    const to = newKey().address;
    const signed = sign(from, await sender.buildNativeTransfer({ from: from.address, to, amountMinor: 15n * TRX }));
    await sender.broadcast(signed);
    const out = await sender.outcome(signed.txHash);
    assert.ok(out);
    assert.equal(out.executed, true);
    assert.deepEqual(out.transfers, []);
    const createFee = BigInt(STANDIN_CHAIN_PARAMETERS.getCreateAccountFee + STANDIN_CHAIN_PARAMETERS.getCreateNewAccountFeeInSystemContract);
    assert.equal(out.feeMinor, String(createFee));
    assert.equal(await sender.nativeBalance(to), 15n * TRX);
    assert.equal(await sender.nativeBalance(from.address), 50n * TRX - 15n * TRX - createFee);
    // More TRX than there is: the node refuses to build it.
    await assert.rejects(sender.buildNativeTransfer({ from: to, to: from.address, amountMinor: 16n * TRX }), BroadcastRejectedError);
  });

  it('a node that builds something other than what was asked is caught before anything is signed', async () => {
    const from = treasury(10n * USDT, 50n * TRX);
    const to = newKey().address;
    const thief = TronWeb.address.toHex(newKey().address).toLowerCase().slice(2);
    // A node in the middle rewrites the recipient: in the JSON (consistently re-encoded), or in the signed bytes only.
    let mode: 'json' | 'bytes' = 'json';
    const liar = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const answer = await post(req.url!, JSON.parse(Buffer.concat(chunks).toString() || '{}'));
      const tx = answer.transaction;
      if (req.url === '/wallet/triggersmartcontract' && tx) {
        const forged = structuredClone(tx.raw_data);
        const value = forged.contract[0].parameter.value;
        value.data = value.data.slice(0, 8) + '0'.repeat(24) + thief + value.data.slice(72);
        Object.assign(tx, encodeRawData(forged), mode === 'json' ? { raw_data: forged } : {});
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
    await new Promise<void>((r) => liar.listen(0, '127.0.0.1', () => r()));
    const lying = new TronSender(railOf(`http://127.0.0.1:${(liar.address() as { port: number }).port}`));
    try {
      await assert.rejects(lying.buildTokenTransfer({ from: from.address, to, amountMinor: USDT }), (err: Error) => err instanceof ChainDataError && /does not say what was asked/.test(err.message));
      mode = 'bytes';
      await assert.rejects(lying.buildTokenTransfer({ from: from.address, to, amountMinor: USDT }), (err: Error) => err instanceof ChainDataError && /does not match raw_data/.test(err.message));
    } finally {
      lying.close();
      liar.closeAllConnections();
      await new Promise<void>((r) => liar.close(() => r()));
    }
  });

  it('a node that cannot be reached raises RpcUnavailableError, which activity retries cover', async () => {
    const down = new TronSender(railOf('http://127.0.0.1:1'), { timeoutMs: 1_000 });
    try {
      await assert.rejects(down.nativeBalance(newKey().address), RpcUnavailableError);
      await assert.rejects(down.outcome('0x' + '00'.repeat(32)), RpcUnavailableError);
    } finally {
      down.close();
    }
  });
});

describe('TRON stand-in state file', function () {
  this.timeout(15_000);

  it('balances and transactions survive a restart; a state file from before balances still loads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tron-standin-'));
    try {
      const stateFile = join(dir, 'state.json');
      const from = newKey();
      let standin = await startTronStandin({ port: 0, stateFile });
      standin.transfer({ token: TRON_STANDIN_USDT, from: OUTSIDE, to: from.address, amountMinor: 7n * USDT });
      standin.fundTrx(from.address, 40n * TRX);
      let sender = new TronSender(railOf(standin.url));
      const signed = sign(from, await sender.buildTokenTransfer({ from: from.address, to: OUTSIDE, amountMinor: 2n * USDT }));
      await sender.broadcast(signed);
      const before = await sender.outcome(signed.txHash);
      sender.close();
      await standin.stop();

      standin = await startTronStandin({ port: 0, stateFile });
      sender = new TronSender(railOf(standin.url));
      try {
        assert.equal(await sender.tokenBalance(from.address), 5n * USDT);
        assert.equal(await sender.nativeBalance(from.address), 40n * TRX - BigInt(before!.feeMinor));
        assert.deepEqual(await sender.outcome(signed.txHash), before);
        await sender.broadcast(signed); // still a duplicate after the restart
        assert.equal(standin.head(), before!.blockHeight);
      } finally {
        sender.close();
        await standin.stop();
      }

      // The block-list-only format of earlier versions: the chain loads, balances start empty.
      const legacy = join(dir, 'legacy.json');
      writeFileSync(legacy, JSON.stringify([{ number: 0, hash: '0x' + '0'.repeat(63) + '1', parentHash: '0x' + '0'.repeat(64), timestamp: Date.now(), logs: [] }]));
      standin = await startTronStandin({ port: 0, stateFile: legacy });
      try {
        assert.equal(standin.head(), 0);
        assert.equal(standin.trxBalance(from.address), 0n);
      } finally {
        await standin.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('TRC20 call parameters by tronweb\'s ABI encoder', () => {
  // Known vectors: the ABI words of transfer(address,uint256) and balanceOf(address), written out
  // by hand (12 zero bytes then the 20 address bytes; the amount as a 32-byte big-endian word).
  const USDT20 = 'a614f803b6fd780986a42c78ec9c7f77e6ded13c'; // TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t
  const VECTORS: Array<[string, bigint, string]> = [
    [USDT20, 1_000_000n, '000000000000000000000000a614f803b6fd780986a42c78ec9c7f77e6ded13c' + '00000000000000000000000000000000000000000000000000000000000f4240'],
    ['0000000000000000000000000000000000000000', 1n, '0'.repeat(64) + '0'.repeat(63) + '1'],
    [USDT20, (1n << 256n) - 1n, '000000000000000000000000a614f803b6fd780986a42c78ec9c7f77e6ded13c' + 'f'.repeat(64)],
  ];

  it('transfer and balanceOf parameters are byte-identical to the hand-padded words on known vectors', () => {
    for (const [to20, amount, expected] of VECTORS) {
      assert.equal(tronUtils.abi.encodeParams(['address', 'uint256'], ['41' + to20, amount]), '0x' + expected);
      assert.equal(trc20TransferParameter(to20, amount), expected);
      assert.equal(balanceOfParameter(to20), expected.slice(0, 64));
    }
    assert.equal(trc20TransferParameter(USDT20, 125_500_000n), USDT20.padStart(64, '0') + (125_500_000n).toString(16).padStart(64, '0'));
  });

  it('an amount outside 1..2^256-1 is refused before anything is encoded', () => {
    assert.throws(() => trc20TransferParameter(USDT20, 0n), RangeError);
    assert.throws(() => trc20TransferParameter(USDT20, 1n << 256n), RangeError);
  });
});
