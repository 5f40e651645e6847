// The first minute's pure rules: the devnet block time setting, what a simulated payer sends,
// explorer links, and the config's refusal of a devnet rail in live.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { devnetBlockTimeS, DEVNET_BLOCK_TIME_S_DEFAULT, devnetRails } from '../../scripts/devnet-rails.js';
import { simulatedAmountMinor } from '../../activities/chain/devnet-payer.js';
import { ConfigError, explorerTxUrl, parseConfig, RECONCILIATION_GRACE_S_DEFAULT } from '../../activities/config.js';

const MNEMONIC = 'test test test test test test test test test test test junk';
const rails = () => devnetRails({ mnemonic: MNEMONIC, evmRpcUrl: 'http://127.0.0.1:8545', tronRpcUrl: 'http://127.0.0.1:8546' });

describe('devnet first-minute rules', () => {
  it('STABLERAIL_DEVNET_BLOCK_TIME: 2 s by default, whole seconds, 0 or off for blocks on demand only; anything else refused', () => {
    assert.equal(devnetBlockTimeS(undefined), DEVNET_BLOCK_TIME_S_DEFAULT);
    assert.equal(DEVNET_BLOCK_TIME_S_DEFAULT, 2);
    assert.equal(devnetBlockTimeS(''), 2);
    assert.equal(devnetBlockTimeS('5'), 5);
    assert.equal(devnetBlockTimeS('0'), 0);
    assert.equal(devnetBlockTimeS('off'), 0);
    assert.equal(devnetBlockTimeS(' OFF '), 0);
    for (const bad of ['1.5', '-1', 'fast', '2s', '999999']) assert.throws(() => devnetBlockTimeS(bad), /STABLERAIL_DEVNET_BLOCK_TIME/, bad);
  });

  it('a simulated payer sends what is owed, a tenth less (underpay) or a tenth more (overpay), never zero', () => {
    assert.equal(simulatedAmountMinor('exact', 10_000_000n, 0n), 10_000_000n);
    assert.equal(simulatedAmountMinor('underpay', 10_000_000n, 0n), 9_000_000n);
    assert.equal(simulatedAmountMinor('overpay', 10_000_000n, 0n), 11_000_000n);
    assert.equal(simulatedAmountMinor('exact', 10_000_000n, 4_000_000n), 6_000_000n, 'only the rest of a part-paid payment');
    assert.equal(simulatedAmountMinor('exact', 10_000_000n, 12_000_000n), 10_000_000n, 'an overpaid one: the amount again');
    fc.assert(fc.property(fc.bigInt({ min: 1n, max: 10n ** 30n }), fc.bigInt({ min: 0n, max: 10n ** 30n }), (amount, received) => {
      const owed = amount - received > 0n ? amount - received : amount;
      const exact = simulatedAmountMinor('exact', amount, received);
      const under = simulatedAmountMinor('underpay', amount, received);
      const over = simulatedAmountMinor('overpay', amount, received);
      assert.equal(exact, owed);
      assert.ok(over > owed);
      assert.ok(under >= 1n && (owed === 1n || under < owed));
    }));
  });

  it('explorer links fill {tx_hash}, TRON ids without 0x, and none without a template', () => {
    const [evm, tron] = rails();
    assert.equal(explorerTxUrl(evm!, '0xabc'), null);
    assert.equal(explorerTxUrl({ ...evm!, explorer_tx_url: 'https://etherscan.io/tx/{tx_hash}' }, '0xabc'), 'https://etherscan.io/tx/0xabc');
    assert.equal(explorerTxUrl({ ...tron!, explorer_tx_url: 'https://tronscan.org/#/transaction/{tx_hash}' }, '0xdef'), 'https://tronscan.org/#/transaction/def');
  });

  it('config: devnet rails are sandbox only, an explorer template must hold {tx_hash}, reconciliation grace defaults to 30 s', () => {
    const base = { base_url: 'http://x' };
    const ok = parseConfig({ rails: rails() }, base);
    assert.equal(ok.reconciliation_grace_s, RECONCILIATION_GRACE_S_DEFAULT);
    assert.equal(ok.reconciliation_grace_s, 30);
    assert.ok(ok.rails.every((r) => r.devnet === true));
    assert.throws(() => parseConfig({ rails: rails().map((r) => ({ ...r, environments: ['sandbox', 'live'] })) }, base), (e: unknown) => e instanceof ConfigError && /devnet rail is sandbox only/.test((e as Error).message));
    assert.throws(() => parseConfig({ rails: rails().map((r) => ({ ...r, explorer_tx_url: 'https://etherscan.io/tx/' })) }, base), ConfigError);
    assert.equal(parseConfig({ rails: rails(), reconciliation_grace_s: 2 }, base).reconciliation_grace_s, 2);
  });
});
