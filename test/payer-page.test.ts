import assert from 'node:assert/strict';
import { api, h, newMerchant } from './harness.js';
import { SCREENSHOT_DIR, useBrowser } from './browser.js';
import { mine, pay, rpc, watcherCaughtUp } from './chain-helpers.js';
import { freshAddress } from './payout-helpers.js';

describe('payer page in headless Chromium', function () {
  this.timeout(60_000);
  const browser = useBrowser();

  it('shows amount, network, address with copy, an EIP-681 QR code and a countdown on a phone-sized screen, and no merchant data', async () => {
    const m = await newMerchant();
    const p = (await api('POST', '/v1/payments', { key: m.key, body: { amount: '125.50', rail: 'usdt-erc20', reference: 'secret-order-77', metadata: { note: 'internal-note' } } })).body;
    const page = await browser().newPage({ viewport: { width: 390, height: 844 } });
    const res = await page.goto(p.hosted_url);
    // Live status and an address: no cache may keep the page.
    assert.equal(res!.headers()['cache-control'], 'no-store');
    assert.equal(await page.textContent('#amount'), '125.50');
    assert.equal(await page.inputValue('#address'), p.deposit_address);
    assert.match((await page.getAttribute('.qr', 'aria-label'))!, new RegExp(`ethereum:0x[0-9a-fA-F]{40}@31337/transfer\\?address=${p.deposit_address}&uint256=125500000`));
    assert.ok(await page.$('.qr svg'));
    await page.waitForFunction(() => /\d+:\d{2}/.test(document.getElementById('countdown')!.textContent!));
    await page.waitForFunction(() => document.getElementById('status-title')!.textContent === 'Waiting for your payment');
    const html = await page.content();
    for (const hidden of [p.id, m.merchantId, 'secret-order-77', 'internal-note', 'sk_test_']) assert.ok(!html.includes(hidden), `page leaks ${hidden}`);
    // Accessible: every input labelled, the status announced politely.
    assert.equal(await page.getAttribute('#status', 'aria-live'), 'polite');
    assert.ok(await page.$('label[for="address"]'));
    // Keyboard only: Tab reaches the address, then Copy, then leaves the page (the hidden refund
    // form takes no focus); Enter on Copy works without a pointer.
    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName.toLowerCase());
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'address');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'copy');
    await page.screenshot({ path: `${SCREENSHOT_DIR}/payer-awaiting.png`, fullPage: true });
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('copied')!.textContent === 'Address copied', undefined, { timeout: 5_000 });
    await page.keyboard.press('Tab');
    assert.ok(!['refund-address', 'address', 'copy'].includes((await focused()) ?? ''), 'focus leaves the controls; nothing hidden is reachable');
    // Live status without a reload: the merchant cancels, the page says so.
    await api('POST', `/v1/payments/${p.id}/cancel`, { key: m.key });
    await page.waitForFunction(() => document.getElementById('status-title')!.textContent === 'This payment was canceled', undefined, { timeout: 15_000 });
    await page.screenshot({ path: `${SCREENSHOT_DIR}/payer-canceled.png`, fullPage: true });
    await page.close();
  });

  it('turns confirmed without a reload when the payer pays on the devnet', async () => {
    await watcherCaughtUp();
    const m = await newMerchant();
    const p = (await api('POST', '/v1/payments', { key: m.key, body: { amount: '15.00', rail: 'usdt-erc20', reference: 'page-pay-1' } })).body;
    const page = await browser().newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(p.hosted_url);
    await page.waitForFunction(() => document.getElementById('status-title')!.textContent === 'Waiting for your payment');
    await pay(p.deposit_address, 15_000_000n);
    await page.waitForFunction(() => document.getElementById('status-title')!.textContent === 'Payment seen on the network', undefined, { timeout: 15_000 });
    await mine(2);
    await page.waitForFunction(() => document.getElementById('status-title')!.textContent === 'Paid and confirmed', undefined, { timeout: 15_000 });
    assert.equal(await page.textContent('#received'), '15.00');
    await page.screenshot({ path: `${SCREENSHOT_DIR}/payer-confirmed.png`, fullPage: true });
    await page.close();
  });

  it('asks the payer of a payment under review for a refund address: a malformed one is refused with the API message, a valid one is stored checksummed', async () => {
    await watcherCaughtUp();
    const m = await newMerchant();
    const p = (await api('POST', '/v1/payments', { key: m.key, body: { amount: '10.00', rail: 'usdt-erc20', reference: 'page-refund-secret-ref' } })).body;
    const page = await browser().newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(p.hosted_url);
    await page.waitForFunction(() => document.getElementById('status-title')!.textContent === 'Waiting for your payment');
    assert.ok(await page.isHidden('#refund'), 'no refund form while nothing is under review');
    await pay(p.deposit_address, 15_000_000n);
    await mine(3);
    // The form appears by itself when the payment goes to review (overpaid), without a reload.
    await page.waitForSelector('#refund', { state: 'visible', timeout: 20_000 });
    assert.equal(await page.textContent('#status-title'), 'We are reviewing this payment');
    assert.match((await page.textContent('#refund'))!, /an operator reviews the payment and decides/);
    assert.equal(await page.textContent('label[for="refund-address"]'), 'Refund address');
    // Under review nothing invites a second payment: no QR, no address to copy, no countdown.
    for (const gone of ['.qr', '#copy', '#address', '#countdown']) assert.equal(await page.$(gone), null, `${gone} is gone`);
    // The form is the first thing in the keyboard order: its field, then Save.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'refund-address');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Save');

    await page.fill('#refund-address', '0x123');
    await page.click('#refund button[type=submit]');
    await page.waitForSelector('#refund-result.msg-error');
    assert.match((await page.textContent('#refund-result'))!, /^0x123 is not a valid EVM address/);
    assert.equal(await page.getAttribute('#refund-address', 'aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'refund-address', 'focus goes back to the field to fix');
    const stored = await h().stack.pool.query(`SELECT refund_address FROM payments WHERE id = $1`, [p.id]);
    assert.equal(stored.rows[0].refund_address, null, 'a refused address changes nothing');
    await page.screenshot({ path: `${SCREENSHOT_DIR}/payer-refund-invalid.png`, fullPage: true });

    const address = freshAddress();
    await page.fill('#refund-address', address.toLowerCase());
    await page.click('#refund button[type=submit]');
    await page.waitForSelector('#refund-result.msg-ok');
    assert.equal(await page.textContent('#refund-result code'), address, 'the stored, checksummed form is shown');
    assert.match((await page.textContent('#refund-result'))!, /If an operator decides to refund, the money goes to/);
    assert.equal(await page.getAttribute('#refund-address', 'aria-invalid'), null);
    const after = await h().stack.pool.query(`SELECT refund_address FROM payments WHERE id = $1`, [p.id]);
    assert.equal(after.rows[0].refund_address, address);
    const html = await page.content();
    for (const hidden of [p.id, m.merchantId, 'page-refund-secret-ref', 'sk_test_']) assert.ok(!html.includes(hidden), `page leaks ${hidden}`);
    await page.screenshot({ path: `${SCREENSHOT_DIR}/payer-refund-saved.png`, fullPage: true });
    await page.close();
  });

  it('pays through the Simulate payment control: a real devnet transfer, and the page turns final without a reload (no QR, no Copy, no countdown) with the transaction and its explorer link', async () => {
    await watcherCaughtUp();
    // A rail's config may name an explorer: the page links each transaction there.
    const rail = h().config.rails.find((r) => r.id === 'usdt-erc20')!;
    const before = rail.explorer_tx_url;
    rail.explorer_tx_url = 'https://explorer.example/tx/{tx_hash}';
    try {
      const m = await newMerchant();
      const p = (await api('POST', '/v1/payments', { key: m.key, body: { amount: '21.50', rail: 'usdt-erc20', reference: 'page-simulate-1' } })).body;
      const page = await browser().newPage({ viewport: { width: 390, height: 844 } });
      await page.goto(p.hosted_url);
      await page.waitForFunction(() => document.getElementById('status-title')!.textContent === 'Waiting for your payment');
      assert.ok(await page.isVisible('#simulate'), 'a sandbox payment on a devnet rail offers the control');
      assert.ok(await page.$('.qr svg'));
      await page.screenshot({ path: `${SCREENSHOT_DIR}/payer-simulate.png`, fullPage: true });
      await page.click('#simulate button[data-outcome="exact"]');
      await page.waitForSelector('#simulate-result.msg-ok', { timeout: 20_000 });
      const sent = (await page.textContent('#simulate-result'))!;
      const txHash = /(0x[0-9a-f]{64})/.exec(sent)![1]!;
      // The same path a payer's wallet takes: the token's Transfer is on the devnet, to the deposit address.
      const receipt = await rpc('eth_getTransactionReceipt', [txHash]);
      assert.equal(receipt.status, '0x1');
      assert.equal(receipt.logs[0].address.toLowerCase(), rail.token_contract.toLowerCase());
      assert.equal(BigInt(receipt.logs[0].data), 21_500_000n);
      assert.equal(('0x' + receipt.logs[0].topics[2].slice(26)).toLowerCase(), p.deposit_address.toLowerCase());
      await page.waitForFunction(() => document.getElementById('status-title')!.textContent === 'Payment seen on the network', undefined, { timeout: 15_000 });
      await mine(3);
      await page.waitForFunction(() => document.getElementById('status-title')!.textContent === 'Paid and confirmed', undefined, { timeout: 15_000 });
      for (const gone of ['.qr', '#copy', '#address', '#countdown', '#simulate']) assert.equal(await page.$(gone), null, `${gone} is gone once final`);
      assert.equal(await page.textContent('#received'), '21.50');
      assert.match((await page.textContent('#status-detail'))!, /nothing more to send/);
      assert.equal(await page.getAttribute(`#transactions a`, 'href'), `https://explorer.example/tx/${txHash}`);
      assert.equal(await page.textContent('#transactions a'), txHash);
      await page.screenshot({ path: `${SCREENSHOT_DIR}/payer-simulated-final.png`, fullPage: true });
      // A reload renders the final page from the server alike.
      await page.reload();
      assert.equal(await page.$('.qr'), null);
      assert.equal(await page.$('#copy'), null);
      assert.equal(await page.textContent('#transactions a'), txHash);
      await page.close();
    } finally {
      rail.explorer_tx_url = before;
    }
  });

  it('an expired payment turns final without a reload: no QR, no Copy, no countdown, no Simulate, and says what to do if money was sent anyway', async () => {
    const m = await newMerchant();
    const p = (await api('POST', '/v1/payments', { key: m.key, body: { amount: '2.00', rail: 'usdt-erc20', reference: 'page-expire-1', expires_in_s: 10 } })).body;
    const page = await browser().newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(p.hosted_url);
    await page.waitForFunction(() => document.getElementById('status-title')!.textContent === 'Waiting for your payment');
    assert.ok(await page.$('#copy'));
    await page.waitForFunction(() => document.getElementById('status-title')!.textContent === 'This payment request expired', undefined, { timeout: 40_000 });
    for (const gone of ['.qr', '#copy', '#address', '#countdown', '#simulate']) assert.equal(await page.$(gone), null, `${gone} is gone once expired`);
    assert.match((await page.textContent('#status-detail'))!, /If you sent money anyway, keep your transaction id and contact the merchant/);
    await page.screenshot({ path: `${SCREENSHOT_DIR}/payer-expired.png`, fullPage: true });
    await page.close();
  });

  it('answers an unknown link with a plain not-found page', async () => {
    const page = await browser().newPage();
    const res = await page.goto(`${h().stack.apiUrl}/pay/pub_AAAAAAAAAAAAAAAAAAAAAAAA`);
    assert.equal(res!.status(), 404);
    assert.match((await page.textContent('h1'))!, /Payment not found/);
    await page.close();
  });
});
