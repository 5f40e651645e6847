import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { ADMIN_TOKEN, api, eventually, h, newMerchant } from './harness.js';
import { mine, pay, watcherCaughtUp } from './chain-helpers.js';
import { SCREENSHOT_DIR, useBrowser } from './browser.js';
import { recordChainException } from '../activities/chain-exceptions.js';
import { randomBytes } from 'node:crypto';

async function signIn(page: Page, token: string) {
  await page.goto(`${h().stack.apiUrl}/console`);
  await page.fill('#token', token);
  await page.click('#signin button[type=submit]');
}

describe('console in headless Chromium', function () {
  this.timeout(60_000);
  const browser = useBrowser();

  it('lets an operator browse merchants, payments with their timeline, ledger and the evidence status', async () => {
    const m = await newMerchant({ name: 'Console Co' });
    const p = (await api('POST', '/v1/payments', { key: m.key, body: { amount: '9.99', rail: 'usdt-erc20', reference: 'console-1' } })).body;
    const page = await browser().newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, ADMIN_TOKEN);
    await page.waitForSelector('text=Merchants and access requests');
    assert.ok(await page.$(`text=${m.merchantId}`));
    await page.click('#nav >> text=Payments');
    await page.waitForSelector('h2:has-text("Payments")');
    const alert = await page.$('[role=alert]');
    assert.equal(alert ? await alert.textContent() : null, null);
    await page.click(`button:has-text("${p.id}")`);
    await page.waitForSelector(`h2:has-text("Payment ${p.id}")`);
    assert.ok(await page.$('text=api_create'), 'the creation transition is on the timeline');
    await page.screenshot({ path: `${SCREENSHOT_DIR}/console-payment.png`, fullPage: true });
    await page.click('#nav >> text=Evidence');
    await page.waitForSelector('text=Evidence chain intact');
    await page.click('#nav >> text=Webhooks');
    await page.waitForSelector('h2:has-text("Webhook endpoints")');
    await page.click('#nav >> text=Reconciliation');
    await page.waitForSelector('h2:has-text("Reconciliation")');
    await page.click('text=Run reconciliation now');
    // The finished run, not the "Open breaks" heading below it.
    await page.waitForSelector('#recon-run >> text=matched payments', { timeout: 30_000 });
    const reconAlert = await page.$('#recon-run [role=alert]');
    assert.equal(reconAlert && (await reconAlert.textContent()), null);
    await page.click('#nav >> text=Ledger');
    await page.waitForSelector('h2:has-text("Ledger balances")');
    await page.close();
  });

  it('lets an operator resolve an exception from the queue, sent to the payment workflow', async () => {
    await watcherCaughtUp();
    const m = await newMerchant();
    const p = (await api('POST', '/v1/payments', { key: m.key, body: { amount: '1.00', rail: 'usdt-erc20', reference: 'over-1' } })).body;
    await pay(p.deposit_address, 1_600_000n);
    await mine(2);
    await eventually(async () => (await api('GET', `/v1/payments/${p.id}`, { key: m.key })).body.status === 'requires_review');
    const page = await browser().newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, ADMIN_TOKEN);
    await page.waitForSelector('text=Merchants and access requests');
    await page.click('#nav >> text=Exceptions');
    await page.waitForSelector(`button:has-text("${p.id}")`);
    await page.selectOption(`#decision-${p.id}`, 'accept');
    await page.fill(`#why-${p.id}`, 'customer tipped; keep the overpayment');
    await page.screenshot({ path: `${SCREENSHOT_DIR}/console-exceptions.png`, fullPage: true });
    await page.click(`form[aria-label="Resolve exception"]:has(#why-${p.id}) button[type=submit]`);
    await page.waitForSelector(`h2:has-text("Payment ${p.id}")`);
    await page.waitForSelector('text=operator_accept');
    const after = (await api('GET', `/v1/payments/${p.id}`, { key: m.key })).body;
    assert.equal(after.status, 'confirmed');
    const { rows } = await h().stack.pool.query(`SELECT actor, payload FROM evidence WHERE subject = $1 AND payload->>'cause' = 'operator_accept'`, [p.id]);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].payload.reason, 'customer tipped; keep the overpayment');
    await page.close();
  });

  it('lists open chain exceptions beside the payment exceptions and closes one with a resolution and a reason', async () => {
    // The watcher's own recording path (tested in chain-exceptions.test.ts), called directly so the
    // console test does not wait out a payment's monitoring window.
    const txHash = '0x' + randomBytes(32).toString('hex');
    const c = await h().stack.pool.connect();
    try {
      await c.query('BEGIN');
      await recordChainException(c, { rail: 'usdt-erc20', txHash, logIndex: 0, to: '0x' + randomBytes(20).toString('hex'), amountMinor: 4_200_000n, code: 'unmatched_transfer', paymentId: null, actor: 'watcher:usdt-erc20', detail: { reason: 'address_not_assigned' } });
      await c.query('COMMIT');
    } finally { c.release(); }
    const { rows: [ex] } = await h().stack.pool.query(`SELECT id FROM chain_exceptions WHERE tx_hash = $1`, [txHash]);
    const page = await browser().newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, ADMIN_TOKEN);
    await page.waitForSelector('text=Merchants and access requests');
    await page.click('#nav >> text=Exceptions');
    await page.waitForSelector(`text=${ex.id}`);
    const row = page.locator('tr', { has: page.locator(`code:text-is("${ex.id}")`) });
    assert.match(await row.innerText(), /unmatched_transfer \(address_not_assigned\)[\s\S]*usdt-erc20[\s\S]*4\.2/);
    await page.selectOption(`#cres-${ex.id}`, 'returned');
    await page.fill(`#crr-${ex.id}`, 'sent back to the payer by hand');
    await page.click(`form[aria-label="Resolve chain exception"]:has(#crr-${ex.id}) button[type=submit]`);
    await page.waitForSelector(`text=Chain exception ${ex.id} resolved.`);
    assert.equal(await page.$(`#cres-${ex.id}`), null, 'gone from the open list');
    const { rows } = await h().stack.pool.query(`SELECT status, resolution, reason, resolved_by FROM chain_exceptions WHERE id = $1`, [ex.id]);
    assert.deepEqual([rows[0].status, rows[0].resolution, rows[0].reason], ['resolved', 'returned', 'sent back to the payer by hand']);
    assert.match(rows[0].resolved_by, /^op_/);
    const ev = await h().stack.pool.query(`SELECT actor FROM evidence WHERE kind = 'chain_exception.resolved' AND payload->>'exception_id' = $1`, [ex.id]);
    assert.equal(ev.rowCount, 1);
    await page.close();
  });

  it('shows a merchant only its own payments and refuses another merchant\'s', async () => {
    const a = await newMerchant();
    const b = await newMerchant();
    const mine = (await api('POST', '/v1/payments', { key: a.key, body: { amount: '1.00', rail: 'usdt-erc20', reference: 'mine' } })).body;
    const theirs = (await api('POST', '/v1/payments', { key: b.key, body: { amount: '2.00', rail: 'usdt-erc20', reference: 'theirs' } })).body;
    const page = await browser().newPage();
    await signIn(page, a.key);
    await page.waitForSelector(`button:has-text("${mine.id}")`);
    assert.equal(await page.$(`text=${theirs.id}`), null);
    // Opening the other merchant's payment directly is answered as if it did not exist.
    const err = await page.evaluate(async (id) => {
      try {
        await (window as unknown as { stablerailConsole: { paymentDetail(id: string): Promise<void> } }).stablerailConsole.paymentDetail(id);
        return 'opened';
      } catch (e) {
        return String((e as Error).message);
      }
    }, theirs.id);
    assert.match(err, /resource_missing/);
    await page.screenshot({ path: `${SCREENSHOT_DIR}/console-merchant.png`, fullPage: true });
    await page.close();
  });
});
