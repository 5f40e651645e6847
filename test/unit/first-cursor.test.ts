// Where a new rail's watcher starts: config start_height, else before the oldest payment, else head.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FIRST_CURSOR_CLOCK_MARGIN_S, firstCursorHeight, lastBlockAtOrBefore } from '../../activities/chain/first-cursor.js';

/** A chain whose timestamps never decrease (several blocks may share a second). */
const chainArb = fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 300 }).map((gaps) => {
  let t = 1_700_000_000;
  return gaps.map((g) => (t += g));
});

describe('first cursor of a rail', () => {
  it('lastBlockAtOrBefore finds the highest block at or before the target, asking about log2(head) blocks', async () => {
    await fc.assert(fc.asyncProperty(chainArb, fc.integer({ min: 1_699_999_990, max: 1_700_010_000 }), async (ts, target) => {
      let asked = 0;
      const got = await lastBlockAtOrBefore(async (hgt) => { asked += 1; return ts[hgt]!; }, ts.length - 1, target);
      const expected = ts.reduce((best, t, i) => (t <= target ? i : best), 0);
      assert.equal(got, expected);
      assert.ok(asked <= Math.ceil(Math.log2(ts.length)) + 3, `asked ${asked} for ${ts.length} blocks`);
    }));
  });

  it('start_height wins: the cursor is the block before it (scanning starts at start_height), capped at head', async () => {
    const never = async (): Promise<number> => { throw new Error('no timestamps needed'); };
    assert.equal(await firstCursorHeight({ startHeight: 100, oldestPaymentAt: new Date(0), head: 500, timestampAt: never }), 99);
    assert.equal(await firstCursorHeight({ startHeight: 0, oldestPaymentAt: null, head: 500, timestampAt: never }), 0);
    assert.equal(await firstCursorHeight({ startHeight: 900, oldestPaymentAt: null, head: 500, timestampAt: never }), 500);
  });

  it('without start_height: a block mined at least the clock margin before the oldest payment; no payment: the head', async () => {
    const ts = Array.from({ length: 10_000 }, (_, i) => 1_700_000_000 + i * 12); // 12 s blocks
    const at = async (hgt: number) => ts[hgt]!;
    const paymentAt = new Date((1_700_000_000 + 9_000 * 12) * 1000);
    const hgt = await firstCursorHeight({ startHeight: undefined, oldestPaymentAt: paymentAt, head: 9_999, timestampAt: at });
    assert.ok(ts[hgt]! <= paymentAt.getTime() / 1000 - FIRST_CURSOR_CLOCK_MARGIN_S);
    assert.ok(ts[hgt + 1]! > paymentAt.getTime() / 1000 - FIRST_CURSOR_CLOCK_MARGIN_S, 'the latest such block, not an earlier one');
    assert.equal(await firstCursorHeight({ startHeight: undefined, oldestPaymentAt: null, head: 9_999, timestampAt: at }), 9_999);
    // A payment older than the chain's first block: start at genesis.
    assert.equal(await firstCursorHeight({ startHeight: undefined, oldestPaymentAt: new Date(0), head: 9_999, timestampAt: at }), 0);
  });
});
