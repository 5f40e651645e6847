// Address checks per rail kind, for input the API takes (payout destinations, refund
// addresses): a malformed address is refused before anything is written.
import { getAddress, isAddress } from 'ethers';
import { TronWeb } from 'tronweb';
import type { RailConfig } from '../config.js';

export class InvalidAddressError extends Error {
  override name = 'InvalidAddressError';
}

/** The canonical form (EVM checksum, TRON base58check) or InvalidAddressError. */
export function normalizeRailAddress(rail: Pick<RailConfig, 'kind'>, address: string): string {
  if (rail.kind === 'evm') {
    // A mixed-case address carries a checksum: a typo in it must fail, not be lowercased away.
    if (!isAddress(address)) throw new InvalidAddressError(`${address} is not a valid EVM address (20 bytes hex, checksummed if mixed case)`);
    const a = getAddress(address);
    if (a === '0x0000000000000000000000000000000000000000') throw new InvalidAddressError('the zero address burns what is sent to it');
    return a;
  }
  if (!/^T[1-9A-HJ-NP-Za-km-z]{33}$/.test(address) || !TronWeb.isAddress(address)) throw new InvalidAddressError(`${address} is not a valid TRON address (base58check, T…)`);
  return address;
}
