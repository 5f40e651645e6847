// Deposit addresses are derived with OpenSSL's scalar multiplication and an affine addition
// (activities/deposit-address.ts), not ethers' pure-JS path: they must be the very addresses a
// wallet derives from the same xpub, or money is sent where nobody can spend it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { HDNodeWallet } from 'ethers';
import { deriveDepositAddress } from '../../activities/deposit-address.js';
import { tronFromHex20 } from '../../activities/chain/tron-address.js';
import type { RailConfig } from '../../activities/config.js';

const INDEXES_PER_KEY = 60;

const externalChains = new Map<string, { deriveChild(index: number): { address: string } }>();
/** What ethers derives for …/0/index under the account xpub. */
function ethersAddress(xpub: string, kind: 'evm' | 'tron', index: number): string {
  if (!externalChains.has(xpub)) externalChains.set(xpub, HDNodeWallet.fromExtendedKey(xpub).deriveChild(0));
  const evm = externalChains.get(xpub)!.deriveChild(index).address;
  return kind === 'tron' ? tronFromHex20(evm) : evm;
}

describe('deposit address derivation', () => {
  const accounts = [
    ...Array.from({ length: 3 }, () => HDNodeWallet.fromSeed(randomBytes(32)).derivePath("m/44'/60'/0'").neuter().extendedKey),
    HDNodeWallet.fromPhrase('test test test test test test test test test test test junk', undefined, "m/44'/195'/0'").neuter().extendedKey,
  ];
  for (const kind of ['evm', 'tron'] as const) {
    it(`gives ethers' address for ${INDEXES_PER_KEY} indexes (spread over the range) of each of ${accounts.length} account keys, ${kind}`, () => {
      for (const xpub of accounts) {
        const rail = { kind, xpub } as RailConfig;
        for (let i = 0; i < INDEXES_PER_KEY; i++) {
          const index = i < INDEXES_PER_KEY / 2 ? i : Math.floor(Math.random() * 2 ** 31);
          assert.equal(deriveDepositAddress(rail, BigInt(index)), ethersAddress(xpub, kind, index), `${kind} ${xpub} index ${index}`);
        }
      }
    });
  }
  it('refuses a hardened or negative index', () => {
    const rail = { kind: 'evm', xpub: accounts[0] } as RailConfig;
    assert.throws(() => deriveDepositAddress(rail, 2n ** 31n), RangeError);
    assert.throws(() => deriveDepositAddress(rail, -1n), RangeError);
  });
});
