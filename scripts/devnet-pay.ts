// `stablerail devnet pay <pay_…|pub_…> [--amount X] [--from-third-party] [--no-follow] [--follow-s N]`: pays a
// sandbox payment on its devnet rail (the EVM devnet or the TRON stand-in) from the funded payer
// in dev.json, prints the transaction, then follows the payment's public status until it is
// final. The newcomer's first payment, without writing a script.
import type { RailConfig, StablerailConfig } from '../activities/config.js';
import { payFromDevnetPayer } from '../activities/chain/devnet-payer.js';
import { formatAmount, parseAmount } from '../workflows/rules/money.js';

/** Statuses after which nothing more happens to the payment by itself. */
export const FOLLOW_UNTIL = ['recognized', 'expired', 'canceled', 'requires_review', 'refunded', 'written_off'];
const POLL_MS = 1_000;
/** How long the command follows a payment by default: a devnet payment is recognized in seconds. */
const FOLLOW_S_DEFAULT = 300;

export interface DevJson {
  api_url?: string;
  base_url?: string;
  secret_key?: string;
  payer_private_key?: string;
  rails?: Array<{ id: string; rpc_url?: string }>;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

interface Target {
  publicId: string;
  livemode: boolean;
  rail: string;
  depositAddress: string;
  amount: string;
  amountReceived: string;
  status: string;
}

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const r = await fetch(url, { headers });
  return { status: r.status, body: await r.json().catch(() => null) };
}

async function resolveTarget(apiUrl: string, key: string | undefined, id: string): Promise<Target> {
  if (/^pay_[0-9A-Za-z]{24}$/.test(id)) {
    if (!key) throw new UsageError('a pay_… id is read with the sandbox secret key: set STABLERAIL_KEY or run `npm start` for dev.json (or give the pub_… id)');
    const r = await getJson(`${apiUrl}/v1/payments/${id}`, { authorization: `Bearer ${key}` });
    if (r.status === 404) throw new UsageError(`no payment ${id} for this key: a pay_… id is read with the key of the merchant that made it (give the payment's pub_… id to pay another merchant's sandbox payment; a live payment is never paid from the devnet)`);
    if (r.status !== 200) throw new Error(`GET /v1/payments/${id}: ${r.status} ${JSON.stringify(r.body?.error ?? r.body)}`);
    const p = r.body;
    return { publicId: p.public_id, livemode: p.livemode, rail: p.rail, depositAddress: p.deposit_address, amount: p.amount, amountReceived: p.amount_received, status: p.status };
  }
  if (/^pub_[0-9A-Za-z]{24}$/.test(id)) {
    const r = await getJson(`${apiUrl}/v1/public/payments/${id}`);
    if (r.status === 404) throw new UsageError(`no payment ${id}`);
    if (r.status !== 200) throw new Error(`GET /v1/public/payments/${id}: ${r.status} ${JSON.stringify(r.body?.error ?? r.body)}`);
    const p = r.body;
    return { publicId: p.public_id, livemode: p.livemode, rail: p.rail, depositAddress: p.deposit_address, amount: p.amount, amountReceived: p.amount_received, status: p.status };
  }
  throw new UsageError(`${JSON.stringify(id)} is neither a payment id (pay_…) nor a public id (pub_…)`);
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function devnetPay(args: string[], o: { dev: DevJson; config: StablerailConfig; out?: (s: string) => void }): Promise<number> {
  const out = o.out ?? ((s: string) => process.stdout.write(s + '\n'));
  const id = args.find((a) => !a.startsWith('--') && args[args.indexOf(a) - 1] !== '--amount' && args[args.indexOf(a) - 1] !== '--follow-s');
  if (!id) throw new UsageError('usage: stablerail devnet pay <pay_…|pub_…> [--amount X] [--from-third-party] [--no-follow] [--follow-s N]');
  // Checked before anything is paid: a bad flag must not cost a transfer.
  const followS = Number(flag(args, '--follow-s') ?? FOLLOW_S_DEFAULT);
  if (!Number.isFinite(followS) || followS <= 0) throw new UsageError('--follow-s must be a number of seconds above 0');
  const apiUrl = (process.env.STABLERAIL_API_URL ?? o.dev.api_url ?? o.dev.base_url ?? '').replace(/\/$/, '');
  if (!apiUrl) throw new UsageError('set STABLERAIL_API_URL (or run `npm start`, which writes it to .stablerail/dev.json)');
  const payerKey = process.env.STABLERAIL_PAYER_KEY ?? o.dev.payer_private_key;
  if (!payerKey) throw new UsageError('no devnet payer: dev.json has no payer_private_key (is this data directory an `npm start` on the devnet?)');
  const t = await resolveTarget(apiUrl, process.env.STABLERAIL_KEY ?? o.dev.secret_key, id);
  if (t.livemode) throw new UsageError(`${id} is a live payment: the devnet payer only pays sandbox payments`);
  const configured = o.config.rails.find((r) => r.id === t.rail);
  if (!configured?.devnet) throw new UsageError(`${id} is on rail ${t.rail}, which is not a devnet rail: pay it from a real wallet`);
  // dev.json names the node npm start runs (its ports may differ from the defaults).
  const rpc = o.dev.rails?.find((r) => r.id === t.rail)?.rpc_url;
  const rail: RailConfig = rpc ? { ...configured, rpc_urls: [rpc] } : configured;

  const amountArg = flag(args, '--amount');
  const owed = parseAmount(t.amount, rail.decimals) - parseAmountOrZero(t.amountReceived, rail.decimals);
  const amountMinor = amountArg !== undefined ? parseAmount(amountArg, rail.decimals) : owed > 0n ? owed : parseAmount(t.amount, rail.decimals);
  const started = Date.now();
  const paid = await payFromDevnetPayer(rail, payerKey, { to: t.depositAddress, amountMinor, thirdParty: args.includes('--from-third-party') });
  out(`paid ${formatAmount(amountMinor, rail.decimals)} ${rail.asset} on ${rail.id}`);
  out(`  tx    ${paid.txHash}`);
  out(`  from  ${paid.from}`);
  out(`  to    ${paid.to}`);
  out(`  page  ${apiUrl}/pay/${t.publicId}`);
  if (args.includes('--no-follow')) return 0;

  // Follow the public view (no key needed) until the payment is final, or for at most
  // --follow-s seconds (a payment can wait in `confirmed` for a reconciliation gate it will not
  // pass on its own); Ctrl-C stops following only.
  const followUntil = Date.now() + followS * 1000;
  let stop = false;
  const onSigint = () => (stop = true);
  process.on('SIGINT', onSigint);
  try {
    let last = '';
    while (!stop) {
      const r = await getJson(`${apiUrl}/v1/public/payments/${t.publicId}`).catch(() => null);
      if (r?.status === 200) {
        const line = `${r.body.status}${r.body.exception ? ` (${r.body.exception.code})` : ''}, received ${r.body.amount_received} ${r.body.asset}`;
        if (line !== last) {
          out(`  ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s  ${line}`);
          last = line;
        }
        if (FOLLOW_UNTIL.includes(r.body.status)) return 0;
      }
      if (Date.now() >= followUntil) {
        out(`  stopped following after ${followS} s, still ${last.split(',')[0] || 'unknown'} (the payment goes on; a payment waiting in confirmed is usually held by the reconciled gate: see README, "Ledger, treasury gates and reconciliation")`);
        return 0;
      }
      await new Promise((res) => setTimeout(res, POLL_MS));
    }
    out('  stopped following (the payment goes on without you)');
    return 130;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function parseAmountOrZero(v: string, decimals: number): bigint {
  return /^0(\.0*)?$/.test(v) ? 0n : parseAmount(v, decimals);
}
