// Commerce truth: the merchant's orders. Upserted by reference, so posting or importing the
// same order again updates it in place and a re-run import converges.
import type { Pool } from './db.js';
import { decimalsOfAsset, type StablerailConfig } from './config.js';
import { upsertOrderBatch, type OrderRow } from './repositories/orders.js';
import { formatAmount, MoneyError, parseAmount } from '../workflows/rules/money.js';
import { DomainError } from './merchant.js';
import { parse } from 'csv-parse/sync';

export const ORDER_STATUSES = ['open', 'fulfilled', 'canceled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
export const IMPORT_BATCH_ROWS = 1_000;

export interface OrderInput {
  reference: string;
  amount: string;
  asset: string;
  status?: OrderStatus;
}

/** An order's asset must be one a configured rail carries: a typed 400 otherwise. */
export function assetDecimals(config: StablerailConfig, asset: string): number {
  if (!config.rails.some((r) => r.asset === asset)) throw new DomainError('asset_unknown', `No configured rail carries ${asset}`, 'asset');
  return decimalsOfAsset(config, asset);
}

function toRow(config: StablerailConfig, o: OrderInput) {
  const decimals = assetDecimals(config, o.asset);
  let amountMinor: bigint;
  try {
    amountMinor = parseAmount(o.amount, decimals);
  } catch (e) {
    if (e instanceof MoneyError) throw new DomainError(e.code, e.message, 'amount');
    throw e;
  }
  const status = o.status ?? 'open';
  if (!ORDER_STATUSES.includes(status)) throw new DomainError('parameter_invalid', `status must be one of ${ORDER_STATUSES.join(', ')}`, 'status');
  if (!o.reference || o.reference.length > 200) throw new DomainError('parameter_invalid', 'reference must be 1 to 200 characters', 'reference');
  return { reference: o.reference, amountMinor, asset: o.asset, status };
}

/** Upsert a batch in one statement. Every row is validated first: one bad row writes nothing. */
export async function upsertOrders(pool: Pool, config: StablerailConfig, merchantId: string, environment: 'sandbox' | 'live', orders: OrderInput[]) {
  const rows = orders.map((o) => toRow(config, o));
  const out = await upsertOrderBatch(pool, { merchantId, environment }, rows);
  return out.map((r) => orderObject(config, r));
}

export function orderObject(config: StablerailConfig, r: OrderRow) {
  return {
    id: r.id,
    object: 'order',
    reference: r.reference,
    amount: formatAmount(BigInt(r.amount_minor), assetDecimals(config, r.asset)),
    asset: r.asset,
    status: r.status,
    created_at: new Date(r.created_at).toISOString(),
    updated_at: new Date(r.updated_at).toISOString(),
  };
}

/** Parse the import CSV (csv-parse): a header naming reference, amount, asset and optionally status. */
export function parseOrdersCsv(text: string): { orders: OrderInput[]; errors: Array<{ line: number; message: string }> } {
  const errors: Array<{ line: number; message: string }> = [];
  let records: Array<Record<string, string>>;
  try {
    records = parse(text, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), bom: true, skip_empty_lines: true, trim: true, relax_column_count: false });
  } catch (e) {
    return { orders: [], errors: [{ line: (e as { lines?: number }).lines ?? 0, message: (e as Error).message }] };
  }
  const orders: OrderInput[] = [];
  const header = records[0] ? Object.keys(records[0]) : [];
  for (const required of ['reference', 'amount', 'asset']) if (records.length && !header.includes(required)) errors.push({ line: 1, message: `header lacks ${required}` });
  if (errors.length) return { orders, errors };
  records.forEach((r, i) => {
    const status = r.status || undefined;
    if (status && !ORDER_STATUSES.includes(status as OrderStatus)) {
      errors.push({ line: i + 2, message: `status "${status}" is not one of ${ORDER_STATUSES.join(', ')}` });
      return;
    }
    orders.push({ reference: r.reference ?? '', amount: r.amount ?? '', asset: r.asset ?? '', status: status as OrderStatus | undefined });
  });
  return { orders, errors };
}
