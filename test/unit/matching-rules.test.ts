import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decide, lateTransfers, type ChainTransferView, type MatchInput } from '../../workflows/rules/matching.js';
import { canTransition, PAYMENT_STATUSES, type PaymentStatus } from '../../workflows/rules/transitions.js';
import { ChainDataError, TRANSFER_TOPIC, decodeTransferLog } from '../../activities/chain/rail-adapter.js';

const tr = (key: string, amountMinor: string, depth: ChainTransferView['depth'] = 'confirmed'): ChainTransferView => ({ key, amountMinor, blockHeight: 1, blockHash: '0x' + key, depth });
const base: MatchInput = { status: 'awaiting_payment', amountMinor: 100n, underpayToleranceMinor: 0n, expiresAtMs: 1_000, nowMs: 0, transfers: [], countedKeys: [] };

describe('matching rules (pure)', () => {
  it('decides the documented move for each case', () => {
    assert.equal(decide({ ...base, transfers: [tr('a', '100', 'pending')] })?.to, 'detected');
    assert.equal(decide({ ...base, status: 'detected', transfers: [tr('a', '100', 'pending')] }), null);
    assert.equal(decide({ ...base, status: 'detected', transfers: [tr('a', '100')] })?.to, 'confirmed');
    assert.equal(decide({ ...base, status: 'detected', transfers: [tr('a', '60'), tr('b', '40')] })?.to, 'confirmed');
    assert.equal(decide({ ...base, status: 'detected', transfers: [tr('a', '101')] })?.exceptionCode, 'overpaid');
    assert.equal(decide({ ...base, status: 'detected', transfers: [tr('a', '99')] }), null, 'short, window open: wait');
    assert.equal(decide({ ...base, status: 'detected', nowMs: 1_000, transfers: [tr('a', '99')] })?.exceptionCode, 'underpaid');
    assert.equal(decide({ ...base, status: 'detected', underpayToleranceMinor: 1n, transfers: [tr('a', '99')] })?.to, 'confirmed', 'inside the tolerance');
    assert.equal(decide({ ...base, status: 'detected', transfers: [] })?.to, 'awaiting_payment');
    assert.equal(decide({ ...base, status: 'confirmed', countedKeys: ['a'], transfers: [] })?.exceptionCode, 'reorged');
    assert.equal(decide({ ...base, status: 'confirmed', countedKeys: ['a'], transfers: [tr('a', '100'), tr('b', '5', 'pending')] })?.exceptionCode, 'multiple_transfers');
    assert.equal(decide({ ...base, status: 'expired', transfers: [tr('a', '100', 'pending')] })?.exceptionCode, 'paid_late');
    assert.equal(decide({ ...base, nowMs: 1_000 })?.to, 'expired');
    assert.equal(decide({ ...base, nowMs: 1_000, transfers: [tr('a', '100', 'pending')] })?.exceptionCode, 'paid_late');
  });

  it('never proposes a move the transition table forbids, whatever the chain shows', () => {
    const view = fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd'), amountMinor: fc.bigInt({ min: 1n, max: 300n }).map(String), blockHeight: fc.nat(100), blockHash: fc.constantFrom('0xa', '0xb'), depth: fc.constantFrom('pending', 'confirmed', 'final') as fc.Arbitrary<ChainTransferView['depth']> }), { maxLength: 4 });
    fc.assert(fc.property(
      fc.constantFrom(...PAYMENT_STATUSES), fc.array(fc.tuple(view, fc.nat(2_000)), { minLength: 1, maxLength: 12 }), fc.bigInt({ min: 0n, max: 50n }),
      (start: PaymentStatus, steps, tol) => {
        let status = start;
        let counted: string[] = [];
        for (const [transfers, nowMs] of steps) {
          // Apply decisions until none: a bounded number, or the rules loop.
          for (let i = 0; i < 5; i++) {
            const d = decide({ ...base, status, underpayToleranceMinor: tol, nowMs, transfers, countedKeys: counted });
            if (!d) break;
            assert.ok(canTransition(status, d.to), `${status} -> ${d.to}`);
            assert.ok(i < 4, 'decisions settle within a few moves');
            status = d.to;
            if (d.countedKeys) counted = d.countedKeys;
          }
        }
      },
    ), { numRuns: 500 });
  });
});

describe('late money to a closed payment (pure)', () => {
  const keys = (l: ChainTransferView[]) => l.map((t) => t.key);
  const late = (o: Partial<Parameters<typeof lateTransfers>[0]>) => keys(lateTransfers({ status: 'recognized', transfers: [], countedKeys: [], resolvedKeys: undefined, recordedKeys: [], ...o }));
  it('is a confirmed transfer outside what the payment counted or its decision covered, once', () => {
    const transfers = [tr('a', '100', 'final'), tr('b', '5'), tr('c', '7', 'pending')];
    assert.deepEqual(late({ transfers, countedKeys: ['a'] }), ['b'], 'recognized: beyond the counted money, confirmed only');
    assert.deepEqual(late({ transfers, countedKeys: ['a'], recordedKeys: ['b'] }), [], 'recorded already');
    assert.deepEqual(late({ status: 'refunded', transfers, resolvedKeys: ['a'] }), ['b']);
    assert.deepEqual(late({ status: 'written_off', transfers, resolvedKeys: ['a', 'b'] }), []);
    assert.deepEqual(late({ status: 'refunded', transfers, resolvedKeys: undefined }), [], 'a decision from before the keys were kept: unknown, nothing claimed');
    for (const status of ['awaiting_payment', 'detected', 'confirmed', 'requires_review', 'expired', 'canceled'] as const) {
      assert.deepEqual(late({ status, transfers, countedKeys: [], resolvedKeys: [] }), [], `${status}: decide's business`);
    }
  });
});

describe('Transfer log decoding from topics and data', () => {
  const word = (hex: string) => '0x' + hex.padStart(64, '0');
  const good = {
    topics: [TRANSFER_TOPIC, word('11'.repeat(20)), word('22'.repeat(20))],
    data: word('f4240'), transactionHash: '0x' + 'ab'.repeat(32), logIndex: '0x3', blockNumber: '0x10', blockHash: '0x' + 'cd'.repeat(32),
  };
  it('decodes a well-formed log', () => {
    const t = decodeTransferLog(good, (h) => h)!;
    assert.equal(t.to, '22'.repeat(20));
    assert.equal(t.amountMinor, 1_000_000n);
    assert.equal(t.logIndex, 3);
    assert.equal(t.blockHeight, 16);
  });
  it('refuses garbage from a node instead of guessing (malformed address, amount, hashes)', () => {
    assert.throws(() => decodeTransferLog({ ...good, topics: [TRANSFER_TOPIC, word('11'.repeat(20)), '0x' + 'ff'.repeat(32)] }, (h) => h), ChainDataError);
    assert.throws(() => decodeTransferLog({ ...good, data: '0x12' }, (h) => h), ChainDataError);
    assert.throws(() => decodeTransferLog({ ...good, data: 1000000 as unknown as string }, (h) => h), ChainDataError);
    assert.throws(() => decodeTransferLog({ ...good, transactionHash: '0x1234' }, (h) => h), ChainDataError);
    assert.throws(() => decodeTransferLog({ ...good, logIndex: '-1' }, (h) => h), ChainDataError);
  });
  it('skips logs that are not Transfers or were removed', () => {
    assert.equal(decodeTransferLog({ ...good, topics: ['0x' + '00'.repeat(32), good.topics[1], good.topics[2]] }, (h) => h), null);
    assert.equal(decodeTransferLog({ ...good, removed: true }, (h) => h), null);
  });
});
