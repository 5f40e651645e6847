// The console's payout screens in headless Chromium, against the real stack: operators approve
// payouts (two of them above the threshold), decide allowlist requests, resolve an exception
// with a refund address and plan and run a sweep; merchants ask for destinations and payouts
// and read the API's typed refusals.
import assert from 'node:assert/strict';
import { HDNodeWallet, Mnemonic } from 'ethers';
import type { Page } from 'playwright-core';
import * as OTPAuth from 'otpauth';
import { ADMIN_TOKEN, admin, api, eventually, h, newMerchant, newOperator, TEST_MNEMONIC } from './harness.js';
import { devnet, mine, pay, watcherCaughtUp } from './chain-helpers.js';
import { allowlist, freshAddress, miner, seedAvailable, tokenBalance, USDT } from './payout-helpers.js';
import { SCREENSHOT_DIR, useBrowser } from './browser.js';
import { newId } from '../activities/ids.js';
import { devnetTronTreasuryAddress, EVM_ACCOUNT_PATH, TRON_STANDIN_USDT } from '../scripts/devnet-rails.js';
import { formatAmount } from '../workflows/rules/money.js';

async function signIn(page: Page, token: string, first: string) {
  await page.goto(`${h().stack.apiUrl}/console`);
  await page.fill('#token', token);
  await page.click('#signin button[type=submit]');
  await page.waitForSelector(`h2:has-text("${first}")`);
}

async function open(page: Page, name: string, heading = name) {
  await page.click(`#nav button:text-is("${name}")`);
  await page.waitForSelector(`h2:text-is("${heading}")`);
}

/**
 * A closed payment's deposit address goes back to the pool and serves a later payment; other
 * tests (sweeps) expect a pooled address to hold nothing. Move this test's tokens off it with
 * the devnet's deposit key, to an address nobody watches.
 */
async function emptyDepositAddress(paymentId: string) {
  const { rows } = await h().stack.pool.query(`SELECT address_index::text AS i, deposit_address AS a FROM payments WHERE id = $1`, [paymentId]);
  const { provider, payer, token } = devnet();
  const key = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(TEST_MNEMONIC), `${EVM_ACCOUNT_PATH}/0/${rows[0].i}`).connect(provider);
  assert.equal(key.address, rows[0].a);
  const held = await tokenBalance(key.address);
  if (held === 0n) return;
  // Exactly the gas the transfer burns (legacy pricing: paid = used × price), so the address is
  // left with no ETH either (at most the unused gas), as a sweep's plan expects of it.
  const transfer = token.connect(key).getFunction('transfer');
  const to = freshAddress();
  const gasLimit = await transfer.estimateGas(to, held);
  const gasPrice = (await provider.getFeeData()).gasPrice! * 2n;
  const ethBefore = await provider.getBalance(key.address);
  await (await payer.sendTransaction({ to: key.address, value: gasLimit * gasPrice })).wait();
  await (await transfer(to, held, { gasLimit, gasPrice, type: 0 })).wait();
  assert.equal(await tokenBalance(key.address), 0n);
  assert.ok((await provider.getBalance(key.address)) - ethBefore <= (gasLimit * gasPrice) / 10n, 'no ETH worth a top-up is added');
}

/** The authenticator's code offsetMs from now (the server accepts one 30 s step either side). */
function totpAt(secret: string, email: string, offsetMs: number): string {
  return new OTPAuth.TOTP({ issuer: 'Stablerail', label: email, algorithm: 'SHA1', digits: 6, period: 30, secret: OTPAuth.Secret.fromBase32(secret) }).generate({ timestamp: Date.now() + offsetMs });
}

const alertIn = async (page: Page, scope: string) => (await page.waitForSelector(`${scope} [role=alert]`)).textContent();

describe('console payouts, destinations, refunds and sweeps in headless Chromium', function () {
  this.timeout(60_000);
  const browser = useBrowser();

  it('an approver enrols TOTP in the console, signs in with password and code, approves 1 of 2; the same approver again is refused, a viewer is offered no decision, a second approver sends it to confirmed', async () => {
    const m = await newMerchant({ name: 'Console payouts' });
    await seedAvailable(m.merchantId, 50n * USDT);
    const s = await admin('POST', `/v1/admin/merchants/${m.merchantId}/payout_settings`, { environment: 'sandbox', dual_approval_above: '1' });
    assert.equal(s.status, 200, JSON.stringify(s.body));
    const dest = freshAddress();
    await allowlist(m.key, dest);
    const created = await api('POST', '/v1/payouts', { key: m.key, idem: newId('idem'), body: { amount: '5.00', rail: 'usdt-erc20', destination: dest, reference: 'console-po-1' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const po = created.body;
    assert.equal(po.approvals_required, 2);

    // Alice, an approver, gets a password from an admin and enrols her authenticator in the console with her token.
    const alice = await newOperator('approver', 'alice-console');
    const email = (await admin('GET', '/v1/admin/operators')).body.data.find((o: { id: string }) => o.id === alice.id).email as string;
    assert.equal((await admin('POST', `/v1/admin/operators/${alice.id}/password`, { password: 'correct horse battery staple' })).status, 200);
    const page = await browser().newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${h().stack.apiUrl}/console`);
    await page.fill('#op-email', email);
    await page.fill('#op-password', 'correct horse battery staple');
    await page.click('#signin-op button[type=submit]');
    assert.match((await page.waitForSelector('#signin-op-error:has-text("second_factor_required")').then((e) => e.textContent()))!, /personal token/);
    await signIn(page, alice.token, 'Merchants and access requests');
    await open(page, 'My account');
    await page.click('button:text-is("Set up authenticator")');
    await page.waitForSelector('#totp-enrol img[alt^="QR code"]');
    const secret = (await page.textContent('#totp-secret'))!;
    await page.fill('#totp-code', totpAt(secret, email, 0));
    await page.click('form[aria-label="Confirm authenticator"] button[type=submit]');
    await page.waitForSelector('p.ok:has-text("Authenticator enrolled")');
    await page.click('#sign-out');

    await page.waitForSelector('#signin-op');
    await page.fill('#op-email', email);
    await page.fill('#op-password', 'correct horse battery staple');
    await page.fill('#op-totp', totpAt(secret, email, 30_000));
    await page.click('#signin-op button[type=submit]');
    await page.waitForSelector('h2:has-text("Merchants and access requests")');
    assert.match((await page.textContent('#who'))!, /alice-console · approver$/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('stablerail.token')), null, 'a password session keeps no credential in the page');
    await open(page, 'Payouts');
    const row = `tr[data-key="${po.id}"]`;
    await page.waitForSelector(row);
    assert.match((await page.textContent(row))!, /payout.*5\.00 USDT.*usdt-erc20/);
    assert.ok((await page.textContent(row))!.includes(dest));
    assert.ok((await page.textContent(row))!.includes('0 of 2'));
    assert.equal(await page.$(`${row} input[id^="op-"]`), null, 'no operator name to type: the session says who decides');

    await page.fill(`#why-${po.id}`, 'invoice checked');
    await page.click(`${row} button[value=approve]`);
    await page.waitForSelector(`${row} >> text=1 of 2 (${alice.id} (you))`);
    assert.ok(await page.$(`${row} .status-pending_approval`));
    await page.fill(`#why-${po.id}`, 'again');
    await page.click(`${row} button[value=approve]`);
    assert.match((await alertIn(page, row))!, new RegExp(`operator_already_approved: ${alice.id} has approved this payout already`));
    await page.screenshot({ path: `${SCREENSHOT_DIR}/console-payout-approvals.png`, fullPage: true });
    const { rows: ev } = await h().stack.pool.query(`SELECT actor FROM evidence WHERE subject = $1 AND kind LIKE 'payout.%' AND actor LIKE $2`, [po.id, `${alice.id}@%`]);
    assert.ok(ev.length >= 1, 'the approval is evidence under her operator id');
    assert.match(ev[0].actor, new RegExp(`^${alice.id}@oss_`), 'and names the console session it came from');

    // A viewer sees the payout and is offered no decision, no sweeps and no operator administration.
    const vic = await newOperator('viewer', 'vic-console');
    const viewer = await browser().newPage({ viewport: { width: 1400, height: 900 } });
    await signIn(viewer, vic.token, 'Merchants and access requests');
    await open(viewer, 'Payouts');
    await viewer.waitForSelector(row);
    assert.equal(await viewer.$(`${row} form`), null);
    const sections = await viewer.$$eval('#nav button', (bs) => bs.map((b) => b.textContent));
    assert.ok(!sections.includes('Sweeps') && !sections.includes('Operators'), sections.join());
    await viewer.close();

    const bob = await newOperator('approver', 'bob-console');
    const second = await browser().newPage({ viewport: { width: 1400, height: 900 } });
    await signIn(second, bob.token, 'Merchants and access requests');
    await open(second, 'Payouts');
    await second.waitForSelector(row);
    const stop = miner();
    try {
      await second.fill(`#why-${po.id}`, 'second pair of eyes');
      await second.click(`${row} button[value=approve]`);
      // No reload: the row follows the payout through signing and broadcast to confirmed.
      // Confirmed, then settled at finality while the miner runs: either is the payout on chain.
      await second.waitForSelector(`${row} :is(.status-confirmed, .status-settled)`, { timeout: 25_000 });
    } finally {
      await stop();
    }
    const text = (await second.textContent(row))!;
    assert.ok(text.includes(`2 of 2 (${alice.id}, ${bob.id} (you))`), text);
    assert.match(text, /0x[0-9a-f]{64}/, 'the transaction hash is shown');
    assert.match(text, /[0-9.]+ ETH/, 'the network fee is shown');
    assert.equal(await second.$(`${row} form`), null, 'a confirmed payout offers no decision');
    assert.ok(['confirmed', 'settled'].includes((await api('GET', `/v1/payouts/${po.id}`, { key: m.key })).body.status));
    await second.screenshot({ path: `${SCREENSHOT_DIR}/console-payout-confirmed.png`, fullPage: true });
    await second.close();
    await page.close();
  });

  it('an admin adds an operator in the console: the token is shown once and works, the role changes, disabling locks them out', async () => {
    const page = await browser().newPage({ viewport: { width: 1400, height: 900 } });
    await signIn(page, ADMIN_TOKEN, 'Merchants and access requests');
    await open(page, 'Operators');
    const email = `olga-${newId('x').slice(-8).toLowerCase()}@suite.test`;
    await page.fill('#opc-email', email);
    await page.fill('#opc-name', 'Olga');
    await page.selectOption('#opc-role', 'operator');
    await page.click('form[aria-labelledby="opc-title"] button[type=submit]');
    const token = (await (await page.waitForSelector('#new-operator-token')).textContent())!;
    assert.match(token, /^opk_/);
    const olga = (await admin('GET', '/v1/admin/operators')).body.data.find((o: { email: string }) => o.email === email);
    assert.equal(olga.role, 'operator');
    assert.equal((await api('GET', '/v1/admin/operators/me', { key: token })).body.id, olga.id);
    // The list never shows a token again (the heading is already there: wait for the re-render).
    await open(page, 'Operators');
    await page.waitForSelector('#new-operator-token', { state: 'detached' });
    assert.ok(!(await page.textContent('main'))!.includes(token));

    const row = `tr[data-key="${olga.id}"]`;
    await page.selectOption(`#role-${olga.id}`, 'viewer');
    await page.click(`${row} button:text-is("Change role")`);
    await page.waitForSelector(`p.ok:has-text("${olga.id} is now viewer")`);
    assert.equal((await admin('GET', '/v1/admin/operators')).body.data.find((o: { id: string }) => o.id === olga.id).role, 'viewer');
    await page.click(`${row} button:text-is("Disable")`);
    await page.waitForSelector(`p.ok:has-text("${olga.id} is disabled")`);
    assert.equal((await api('GET', '/v1/admin/operators/me', { key: token })).status, 401, 'a disabled operator\'s token is refused on the next request');
    await page.close();
  });

  it('a merchant requests payouts in the console and reads the typed refusals; each submit carries its own Idempotency-Key', async () => {
    const m = await newMerchant({ name: 'Console payout requester' });
    await seedAvailable(m.merchantId, 10n * USDT);
    const dest = freshAddress();
    await allowlist(m.key, dest);
    const page = await browser().newPage({ viewport: { width: 1280, height: 900 } });
    const keys: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/v1/payouts') keys.push(r.headers()['idempotency-key'] ?? '');
    });
    await signIn(page, m.key, 'Payments');
    await open(page, 'Payouts');
    const form = 'form[aria-labelledby="po-request-title"]';
    const request = async (amount: string, destination: string) => {
      await page.fill('#po-amount', amount);
      await page.selectOption('#po-rail', 'usdt-erc20');
      await page.fill('#po-destination', destination);
      await page.fill('#po-reference', 'console-request');
      await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/payouts'),
        page.click(`${form} button[type=submit]`),
      ]);
    };

    await request('25.00', dest);
    assert.match((await alertIn(page, form))!, /^insufficient_balance: available balance is 10\.00 USDT; the payout needs 25\.00/);
    await request('1.00', freshAddress());
    assert.match((await alertIn(page, form))!, /^destination_not_allowlisted: /);
    await request('1.00', '0x1234');
    assert.match((await alertIn(page, form))!, /^invalid_address: 0x1234 is not a valid EVM address/);
    assert.equal((await page.$$(`${form} [role=alert]`)).length, 1, 'one message at a time');
    assert.deepEqual((await api('GET', '/v1/payouts', { key: m.key })).body.data, [], 'nothing was created by a refusal');
    await page.screenshot({ path: `${SCREENSHOT_DIR}/console-merchant-payout-refused.png`, fullPage: true });

    await request('4.00', dest);
    const notice = await page.waitForSelector('p.ok[role=status]');
    assert.match((await notice.textContent())!, /Payout po_\w+ requested: pending_approval, 1 operator approval needed/);
    const [po] = (await api('GET', '/v1/payouts', { key: m.key })).body.data;
    assert.equal(po.amount, '4.00');
    assert.equal(po.destination.address, dest);
    await page.waitForSelector(`tr[data-key="${po.id}"] .status-pending_approval`);
    assert.equal(keys.length, 4);
    assert.ok(keys.every((k) => k.length >= 16), JSON.stringify(keys));
    assert.equal(new Set(keys).size, keys.length, 'a fresh key per submit');
    // The merchant view offers no operator decision.
    assert.equal(await page.$(`tr[data-key="${po.id}"] form`), null);
    await page.close();
  });

  it('a merchant asks for a payout destination in the console; an approver approves it there, it cools off, and the approver revokes it', async () => {
    const m = await newMerchant({ name: 'Console allowlist' });
    const address = freshAddress();
    const page = await browser().newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, m.key, 'Payments');
    await open(page, 'Payout destinations');
    const form = 'form[aria-labelledby="pd-request-title"]';
    await page.fill('#pd-address', 'not-an-address');
    await page.fill('#pd-label', 'supplier');
    await page.click(`${form} button[type=submit]`);
    assert.match((await alertIn(page, form))!, /^invalid_address: /);
    await page.fill('#pd-address', address.toLowerCase());
    await page.click(`${form} button[type=submit]`);
    await page.waitForSelector('p.ok[role=status]');
    const [d] = (await api('GET', '/v1/payout_destinations', { key: m.key })).body.data;
    assert.equal(d.address, address, 'stored checksummed');
    await page.waitForSelector(`tr[data-key="${d.id}"] .status-pending_approval`);

    const dora = await newOperator('approver', 'dora-console');
    const ops = await browser().newPage({ viewport: { width: 1400, height: 900 } });
    await signIn(ops, dora.token, 'Merchants and access requests');
    await open(ops, 'Payout destinations');
    const row = `tr[data-key="${d.id}"]`;
    await ops.waitForSelector(row);
    assert.ok((await ops.textContent(row))!.includes(m.merchantId));
    await ops.fill(`#why-${d.id}`, 'supplier verified by phone');
    await ops.click(`${row} button[value=approve]`);
    const notice = await ops.waitForSelector('p.ok[role=status]');
    assert.match((await notice.textContent())!, new RegExp(`${address} \\(${d.id}\\) approved: usable from \\d{4}-`));
    assert.equal(await ops.$(row), null, 'decided requests leave the queue');
    assert.equal((await api('GET', `/v1/payout_destinations/${d.id}`, { key: m.key })).body.status, 'cooling_off');
    await open(page, 'Payout destinations');
    await page.waitForSelector(`tr[data-key="${d.id}"] .status-cooling_off`);
    // Second thoughts during cooling-off: the approver revokes it from the same page.
    await ops.selectOption('#pd-status', 'cooling_off');
    await ops.waitForSelector(row);
    await ops.fill(`#why-${d.id}`, 'supplier changed banks');
    await ops.click(`${row} button[value=revoke]`);
    await ops.waitForSelector(`p.ok:has-text("${d.id}) revoked")`);
    assert.equal((await api('GET', `/v1/payout_destinations/${d.id}`, { key: m.key })).body.status, 'revoked');
    await ops.selectOption('#pd-status', 'revoked');
    await ops.waitForSelector(`${row} .status-revoked`);
    await ops.close();
    await page.close();
  });

  it('an operator resolves an overpaid payment with refund and a refund address typed in the console', async () => {
    await watcherCaughtUp();
    const m = await newMerchant();
    const p = (await api('POST', '/v1/payments', { key: m.key, body: { amount: '2.00', rail: 'usdt-erc20', reference: 'console-refund-1' } })).body;
    await pay(p.deposit_address, 3_000_000n);
    await mine(3);
    await eventually(async () => (await api('GET', `/v1/payments/${p.id}`, { key: m.key })).body.status === 'requires_review', 20_000, 100);
    const page = await browser().newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, ADMIN_TOKEN, 'Merchants and access requests');
    await page.evaluate((id) => (window as unknown as { stablerailConsole: { paymentDetail(id: string): Promise<void> } }).stablerailConsole.paymentDetail(id), p.id);
    await page.waitForSelector(`h2:has-text("Payment ${p.id}")`);
    assert.ok(await page.isHidden(`#refund-to-${p.id}`), 'the refund address is asked only for a refund');
    await page.selectOption(`#decision-${p.id}`, 'refund');
    await page.fill(`#why-${p.id}`, 'customer sent 1.00 too much; return all of it');
    await page.fill(`#refund-to-${p.id}`, '0xnope');
    await page.click('form[aria-label="Resolve exception"] button[type=submit]');
    assert.match((await alertIn(page, 'form[aria-label="Resolve exception"]'))!, /^invalid_address: /);
    const to = freshAddress();
    await page.fill(`#refund-to-${p.id}`, to.toLowerCase());
    await page.click('form[aria-label="Resolve exception"] button[type=submit]');
    const notice = await page.waitForSelector('p.ok[role=status]');
    const text = (await notice.textContent())!;
    assert.match(text, new RegExp(`^Refund po_\\w+ to ${to} is pending_approval`));
    const refundId = /po_\w+/.exec(text)![0];
    const r = (await api('GET', `/v1/payouts/${refundId}`, { key: m.key })).body;
    assert.equal(r.kind, 'refund');
    assert.equal(r.destination.address, to);
    assert.equal(r.payment_id, p.id);
    assert.equal((await api('GET', `/v1/payments/${p.id}`, { key: m.key })).body.status, 'refunded');
    // The refund waits in the operators' payout list like any payout.
    await open(page, 'Payouts');
    const refundRow = await page.waitForSelector(`tr[data-key="${refundId}"]`);
    assert.match((await refundRow.textContent())!, new RegExp(`refund of ${p.id}`));
    await page.close();
    await emptyDepositAddress(p.id);
  });

  it('an operator plans a sweep (amounts, gas, cost), executes it and watches each address settle (TRON stand-in)', async () => {
    // TRON stand-in: the treasury funds one fresh deposit address with an amount no other test uses.
    const standin = h().stack.tronStandin!;
    const m = await newMerchant();
    const p = (await api('POST', '/v1/payments', { key: m.key, body: { amount: '1.00', rail: 'usdt-trc20', reference: `console-sweep-${Date.now()}` } })).body;
    standin.transfer({ token: TRON_STANDIN_USDT, from: devnetTronTreasuryAddress(TEST_MNEMONIC), to: p.deposit_address, amountMinor: 888_000_321n });
    await eventually(async () => {
      standin.mine(1);
      return (await h().stack.pool.query(`SELECT 1 FROM chain_transfers WHERE to_address = $1`, [p.deposit_address])).rowCount;
    }, 20_000, 200);

    // A pooled address may still hold an earlier payment's tokens: the plan shows all it holds.
    const held = formatAmount(standin.tokenBalance(TRON_STANDIN_USDT, p.deposit_address), 6);
    const erin = await newOperator('approver', 'erin-console');
    const page = await browser().newPage({ viewport: { width: 1400, height: 1000 } });
    await signIn(page, erin.token, 'Merchants and access requests');
    await open(page, 'Sweeps');
    await page.selectOption('#sweep-rail', 'usdt-trc20');
    await page.fill('#sweep-min', '888.000321');
    await page.click('form[aria-labelledby="sweep-title"] button[type=submit]');
    await page.waitForSelector('#sweep-plan h3:has-text("Sweep")');
    const plan = (await page.textContent('#sweep-plan'))!;
    assert.ok(plan.includes(p.deposit_address), plan);
    assert.match(plan, /Status planned/);
    const item = page.locator('#sweep-plan tbody tr', { hasText: p.deposit_address });
    assert.ok((await item.textContent())!.includes(`${held} USDT`), `${held}: ${await item.textContent()}`);
    assert.match(plan, /gas top-ups [0-9.]+ TRX · estimated network cost [0-9.]+ TRX/);
    assert.match(plan, /How gas gets there: .*energy/);
    await page.screenshot({ path: `${SCREENSHOT_DIR}/console-sweep-plan.png`, fullPage: true });
    const sweepId = (await page.textContent('#sweep-plan h3 code'))!;
    // Everything else in this plan was funded by tests that are over: only ours is checked.
    const stop = (() => {
      let on = true;
      const loop = (async () => { while (on) { standin.mine(1); await new Promise((r) => setTimeout(r, 100)); } })();
      return async () => { on = false; await loop; };
    })();
    try {
      await page.click(`form[aria-label="Execute sweep ${sweepId}"] button[type=submit]`);
      await page.waitForSelector('#sweep-plan :is(.status-completed, .status-failed)', { timeout: 25_000 });
    } finally {
      await stop();
    }
    const done = (await page.textContent('#sweep-plan'))!;
    assert.match(done, /Status completed/, done);
    assert.match(done, new RegExp(`planned by ${erin.id}@${erin.tokenId} · executed by ${erin.id}@${erin.tokenId}`), 'the plan and the run name the operator and the credential');
    assert.match(done, /network fees paid [0-9.]+ TRX/);
    assert.equal(await item.locator('.status-swept').count(), 1);
    assert.equal(await item.locator('code').count(), 3, 'address, gas tx and sweep tx');
    assert.equal(standin.tokenBalance(TRON_STANDIN_USDT, p.deposit_address), 0n);
    await page.screenshot({ path: `${SCREENSHOT_DIR}/console-sweep-done.png`, fullPage: true });
    await page.close();
  });
});
