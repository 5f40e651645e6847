// The devnet makes blocks on its own under `npm start` (anvil's mixed mining: a transaction
// still mines at once) and the TRON stand-in seals empty blocks alike; the reconciliation
// Schedule carries the configured grace; GET /v1/rails shows what a payer needs to know.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRpcProvider, Network, Wallet, Contract } from 'ethers';
import { startDevnet, DEVNET_CHAIN_ID, tokenArtifact, type Devnet } from '../scripts/embedded/devnet.js';
import { startTronStandin } from '../scripts/embedded/tron-standin.js';
import { freePort } from '../scripts/embedded/temporal.js';
import { ensureSchedules, reconciliationScheduleId } from '../temporal-config/schedules.js';
import { api, eventually, h, newMerchant, TEST_MNEMONIC } from './harness.js';
import { head } from './chain-helpers.js';

describe('devnet interval mining', function () {
  this.timeout(60_000);

  it('anvil mines a block every block time without evm_mine, and a payment transaction still mines at once', async () => {
    let devnet: Devnet | null = null;
    try {
      devnet = await startDevnet({ port: await freePort(), mnemonic: TEST_MNEMONIC, blockTimeS: 1 });
      const provider = new JsonRpcProvider(devnet.rpcUrl, Network.from(DEVNET_CHAIN_ID), { staticNetwork: true, cacheTimeout: -1 });
      try {
        const first = await provider.getBlockNumber();
        await eventually(async () => (await provider.getBlockNumber()) >= first + 2, 20_000, 200);
        const token = new Contract(devnet.tokenAddress, tokenArtifact().abi as never, new Wallet(devnet.payerPrivateKey, provider));
        const before = await provider.getBlockNumber();
        const tx = await token.getFunction('transfer')(Wallet.createRandom().address, 1n);
        // Mixed mining: the transaction is in a block right away, not only at the next tick.
        const receipt = await provider.getTransactionReceipt(tx.hash);
        assert.ok(receipt && receipt.status === 1, 'mined at once');
        assert.ok(receipt.blockNumber >= before);
      } finally {
        provider.destroy();
      }
    } finally {
      await devnet?.stop();
    }
  });

  it('the TRON stand-in seals blocks every block time, and keeps them across a restart', async () => {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'stablerail-standin-')), 'state.json');
    const standin = await startTronStandin({ port: 0, stateFile, blockTimeMs: 100 });
    let height: number;
    try {
      await eventually(async () => standin.head() >= 5, 20_000, 50);
    } finally {
      height = standin.head();
      await standin.stop();
    }
    assert.ok(JSON.parse(readFileSync(stateFile, 'utf8')).blocks.length >= height + 1, 'stop() writes the blocks sealed since the last save');
    const again = await startTronStandin({ port: 0, stateFile });
    try {
      assert.ok(again.head() >= height);
      const h0 = again.head();
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(again.head(), h0, 'without a block time, blocks come only on demand (as in the test harness)');
    } finally {
      await again.stop();
    }
  });

  it('the suite harness keeps interval mining off: the devnet head does not move by itself', async () => {
    const h0 = await head();
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal(await head(), h0);
  });
});

describe('reconciliation Schedule on the devnet', function () {
  this.timeout(60_000);

  it('carries the configured grace to each scheduled run and follows a change of interval or grace', async () => {
    const { client } = h().stack;
    const scheduleId = reconciliationScheduleId('sandbox');
    // Sandbox rails only: another test may have added a live rail to the shared config for the run.
    const config = { ...h().config, rails: h().config.rails.filter((r) => !r.environments.includes('live')), reconciliation_interval_s: 3600, reconciliation_grace_s: 2 };
    try {
      assert.deepEqual(await ensureSchedules(client, config), [scheduleId]);
      const d1 = await client.schedule.getHandle(scheduleId).describe();
      assert.equal((d1.action as { args: Array<{ graceS: number }> }).args[0]!.graceS, 2);
      assert.equal(d1.spec.intervals?.[0]?.every, 3_600_000);
      await ensureSchedules(client, { ...config, reconciliation_interval_s: 1800, reconciliation_grace_s: 30 });
      const d2 = await client.schedule.getHandle(scheduleId).describe();
      assert.equal((d2.action as { args: Array<{ graceS: number }> }).args[0]!.graceS, 30);
      assert.equal(d2.spec.intervals?.[0]?.every, 1_800_000);
    } finally {
      await client.schedule.getHandle(scheduleId).delete().catch(() => undefined);
    }
  });
});

describe('GET /v1/rails', () => {
  it('answers each rail with its token contract, network, confirmations, finality, explorer template and devnet flag', async () => {
    const m = await newMerchant();
    const r = await api('GET', '/v1/rails', { key: m.key });
    assert.equal(r.status, 200);
    const evm = r.body.data.find((x: { id: string }) => x.id === 'usdt-erc20');
    assert.deepEqual(
      { token_contract: evm.token_contract, network: evm.network, chain_id: evm.chain_id, confirmations_required: evm.confirmations_required, finality_confirmations: evm.finality_confirmations, explorer_tx_url: evm.explorer_tx_url, devnet: evm.devnet },
      { token_contract: '0x5FbDB2315678afecb367f032d93F642f64180aa3', network: 'devnet-evm', chain_id: 31337, confirmations_required: 3, finality_confirmations: 6, explorer_tx_url: null, devnet: true },
    );
    const tron = r.body.data.find((x: { id: string }) => x.id === 'usdt-trc20');
    assert.equal(tron.token_contract, 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t');
    assert.equal(tron.finality_confirmations, 19);
  });
});
