import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatAmount, parseAmount, MoneyError } from '../../workflows/rules/money.js';
import { canTransition, PAYMENT_STATUSES, TRANSITIONS, FINAL_STATUSES, eventTypeFor } from '../../workflows/rules/transitions.js';

describe('money module', () => {
  it('parses decimal strings into minor units and formats them back', () => {
    assert.equal(parseAmount('125.50', 6), 125_500_000n);
    assert.equal(parseAmount('0.000001', 6), 1n);
    assert.equal(parseAmount('7', 6), 7_000_000n);
    assert.equal(formatAmount(125_500_000n, 6), '125.50');
    assert.equal(formatAmount(1n, 6), '0.000001');
    assert.equal(formatAmount(0n, 6), '0.00');
  });

  it('refuses zero, negative, over-precise, malformed and non-string amounts with typed codes', () => {
    const code = (v: unknown) => {
      try {
        parseAmount(v, 6);
        return 'accepted';
      } catch (e) {
        assert.ok(e instanceof MoneyError);
        return e.code;
      }
    };
    assert.equal(code('0'), 'amount_not_positive');
    assert.equal(code('0.000000'), 'amount_not_positive');
    assert.equal(code('-1'), 'amount_not_positive', 'a sign is never a positive amount');
    assert.equal(code('1' + '0'.repeat(40)), 'amount_too_large', 'well formed, beyond any asset');
    assert.equal(code('1' + '0'.repeat(47) + '.5'), 'amount_too_large');
    assert.equal(code('1.0000001'), 'amount_too_precise');
    assert.equal(code('1e6'), 'amount_invalid');
    assert.equal(code(' 1'), 'amount_invalid');
    assert.equal(code('01'), 'amount_invalid');
    assert.equal(code(12.5), 'amount_invalid');
    assert.equal(code('1.'), 'amount_invalid');
  });

  it('round-trips every minor amount exactly (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 24n }), fc.integer({ min: 0, max: 18 }), (minor, decimals) => {
        assert.equal(parseAmount(formatAmount(minor, decimals), decimals), minor);
      }),
    );
  });
});

describe('transition table', () => {
  it('creation only enters awaiting_payment, and final statuses only reopen into review', () => {
    for (const s of PAYMENT_STATUSES) assert.equal(canTransition(null, s), s === 'awaiting_payment');
    for (const s of FINAL_STATUSES) for (const to of TRANSITIONS[s]) assert.equal(to, 'requires_review');
  });

  it('recognized is reached only from confirmed, and canceled only from awaiting_payment', () => {
    for (const from of PAYMENT_STATUSES) {
      assert.equal(canTransition(from, 'recognized'), from === 'confirmed');
      assert.equal(canTransition(from, 'canceled'), from === 'awaiting_payment');
    }
  });

  it('names the event of each transition', () => {
    assert.equal(eventTypeFor(null, 'awaiting_payment'), 'payment.created');
    assert.equal(eventTypeFor('awaiting_payment', 'expired'), 'payment.expired');
    assert.equal(eventTypeFor('requires_review', 'confirmed'), 'payment.resolved');
  });
});
