// Deposit addresses must be the very addresses a wallet derives from the same xpub, or money is
// sent where nobody can spend it: checked against the well-known accounts of the standard
// development mnemonic (what every EVM wallet shows for m/44'/60'/0'/0/i).
import assert from 'node:assert/strict';
import { HDNodeWallet } from 'ethers';
import { deriveDepositAddress } from '../../activities/deposit-address.js';
import { tronFromHex20 } from '../../activities/chain/tron-address.js';
import type { RailConfig } from '../../activities/config.js';

const MNEMONIC = 'test test test test test test test test test test test junk';
/** m/44'/60'/0'/0/0..2 of that mnemonic, as wallets and Hardhat/anvil list them. */
const KNOWN = ['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'];

describe('deposit address derivation', () => {
  const xpub = HDNodeWallet.fromPhrase(MNEMONIC, undefined, "m/44'/60'/0'").neuter().extendedKey;
  it('derives from the watch-only account xpub the addresses a wallet shows for …/0/i', () => {
    KNOWN.forEach((address, i) => assert.equal(deriveDepositAddress({ kind: 'evm', xpub } as RailConfig, BigInt(i)), address));
  });
  it('a TRON rail gets the same 20 bytes in base58check', () => {
    KNOWN.forEach((address, i) => assert.equal(deriveDepositAddress({ kind: 'tron', xpub } as RailConfig, BigInt(i)), tronFromHex20(address)));
  });
  it('refuses a hardened or negative index', () => {
    const rail = { kind: 'evm', xpub } as RailConfig;
    assert.throws(() => deriveDepositAddress(rail, 2n ** 31n), RangeError);
    assert.throws(() => deriveDepositAddress(rail, -1n), RangeError);
  });
});
