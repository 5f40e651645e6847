import assert from 'node:assert/strict';
import { TronWeb } from 'tronweb';
import { eventually, h } from './harness.js';
import { createPayment, transitionsOf, waitStatus } from './chain-helpers.js';
import { tronFromHex20, tronToHex20 } from '../activities/chain/tron-address.js';
import { TRON_STANDIN_USDT } from '../scripts/devnet-rails.js';

// Real TRON mainnet addresses with their hex form (0x41 prefix).
const MAINNET_PAIRS: Array<[string, string]> = [
  ['TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t', '41a614f803b6fd780986a42c78ec9c7f77e6ded13c'], // USDT-TRC20 contract
  ['T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb', '410000000000000000000000000000000000000000'], // the zero (black hole) address
];

describe('TRON address codec on real mainnet pairs', () => {
  it('base58check and 0x41-prefixed hex convert both ways, in our codec and in tronweb alike', () => {
    for (const [b58, hex] of MAINNET_PAIRS) {
      assert.equal(tronToHex20(b58), hex.slice(2));
      assert.equal(tronFromHex20(hex), b58);
      assert.equal(tronFromHex20('0x' + hex.slice(2)), b58);
      assert.equal(TronWeb.address.toHex(b58).toLowerCase(), hex);
    }
  });

  it('a malformed or mistyped address is refused, never converted', () => {
    assert.throws(() => tronToHex20('TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u'), /not a TRON/); // checksum broken
    assert.throws(() => tronToHex20('0xa614f803b6fd780986a42c78ec9c7f77e6ded13c'), /not a TRON/);
    assert.throws(() => tronFromHex20('41a614f8'), /not a 20-byte/);
  });
});

describe('TRON rail end to end on the TRON stand-in', () => {
  it('a TRC20 payment is detected, confirmed at confirmations_required and reaches solidified finality', async function () {
    this.timeout(60_000);
    const standin = h().stack.tronStandin!;
    const { stack } = h();
    await eventually(async () => (await stack.pool.query(`SELECT 1 FROM chain_cursors WHERE rail = 'usdt-trc20'`)).rowCount === 1, 20_000);
    const p = await createPayment('25.00', { rail: 'usdt-trc20' });
    assert.match(p.deposit_address, /^T[1-9A-HJ-NP-Za-km-z]{33}$/);
    const { txHash } = standin.transfer({ token: TRON_STANDIN_USDT, from: 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t', to: p.deposit_address, amountMinor: 25_000_000n });
    await waitStatus(p.id, 'detected');
    standin.mine(2);
    const confirmed = await waitStatus(p.id, 'confirmed');
    assert.equal(confirmed.amount_received, '25.00');
    const row = await stack.pool.query(`SELECT to_address, payment_id FROM chain_transfers WHERE rail = 'usdt-trc20' AND tx_hash = $1`, [txHash]);
    assert.equal(row.rows[0].to_address, p.deposit_address);
    // Finality is TRON's solidified block (19 deep on the stand-in), read from /walletsolidity/getnowblock.
    standin.mine(19);
    await eventually(async () => (await stack.pool.query(`SELECT settled FROM payment_chain_views WHERE payment_id = $1`, [p.id])).rows[0]?.settled === true, 15_000);
    const state = await stack.client.workflow.getHandle(p.id).query<{ finalReached: boolean }>('paymentState');
    assert.equal(state.finalReached, true);
    assert.deepEqual((await transitionsOf(p.id)).map((t) => t.to_status), ['awaiting_payment', 'detected', 'confirmed']);
  });
});
