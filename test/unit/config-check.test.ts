// `stablerail config check`: the example configs for real networks refuse to pass while they hold
// placeholders, and once filled in print the effective config and the deposit addresses a wallet
// derives from the same seed (derived here independently, from the mnemonic, as a wallet does).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HDNodeWallet, Mnemonic } from 'ethers';
import { ConfigError } from '../../activities/config.js';
import { tronFromHex20 } from '../../activities/chain/tron-address.js';
import { checkConfigText, ADDRESSES_SHOWN } from '../../scripts/config-check.js';

const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const xpubOf = (path: string) => HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(MNEMONIC), path).neuter().extendedKey;
/** What a wallet shows as the i-th receive address of the first account. */
const walletAddress = (coin: 60 | 195, i: number) => {
  const evm = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(MNEMONIC), `m/44'/${coin}'/0'/0/${i}`).address;
  return coin === 195 ? tronFromHex20(evm) : evm;
};

/** Fill an example's placeholders the way an operator would. */
function fillIn(text: string): string {
  return text
    .replace(/REPLACE-WITH-ACCOUNT-XPUB-m\/44'\/60'\/0'/g, xpubOf("m/44'/60'/0'"))
    .replace(/REPLACE-WITH-ACCOUNT-XPUB-m\/44'\/195'\/0'/g, xpubOf("m/44'/195'/0'"))
    .replace(/"REPLACE-WITH-SEPOLIA-TOKEN-CONTRACT"/, '"0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238"')
    .replace(/REPLACE-WITH-NILE-TOKEN-CONTRACT/, 'TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf')
    .replace(/https:\/\/REPLACE-WITH-([A-Z0-9-]+)/g, (_m, what: string) => `https://${what.toLowerCase()}.example`);
}

const examples = ['config-examples/mainnet.yaml', 'config-examples/testnet.yaml'];

describe('stablerail config check', () => {
  for (const file of examples) {
    it(`${file} as shipped is refused, naming every placeholder left`, () => {
      assert.throws(() => checkConfigText(readFileSync(file, 'utf8'), file), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        for (const p of ['/base_url', '/rails/0/rpc_urls/0', '/rails/0/xpub', '/rails/1/xpub', '/payouts/signer/url']) assert.match(err.message, new RegExp(`${p}(,|$)`));
        return true;
      });
    });

    it(`${file} filled in passes, and its addresses are the ones a wallet derives from the same seed`, () => {
      const r = checkConfigText(fillIn(readFileSync(file, 'utf8')), file);
      assert.equal(r.config.rails.length, 2);
      for (const rail of r.config.rails) {
        assert.equal(rail.decimals, 6);
        assert.ok(rail.finality_confirmations >= rail.confirmations_required);
        const mine = r.addresses.filter((a) => a.rail === rail.id);
        assert.equal(mine.length, ADDRESSES_SHOWN);
        mine.forEach((a, i) => assert.equal(a.address, walletAddress(rail.kind === 'tron' ? 195 : 60, i), `${rail.id} #${i}`));
      }
    });
  }

  it('the mainnet example names Tether\'s USDT contracts on Ethereum and TRON', () => {
    const r = checkConfigText(fillIn(readFileSync('config-examples/mainnet.yaml', 'utf8')), 'mainnet.yaml');
    assert.deepEqual(r.config.rails.map((x) => [x.id, x.token_contract, x.kind, x.environments]), [
      ['usdt-erc20', '0xdAC17F958D2ee523a2206206994597C13D831ec7', 'evm', ['live']],
      ['usdt-trc20', 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t', 'tron', ['live']],
    ]);
  });

  it('the command: exit 0 with the effective config and addresses; exit 1 with the reason (no stack trace) otherwise', function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), 'config-check-'));
    const good = join(dir, 'mainnet.yaml');
    writeFileSync(good, fillIn(readFileSync('config-examples/mainnet.yaml', 'utf8')));
    const ok = spawnSync(process.execPath, ['scripts/stablerail.mjs', 'config', 'check', good], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /"valid": true/);
    assert.match(ok.stdout, /"reconciliation_interval_s": 60/);
    assert.ok(ok.stdout.includes(walletAddress(60, 0)) && ok.stdout.includes(walletAddress(195, 4)));
    const bad = spawnSync(process.execPath, ['scripts/stablerail.mjs', 'config', 'check', 'config-examples/testnet.yaml'], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /placeholders to fill in at \/base_url/);
    assert.doesNotMatch(bad.stderr, /^\s+at /m);
  });
});
