// Paying and staging chain events on the suite's real devnet (anvil): a payer wallet, the
// token, mining, snapshots and reverts, and waiting for a payment to reach a status.
import { Contract, JsonRpcProvider, Network, Wallet, toQuantity } from 'ethers';
import { api, eventually, h, newMerchant } from './harness.js';
import { tokenArtifact, DEVNET_CHAIN_ID } from '../scripts/embedded/devnet.js';

let provider: JsonRpcProvider | null = null;
let payer: Wallet | null = null;
let token: Contract | null = null;

export function devnet() {
  const d = h().stack.devnet;
  if (!d) throw new Error('the harness started no devnet');
  if (!provider) {
    provider = new JsonRpcProvider(d.rpcUrl, Network.from(DEVNET_CHAIN_ID), { staticNetwork: true, cacheTimeout: -1, batchMaxCount: 1 });
    payer = new Wallet(d.payerPrivateKey, provider);
    token = new Contract(d.tokenAddress, tokenArtifact().abi as never, payer);
  }
  return { provider: provider!, payer: payer!, token: token!, devnet: d };
}

export async function rpc(method: string, params: unknown[] = []): Promise<any> {
  return devnet().provider.send(method, params);
}

/** Mine n empty blocks at once. */
export async function mine(n = 1): Promise<void> {
  await rpc('anvil_mine', [toQuantity(n)]);
}

export async function head(): Promise<number> {
  return Number(await rpc('eth_blockNumber'));
}

/** Send `amountMinor` tokens to `to`; answers the tx hash once mined (automine: one block per tx). */
export async function pay(to: string, amountMinor: bigint): Promise<string> {
  const { token } = devnet();
  const tx = await token.getFunction('transfer')(to, amountMinor);
  await tx.wait();
  return tx.hash as string;
}

/** Several transfers in one transaction: each Transfer log is its own (tx hash, log index). */
export async function payBatch(to: string[], amountsMinor: bigint[]): Promise<string> {
  const { token } = devnet();
  const tx = await token.getFunction('batchTransfer')(to, amountsMinor);
  await tx.wait();
  return tx.hash as string;
}

let merchant: { merchantId: string; key: string } | null = null;
export async function chainMerchant() {
  merchant ??= await newMerchant({ name: 'Chain merchant' });
  return merchant;
}

export async function createPayment(amount: string, opts: { rail?: string; expires_in_s?: number; reference?: string } = {}) {
  const m = await chainMerchant();
  const r = await api('POST', '/v1/payments', {
    key: m.key,
    body: { amount, rail: opts.rail ?? 'usdt-erc20', reference: opts.reference ?? `order-${Math.random().toString(36).slice(2)}`, ...(opts.expires_in_s ? { expires_in_s: opts.expires_in_s } : {}) },
  });
  if (r.status !== 201) throw new Error(`payment not created: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as { id: string; deposit_address: string; status: string; amount: string };
}

export async function getPayment(id: string) {
  const m = await chainMerchant();
  return (await api('GET', `/v1/payments/${id}`, { key: m.key })).body;
}

export async function waitStatus(id: string, status: string | string[], timeoutMs = 15_000) {
  const wanted = Array.isArray(status) ? status : [status];
  return eventually(async () => {
    const p = await getPayment(id);
    return wanted.includes(p.status) ? p : null;
  }, timeoutMs, 100);
}

export async function transitionsOf(id: string): Promise<Array<{ from_status: string | null; to_status: string; cause: string; exception_code: string | null }>> {
  const { rows } = await h().stack.pool.query(`SELECT from_status, to_status, cause, exception_code FROM payment_transitions WHERE payment_id = $1 ORDER BY seq`, [id]);
  return rows;
}

/** Wait until the watcher has processed the devnet's current head. */
export async function watcherCaughtUp(rail = 'usdt-erc20', timeoutMs = 15_000): Promise<number> {
  const target = await head();
  return eventually(async () => {
    const { rows } = await h().stack.pool.query(`SELECT processed_height::text AS p FROM chain_cursors WHERE rail = $1`, [rail]);
    return rows[0] && Number(rows[0].p) >= target ? Number(rows[0].p) : null;
  }, timeoutMs, 100);
}
