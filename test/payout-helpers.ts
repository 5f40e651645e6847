// Helpers shared by the payout, refund and sweep tests: merchant balances, allowlisting, a
// block producer for confirmations, and waiting for a payout's status.
import assert from 'node:assert/strict';
import { Wallet } from 'ethers';
import { admin, api, eventually, h, asOperator } from './harness.js';
import { devnet, mine } from './chain-helpers.js';
import { postEntries } from '../activities/ledger.js';
import { withTx } from '../activities/db.js';
import { newId } from '../activities/ids.js';

export const USDT = 10n ** 6n;

/** Keep the devnet producing blocks (anvil mines only on a transaction) until stopped. */
export function miner(intervalMs = 150) {
  let on = true;
  const loop = (async () => {
    while (on) {
      await mine(1).catch(() => undefined);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return async () => {
    on = false;
    await loop;
  };
}

/**
 * Give a merchant available balance the way a recognized payment leaves it (custody → available);
 * the payment path to recognition itself is proven in treasury-e2e.test.ts.
 */
export async function seedAvailable(merchantId: string, amountMinor: bigint): Promise<void> {
  await withTx(h().stack.pool, (c) =>
    postEntries(c, [{
      cause: `test-seed:${newId('seed')}`, environment: 'sandbox', gate: 'recognized', merchantId, rail: 'usdt-erc20', memo: 'test seed: as a recognized payment',
      lines: [
        { account: { environment: 'sandbox', ownerType: 'rail', ownerId: 'usdt-erc20', purpose: 'custody', asset: 'USDT' }, amountMinor },
        { account: { environment: 'sandbox', ownerType: 'merchant', ownerId: merchantId, purpose: 'available', asset: 'USDT' }, amountMinor: -amountMinor },
      ],
    }]),
  );
}

export async function balanceOf(merchantKey: string, purpose: string, asset = 'USDT'): Promise<bigint> {
  const r = await api('GET', '/v1/ledger/balances', { key: merchantKey });
  const row = (r.body.data as Array<{ purpose: string; asset: string; balance_minor: string }>).find((b) => b.purpose === purpose && b.asset === asset);
  return BigInt(row?.balance_minor ?? '0');
}

export const freshAddress = () => Wallet.createRandom().address;

/** Ask, approve, and wait out the cooling-off: an active allowlist entry. */
export async function allowlist(key: string, address: string, rail = 'usdt-erc20'): Promise<string> {
  const r = await api('POST', '/v1/payout_destinations', { key, body: { rail, address, label: 'supplier' } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.status, 'pending_approval');
  const a = await asOperator('alice')('POST', `/v1/admin/payout_destinations/${r.body.id}/approve`, { reason: 'supplier verified by phone' });
  assert.equal(a.status, 200, JSON.stringify(a.body));
  assert.equal(a.body.status, 'cooling_off');
  await eventually(async () => (await api('GET', `/v1/payout_destinations/${r.body.id}`, { key })).body.status === 'active', 15_000, 200);
  return r.body.id;
}

export async function tokenBalance(address: string): Promise<bigint> {
  const { token } = devnet();
  return token.getFunction('balanceOf')(address);
}

export async function waitPayout(key: string, id: string, status: string | string[], timeoutMs = 30_000) {
  const want = Array.isArray(status) ? status : [status];
  return eventually(async () => {
    const p = (await api('GET', `/v1/payouts/${id}`, { key })).body;
    return want.includes(p.status) ? p : null;
  }, timeoutMs, 150);
}


/** Per purpose:asset, the net of every ledger entry a payout's cause or its transactions made. */
export async function payoutLedger(id: string, txHashes: string[]): Promise<Record<string, string>> {
  const { rows } = await h().stack.pool.query(
    `SELECT a.purpose || ':' || a.asset AS k, sum(l.amount_minor)::text AS s FROM ledger_entries e JOIN ledger_lines l ON l.entry_id = e.id JOIN ledger_accounts a ON a.id = l.account_id
      WHERE e.cause LIKE $1 OR lower(e.tx_hash) = ANY($2) GROUP BY 1 ORDER BY 1`,
    [`payout:${id}/%`, txHashes.map((x) => x.toLowerCase())],
  );
  return Object.fromEntries(rows.map((r) => [r.k, r.s]));
}
