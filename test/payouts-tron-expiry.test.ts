// A TRON payout whose first transaction the network loses, end to end: the real payout
// workflow, worker, signer, PostgreSQL and the TRON stand-in (a stand-in, not a node). TRON has
// no nonces and no replace-by-fee: the workflow may rebuild and re-sign only once the lost
// transaction's expiration has passed on chain, when it can never be included. The stand-in's
// test controls lose the broadcast (drop_next_broadcasts) and move its clock past the
// expiration (advance_clock) instead of waiting ten minutes.
import assert from 'node:assert/strict';
import { api, asOperator, h, newMerchant } from './harness.js';
import { allowlist, balanceOf, freshAddress, payoutLedger, seedAvailable, USDT, waitPayout } from './payout-helpers.js';
import { tronFromHex20, tronToHex20 } from '../activities/chain/tron-address.js';
import { formatAmount } from '../workflows/rules/money.js';
import { TRON_STANDIN_USDT } from '../scripts/devnet-rails.js';

type Json = Record<string, any>;
const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';

describe('TRON payout whose transaction expires unmined (stand-in)', function () {
  this.timeout(180_000);

  const post = async (path: string, body: unknown): Promise<Json> => (await fetch(h().stack.tronStandin!.url + path, { method: 'POST', body: JSON.stringify(body) })).json() as Promise<Json>;
  const rpc = async (method: string, params: unknown[]): Promise<any> => (await post('/jsonrpc', { jsonrpc: '2.0', id: 1, method, params })).result;

  /** Token Transfer logs paying `to` on the stand-in's chain, ever. */
  async function transfersTo(to: string): Promise<number> {
    const logs = await rpc('eth_getLogs', [{ fromBlock: '0x0', toBlock: 'latest', topics: [TRANSFER_TOPIC, null, '0x' + tronToHex20(to).padStart(64, '0')] }]);
    return logs.length;
  }

  it('the lost transaction expires, the workflow rebuilds and re-signs after the expiration, exactly one transfer lands, the first hash is marked replaced, and the ledger equals its re-derivation', async () => {
    const standin = h().stack.tronStandin!;
    const m = await newMerchant({ name: 'TRON expiry payouts' });
    await seedAvailable(m.merchantId, 20n * USDT);
    const dest = tronFromHex20(freshAddress());
    await allowlist(m.key, dest, 'usdt-trc20');
    const created = await api('POST', '/v1/payouts', { key: m.key, body: { amount: '6.25', rail: 'usdt-trc20', destination: dest, reference: 'tron-expiry-1' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id as string;

    // The next broadcast is accepted and lost: it is never included.
    standin.dropNextBroadcasts(1);
    const approved = await asOperator('alice')('POST', `/v1/admin/payouts/${id}/approve`, { reason: 'ok' });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    await waitPayout(m.key, id, 'broadcast');
    const { rows: sent } = await h().stack.pool.query(`SELECT tx_hash, raw FROM chain_sends WHERE send_key = $1`, [`payout:${id}`]);
    const first = { hash: sent[0].tx_hash as string, raw: JSON.parse(sent[0].raw) as Json };
    assert.deepEqual(standin.dropped(), [first.hash.replace(/^0x/, '')], 'the stand-in lost exactly the payout\'s first transaction');
    assert.deepEqual(await post('/wallet/gettransactioninfobyid', { value: first.hash.replace(/^0x/, '') }), {}, 'never included');

    // The chain's clock moves past the first transaction's expiration; blocks keep coming, so
    // the stuck window (200 blocks on TRON) passes and the head block is after the expiration.
    const expiration = first.raw.raw_data.expiration as number;
    assert.ok(expiration > standin.now(), 'not expired yet when the test moves the clock');
    standin.advanceClock(expiration - standin.now() + 60_000);
    let on = true;
    const blocks = (async () => {
      while (on) {
        standin.mine(5);
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    let done: Json;
    try {
      done = await waitPayout(m.key, id, ['settled', 'failed', 'requires_review'], 150_000);
    } finally {
      on = false;
      await blocks;
    }
    assert.equal(done.status, 'settled', JSON.stringify(done));
    assert.notEqual(done.tx_hash, first.hash, 'the re-signed transaction is the transfer');
    const { rows: tr } = await h().stack.pool.query(`SELECT to_status FROM payout_transitions WHERE payout_id = $1 ORDER BY seq`, [id]);
    assert.deepEqual(tr.map((r) => r.to_status), ['pending_approval', 'approved', 'signing', 'broadcast', 'confirmed', 'settled']);

    // Rebuilt after the expiration: a new reference block and a later expiration, signed anew.
    const { rows: att } = await h().stack.pool.query(`SELECT attempt, tx_hash, raw, status, reason FROM chain_send_attempts WHERE send_key = $1 ORDER BY attempt`, [`payout:${id}`]);
    assert.equal(att.length, 2, JSON.stringify(att.map((a) => [a.attempt, a.status])));
    assert.deepEqual([att[0].attempt, att[0].tx_hash, att[0].status], [0, first.hash, 'replaced']);
    assert.deepEqual([att[1].attempt, att[1].tx_hash, att[1].status, att[1].reason], [1, done.tx_hash, 'mined', 'stuck']);
    const second = JSON.parse(att[1].raw) as Json;
    assert.ok(second.raw_data.timestamp > expiration, 'built after the first one expired');
    assert.ok(second.raw_data.expiration > expiration);
    const ev = await h().stack.pool.query(`SELECT payload FROM evidence WHERE kind = 'chain_send.replacement' AND subject = $1`, [`payout:${id}`]);
    assert.equal(ev.rows.length, 1, 'the replacement is evidence');
    assert.equal(ev.rows[0].payload.replaces, first.hash);
    assert.equal(ev.rows[0].payload.tx_hash, done.tx_hash);
    const { rows: row } = await h().stack.pool.query(`SELECT tx_hash, status FROM chain_sends WHERE send_key = $1`, [`payout:${id}`]);
    assert.deepEqual(row[0], { tx_hash: done.tx_hash, status: 'executed' });

    // The first transaction can never land now: the node refuses it as expired.
    const again = await post('/wallet/broadcasttransaction', { ...first.raw, visible: false });
    assert.equal(again.code, 'TRANSACTION_EXPIRATION_ERROR', JSON.stringify(again));
    assert.equal(await transfersTo(dest), 1, 'exactly one transfer');
    assert.equal(standin.tokenBalance(TRON_STANDIN_USDT, dest), 6_250_000n);

    // Re-derived from the chain: the amount left custody once, hold and in-flight are empty, and
    // the TRX burned by the one included transaction is the only network fee.
    const info = await post('/wallet/gettransactioninfobyid', { value: String(done.tx_hash).replace(/^0x/, '') });
    const fee = BigInt(info.fee);
    assert.ok(fee > 0n);
    const ledger = await payoutLedger(id, [first.hash, done.tx_hash]);
    assert.deepEqual(ledger, {
      'available:USDT': String(6_250_000n),
      'custody:TRX': String(-fee),
      'custody:USDT': String(-6_250_000n),
      'network_fees:TRX': String(fee),
      'payout_hold:USDT': '0',
      'payout_in_flight:USDT': '0',
    });
    assert.deepEqual(done.network_fee, { amount: formatAmount(fee, 6), asset: 'TRX' });
    assert.equal(await balanceOf(m.key, 'payout_hold'), 0n);
    assert.equal(await balanceOf(m.key, 'available'), 20n * USDT - 6_250_000n);
  });
});
