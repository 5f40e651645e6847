// Platform fees (issue #16): a per-merchant, per-rail schedule of a percentage and/or a fixed
// amount per recognized transfer. Pure: the treasury activity posts what this computes.
import { parseAmount } from './money.js';

export interface FeeRule {
  merchant_id?: string;
  rail?: string;
  percent?: string;
  fixed?: string;
}

/** The first rule naming this merchant and rail, or leaving either open. */
export function feeRuleFor(rules: readonly FeeRule[], merchantId: string, rail: string): FeeRule | null {
  return rules.find((r) => (r.merchant_id === undefined || r.merchant_id === merchantId) && (r.rail === undefined || r.rail === rail)) ?? null;
}

const isZero = (v: string) => /^0+(\.0+)?$/.test(v);

/** Millionths of a percent, from "0.5" (exact: the config allows six decimals). */
function microPercent(percent: string): bigint {
  const [whole, frac = ''] = percent.split('.');
  return BigInt(whole!) * 1_000_000n + BigInt(frac.padEnd(6, '0'));
}

/**
 * The fee on one transfer, in minor units: the percentage rounded down (never more than the
 * schedule says) plus the fixed part, and never more than the transfer itself.
 */
export function platformFeeMinor(amountMinor: bigint, decimals: number, rule: FeeRule | null): bigint {
  if (!rule || amountMinor <= 0n) return 0n;
  const pct = rule.percent ? (amountMinor * microPercent(rule.percent)) / 100_000_000n : 0n;
  const fixed = rule.fixed && !isZero(rule.fixed) ? parseAmount(rule.fixed, decimals) : 0n;
  const fee = pct + fixed;
  return fee > amountMinor ? amountMinor : fee;
}
