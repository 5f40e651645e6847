// Payouts against a chain that misbehaves, staged with anvil's own controls: automine off,
// anvil_dropTransaction, anvil_setNextBlockBaseFeePerGas, a reorg by evm_snapshot/evm_revert;
// and a nonce the node refuses between two signed ones. Real Temporal, PostgreSQL and signer.
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { id as topicOf, toQuantity, zeroPadValue, Transaction } from 'ethers';
import { api, asOperator, eventually, h, newMerchant } from './harness.js';
import { devnet, rpc } from './chain-helpers.js';
import { allowlist, balanceOf, freshAddress, payoutLedger, seedAvailable, tokenBalance, USDT, waitPayout } from './payout-helpers.js';
import { createSendActivities } from '../activities/chain/send.js';
import { RailSenders } from '../activities/chain/senders.js';
import { createSigner, type SignerSpec } from '../activities/signer/index.js';
import { railById } from '../activities/config.js';
import { formatAmount } from '../workflows/rules/money.js';
import type { WatchOutcome } from '../workflows/payout-shared.js';

/** Token transfers to `to` the chain shows, ever. */
async function transfersTo(to: string): Promise<number> {
  const { devnet: d } = devnet();
  const logs = await rpc('eth_getLogs', [{ fromBlock: '0x0', toBlock: 'latest', address: d.tokenAddress, topics: [topicOf('Transfer(address,address,uint256)'), null, zeroPadValue(to, 32)] }]);
  return logs.length;
}

/**
 * With automine off, blocks come only from here: one every `intervalMs`, each preceded by
 * `beforeEach` (e.g. forcing the next base fee). Stopped (and automine back on) in `finally`.
 */
function manualBlocks(beforeEach: () => Promise<void> = async () => undefined, intervalMs = 150) {
  let on = true;
  const loop = (async () => {
    while (on) {
      await beforeEach().catch(() => undefined);
      await rpc('evm_mine').catch(() => undefined);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return async () => {
    on = false;
    await loop;
  };
}

async function payoutReadyToApprove(amount: string, name: string) {
  const m = await newMerchant({ name });
  await seedAvailable(m.merchantId, 100n * USDT);
  const dest = freshAddress();
  await allowlist(m.key, dest);
  const created = await api('POST', '/v1/payouts', { key: m.key, body: { amount, rail: 'usdt-erc20', destination: dest, reference: name } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return { m, dest, id: created.body.id as string };
}

/** The payout's first signature, once it is on the wire (status broadcast). */
async function firstBroadcast(key: string, id: string): Promise<{ hash: string; raw: string }> {
  await waitPayout(key, id, 'broadcast');
  const { rows } = await h().stack.pool.query(`SELECT tx_hash, raw FROM chain_sends WHERE send_key = $1`, [`payout:${id}`]);
  return { hash: rows[0].tx_hash, raw: rows[0].raw };
}

async function transitions(id: string): Promise<string[]> {
  const { rows } = await h().stack.pool.query(`SELECT to_status FROM payout_transitions WHERE payout_id = $1 ORDER BY seq`, [id]);
  return rows.map((r) => r.to_status);
}


describe('payouts on a chain that drops, reprices and reorgs', function () {
  this.timeout(180_000);

  afterEach(async () => {
    await rpc('evm_setAutomine', [true]);
  });

  it('a dropped payout is replaced at the same nonce with bumped fees; exactly one transfer lands and the replaced hash is recorded', async () => {
    const { m, dest, id } = await payoutReadyToApprove('7', 'dropped-1');
    await rpc('evm_setAutomine', [false]);
    const a = await asOperator('alice')('POST', `/v1/admin/payouts/${id}/approve`, { reason: 'ok' });
    assert.equal(a.status, 200, JSON.stringify(a.body));
    const first = await firstBroadcast(m.key, id);
    assert.ok(await rpc('eth_getTransactionByHash', [first.hash]), 'in the pool before the drop');
    await rpc('anvil_dropTransaction', [first.hash]);
    assert.equal(await rpc('eth_getTransactionByHash', [first.hash]), null, 'the node lost it');

    const stop = manualBlocks();
    let done;
    try {
      done = await waitPayout(m.key, id, ['settled', 'failed', 'requires_review'], 90_000);
    } finally {
      await stop();
    }
    assert.equal(done.status, 'settled', JSON.stringify(done));
    assert.notEqual(done.tx_hash, first.hash, 'the replacement was mined');
    const old = Transaction.from(first.raw);
    const mined = await devnet().provider.getTransaction(done.tx_hash);
    assert.equal(mined!.nonce, old.nonce, 'same nonce');
    assert.ok(mined!.maxFeePerGas! > old.maxFeePerGas! && mined!.maxPriorityFeePerGas! > old.maxPriorityFeePerGas!, 'both fees raised');
    const { rows: att } = await h().stack.pool.query(`SELECT attempt, tx_hash, status FROM chain_send_attempts WHERE send_key = $1 ORDER BY attempt`, [`payout:${id}`]);
    assert.equal(att[0].tx_hash, first.hash);
    assert.equal(att[0].status, 'replaced');
    assert.equal(att.at(-1).tx_hash, done.tx_hash);
    assert.equal(att.at(-1).status, 'mined');
    assert.equal(att.filter((x) => x.status === 'mined').length, 1);
    const ev = await h().stack.pool.query(`SELECT payload FROM evidence WHERE kind = 'chain_send.replacement' AND subject = $1`, [`payout:${id}`]);
    assert.ok(ev.rows.length >= 1 && ev.rows.some((r) => r.payload.tx_hash === done.tx_hash), 'every replacement is evidence');
    assert.equal(await transfersTo(dest), 1);
    assert.equal(await tokenBalance(dest), 7n * USDT);
    assert.equal(await balanceOf(m.key, 'payout_hold'), 0n);
    assert.equal(await balanceOf(m.key, 'payout_in_flight'), 0n);
  });

  it('a base fee that jumps to three times what the transaction offered is met by a fee bump', async () => {
    const { m, dest, id } = await payoutReadyToApprove('3', 'repriced-1');
    await rpc('evm_setAutomine', [false]);
    await asOperator('alice')('POST', `/v1/admin/payouts/${id}/approve`, { reason: 'ok' });
    const first = await firstBroadcast(m.key, id);
    const offered = Transaction.from(first.raw).maxFeePerGas!;
    const high = offered * 3n;
    // Every block from now on has the tripled base fee: the first signature can never be included.
    const stop = manualBlocks(() => rpc('anvil_setNextBlockBaseFeePerGas', [toQuantity(high)]));
    let done;
    try {
      done = await waitPayout(m.key, id, ['settled', 'failed', 'requires_review'], 90_000);
    } finally {
      await stop();
    }
    assert.equal(done.status, 'settled', JSON.stringify(done));
    assert.notEqual(done.tx_hash, first.hash);
    const mined = await devnet().provider.getTransaction(done.tx_hash);
    assert.ok(mined!.maxFeePerGas! >= high, `replacement offers ${mined!.maxFeePerGas}, base fee ${high}`);
    assert.equal(await rpc('eth_getTransactionReceipt', [first.hash]), null, 'the underpriced signature was never mined');
    assert.equal(await transfersTo(dest), 1);
    // The fee posted is the one the mined replacement paid.
    const receipt = await devnet().provider.getTransactionReceipt(done.tx_hash);
    assert.equal(done.network_fee.amount, formatAmount(receipt!.gasUsed * receipt!.gasPrice, 18));
  });

  it('stuck while the treasury cannot pay the fee: requires_review with balance_short holding the funds; once funded it is replaced and settles', async () => {
    const { m, dest, id } = await payoutReadyToApprove('4', 'stuck-poor-1');
    const treasury = (await h().stack.pool.query(`SELECT address FROM treasury_wallets WHERE rail = 'usdt-erc20'`)).rows[0].address as string;
    await rpc('evm_setAutomine', [false]);
    await asOperator('alice')('POST', `/v1/admin/payouts/${id}/approve`, { reason: 'ok' });
    const first = await firstBroadcast(m.key, id);
    await rpc('anvil_dropTransaction', [first.hash]);
    const eth = await rpc('eth_getBalance', [treasury, 'latest']);
    await rpc('anvil_setBalance', [treasury, '0x0']);
    let stop = manualBlocks();
    try {
      const review = await waitPayout(m.key, id, ['requires_review', 'settled', 'failed'], 60_000);
      assert.equal(review.status, 'requires_review', JSON.stringify(review));
      assert.equal(review.failure_code, 'balance_short');
      assert.equal(await balanceOf(m.key, 'payout_hold'), 4n * USDT, 'the funds stay held');
    } finally {
      await stop();
      await rpc('anvil_setBalance', [treasury, eth]);
    }
    stop = manualBlocks();
    let done;
    try {
      done = await waitPayout(m.key, id, ['settled', 'failed'], 90_000);
    } finally {
      await stop();
    }
    assert.equal(done.status, 'settled', JSON.stringify(done));
    assert.equal(done.failure_code, null, 'the review is over');
    const tr = await transitions(id);
    assert.deepEqual(tr.slice(3), ['broadcast', 'requires_review', 'broadcast', 'confirmed', 'settled']);
    assert.equal(await transfersTo(dest), 1);
  });

  it('a reorg after confirmed reopens the payout, reverses its postings, and it settles again with the ledger equal to its re-derivation', async () => {
    const { m, dest, id } = await payoutReadyToApprove('11', 'reorged-1');
    await rpc('evm_setAutomine', [false]);
    await asOperator('alice')('POST', `/v1/admin/payouts/${id}/approve`, { reason: 'ok' });
    const first = await firstBroadcast(m.key, id);
    const snap = await rpc('evm_snapshot');
    // Three blocks: confirmed (confirmations_required 3), short of finality (6); no block more.
    await rpc('evm_mine');
    await rpc('evm_mine');
    await rpc('evm_mine');
    const confirmed = await waitPayout(m.key, id, 'confirmed', 30_000);
    assert.equal(confirmed.tx_hash, first.hash);
    assert.equal(await balanceOf(m.key, 'payout_in_flight'), 11n * USDT, 'confirmed: in flight, not settled');
    assert.equal(await balanceOf(m.key, 'payout_hold'), 0n);

    // The chain forgets those blocks; the next ones get other timestamps, so other hashes.
    assert.equal(await rpc('evm_revert', [snap]), true);
    await rpc('evm_setNextBlockTimestamp', [toQuantity(Math.floor(Date.now() / 1000) + 60)]);
    await eventually(async () => (await transitions(id)).includes('confirmed') && (await transitions(id)).at(-1) === 'broadcast', 30_000, 100);
    assert.equal(await balanceOf(m.key, 'payout_in_flight'), 0n, 'reopened: the in-flight posting reversed');
    assert.equal(await balanceOf(m.key, 'payout_hold'), 11n * USDT, 'the hold is whole again');

    const stop = manualBlocks();
    let done;
    try {
      done = await waitPayout(m.key, id, ['settled', 'failed', 'requires_review'], 90_000);
    } finally {
      await stop();
    }
    assert.equal(done.status, 'settled', JSON.stringify(done));
    assert.deepEqual(await transitions(id), ['pending_approval', 'approved', 'signing', 'broadcast', 'confirmed', 'broadcast', 'confirmed', 'settled']);
    assert.equal(await transfersTo(dest), 1, 'one transfer on the surviving chain');
    // Re-derived from the chain: the amount left custody once, the merchant's hold and in-flight
    // are empty, and exactly the surviving receipt's fee is posted.
    const receipt = await devnet().provider.getTransactionReceipt(done.tx_hash);
    const fee = receipt!.gasUsed * receipt!.gasPrice;
    const ledger = await payoutLedger(id, [first.hash, done.tx_hash]);
    assert.equal(ledger['available:USDT'], String(11n * USDT), 'held once from available');
    assert.equal(ledger['payout_hold:USDT'], '0');
    assert.equal(ledger['payout_in_flight:USDT'], '0');
    assert.equal(ledger['custody:USDT'], String(-11n * USDT));
    assert.equal(ledger['network_fees:ETH'], String(fee));
    assert.equal(ledger['custody:ETH'], String(-fee));
    assert.equal(await balanceOf(m.key, 'payout_hold'), 0n);
    assert.equal(await balanceOf(m.key, 'payout_in_flight'), 0n);
  });

  it('a nonce the node refuses between two signed sends is filled, and the later nonces land', async () => {
    const { stack, config } = h();
    const rail = railById(config, 'usdt-erc20')!;
    const signer = await createSigner(config.payouts.signer as unknown as SignerSpec);
    const senders = new RailSenders();
    const acts = createSendActivities({ pool: stack.pool, config, signer, senders });
    const key = { rail: rail.id, kind: 'evm' as const, role: 'treasury' as const };
    const tag = `gap-${Date.now()}`;
    const destA = freshAddress();
    const destC = freshAddress();
    await rpc('evm_setAutomine', [false]);
    const stop = manualBlocks(async () => undefined, 300);
    try {
      const a = await acts.signTransfer({ sendKey: `${tag}:a`, rail: rail.id, environment: 'sandbox', purpose: 'payout', key, asset: 'token', to: destA, amountMinor: String(USDT) });
      // More ETH than the treasury has: the node refuses it for good at broadcast.
      const b = await acts.signTransfer({ sendKey: `${tag}:b`, rail: rail.id, environment: 'sandbox', purpose: 'sweep_gas', key, asset: 'native', to: freshAddress(), amountMinor: (10n ** 30n).toString() });
      const c = await acts.signTransfer({ sendKey: `${tag}:c`, rail: rail.id, environment: 'sandbox', purpose: 'payout', key, asset: 'token', to: destC, amountMinor: String(2n * USDT) });
      assert.deepEqual([b.nonce! - a.nonce!, c.nonce! - b.nonce!], [1, 1], 'consecutive nonces');
      await acts.broadcastTransfer({ sendKey: `${tag}:a` });
      await assert.rejects(acts.broadcastTransfer({ sendKey: `${tag}:b` }), /rejected/);
      await acts.broadcastTransfer({ sendKey: `${tag}:c` });

      const fill = await stack.pool.query(`SELECT tx_hash, nonce, purpose FROM chain_sends WHERE rail = $1 AND from_address = $2 AND nonce = $3 AND status <> 'rejected'`, [rail.id, a.from, b.nonce]);
      assert.equal(fill.rows.length, 1, 'the refused nonce is taken by a fill');
      assert.equal(fill.rows[0].purpose, 'nonce_fill');
      const mined = await Promise.all([a.txHash, fill.rows[0].tx_hash, c.txHash].map((x) => eventually(() => rpc('eth_getTransactionReceipt', [x]), 30_000, 150)));
      assert.deepEqual(mined.map((r) => r.status), ['0x1', '0x1', '0x1']);
      assert.equal(await tokenBalance(destC), 2n * USDT, 'the nonce after the gap landed');
      assert.equal(await rpc('eth_getTransactionReceipt', [b.txHash]), null);
      const ev = await stack.pool.query(`SELECT 1 FROM evidence WHERE kind = 'chain_send.nonce_fill' AND payload->>'tx_hash' = $1`, [fill.rows[0].tx_hash]);
      assert.equal(ev.rows.length, 1);

      // The fill's network fee is posted once the fill is final, by the wait on the send after it
      // (what a payout workflow runs: watch, then finality), and only once however often that runs.
      // These two heartbeat: they run in an activity context, as a worker runs them.
      const inActivity = new MockActivityEnvironment();
      const seen: WatchOutcome = await inActivity.run(acts.watchTransfer, { sendKey: `${tag}:c`, confirmations: rail.confirmations_required });
      assert.equal(seen.kind, 'mined');
      const blockHash = seen.kind === 'mined' ? seen.outcome.blockHash : '';
      const fin: { kind: string } = await inActivity.run(acts.awaitFinality, { sendKey: `${tag}:c`, blockHash });
      assert.equal(fin.kind, 'final');
      await inActivity.run(acts.awaitFinality, { sendKey: `${tag}:c`, blockHash });
      const fillReceipt = await devnet().provider.getTransactionReceipt(fill.rows[0].tx_hash);
      const fillFee = fillReceipt!.gasUsed * fillReceipt!.gasPrice;
      assert.ok(fillFee > 0n);
      const posted = await stack.pool.query(
        `SELECT e.cause, e.gate, a.purpose || ':' || a.asset AS k, l.amount_minor::text AS amount FROM ledger_entries e JOIN ledger_lines l ON l.entry_id = e.id JOIN ledger_accounts a ON a.id = l.account_id
          WHERE lower(e.tx_hash) = $1 ORDER BY l.line_no`,
        [fill.rows[0].tx_hash.toLowerCase()],
      );
      assert.deepEqual(posted.rows.map((r) => [r.gate, r.k, r.amount]), [['network_fee', 'network_fees:ETH', String(fillFee)], ['network_fee', 'custody:ETH', String(-fillFee)]], 'gasUsed × effectiveGasPrice of the fill, once');
      assert.equal(posted.rows[0].cause, `network_fee:${rail.id}:${fill.rows[0].tx_hash.toLowerCase()}`);
      const row = await stack.pool.query(`SELECT status, fee_minor::text AS fee FROM chain_sends WHERE tx_hash = $1`, [fill.rows[0].tx_hash]);
      assert.deepEqual(row.rows[0], { status: 'executed', fee: String(fillFee) });
    } finally {
      await stop();
      senders.close();
      await signer.close?.();
    }
  });
});
