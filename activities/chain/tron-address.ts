// TRON's address codec, the one in the project: base58check (T…) to and from the 20 bytes an
// EVM address also uses, by tronweb. The 0x41 prefix is TRON's mainnet address byte.
import { TronWeb } from 'tronweb';
import { ChainDataError } from './rail-adapter.js';

/** base58check (T…) → 20-byte hex, lowercase, no prefix. Throws on a malformed address. */
export function tronToHex20(base58: string): string {
  if (!TronWeb.isAddress(base58) || !base58.startsWith('T')) throw new ChainDataError(`not a TRON base58check address: ${base58}`);
  const hex = TronWeb.address.toHex(base58).toLowerCase();
  if (!/^41[0-9a-f]{40}$/.test(hex)) throw new ChainDataError(`TRON address ${base58} does not carry the 0x41 prefix`);
  return hex.slice(2);
}

/** 20-byte hex (with or without 0x or 41) → base58check (T…). */
export function tronFromHex20(hex: string): string {
  const h = hex.replace(/^0x/i, '').toLowerCase();
  const body = h.length === 42 && h.startsWith('41') ? h.slice(2) : h;
  if (!/^[0-9a-f]{40}$/.test(body)) throw new ChainDataError(`not a 20-byte address: ${hex}`);
  return TronWeb.address.fromHex('41' + body);
}
