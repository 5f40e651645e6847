// Sweeps on the devnet: deposit addresses holding the token but no ETH are planned (amounts,
// gas top-ups, estimated cost), executed (top-up, then the deposit key's transfer to the
// treasury), and every network fee is posted in ETH to the network-fee account. On the TRON
// stand-in the same with TRX burned for energy and bandwidth.
import assert from 'node:assert/strict';
import { admin, eventually, h, asOperator } from './harness.js';
import { createPayment, devnet, pay, watcherCaughtUp } from './chain-helpers.js';
import { miner, tokenBalance } from './payout-helpers.js';
import { devnetTreasuryAddress, devnetTronTreasuryAddress, TRON_STANDIN_USDT } from '../scripts/devnet-rails.js';
import { TEST_MNEMONIC } from './harness.js';
import { formatAmount, parseAmount } from '../workflows/rules/money.js';

/** An amount no other test pays, so the plan's minimum picks exactly this test's addresses. */
const SWEEP_AMOUNT_MINOR = 777_000_123n;

async function feeEntries(txHashes: string[]) {
  const { rows } = await h().stack.pool.query(
    `SELECT lower(e.tx_hash) AS tx, l.asset, l.amount_minor::text AS a FROM ledger_entries e JOIN ledger_lines l ON l.entry_id = e.id JOIN ledger_accounts a ON a.id = l.account_id
      WHERE e.gate = 'network_fee' AND a.purpose = 'network_fees' AND lower(e.tx_hash) = ANY($1)`,
    [txHashes.map((t) => t.toLowerCase())],
  );
  return rows as Array<{ tx: string; asset: string; a: string }>;
}

describe('sweeps', function () {
  this.timeout(150_000);

  it('EVM: a plan shows amounts and cost first; the run tops up gas, sweeps every address and posts every fee', async () => {
    const addresses: string[] = [];
    // Deposit addresses are reused once a payment's window is over: one may hold an earlier payment's money too.
    const expected = new Map<string, bigint>();
    for (let i = 0; i < 4; i++) {
      const p = await createPayment('1.00', { reference: `sweep-${i}-${Date.now()}` });
      expected.set(p.deposit_address, (await tokenBalance(p.deposit_address)) + SWEEP_AMOUNT_MINOR);
      await pay(p.deposit_address, SWEEP_AMOUNT_MINOR);
      addresses.push(p.deposit_address);
    }
    await watcherCaughtUp();
    const treasury = devnetTreasuryAddress(TEST_MNEMONIC);
    const treasuryBefore = await tokenBalance(treasury);

    const plan = await asOperator('ops-erin')('POST', '/v1/admin/sweeps', { rail: 'usdt-erc20', min_amount: '777.000123' });
    assert.equal(plan.status, 201, JSON.stringify(plan.body));
    assert.equal(plan.body.status, 'planned');
    assert.equal(plan.body.treasury_address, treasury);
    // The suite's deposit keys are anvil's own accounts (its mnemonic), so index 0 is the token's
    // deployer with the whole supply: the plan rightly lists it too. This test checks its four.
    const ours = (items: Array<{ address: string }>) => items.filter((i) => addresses.includes(i.address));
    assert.deepEqual(ours(plan.body.items).map((i) => i.address).sort(), [...addresses].sort());
    for (const item of ours(plan.body.items) as any[]) {
      assert.equal(parseAmount(item.amount, 6), expected.get(item.address), 'the whole balance of the address');
      // The suite's low deposit indices are anvil's funded accounts; the others hold no ETH.
      const eth = await devnet().provider.getBalance(item.address);
      if (eth === 0n) assert.ok(Number(item.gas_top_up) > 0, 'a deposit address holding no ETH needs a top-up');
      assert.ok(Number(item.estimated_fee) > 0);
      assert.ok(item.fee_detail.gas_limit);
    }
    const totalMinor = (plan.body.items as Array<{ amount: string }>).reduce((s, i) => s + parseAmount(i.amount, 6), 0n);
    assert.equal(parseAmount(plan.body.total_amount, 6), totalMinor, 'the total is the sum of the items');
    assert.equal(plan.body.native_asset, 'ETH');
    assert.match(plan.body.gas_strategy, /treasury first sends each one/);
    // Nothing moved while planning.
    for (const a of addresses) assert.equal(await tokenBalance(a), expected.get(a));

    const stop = miner();
    let done: any;
    try {
      const run = await asOperator('ops-frank')('POST', `/v1/admin/sweeps/${plan.body.id}/execute`);
      assert.equal(run.status, 200, JSON.stringify(run.body));
      const twice = await asOperator('ops-frank')('POST', `/v1/admin/sweeps/${plan.body.id}/execute`);
      assert.equal(twice.status, 409);
      assert.equal(twice.body.error.code, 'sweep_not_planned');
      done = await eventually(async () => {
        const s = await admin('GET', `/v1/admin/sweeps/${plan.body.id}`);
        return ['completed', 'failed'].includes(s.body.status) ? s.body : null;
      }, 90_000, 300);
    } finally {
      await stop();
    }
    assert.equal(done.status, 'completed', JSON.stringify(done.items.map((i: any) => i.result)));
    for (const a of addresses) assert.equal(await tokenBalance(a), 0n, `${a} swept`);
    assert.equal(await tokenBalance(treasury), treasuryBefore + totalMinor);

    // Every transaction's fee is in the ledger, in ETH, exactly as the receipts say.
    const { provider } = devnet();
    const hashes = done.items.flatMap((i: any) => [i.result.gas_tx_hash, i.result.sweep_tx_hash]).filter(Boolean) as string[];
    assert.ok(ours(done.items).every((i: any) => i.result.sweep_tx_hash && (Number(i.gas_top_up) === 0 || i.result.gas_tx_hash)), 'each of ours: a top-up when planned, and a transfer');
    assert.ok(ours(done.items).some((i: any) => i.result.gas_tx_hash), 'at least one address got its gas from the treasury');
    const entries = await feeEntries(hashes);
    assert.equal(entries.length, hashes.length, 'one fee posting per transaction');
    let total = 0n;
    for (const hsh of hashes) {
      const r = await provider.getTransactionReceipt(hsh);
      const fee = r!.gasUsed * r!.gasPrice;
      const e = entries.find((x) => x.tx === hsh.toLowerCase())!;
      assert.equal(e.asset, 'ETH');
      assert.equal(BigInt(e.a), fee);
      total += fee;
    }
    const { rows } = await h().stack.pool.query(`SELECT result->>'fees_minor' AS f FROM sweeps WHERE id = $1`, [plan.body.id]);
    assert.equal(BigInt(rows[0].f), total);
    assert.equal(done.fees_paid, formatAmount(total, 18));
    for (const i of ours(done.items) as any[]) assert.match(i.result.fee_paid, /^0\.[0-9]+$/, 'each item shows its fee in ETH');
  });

  it('EVM: a base fee that jumps after planning is met by gas sized at execution (bounded), not the plan\'s figure', async () => {
    const amount = 555_000_321n;
    const p = await createPayment('1.00', { reference: `sweep-fee-jump-${Date.now()}` });
    await pay(p.deposit_address, amount);
    await watcherCaughtUp();
    // A low deposit index is one of anvil's funded accounts: empty it, so it needs a top-up.
    await devnet().provider.send('anvil_setBalance', [p.deposit_address, '0x0']);
    const plan = await asOperator('ops-erin')('POST', '/v1/admin/sweeps', { rail: 'usdt-erc20', min_amount: '555.000321' });
    assert.equal(plan.status, 201, JSON.stringify(plan.body));
    const item = plan.body.items.find((i: { address: string }) => i.address === p.deposit_address);
    assert.ok(item, JSON.stringify(plan.body.items));
    assert.equal(await devnet().provider.getBalance(p.deposit_address), 0n, 'the deposit address holds no ETH');
    const plannedTopUp = parseAmount(item.gas_top_up, 18);
    // From now on every block's base fee is three times the max fee the plan priced: the plan's
    // top-up cannot pay for the transfer any more.
    const high = BigInt(item.fee_detail.max_fee_per_gas_wei) * 3n;
    await devnet().provider.send('evm_setAutomine', [false]);
    let on = true;
    const blocks = (async () => {
      while (on) {
        await devnet().provider.send('anvil_setNextBlockBaseFeePerGas', ['0x' + high.toString(16)]).catch(() => undefined);
        await devnet().provider.send('evm_mine', []).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    let done: any;
    try {
      const run = await asOperator('ops-frank')('POST', `/v1/admin/sweeps/${plan.body.id}/execute`);
      assert.equal(run.status, 200, JSON.stringify(run.body));
      done = await eventually(async () => {
        const s = await admin('GET', `/v1/admin/sweeps/${plan.body.id}`);
        return ['completed', 'failed'].includes(s.body.status) ? s.body : null;
      }, 90_000, 300);
    } finally {
      on = false;
      await blocks;
      await devnet().provider.send('evm_setAutomine', [true]);
    }
    const mine = done.items.find((i: any) => i.address === p.deposit_address);
    assert.equal(mine.result.status, 'swept', JSON.stringify(mine.result));
    assert.equal(await tokenBalance(p.deposit_address), 0n);
    const { rows } = await h().stack.pool.query(`SELECT amount_minor::text AS a FROM chain_sends WHERE send_key LIKE $1 ORDER BY created_at`, [`sweep:${plan.body.id}:gas:${item.address_index}%`]);
    assert.ok(rows.length >= 1);
    const sent = rows.reduce((s, r) => s + BigInt(r.a), 0n);
    assert.ok(sent > plannedTopUp * 3n, `top-up sized at execution (${sent}) for the tripled base fee, not the plan's ${plannedTopUp}`);
    // Bounded: at most the headroom over ten times the fee the plan showed.
    assert.ok(sent <= parseAmount(item.estimated_fee, 18) * 13n, `bounded: ${sent}`);
  });

  it('TRON (stand-in): TRX for energy and bandwidth is planned, burned and posted in TRX', async () => {
    const standin = h().stack.tronStandin!;
    const treasury = devnetTronTreasuryAddress(TEST_MNEMONIC);
    const p = await createPayment('1.00', { rail: 'usdt-trc20', reference: `tron-sweep-${Date.now()}` });
    standin.transfer({ token: TRON_STANDIN_USDT, from: treasury, to: p.deposit_address, amountMinor: SWEEP_AMOUNT_MINOR });
    await watcherCaughtUp('usdt-trc20').catch(() => undefined);
    await eventually(async () => (await h().stack.pool.query(`SELECT 1 FROM chain_transfers WHERE to_address = $1`, [p.deposit_address])).rowCount, 20_000, 200);
    const plan = await admin('POST', '/v1/admin/sweeps', { rail: 'usdt-trc20', min_amount: '777.000123' });
    assert.equal(plan.status, 201, JSON.stringify(plan.body));
    assert.equal(plan.body.native_asset, 'TRX');
    const item = plan.body.items.find((i: { address: string }) => i.address === p.deposit_address);
    assert.ok(item, JSON.stringify(plan.body.items));
    assert.ok(item.fee_detail.energy, JSON.stringify(item.fee_detail));
    assert.ok(Number(item.gas_top_up) > 0, 'TRX to burn for energy and bandwidth');
    assert.match(plan.body.gas_strategy, /energy/);
    const stop = (() => {
      let on = true;
      const loop = (async () => { while (on) { standin.mine(1); await new Promise((r) => setTimeout(r, 100)); } })();
      return async () => { on = false; await loop; };
    })();
    let done: any;
    try {
      await admin('POST', `/v1/admin/sweeps/${plan.body.id}/execute`, {});
      done = await eventually(async () => {
        const s = await admin('GET', `/v1/admin/sweeps/${plan.body.id}`);
        return ['completed', 'failed'].includes(s.body.status) ? s.body : null;
      }, 60_000, 300);
    } finally {
      await stop();
    }
    assert.equal(done.status, 'completed', JSON.stringify(done.items.map((i: any) => i.result)));
    assert.equal(standin.tokenBalance(TRON_STANDIN_USDT, p.deposit_address), 0n);
    const mine = done.items.find((i: any) => i.address === p.deposit_address);
    const entries = await feeEntries([mine.result.gas_tx_hash, mine.result.sweep_tx_hash]);
    assert.equal(entries.length, 2);
    for (const e of entries) assert.equal(e.asset, 'TRX');
    assert.ok(entries.every((e) => BigInt(e.a) > 0n));
  });
});
