// The console's side of the endpoint lifecycle, in headless Chromium: an operator sees an
// endpoint disabled after its receiver answered 410; the merchant re-enables it from the
// console, which resends what it missed (recover over the window since it was disabled).
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { ADMIN_TOKEN, eventually, h, newMerchant } from './harness.js';
import { launchBrowser } from './browser.js';
import { startReceiver, type Receiver } from './webhook-receiver.js';
import { StablerailClient, verifyWebhook } from '../sdk/index.js';

async function signIn(page: Page, token: string, first: string) {
  await page.goto(`${h().stack.apiUrl}/console`);
  await page.fill('#token', token);
  await page.click('#signin button[type=submit]');
  await page.waitForSelector(`h2:has-text("${first}")`);
}

describe('webhook endpoints in the console (headless Chromium)', function () {
  this.timeout(90_000);
  let browser: Browser;
  let rcv: Receiver | null = null;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await rcv?.close();
  });

  it('operators see the disabled endpoint and why; the merchant enables it again from the console and the missed event is resent', async () => {
    let gone = true;
    rcv = await startReceiver(() => (gone ? { status: 410 } : { status: 200 }));
    const m = await newMerchant();
    const c = new StablerailClient({ apiKey: m.key, baseUrl: h().stack.apiUrl });
    const ep = await c.createWebhookEndpoint({ url: rcv.url });
    await c.createPayment({ amount: '6.00', rail: 'usdt-erc20', reference: 'wh-console' });
    await eventually(async () => (await c.getWebhookEndpoint(ep.id)).status === 'disabled', 20_000);

    const ops = await browser.newPage();
    await signIn(ops, ADMIN_TOKEN, 'Merchants and access requests');
    await ops.click('#nav >> text=Webhooks');
    await ops.waitForSelector('h2:has-text("Webhook endpoints")');
    const banner = await ops.textContent('[role=status]');
    assert.match(banner ?? '', new RegExp(`${ep.id} \\(gone\\)`));
    await ops.close();

    gone = false;
    const page = await browser.newPage();
    await signIn(page, m.key, 'Payments');
    await page.click('#nav >> text=Webhooks');
    await page.waitForSelector('h2:has-text("Webhook endpoints")');
    await page.click('button:has-text("Enable and resend missed")');
    await page.waitForSelector('text=Enabled; 1 missed event(s) resent');
    assert.equal(await page.isDisabled('button:has-text("Enable and resend missed")'), true, 'one recovery per click');
    await page.close();
    assert.equal((await c.getWebhookEndpoint(ep.id)).status, 'enabled');
    const resent = await eventually(async () => rcv!.received.length >= 2 ? rcv!.received.at(-1) : null, 20_000);
    assert.equal((verifyWebhook(resent.raw, resent.headers, ep.secret!) as { type: string }).type, 'payment.created');
  });
});
