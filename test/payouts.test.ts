// Payouts on the real devnet (anvil with the USDT-like token whose transfer returns nothing),
// signed by the keystore signer, orchestrated by the real Temporal dev server: approvals,
// broadcast, confirmations and the ledger, and the typed refusals that move nothing.
import assert from 'node:assert/strict';
import { Contract, HDNodeWallet, Mnemonic, Wallet, getAddress } from 'ethers';
import { ADMIN_OPERATOR_ID, admin, api, eventually, h, newMerchant, asOperator, operatorNamed } from './harness.js';
import { devnet, mine } from './chain-helpers.js';
import { postEntries } from '../activities/ledger.js';
import { withTx } from '../activities/db.js';
import { newId } from '../activities/ids.js';
import { tokenArtifact } from '../scripts/embedded/devnet.js';
import { formatAmount } from '../workflows/rules/money.js';
import { tronFromHex20 } from '../activities/chain/tron-address.js';
import { TRON_STANDIN_USDT } from '../scripts/devnet-rails.js';
import { allowlist, balanceOf, freshAddress, miner, seedAvailable, tokenBalance, USDT, waitPayout } from './payout-helpers.js';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createPayout } from '../api/payout-commands.js';
import type { Metrics } from '../api/metrics.js';
import { createPayoutActivities } from '../workers/payout-worker.js';
import { RailSenders } from '../activities/chain/senders.js';

const TREASURY = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase('test test test test test test test test test test test junk'), "m/44'/60'/2'/0/0");

describe('payouts', function () {
  this.timeout(120_000);

  it('above the threshold two different operators approve; the same one twice is refused; then broadcast, confirmed and posted', async () => {
    const m = await newMerchant({ name: 'Payout merchant' });
    await seedAvailable(m.merchantId, 500n * USDT);
    const s = await admin('POST', `/v1/admin/merchants/${m.merchantId}/payout_settings`, { environment: 'sandbox', dual_approval_above: '100' });
    assert.equal(s.status, 200, JSON.stringify(s.body));
    const dest = freshAddress();
    await allowlist(m.key, dest);

    const created = await api('POST', '/v1/payouts', { key: m.key, idem: newId('idem'), body: { amount: '150.25', rail: 'usdt-erc20', destination: dest, reference: 'inv-77' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const po = created.body;
    assert.match(po.id, /^po_/);
    assert.equal(po.status, 'pending_approval');
    assert.equal(po.approvals_required, 2);
    // Held at request: available down, the hold up, nothing on chain yet.
    assert.equal(await balanceOf(m.key, 'available'), 500n * USDT - 150_250_000n);
    assert.equal(await balanceOf(m.key, 'payout_hold'), 150_250_000n);

    const first = await asOperator('alice')('POST', `/v1/admin/payouts/${po.id}/approve`, { reason: 'invoice checked' });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.status, 'pending_approval');
    const twice = await asOperator('alice')('POST', `/v1/admin/payouts/${po.id}/approve`, { reason: 'again' });
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error.code, 'operator_already_approved');
    assert.equal((await api('GET', `/v1/payouts/${po.id}`, { key: m.key })).body.status, 'pending_approval', 'one operator twice is one approval');

    const stop = miner();
    try {
      const second = await asOperator('bob')('POST', `/v1/admin/payouts/${po.id}/approve`, { reason: 'second pair of eyes' });
      assert.equal(second.status, 200, JSON.stringify(second.body));
      const done = await waitPayout(m.key, po.id, ['settled', 'failed']);
      assert.equal(done.status, 'settled', JSON.stringify(done));
      assert.deepEqual(done.approvals.map((a: { operator: string }) => a.operator).sort(), [(await operatorNamed('alice')).id, (await operatorNamed('bob')).id].sort());
      assert.match(done.tx_hash, /^0x[0-9a-f]{64}$/);
      assert.equal(done.network_fee.asset, 'ETH');

      // On chain: exactly the amount, from the treasury, judged by the receipt and the log.
      assert.equal(await tokenBalance(dest), 150_250_000n);
      const receipt = await devnet().provider.getTransactionReceipt(done.tx_hash);
      assert.equal(receipt!.status, 1);
      assert.equal(getAddress(receipt!.from), TREASURY.address);
      const fee = receipt!.gasUsed * receipt!.gasPrice;

      // Ledger: hold → in flight at confirmed → custody at finality; available stays down; the fee posted in ETH.
      assert.equal(await balanceOf(m.key, 'available'), 500n * USDT - 150_250_000n);
      assert.equal(await balanceOf(m.key, 'payout_hold'), 0n);
      assert.equal(await balanceOf(m.key, 'payout_in_flight'), 0n);
      const { rows: feeRows } = await h().stack.pool.query(
        `SELECT l.amount_minor::text AS a, l.asset FROM ledger_entries e JOIN ledger_lines l ON l.entry_id = e.id JOIN ledger_accounts a ON a.id = l.account_id
          WHERE e.gate = 'network_fee' AND lower(e.tx_hash) = $1 AND a.purpose = 'network_fees'`,
        [done.tx_hash],
      );
      assert.equal(feeRows.length, 1);
      assert.equal(feeRows[0].asset, 'ETH');
      assert.equal(BigInt(feeRows[0].a), fee);
      assert.equal(done.network_fee.amount, formatAmount(fee, 18));
      const { rows: po2 } = await h().stack.pool.query(`SELECT network_fee_minor::text AS f FROM payouts WHERE id = $1`, [po.id]);
      assert.equal(BigInt(po2[0].f), fee);
      // Each of the payout's entries names it, in JSON and in the CSV finance filters.
      const entries = (await api('GET', '/v1/ledger/entries?limit=100', { key: m.key })).body.data.filter((e: { payout_id: string | null }) => e.payout_id === po.id);
      assert.deepEqual(entries.map((e: { gate: string }) => e.gate).sort(), ['network_fee', 'payout_hold', 'payout_in_flight', 'payout_paid']);
      const csv = await api('GET', '/v1/ledger/entries?format=csv&limit=100', { key: m.key });
      const [header, ...rows] = (csv.body as string).trim().split('\r\n').map((l) => l.split(','));
      const col = header!.indexOf('payout_id');
      assert.ok(col > 0, header!.join(','));
      assert.deepEqual([...new Set(rows.filter((r) => r[col] === po.id).map((r) => r[header!.indexOf('gate')]))].sort(), ['network_fee', 'payout_hold', 'payout_in_flight', 'payout_paid']);
    } finally {
      await stop();
    }
    // Every step is an event and a transition; the workflow id is the payout id.
    const { rows: tr } = await h().stack.pool.query(`SELECT to_status FROM payout_transitions WHERE payout_id = $1 ORDER BY seq`, [po.id]);
    assert.deepEqual(tr.map((r) => r.to_status), ['pending_approval', 'approved', 'signing', 'broadcast', 'confirmed', 'settled']);
    const ev = await api('GET', `/v1/events?object_id=${po.id}&limit=20`, { key: m.key });
    assert.deepEqual(ev.body.data.map((e: { type: string }) => e.type).sort(), ['payout.approved', 'payout.broadcast', 'payout.confirmed', 'payout.created', 'payout.settled', 'payout.signing']);
    const desc = await h().stack.client.workflow.getHandle(po.id).describe();
    assert.equal(desc.type, 'payoutWorkflow');
    assert.equal(desc.status.name, 'COMPLETED');
    // Findable in the Temporal UI by merchant, and its last status, like payments.
    const found: string[] = [];
    for await (const w of h().stack.client.workflow.list({ query: `WorkflowType = 'payoutWorkflow' AND StablerailMerchantId = '${m.merchantId}' AND StablerailStatus = 'settled'` })) found.push(w.workflowId);
    assert.deepEqual(found, [po.id]);
  });

  it('on the TRON rail (stand-in): a payout is signed as a TRON transaction, confirmed, and its TRX fee posted', async () => {
    const standin = h().stack.tronStandin!;
    const m = await newMerchant({ name: 'TRON payouts' });
    await seedAvailable(m.merchantId, 30n * USDT);
    const dest = tronFromHex20(freshAddress());
    await allowlist(m.key, dest, 'usdt-trc20');
    const created = await api('POST', '/v1/payouts', { key: m.key, body: { amount: '12.5', rail: 'usdt-trc20', destination: dest, reference: 'tron-1' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    let on = true;
    const blocks = (async () => { while (on) { standin.mine(1); await new Promise((r) => setTimeout(r, 100)); } })();
    try {
      await asOperator('alice')('POST', `/v1/admin/payouts/${created.body.id}/approve`, { reason: 'ok' });
      const done = await waitPayout(m.key, created.body.id, ['settled', 'failed']);
      assert.equal(done.status, 'settled', JSON.stringify(done));
      assert.equal(done.network_fee.asset, 'TRX');
      assert.ok(Number(done.network_fee.amount) > 0, 'energy and bandwidth burned');
    } finally {
      on = false;
      await blocks;
    }
    assert.equal(standin.tokenBalance(TRON_STANDIN_USDT, dest), 12_500_000n);
    assert.equal(await balanceOf(m.key, 'payout_hold'), 0n);
    assert.equal(await balanceOf(m.key, 'available'), 17_500_000n);
  });

  it('one approval suffices at or below the threshold; cancel before signing releases the hold', async () => {
    const m = await newMerchant({ name: 'Small payouts' });
    await seedAvailable(m.merchantId, 50n * USDT);
    const dest = freshAddress();
    await allowlist(m.key, dest);
    const a = await api('POST', '/v1/payouts', { key: m.key, body: { amount: '20', rail: 'usdt-erc20', destination: dest, reference: 'small-1' } });
    assert.equal(a.status, 201, JSON.stringify(a.body));
    assert.equal(a.body.approvals_required, 1);
    const c = await api('POST', `/v1/payouts/${a.body.id}/cancel`, { key: m.key, body: { reason: 'wrong invoice' } });
    assert.equal(c.status, 200, JSON.stringify(c.body));
    assert.equal(c.body.status, 'canceled');
    await eventually(async () => (await balanceOf(m.key, 'payout_hold')) === 0n, 10_000);
    assert.equal(await balanceOf(m.key, 'available'), 50n * USDT);
    const late = await asOperator('alice')('POST', `/v1/admin/payouts/${a.body.id}/approve`, { reason: 'too late' });
    assert.equal(late.status, 409);
  });

  it('insufficient balance, a destination not on the allowlist, a malformed address, one still cooling off: typed errors that move nothing', async () => {
    const m = await newMerchant({ name: 'Refused payouts' });
    await seedAvailable(m.merchantId, 10n * USDT);
    const dest = freshAddress();
    await allowlist(m.key, dest);
    const entriesBefore = (await h().stack.pool.query(`SELECT count(*)::int AS n FROM ledger_entries WHERE merchant_id = $1`, [m.merchantId])).rows[0].n;
    const post = (body: Record<string, string>) => api('POST', '/v1/payouts', { key: m.key, body: { rail: 'usdt-erc20', reference: 'r', ...body } });

    const poor = await post({ amount: '10.000001', destination: dest });
    assert.equal(poor.status, 400);
    assert.equal(poor.body.error.code, 'insufficient_balance');
    assert.equal(poor.body.error.param, 'amount');

    const stranger = await post({ amount: '1', destination: freshAddress() });
    assert.equal(stranger.status, 400);
    assert.equal(stranger.body.error.code, 'destination_not_allowlisted');

    for (const bad of ['0x1234', 'not-an-address', dest.toLowerCase().replace(/^0x/, '0X'), dest.slice(0, 41) + (dest.at(-1) === 'a' ? 'B' : 'a')]) {
      const r = await post({ amount: '1', destination: bad });
      assert.equal(r.status, 400, `${bad}: ${JSON.stringify(r.body)}`);
      // Each is malformed (too short, not hex, a 0X prefix, a mixed-case checksum broken by one character): never a mere stranger.
      assert.equal(r.body.error.code, 'invalid_address', `${bad}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.param, 'destination', bad);
    }
    const badChecksum = dest.slice(0, 2) + dest.slice(2).split('').map((ch) => (/[a-f]/.test(ch) ? ch.toUpperCase() : /[A-F]/.test(ch) ? ch.toLowerCase() : ch)).join('');
    if (badChecksum !== dest && badChecksum.toLowerCase() !== badChecksum && badChecksum.toUpperCase().slice(2) !== badChecksum.slice(2)) {
      const r = await post({ amount: '1', destination: badChecksum });
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, 'invalid_address', 'a mixed-case address with a wrong checksum is malformed');
    }
    // One of the platform's own deposit addresses (another merchant's payment) is never a destination.
    const other = await newMerchant({ name: 'Deposit owner' });
    const theirs = await api('POST', '/v1/payments', { key: other.key, body: { amount: '1.00', rail: 'usdt-erc20', reference: 'deposit-as-destination' } });
    assert.equal(theirs.status, 201, JSON.stringify(theirs.body));
    const ours = await api('POST', '/v1/payout_destinations', { key: m.key, body: { rail: 'usdt-erc20', address: theirs.body.deposit_address, label: 'looks like a supplier' } });
    assert.equal(ours.status, 400, JSON.stringify(ours.body));
    assert.deepEqual([ours.body.error.code, ours.body.error.param], ['destination_is_deposit_address', 'address']);
    const badDest = await api('POST', '/v1/payout_destinations', { key: m.key, body: { rail: 'usdt-erc20', address: '0xdeadbeef', label: 'x' } });
    assert.equal(badDest.status, 400);
    assert.equal(badDest.body.error.code, 'invalid_address');

    const cooling = await api('POST', '/v1/payout_destinations', { key: m.key, body: { rail: 'usdt-erc20', address: freshAddress(), label: 'new supplier' } });
    await asOperator('alice')('POST', `/v1/admin/payout_destinations/${cooling.body.id}/approve`, { reason: 'ok' });
    const early = await post({ amount: '1', destination: cooling.body.id });
    assert.equal(early.status, 400);
    assert.equal(early.body.error.code, 'destination_not_usable');

    const { rows } = await h().stack.pool.query(`SELECT count(*)::int AS n FROM payouts WHERE merchant_id = $1`, [m.merchantId]);
    assert.equal(rows[0].n, 0, 'no payout row was written');
    const entriesAfter = (await h().stack.pool.query(`SELECT count(*)::int AS n FROM ledger_entries WHERE merchant_id = $1`, [m.merchantId])).rows[0].n;
    assert.equal(entriesAfter, entriesBefore, 'no ledger entry was written');
    assert.equal(await balanceOf(m.key, 'available'), 10n * USDT);

    // A threshold too precise for the asset is a typed 400; 0 means every payout needs two operators.
    const tooPrecise = await admin('POST', `/v1/admin/merchants/${m.merchantId}/payout_settings`, { environment: 'sandbox', dual_approval_above: '0.0000001' });
    assert.equal(tooPrecise.status, 400, JSON.stringify(tooPrecise.body));
    assert.equal(tooPrecise.body.error.code, 'amount_too_precise');
    assert.equal(tooPrecise.body.error.param, 'dual_approval_above');
    assert.equal((await admin('POST', `/v1/admin/merchants/${m.merchantId}/payout_settings`, { environment: 'sandbox', dual_approval_above: '0' })).status, 200);
    const two = await post({ amount: '0.5', destination: dest });
    assert.equal(two.status, 201, JSON.stringify(two.body));
    assert.equal(two.body.approvals_required, 2);
    assert.equal((await asOperator('x')('POST', '/v1/admin/payouts/po_000000000000000000000000/cancel', { reason: 'y' })).status, 404);
    await asOperator('alice')('POST', `/v1/admin/payouts/${two.body.id}/cancel`, { reason: 'test done' });
  });

  it('a retry of POST /v1/payouts with the same Idempotency-Key answers the same payout: one row, one hold, one workflow', async () => {
    const { stack } = h();
    const m = await newMerchant({ name: 'Idempotent payouts' });
    await seedAvailable(m.merchantId, 20n * USDT);
    const dest = freshAddress();
    await allowlist(m.key, dest);
    const idem = newId('idem');
    const body = { amount: '7', rail: 'usdt-erc20', destination: dest, reference: 'idem-1' };
    const first = await api('POST', '/v1/payouts', { key: m.key, idem, body });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    // The API died before remembering the answer: the claim is in flight with its lease over,
    // so the retry takes it over with the same payout id and reaches the same workflow and Update.
    await stack.pool.query(
      `UPDATE idempotency_keys SET state = 'in_flight', response_status = NULL, response_body = NULL, locked_until = now() - interval '1 second' WHERE scope = $1 AND key = $2`,
      [`${m.merchantId}:sandbox`, idem],
    );
    const retried = await api('POST', '/v1/payouts', { key: m.key, idem, body });
    assert.equal(retried.status, 201, JSON.stringify(retried.body));
    assert.equal(retried.headers.get('idempotent-replayed'), null, 'answered by the workflow, not replayed from the idempotency record');
    assert.deepEqual(retried.body, first.body, 'the same Update answers the same view');
    const replayed = await api('POST', '/v1/payouts', { key: m.key, idem, body });
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    assert.equal(replayed.body.id, first.body.id);

    const { rows } = await stack.pool.query(`SELECT id FROM payouts WHERE merchant_id = $1`, [m.merchantId]);
    assert.deepEqual(rows.map((r) => r.id), [first.body.id], 'exactly one payout row');
    assert.equal(await balanceOf(m.key, 'payout_hold'), 7n * USDT, 'held once');
    const runs: string[] = [];
    for await (const w of stack.client.workflow.list({ query: `WorkflowId = '${first.body.id}'` })) runs.push(w.runId);
    assert.equal(runs.length, 1, 'exactly one workflow run');
    assert.equal((await api('POST', `/v1/payouts/${first.body.id}/cancel`, { key: m.key, body: {} })).status, 200);
    await eventually(async () => (await stack.client.workflow.getHandle(first.body.id).describe()).status.name === 'COMPLETED', 10_000);
    // Taken over again after its workflow closed: never a second run; the create Update's first answer.
    await stack.pool.query(`UPDATE idempotency_keys SET state = 'in_flight', locked_until = now() - interval '1 second' WHERE scope = $1 AND key = $2`, [`${m.merchantId}:sandbox`, idem]);
    const late = await api('POST', '/v1/payouts', { key: m.key, idem, body });
    assert.equal(late.status, 201, JSON.stringify(late.body));
    assert.deepEqual(late.body, first.body);
    const after: string[] = [];
    for await (const w of stack.client.workflow.list({ query: `WorkflowId = '${first.body.id}'` })) after.push(w.runId);
    assert.deepEqual(after, runs);
    assert.equal(await balanceOf(m.key, 'payout_hold'), 0n);
  });

  it('with no payouts worker to answer, a request is a 503 that wrote nothing; its retry, once a worker polls, creates the payout once', async () => {
    const { stack, config, bundle } = h();
    const m = await newMerchant({ name: 'Payouts worker away' });
    await seedAvailable(m.merchantId, 10n * USDT);
    const dest = freshAddress();
    await allowlist(m.key, dest);
    const TASK_QUEUE = `payouts-away-${newId('q')}`;
    const metrics = { workflowStarts: { inc() {} } } as unknown as Metrics;
    const deps = { pool: stack.pool, config, temporal: stack.client, metrics, payoutTaskQueue: TASK_QUEUE, createTimeoutMs: 2_000 };
    const auth = { keyId: 'test', merchantId: m.merchantId, environment: 'sandbox' as const, scopes: ['payouts:write' as const] };
    const body = { amount: '2', rail: 'usdt-erc20', destination: dest, reference: 'away' };
    const id = newId('po');
    await assert.rejects(createPayout(deps, auth, body, id), (err: { status?: number; code?: string }) => err.status === 503 && err.code === 'orchestrator_unavailable');
    assert.equal((await stack.pool.query(`SELECT 1 FROM payouts WHERE id = $1`, [id])).rowCount, 0, 'nothing written');
    assert.equal(await balanceOf(m.key, 'payout_hold'), 0n);

    const senders = new RailSenders();
    const connection = await NativeConnection.connect({ address: stack.temporalAddress });
    const worker = await Worker.create({ connection, namespace: stack.namespace, taskQueue: TASK_QUEUE, workflowBundle: bundle, activities: createPayoutActivities({ pool: stack.pool, config, signer: null, senders }) });
    const running = worker.run();
    try {
      const view = await createPayout({ ...deps, createTimeoutMs: 20_000 }, auth, body, id);
      assert.equal(view.id, id);
      assert.equal(view.status, 'pending_approval');
      assert.equal((await stack.pool.query(`SELECT 1 FROM payouts WHERE id = $1`, [id])).rowCount, 1);
      assert.equal(await balanceOf(m.key, 'payout_hold'), 2n * USDT);
      const runs: string[] = [];
      for await (const w of stack.client.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push(w.runId);
      assert.equal(runs.length, 1, 'the retry reached the workflow the first request started');
      await asOperator('alice')('POST', `/v1/admin/payouts/${id}/cancel`, { reason: 'test done' });
      await eventually(async () => (await stack.client.workflow.getHandle(id).describe()).status.name === 'COMPLETED', 10_000);
    } finally {
      worker.shutdown();
      await running;
      await connection.close();
      senders.close();
    }
  });

  it('a refused create step (insufficient balance) is a typed 400; its workflow ends with no row and no hold', async () => {
    const { stack } = h();
    const m = await newMerchant({ name: 'Poor payouts' });
    await seedAvailable(m.merchantId, 3n * USDT);
    const dest = freshAddress();
    await allowlist(m.key, dest);
    const poor = await api('POST', '/v1/payouts', { key: m.key, idem: newId('idem'), body: { amount: '3.5', rail: 'usdt-erc20', destination: dest, reference: 'poor' } });
    assert.equal(poor.status, 400, JSON.stringify(poor.body));
    assert.deepEqual(poor.body.error, { type: 'invalid_request_error', code: 'insufficient_balance', message: poor.body.error.message, param: 'amount' });
    assert.match(poor.body.error.message, /available balance is 3\.00 USDT/);
    assert.equal((await stack.pool.query(`SELECT count(*)::int AS n FROM payouts WHERE merchant_id = $1`, [m.merchantId])).rows[0].n, 0, 'no payout row');
    assert.equal(await balanceOf(m.key, 'payout_hold'), 0n);
    assert.equal(await balanceOf(m.key, 'available'), 3n * USDT);
    // The refusal came from the workflow's create step; the workflow did not wait for approvals.
    const ids: string[] = [];
    for await (const w of stack.client.workflow.list({ query: `WorkflowType = 'payoutWorkflow' AND StablerailMerchantId = '${m.merchantId}'` })) ids.push(w.workflowId);
    assert.equal(ids.length, 1);
    const handle = stack.client.workflow.getHandle(ids[0]!);
    const ended = await handle.result();
    assert.equal(ended.refused?.code, 'insufficient_balance');
    assert.equal((await handle.describe()).status.name, 'COMPLETED');
  });

  it('two operators approving at once are both recorded, and the payout moves on once (no spurious payout_state_conflict)', async () => {
    const m = await newMerchant({ name: 'Concurrent approvals' });
    await seedAvailable(m.merchantId, 40n * USDT);
    assert.equal((await admin('POST', `/v1/admin/merchants/${m.merchantId}/payout_settings`, { environment: 'sandbox', dual_approval_above: '0' })).status, 200);
    const dest = freshAddress();
    await allowlist(m.key, dest);
    // Several payouts at once: the race (both approvals recorded before either handler resumes) is a matter of timing.
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const po = await api('POST', '/v1/payouts', { key: m.key, idem: newId('idem'), body: { amount: '4', rail: 'usdt-erc20', destination: dest, reference: `both-${i}` } });
      assert.equal(po.status, 201, JSON.stringify(po.body));
      assert.equal(po.body.approvals_required, 2);
      ids.push(po.body.id);
    }
    const stop = miner();
    try {
      const answers = await Promise.all(ids.flatMap((id) => [
        asOperator('alice')('POST', `/v1/admin/payouts/${id}/approve`, { reason: 'checked' }),
        asOperator('bob')('POST', `/v1/admin/payouts/${id}/approve`, { reason: 'checked too' }),
      ]));
      for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
      for (const id of ids) {
        const done = await waitPayout(m.key, id, ['settled', 'failed'], 60_000);
        assert.equal(done.status, 'settled', JSON.stringify(done));
        assert.deepEqual(done.approvals.map((x: { operator: string }) => x.operator).sort(), [(await operatorNamed('alice')).id, (await operatorNamed('bob')).id].sort());
        const { rows } = await h().stack.pool.query(`SELECT to_status FROM payout_transitions WHERE payout_id = $1 ORDER BY seq`, [id]);
        assert.deepEqual(rows.map((r) => r.to_status), ['pending_approval', 'approved', 'signing', 'broadcast', 'confirmed', 'settled']);
      }
    } finally {
      await stop();
    }
  });

  it('approvals are serialized in the workflow: two operators whose records land together both count, with no payout_state_conflict', async () => {
    const { stack, config, bundle } = h();
    const m = await newMerchant({ name: 'Racing approvals' });
    await seedAvailable(m.merchantId, 10n * USDT);
    assert.equal((await admin('POST', `/v1/admin/merchants/${m.merchantId}/payout_settings`, { environment: 'sandbox', dual_approval_above: '0' })).status, 200);
    const dest = freshAddress();
    await allowlist(m.key, dest);
    // A worker of its own whose approval records answer together once both operators are in
    // (or after 1.5 s): unserialized handlers would each see two approvals and both approve.
    const TASK_QUEUE = `payouts-approval-race-${newId('q')}`;
    let recorded = 0;
    let bothRecorded!: () => void;
    const both = new Promise<void>((r) => (bothRecorded = r));
    const senders = new RailSenders();
    const real = createPayoutActivities({ pool: stack.pool, config, signer: null, senders });
    const connection = await NativeConnection.connect({ address: stack.temporalAddress });
    const worker = await Worker.create({
      connection, namespace: stack.namespace, taskQueue: TASK_QUEUE, workflowBundle: bundle,
      activities: {
        ...real,
        async recordPayoutApproval(a: { payoutId: string; operator: string; reason: string }) {
          await real.recordPayoutApproval(a);
          if (++recorded === 2) bothRecorded();
          await Promise.race([both, new Promise((r) => setTimeout(r, 1_500))]);
          return real.recordPayoutApproval(a);
        },
        // Nothing is sent from this worker: the signer refuses, the payout fails and its hold goes back.
        async signTransfer() {
          throw ApplicationFailure.nonRetryable('no signer in this test', 'signer_refused');
        },
      },
    });
    const running = worker.run();
    try {
      const metrics = { workflowStarts: { inc() {} } } as unknown as Metrics;
      const view = await createPayout(
        { pool: stack.pool, config, temporal: stack.client, metrics, payoutTaskQueue: TASK_QUEUE },
        { keyId: 'test', merchantId: m.merchantId, environment: 'sandbox', scopes: ['payouts:write'] },
        { amount: '3', rail: 'usdt-erc20', destination: dest, reference: 'race' },
        null,
      );
      assert.equal(view.approvals_required, 2);
      const [a, b] = await Promise.all([
        asOperator('alice')('POST', `/v1/admin/payouts/${view.id}/approve`, { reason: 'checked' }),
        asOperator('bob')('POST', `/v1/admin/payouts/${view.id}/approve`, { reason: 'checked too' }),
      ]);
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.equal(b.status, 200, JSON.stringify(b.body));
      const done = await waitPayout(m.key, view.id, 'failed');
      assert.deepEqual(done.approvals.map((x: { operator: string }) => x.operator).sort(), [(await operatorNamed('alice')).id, (await operatorNamed('bob')).id].sort());
      const { rows } = await stack.pool.query(`SELECT to_status FROM payout_transitions WHERE payout_id = $1 ORDER BY seq`, [view.id]);
      assert.deepEqual(rows.map((r) => r.to_status), ['pending_approval', 'approved', 'signing', 'failed']);
      await eventually(async () => (await balanceOf(m.key, 'payout_hold')) === 0n, 10_000);
      await eventually(async () => (await stack.client.workflow.getHandle(view.id).describe()).status.name === 'COMPLETED', 10_000);
    } finally {
      worker.shutdown();
      await running;
      await connection.close();
      senders.close();
    }
  });

  it('an approval racing a cancel is either recorded before it or refused: never recorded for a payout the cancel already ended', async () => {
    const { stack, config, bundle } = h();
    const m = await newMerchant({ name: 'Approve racing cancel' });
    await seedAvailable(m.merchantId, 10n * USDT);
    const dest = freshAddress();
    await allowlist(m.key, dest);
    // A worker of its own whose approval record takes a second: the cancel arrives while it runs.
    const TASK_QUEUE = `payouts-cancel-race-${newId('q')}`;
    let approvalStarted!: () => void;
    const started = new Promise<void>((r) => (approvalStarted = r));
    const real = createPayoutActivities({ pool: stack.pool, config, signer: null, senders: new RailSenders() });
    const connection = await NativeConnection.connect({ address: stack.temporalAddress });
    const worker = await Worker.create({
      connection, namespace: stack.namespace, taskQueue: TASK_QUEUE, workflowBundle: bundle,
      activities: {
        ...real,
        async recordPayoutApproval(a: { payoutId: string; operator: string; reason: string }) {
          approvalStarted();
          await new Promise((r) => setTimeout(r, 1_000));
          return real.recordPayoutApproval(a);
        },
      },
    });
    const running = worker.run();
    const metrics = { workflowStarts: { inc() {} } } as unknown as Metrics;
    const create = (reference: string) => createPayout(
      { pool: stack.pool, config, temporal: stack.client, metrics, payoutTaskQueue: TASK_QUEUE },
      { keyId: 'test', merchantId: m.merchantId, environment: 'sandbox', scopes: ['payouts:write'] },
      { amount: '1', rail: 'usdt-erc20', destination: dest, reference },
      null,
    );
    const approvalsOf = async (id: string) => (await stack.pool.query(`SELECT operator FROM payout_approvals WHERE payout_id = $1`, [id])).rows;
    const transitionsOf = async (id: string) => (await stack.pool.query(`SELECT to_status FROM payout_transitions WHERE payout_id = $1 ORDER BY seq`, [id])).rows.map((r) => r.to_status);
    try {
      // The approval is being recorded when the cancel comes: the cancel waits its turn, so the
      // approval lands whole (recorded and applied), then the cancel ends the approved payout.
      const first = await create('race-approve-first');
      assert.equal(first.approvals_required, 1);
      const approving = asOperator('alice')('POST', `/v1/admin/payouts/${first.id}/approve`, { reason: 'checked' });
      await started;
      const canceled = await asOperator('bob')('POST', `/v1/admin/payouts/${first.id}/cancel`, { reason: 'called off' });
      const approved = await approving;
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
      assert.equal(canceled.body.status, 'canceled');
      assert.deepEqual(await transitionsOf(first.id), ['pending_approval', 'approved', 'canceled']);
      assert.deepEqual((await approvalsOf(first.id)).map((r) => r.operator), [(await operatorNamed('alice')).id]);
      // Canceled first: the approval is refused with its documented code and leaves no row.
      const second = await create('race-cancel-first');
      assert.equal((await asOperator('bob')('POST', `/v1/admin/payouts/${second.id}/cancel`, { reason: 'called off' })).status, 200);
      const late = await asOperator('alice')('POST', `/v1/admin/payouts/${second.id}/approve`, { reason: 'too late' });
      assert.equal(late.status, 409);
      // Refused by the workflow, or, once the canceled payout's workflow has ended, by the API.
      assert.ok(['payout_not_pending_approval', 'payout_closed'].includes(late.body.error.code), late.body.error.code);
      assert.deepEqual(await approvalsOf(second.id), []);
      await eventually(async () => (await balanceOf(m.key, 'payout_hold')) === 0n, 10_000);
    } finally {
      worker.shutdown();
      await running;
      await connection.close();
    }
  });

  it('an allowlist request is written by its workflow: a retried request answers the same entry; the same address again is a typed 409 with no second row', async () => {
    const { stack } = h();
    const m = await newMerchant({ name: 'Allowlist by workflow' });
    const addr = freshAddress();
    const idem = newId('idem');
    const body = { rail: 'usdt-erc20', address: addr, label: 'supplier' };
    const first = await api('POST', '/v1/payout_destinations', { key: m.key, idem, body });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.status, 'pending_approval');
    await stack.pool.query(
      `UPDATE idempotency_keys SET state = 'in_flight', response_status = NULL, response_body = NULL, locked_until = now() - interval '1 second' WHERE scope = $1 AND key = $2`,
      [`${m.merchantId}:sandbox`, idem],
    );
    const retried = await api('POST', '/v1/payout_destinations', { key: m.key, idem, body });
    assert.equal(retried.status, 201, JSON.stringify(retried.body));
    assert.deepEqual(retried.body, first.body);
    const again = await api('POST', '/v1/payout_destinations', { key: m.key, body: { ...body, label: 'twice' } });
    assert.equal(again.status, 409, JSON.stringify(again.body));
    assert.equal(again.body.error.code, 'destination_exists');
    assert.equal(again.body.error.param, 'address');
    const { rows } = await stack.pool.query(`SELECT id FROM payout_destinations WHERE merchant_id = $1`, [m.merchantId]);
    assert.deepEqual(rows.map((r) => r.id), [first.body.id]);
    const desc = await stack.client.workflow.getHandle(first.body.id).describe();
    assert.equal(desc.status.name, 'RUNNING', 'the accepted request waits for an operator');
    await asOperator('alice')('POST', `/v1/admin/payout_destinations/${first.body.id}/reject`, { reason: 'test done' });
  });

  it('another merchant cannot see a payout or a destination (404)', async () => {
    const a = await newMerchant({ name: 'Owner' });
    const b = await newMerchant({ name: 'Other' });
    await seedAvailable(a.merchantId, 5n * USDT);
    const dest = freshAddress();
    const destId = await allowlist(a.key, dest);
    const p = await api('POST', '/v1/payouts', { key: a.key, body: { amount: '1', rail: 'usdt-erc20', destination: destId, reference: 'x' } });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    assert.equal((await api('GET', `/v1/payouts/${p.body.id}`, { key: b.key })).status, 404);
    assert.equal((await api('GET', `/v1/payout_destinations/${destId}`, { key: b.key })).status, 404);
    assert.equal((await api('POST', `/v1/payouts/${p.body.id}/cancel`, { key: b.key, body: {} })).status, 404);
    // b cannot pay to a's allowlisted address either.
    await seedAvailable(b.merchantId, 5n * USDT);
    const steal = await api('POST', '/v1/payouts', { key: b.key, body: { amount: '1', rail: 'usdt-erc20', destination: destId, reference: 'x' } });
    assert.equal(steal.body.error.code, 'destination_not_allowlisted');
    await api('POST', `/v1/payouts/${p.body.id}/cancel`, { key: a.key, body: {} });
  });

  it('a transfer leaving the treasury that no payout sent is a reconciliation break; a confirmed payout is not', async () => {
    // Someone with the treasury key moves money outside Stablerail.
    const { provider, devnet: d } = devnet();
    const thief = TREASURY.connect(provider);
    const token = new Contract(d.tokenAddress, tokenArtifact().abi as never, thief);
    const tx = await token.getFunction('transfer')(freshAddress(), 3n * USDT);
    await tx.wait();
    await mine(3);
    const hash = (tx.hash as string).toLowerCase();
    await eventually(async () => (await h().stack.pool.query(`SELECT 1 FROM treasury_transfers WHERE lower(tx_hash) = $1`, [hash])).rowCount, 15_000);
    const run = await admin('POST', '/v1/admin/reconciliation/runs', { environment: 'sandbox', grace_s: 0 });
    assert.equal(run.status, 201, JSON.stringify(run.body));
    const done = await eventually(async () => {
      const r = await admin('GET', `/v1/admin/reconciliation/runs/${run.body.id}`);
      return r.body.status === 'completed' ? r.body : null;
    }, 30_000, 200);
    // Started by an operator: an operator action, so it is evidence naming them.
    const ev = await h().stack.pool.query(`SELECT actor, payload FROM evidence WHERE kind = 'reconciliation.run_requested' AND subject = $1`, [run.body.id]);
    assert.equal(ev.rows.length, 1);
    assert.match(ev.rows[0].actor, new RegExp(`^${ADMIN_OPERATOR_ID}@otk_`));
    assert.deepEqual(ev.rows[0].payload, { environment: 'sandbox', merchant_id: null, grace_s: 0 });
    const breaks = done.breaks as Array<{ class: string; tx_hash: string | null; payment_id: string | null }>;
    assert.ok(breaks.some((b) => b.class === 'transfer_without_payout' && b.tx_hash?.toLowerCase() === hash), JSON.stringify(breaks.filter((b) => b.class.includes('payout'))));
    // Confirmed payouts of this suite all left a matching transfer.
    const { rows } = await h().stack.pool.query(`SELECT tx_hash FROM payouts WHERE status IN ('confirmed', 'settled')`);
    for (const r of rows) assert.ok(!breaks.some((b) => b.class === 'transfer_without_payout' && b.tx_hash?.toLowerCase() === r.tx_hash), `payout ${r.tx_hash} counted as a stray transfer`);
    assert.ok(!breaks.some((b) => b.class === 'payout_without_transfer'), JSON.stringify(breaks.filter((b) => b.class === 'payout_without_transfer')));
  });
});
