// Ledger postings of a payment's resolutions and of platform fees (issue #16), written inside
// the activity that records the cause, so none waits for a payout to run:
// - write_off: what the payment left on the merchant's pending and available balances, and
//   money never posted (still only in rail custody), moves to the platform's `write_offs`
//   account, naming the operator and the reason;
// - platform fee: at recognition, available → the platform's `fees` (revenue) account.
// A refund's liability is posted when it is decided, by the refund payout's create step
// (activities/payout.ts, insertRefund).
import type { DbClient } from './db.js';
import type { RailConfig, StablerailConfig } from './config.js';
import { postEntries, type AccountRef, type Posting } from './ledger.js';
import { paymentPostedCredits } from './repositories/ledger.js';
import { feeRuleFor, platformFeeMinor } from '../workflows/rules/platform-fees.js';

interface PaymentRef {
  id: string;
  merchant_id: string;
  environment: 'sandbox' | 'live';
  rail: string;
  asset: string;
}

const acct = (p: PaymentRef, ownerType: AccountRef['ownerType'], ownerId: string, purpose: AccountRef['purpose']): AccountRef =>
  ({ environment: p.environment, ownerType, ownerId, purpose, asset: p.asset });

/** What this payment's own entries left on the merchant's pending and available balances. */
export async function paymentBalances(c: DbClient, paymentId: string): Promise<{ pending: bigint; available: bigint }> {
  return paymentPostedCredits(c, paymentId);
}

/** The write-off of a payment under review: every unit received, from wherever the ledger has it, to `write_offs`. */
export async function postWriteOff(c: DbClient, p: PaymentRef, receivedMinor: bigint, operator: string, reason: string | null): Promise<string[]> {
  if (receivedMinor <= 0n) return [];
  const { pending, available } = await paymentBalances(c, p.id);
  const fromCustody = receivedMinor - pending - available;
  const posting: Posting = {
    cause: `payment:${p.id}/write_off`,
    environment: p.environment,
    gate: 'write_off',
    merchantId: p.merchant_id,
    paymentId: p.id,
    rail: p.rail,
    memo: `payment ${p.id} written off by ${operator}: ${reason ?? 'no reason given'}`,
    lines: [
      ...(pending !== 0n ? [{ account: acct(p, 'merchant', p.merchant_id, 'pending'), amountMinor: pending }] : []),
      ...(available !== 0n ? [{ account: acct(p, 'merchant', p.merchant_id, 'available'), amountMinor: available }] : []),
      ...(fromCustody !== 0n ? [{ account: acct(p, 'rail', p.rail, 'custody'), amountMinor: fromCustody }] : []),
      { account: acct(p, 'platform', 'stablerail', 'write_offs'), amountMinor: -receivedMinor },
    ],
  };
  return (await postEntries(c, [posting])).inserted;
}

/** The platform fee on one recognized transfer, or null when the merchant's schedule has none. */
export function platformFeePosting(config: StablerailConfig, rail: RailConfig, p: PaymentRef, t: { cause: string; txHash: string; logIndex: number; amountMinor: bigint }): Posting | null {
  const fee = platformFeeMinor(t.amountMinor, rail.decimals, feeRuleFor(config.platform_fees ?? [], p.merchant_id, p.rail));
  if (fee === 0n) return null;
  return {
    cause: t.cause,
    environment: p.environment,
    gate: 'platform_fee',
    merchantId: p.merchant_id,
    paymentId: p.id,
    rail: p.rail,
    txHash: t.txHash,
    logIndex: t.logIndex,
    memo: `platform fee on payment ${p.id}`,
    lines: [
      { account: acct(p, 'merchant', p.merchant_id, 'available'), amountMinor: fee },
      { account: acct(p, 'platform', 'stablerail', 'fees'), amountMinor: -fee },
    ],
  };
}
