// The one money module: amounts are decimal strings at the edge and in Temporal
// payloads, bigint minor units everywhere in code. Never a float.

export class MoneyError extends Error {
  constructor(
    readonly code: 'amount_invalid' | 'amount_too_precise' | 'amount_not_positive' | 'amount_too_large',
    message: string,
  ) {
    super(message);
    this.name = 'MoneyError';
  }
}

// 10^30 minor units is far beyond any real payment yet keeps every amount inside numeric(78,0).
export const AMOUNT_MINOR_MAX = 10n ** 30n;

const DECIMAL_RE = /^(0|[1-9][0-9]{0,39})(?:\.([0-9]{1,40}))?$/;

/** Parse a positive decimal string ("125.50") into minor units of an asset with `decimals` places. */
/**
 * Why a string is not an amount, as one stable code: a sign is `amount_not_positive`, a
 * well-formed number too long for any asset is `amount_too_large`, anything else
 * `amount_invalid`. The API's schema check answers with the same codes (api/app.ts).
 */
export function amountFormatError(value: string): MoneyError {
  if (/^\s*-/.test(value)) return new MoneyError('amount_not_positive', 'amount must be greater than zero');
  if (/^[1-9][0-9]{40,}(\.[0-9]+)?$/.test(value) || /^[0-9]{49,}$/.test(value)) return new MoneyError('amount_too_large', 'amount is too large');
  return new MoneyError('amount_invalid', `amount "${value.slice(0, 60)}" is not a plain decimal string such as "125.50" (digits and an optional decimal point: no sign, exponent, spaces or leading zeros)`);
}

export function parseAmount(value: unknown, decimals: number): bigint {
  if (typeof value !== 'string') throw new MoneyError('amount_invalid', 'amount must be a decimal string such as "125.50"');
  const m = DECIMAL_RE.exec(value);
  if (!m) throw amountFormatError(value);
  const whole = m[1]!;
  const frac = m[2] ?? '';
  if (frac.length > decimals) {
    throw new MoneyError('amount_too_precise', `amount "${value}" has more than ${decimals} decimal places`);
  }
  const minor = BigInt(whole) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, '0') || '0');
  if (minor <= 0n) throw new MoneyError('amount_not_positive', 'amount must be greater than zero');
  if (minor > AMOUNT_MINOR_MAX) throw new MoneyError('amount_too_large', 'amount is too large');
  return minor;
}

/** Format minor units as the canonical decimal string: no trailing zeros beyond two places. */
export function formatAmount(minor: bigint, decimals: number): string {
  const negative = minor < 0n;
  const abs = negative ? -minor : minor;
  const base = 10n ** BigInt(decimals);
  const whole = abs / base;
  let frac = decimals > 0 ? (abs % base).toString().padStart(decimals, '0') : '';
  // Keep at least two places so "125.50" round-trips the way merchants write it.
  frac = frac.replace(/0+$/, '');
  if (decimals >= 2 && frac.length < 2) frac = frac.padEnd(2, '0');
  return `${negative ? '-' : ''}${whole}${frac ? '.' + frac : ''}`;
}

/** Minor units travel through Temporal payloads and SQL as base-10 strings. */
export const minorToString = (minor: bigint): string => minor.toString(10);
export function minorFromString(s: string): bigint {
  if (!/^-?[0-9]+$/.test(s)) throw new MoneyError('amount_invalid', `not an integer minor amount: ${s}`);
  return BigInt(s);
}
