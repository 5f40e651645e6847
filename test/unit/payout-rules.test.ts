// The pure rules behind issue #16: the payout transition table with settled and
// requires_review, EIP-1559 replacement fees, sweep gas sized at execution, platform fees.
import assert from 'node:assert/strict';
import { canPayoutTransition, PAYOUT_FINAL_STATUSES } from '../../workflows/rules/payout-transitions.js';
import { bumpedFees, REPLACEMENT_MIN_BUMP_PCT } from '../../activities/chain/evm-sender.js';
import { gasTopUpNow, SWEEP_GAS_BOUND_FACTOR } from '../../activities/sweep.js';
import { feeRuleFor, platformFeeMinor } from '../../workflows/rules/platform-fees.js';

describe('payout rules (issue #16)', () => {
  it('confirmed is not final: it settles at finality or a reorg reopens it; requires_review holds until the chain or a replacement decides', () => {
    assert.ok(canPayoutTransition('confirmed', 'settled'));
    assert.ok(canPayoutTransition('confirmed', 'broadcast'));
    assert.ok(!canPayoutTransition('confirmed', 'failed'));
    assert.ok(canPayoutTransition('broadcast', 'requires_review'));
    assert.ok(canPayoutTransition('requires_review', 'broadcast'));
    assert.ok(canPayoutTransition('requires_review', 'confirmed'));
    assert.ok(!canPayoutTransition('requires_review', 'canceled'), 'a signed transaction may still land: no cancel');
    assert.ok(!canPayoutTransition('settled', 'broadcast'));
    assert.deepEqual([...PAYOUT_FINAL_STATUSES].sort(), ['canceled', 'failed', 'settled']);
  });

  it('a replacement raises both fees by at least the node minimum, or to the market when that is higher', () => {
    const old = { maxFeePerGas: 100n, maxPriorityFeePerGas: 10n };
    const calm = bumpedFees(old, { maxFeePerGas: 50n, maxPriorityFeePerGas: 5n }, 0);
    assert.ok(calm.maxFeePerGas * 100n > old.maxFeePerGas * BigInt(100 + REPLACEMENT_MIN_BUMP_PCT), 'at least +10% even with a 0% policy');
    assert.ok(calm.maxPriorityFeePerGas * 100n > old.maxPriorityFeePerGas * BigInt(100 + REPLACEMENT_MIN_BUMP_PCT));
    const hot = bumpedFees(old, { maxFeePerGas: 1000n, maxPriorityFeePerGas: 30n }, 25);
    assert.deepEqual(hot, { maxFeePerGas: 1000n, maxPriorityFeePerGas: 30n });
    const pr = bumpedFees({ maxFeePerGas: 10n, maxPriorityFeePerGas: 10n }, { maxFeePerGas: 1n, maxPriorityFeePerGas: 100n }, 25);
    assert.ok(pr.maxFeePerGas >= pr.maxPriorityFeePerGas, 'max fee never under the priority fee');
  });

  it('sweep gas at execution: today\'s fee with headroom less what the address holds; refused beyond the bound', () => {
    assert.deepEqual(gasTopUpNow({ feeNowMinor: 1000n, nativeBalanceMinor: 0n, plannedFeeMinor: 400n }), { topUpMinor: 1250n });
    assert.deepEqual(gasTopUpNow({ feeNowMinor: 1000n, nativeBalanceMinor: 1000n, plannedFeeMinor: 400n }), { topUpMinor: 0n });
    assert.deepEqual(gasTopUpNow({ feeNowMinor: 1000n, nativeBalanceMinor: 300n, plannedFeeMinor: 400n }), { topUpMinor: 950n });
    const over = gasTopUpNow({ feeNowMinor: 400n * SWEEP_GAS_BOUND_FACTOR + 1n, nativeBalanceMinor: 0n, plannedFeeMinor: 400n });
    assert.ok('refused' in over && /gas_price_above_bound/.test(over.refused));
  });

  it('platform fees: the first matching rule, percent rounded down plus fixed, never more than the transfer', () => {
    const rules = [{ merchant_id: 'mer_a', rail: 'usdt-erc20', percent: '1.5', fixed: '0.10' }, { percent: '0.25' }];
    assert.equal(platformFeeMinor(40_000_000n, 6, feeRuleFor(rules, 'mer_a', 'usdt-erc20')), 700_000n);
    assert.equal(platformFeeMinor(40_000_000n, 6, feeRuleFor(rules, 'mer_b', 'usdt-erc20')), 100_000n);
    assert.equal(platformFeeMinor(3n, 6, { percent: '33.333333' }), 0n, 'rounded down');
    assert.equal(platformFeeMinor(50_000n, 6, { fixed: '0.10' }), 50_000n, 'capped at the transfer');
    assert.equal(platformFeeMinor(1_000_000n, 6, feeRuleFor([], 'mer_a', 'usdt-erc20')), 0n);
    assert.equal(platformFeeMinor(1_000_000n, 6, { fixed: '0' }), 0n);
  });
});
