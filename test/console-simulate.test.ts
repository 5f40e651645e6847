// The console's "Simulate payment" control (api/pages/console.js, simulateControl) in headless
// Chromium: shown for a sandbox payment on a devnet rail, it pays through the devnet-only route
// (a real transfer from the devnet payer), and the payment is then detected by the watcher.
import assert from 'node:assert/strict';
import { api, eventually, h, newMerchant } from './harness.js';
import { rpc, watcherCaughtUp } from './chain-helpers.js';
import { SCREENSHOT_DIR, useBrowser } from './browser.js';

describe('console Simulate payment control in headless Chromium', function () {
  this.timeout(60_000);
  const browser = useBrowser();

  it('pays a sandbox devnet payment from the payment view; the watcher then detects the transfer', async () => {
    await watcherCaughtUp();
    const m = await newMerchant({ name: 'Console simulate' });
    const p = (await api('POST', '/v1/payments', { key: m.key, body: { amount: '4.00', rail: 'usdt-erc20', reference: 'console-sim-1' } })).body;
    const page = await browser().newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${h().stack.apiUrl}/console`);
    await page.fill('#token', m.key);
    await page.click('#signin button[type=submit]');
    await page.click('#nav >> text=Payments');
    await page.click(`button:has-text("${p.id}")`);
    await page.waitForSelector(`h2:has-text("Payment ${p.id}")`);
    await page.waitForSelector('#simulate', { state: 'visible', timeout: 10_000 });
    await page.click('#simulate button:has-text("Simulate payment")');
    const ok = await page.waitForSelector('p.ok:has-text("Simulated: sent 4.00 USDT")', { timeout: 20_000 });
    const txHash = /(0x[0-9a-f]{64})/.exec((await ok.textContent())!)![1]!;
    assert.equal((await rpc('eth_getTransactionReceipt', [txHash])).status, '0x1');
    await page.screenshot({ path: `${SCREENSHOT_DIR}/console-simulated.png`, fullPage: true });
    const seen = await eventually(async () => {
      const r = await api('GET', `/v1/payments/${p.id}`, { key: m.key });
      return r.body.status === 'detected' ? r.body : null;
    }, 20_000);
    assert.equal(seen.amount_received, '4.00');
    await page.close();
  });
});
