import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { api, h, newMerchant } from './harness.js';
import { launchBrowser, SCREENSHOT_DIR } from './browser.js';
import { mine, pay, watcherCaughtUp } from './chain-helpers.js';

describe('payer page in headless Chromium', function () {
  this.timeout(60_000);
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  it('shows amount, network, address with copy, an EIP-681 QR code and a countdown on a phone-sized screen, and no merchant data', async () => {
    const m = await newMerchant();
    const p = (await api('POST', '/v1/payments', { key: m.key, body: { amount: '125.50', rail: 'usdt-erc20', reference: 'secret-order-77', metadata: { note: 'internal-note' } } })).body;
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(p.hosted_url);
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
    await page.keyboard.press('Tab');
    await page.screenshot({ path: `${SCREENSHOT_DIR}/payer-awaiting.png`, fullPage: true });
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
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(p.hosted_url);
    await page.waitForFunction(() => document.getElementById('status-title')!.textContent === 'Waiting for your payment');
    await pay(p.deposit_address, 15_000_000n);
    await page.waitForFunction(() => document.getElementById('status-title')!.textContent === 'Payment seen on the network', undefined, { timeout: 15_000 });
    await mine(2);
    await page.waitForFunction(() => document.getElementById('status-title')!.textContent === 'Payment confirmed', undefined, { timeout: 15_000 });
    assert.equal(await page.textContent('#received'), '15.00');
    await page.screenshot({ path: `${SCREENSHOT_DIR}/payer-confirmed.png`, fullPage: true });
    await page.close();
  });

  it('answers an unknown link with a plain not-found page', async () => {
    const page = await browser.newPage();
    const res = await page.goto(`${h().stack.apiUrl}/pay/pub_AAAAAAAAAAAAAAAAAAAAAAAA`);
    assert.equal(res!.status(), 404);
    assert.match((await page.textContent('h1'))!, /Payment not found/);
    await page.close();
  });
});
