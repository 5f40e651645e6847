// The payer's hosted page, /pay/{public_id}: amount, asset, network, deposit address with a
// copy button and a QR code (EIP-681 for ERC20, the bare address for TRC20), a countdown and a
// live status that polls the public view. Once the status is final for the payer, the payment
// instructions go (no QR, no Copy, no countdown: nothing invites a second payment) and a final
// message with the transaction ids stays. Sandbox payments on devnet rails get a "Simulate
// payment" control. It shows nothing a merchant keeps secret.
import type { Express, Request, Response } from 'express';
import QRCode from 'qrcode';
import type { Pool } from '../../activities/db.js';
import type { StablerailConfig } from '../../activities/config.js';
import { railById } from '../../activities/config.js';
import { paymentTransactions, publicPaymentObject, type PaymentRow } from '../../activities/payment.js';
import { findPaymentByPublicId } from '../../activities/repositories/payments.js';

/** Statuses after which the payer has nothing more to send: the page stops asking for money. */
export const PAYER_FINAL_STATUSES = ['confirmed', 'recognized', 'expired', 'canceled', 'requires_review', 'refunded', 'written_off'] as const;

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** What a wallet scans: EIP-681 asks an EVM wallet to call transfer(to, amount) on the token. */
export function paymentUri(row: PaymentRow, config: StablerailConfig): string {
  const rail = railById(config, row.rail)!;
  if (rail.kind === 'evm') {
    const remaining = BigInt(row.amount_minor) - BigInt(row.amount_received_minor);
    return `ethereum:${rail.token_contract}@${rail.chain_id ?? 1}/transfer?address=${row.deposit_address}&uint256=${remaining > 0n ? remaining : BigInt(row.amount_minor)}`;
  }
  return row.deposit_address;
}

const PAGE_CSS = `
:root{color-scheme:light;--fg:#111;--muted:#4a4a4a;--ok:#0b6b2f;--warn:#8a4b00;--bad:#a0101a;--card:#fff;--bg:#f3f4f6;--accent:#1d4ed8}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:var(--bg);color:var(--fg)}
main{max-width:28rem;margin:0 auto;padding:1rem}
.card{background:var(--card);border-radius:12px;padding:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.25rem;margin:0 0 .25rem}.amount{font-size:2rem;font-weight:700;margin:.25rem 0}
.muted{color:var(--muted)}.qr{display:flex;justify-content:center;margin:1rem 0}.qr svg{width:220px;height:220px}
label{display:block;font-weight:600;margin-top:.75rem}
.addr{display:flex;gap:.5rem;align-items:stretch}.addr input{flex:1;min-width:0;font:14px ui-monospace,monospace;padding:.5rem;border:1px solid #6b7280;border-radius:6px;color:var(--fg);background:#fff}
button{font:inherit;font-weight:600;padding:.5rem .9rem;border-radius:6px;border:0;background:var(--accent);color:#fff;cursor:pointer}
button:focus-visible,input:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.status{margin-top:1rem;padding:.75rem;border-radius:8px;font-weight:600;border:2px solid currentColor}
.s-awaiting_payment{color:var(--accent)}.s-detected{color:var(--warn)}.s-confirmed,.s-recognized{color:var(--ok)}
.s-expired,.s-canceled,.s-requires_review,.s-refunded,.s-written_off{color:var(--bad)}
.hide{display:none}
.refund{margin-top:1rem;padding-top:.75rem;border-top:1px solid #d1d5db}.refund h2{font-size:1.05rem;margin:0 0 .25rem}
.refund .addr{margin-top:.25rem}.msg-error{color:var(--bad);font-weight:600}.msg-ok{color:var(--ok);font-weight:600}
.msg-ok code{font:14px ui-monospace,monospace;word-break:break-all}
.txs{margin:.75rem 0 0;padding:0;list-style:none}.txs li{font:13px ui-monospace,monospace;word-break:break-all;margin:.25rem 0}
.simulate{margin-top:1rem;padding:.75rem;border:2px dashed #6b7280;border-radius:8px}.simulate h2{font-size:1rem;margin:0 0 .25rem}
.simulate button{margin:.25rem .25rem 0 0;background:#374151}
`;

export function mountPayerPages(app: Express, deps: { pool: Pool; config: StablerailConfig; devnetPayer?: { privateKey: string } | null }): void {
  app.get('/pay/assets/payer.js', (_req, res) => {
    res.type('application/javascript').set('Cache-Control', 'public, max-age=300').send(PAYER_JS);
  });

  app.get('/pay/:public_id', async (req: Request, res: Response) => {
    const id = String(req.params.public_id);
    const row = await findPaymentByPublicId(deps.pool, id);
    res.set('Content-Security-Policy', "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    res.set('Referrer-Policy', 'no-referrer');
    // Live status and a deposit address: never served from a cache (a shared one would show a stale status).
    res.set('Cache-Control', 'no-store');
    if (!row) {
      res.status(404).type('html').send(`<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Payment not found</title><style>${PAGE_CSS}</style><main><div class="card"><h1>Payment not found</h1><p>Check the link you were given, or ask the merchant for a new one.</p></div></main></html>`);
      return;
    }
    const p = publicPaymentObject(row, deps.config);
    const uri = paymentUri(row, deps.config);
    const final = (PAYER_FINAL_STATUSES as readonly string[]).includes(p.status);
    const qr = final ? '' : await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
    const txs = await paymentTransactions(deps.pool, deps.config, row);
    const txItems = txs.map((t) => `<li>${t.explorer_url ? `<a href="${escape(t.explorer_url)}" rel="noreferrer noopener" target="_blank">${escape(t.tx_hash)}</a>` : escape(t.tx_hash)}</li>`).join('');
    // Only where this process runs the devnet, and only for a sandbox payment on a devnet rail.
    const simulate = !!deps.devnetPayer && p.simulatable && !final;
    const network = p.rail.endsWith('trc20') || railById(deps.config, row.rail)?.kind === 'tron' ? 'TRON (TRC20)' : `${p.network} (ERC20)`;
    res.type('html').send(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Pay ${escape(p.amount)} ${escape(p.asset)}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
<main>
  <div class="card" id="payment" data-public-id="${escape(p.public_id)}" data-expires-at="${escape(p.expires_at)}" data-status="${escape(p.status)}">
    <h1 id="headline">${final ? 'Payment' : 'Send exactly'}</h1>
    <p class="amount"><span id="amount">${escape(p.amount)}</span> <span>${escape(p.asset)}</span></p>
    <p class="muted">on <strong>${escape(network)}</strong>.${final ? '' : `<span id="send-warning"> Only send ${escape(p.asset)} on this network; other tokens or networks are lost.</span>`}</p>
    ${final ? '' : `<div id="instructions">
    <div class="qr" role="img" aria-label="QR code of the payment: ${escape(uri)}">${qr}</div>
    <label for="address">Deposit address</label>
    <div class="addr"><input id="address" readonly value="${escape(p.deposit_address)}"><button type="button" id="copy" aria-describedby="copied">Copy</button></div>
    <p id="copied" class="muted" aria-live="polite"></p>
    <p class="muted">Time left: <strong id="countdown" aria-live="off">--:--</strong></p>
    </div>`}
    <div id="status" class="status s-${escape(p.status)}" role="status" aria-live="polite">
      <span id="status-title"></span><br><span id="status-detail" class="muted"></span>
    </div>
    <p class="muted">Received so far: <span id="received">${escape(p.amount_received)}</span> ${escape(p.asset)} · confirmations needed: ${p.confirmations_required}</p>
    <div id="transactions-box"${txs.length ? '' : ' class="hide"'}><strong>Transaction ids</strong><ul id="transactions" class="txs">${txItems}</ul></div>
    ${simulate ? `<form id="simulate" class="simulate" aria-labelledby="simulate-title">
      <h2 id="simulate-title">Sandbox: simulate a payment</h2>
      <p class="muted">Pays from the local devnet's funded wallet, a real transfer on the devnet that this page then follows. Never shown for live payments.</p>
      <button type="button" data-outcome="exact">Simulate payment</button><button type="button" data-outcome="underpay">Underpay</button><button type="button" data-outcome="overpay">Overpay</button>
      <p id="simulate-result" aria-live="polite"></p>
    </form>` : ''}
    <form id="refund" class="refund${p.status === 'requires_review' ? '' : ' hide'}" aria-labelledby="refund-title" novalidate>
      <h2 id="refund-title">Leave a refund address</h2>
      <p id="refund-help" class="muted">If this payment is refunded, the money goes back to this address. Leaving one does not start a refund: an operator reviews the payment and decides. Give an address for ${escape(p.asset)} on ${escape(network)} that you control.</p>
      <label for="refund-address">Refund address</label>
      <div class="addr"><input id="refund-address" name="address" autocomplete="off" autocapitalize="off" spellcheck="false" maxlength="100" required aria-describedby="refund-help refund-result"><button type="submit">Save</button></div>
      <p id="refund-result" aria-live="polite"></p>
    </form>
  </div>
</main>
<script src="/pay/assets/payer.js"></script>
</body>
</html>`);
  });
}

// The page script: countdown, copy, and live status by polling the public view (no key).
const PAYER_JS = `(() => {
  const card = document.getElementById('payment');
  const id = card.dataset.publicId;
  const expires = Date.parse(card.dataset.expiresAt);
  const screens = {
    awaiting_payment: ['Waiting for your payment', 'Send the amount above to the address. This page updates by itself.'],
    detected: ['Payment seen on the network', 'Waiting for confirmations. You can keep this page open.'],
    confirmed: ['Paid and confirmed', 'Thank you: nothing more to send. You can close this page.'],
    recognized: ['Paid and confirmed', 'Thank you: nothing more to send. You can close this page.'],
    expired: ['This payment request expired', 'Do not send funds to this address. If you sent money anyway, keep your transaction id and contact the merchant: late payments are still seen and reviewed. For a new purchase, ask for a new payment link.'],
    canceled: ['This payment was canceled', 'Do not send funds. If you already paid, keep your transaction id and contact the merchant.'],
    requires_review: ['We are reviewing this payment', 'Something did not match (for example the amount). An operator decides what happens next; keep your transaction id.'],
    refunded: ['This payment was refunded', 'Contact the merchant for details.'],
    written_off: ['This payment was closed', 'Contact the merchant for details.'],
  };
  const detail = { underpaid: 'We received less than requested. Contact the merchant to settle the rest or ask for a refund.', overpaid: 'We received more than requested. An operator decides about the difference; you can leave a refund address below.', paid_late: 'Your payment arrived after the request expired. The merchant will contact you.' };
  const FINAL = ${JSON.stringify(PAYER_FINAL_STATUSES)};
  let countdown = null;
  function renderTransactions(list) {
    if (!Array.isArray(list)) return;
    const ul = document.getElementById('transactions');
    ul.replaceChildren(...list.map((t) => {
      const li = document.createElement('li');
      if (t.explorer_url) {
        const a = document.createElement('a');
        a.href = t.explorer_url; a.rel = 'noreferrer noopener'; a.target = '_blank'; a.textContent = t.tx_hash;
        li.append(a);
      } else li.textContent = t.tx_hash;
      return li;
    }));
    document.getElementById('transactions-box').classList.toggle('hide', list.length === 0);
  }
  function render(p) {
    const s = screens[p.status] || [p.status, ''];
    // Final: nothing invites a second payment (no QR, no address to copy, no countdown).
    if (FINAL.includes(p.status)) {
      for (const gone of ['instructions', 'send-warning']) { const n = document.getElementById(gone); if (n) n.remove(); }
      const sim = document.getElementById('simulate');
      if (sim) sim.remove();
      if (countdown !== null) { clearInterval(countdown); countdown = null; }
      document.getElementById('headline').textContent = 'Payment';
    }
    renderTransactions(p.transactions);
    const box = document.getElementById('status');
    box.className = 'status s-' + p.status;
    document.getElementById('status-title').textContent = s[0];
    document.getElementById('status-detail').textContent = (p.exception && detail[p.exception.code]) || s[1];
    document.getElementById('received').textContent = p.amount_received;
    card.dataset.status = p.status;
    // The refund address is taken only while an operator may still decide.
    refund.classList.toggle('hide', p.status !== 'requires_review');
  }
  function tick() {
    const el = document.getElementById('countdown');
    if (!el) return;
    const left = Math.max(0, Math.floor((expires - Date.now()) / 1000));
    const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    el.textContent = (h ? h + ':' + String(m).padStart(2, '0') : m) + ':' + String(s).padStart(2, '0');
  }
  const copy = document.getElementById('copy');
  if (copy) copy.addEventListener('click', async () => {
    const v = document.getElementById('address').value;
    try { await navigator.clipboard.writeText(v); } catch { document.getElementById('address').select(); document.execCommand && document.execCommand('copy'); }
    document.getElementById('copied').textContent = 'Address copied';
  });
  const simulate = document.getElementById('simulate');
  if (simulate) simulate.addEventListener('click', async (ev) => {
    const b = ev.target.closest('button[data-outcome]');
    if (!b) return;
    const out = document.getElementById('simulate-result');
    for (const x of simulate.querySelectorAll('button')) x.disabled = true;
    out.className = ''; out.textContent = 'Sending on the devnet…';
    try {
      const r = await fetch('/v1/public/payments/' + encodeURIComponent(id) + '/simulate', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ outcome: b.dataset.outcome }), cache: 'no-store',
      });
      const body = await r.json().catch(() => null);
      if (r.ok && body) { out.className = 'msg-ok'; out.textContent = 'Sent ' + body.amount + ' ' + body.asset + ' in ' + body.tx_hash + '. This page follows it.'; poll(); }
      else { out.className = 'msg-error'; out.textContent = (body && body.error && body.error.message) || ('Not sent (HTTP ' + r.status + ').'); }
    } catch (e) {
      out.className = 'msg-error'; out.textContent = 'Not sent: the connection failed.';
    } finally {
      for (const x of simulate.querySelectorAll('button')) x.disabled = false;
    }
  });
  const refund = document.getElementById('refund');
  const refundResult = document.getElementById('refund-result');
  function refundMessage(kind, ...parts) {
    refundResult.className = 'msg-' + kind;
    refundResult.replaceChildren(...parts);
  }
  refund.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const input = document.getElementById('refund-address');
    const address = input.value.trim();
    if (!address) { refundMessage('error', 'Enter the address the refund should go to.'); input.focus(); return; }
    const button = refund.querySelector('button');
    button.disabled = true;
    try {
      const r = await fetch('/v1/public/payments/' + encodeURIComponent(id) + '/refund_address', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address }), cache: 'no-store',
      });
      let body = null;
      try { body = await r.json(); } catch { /* not JSON: answered below by status */ }
      if (r.ok && body && body.refund_address) {
        const code = document.createElement('code');
        code.textContent = body.refund_address;
        input.value = body.refund_address;
        input.removeAttribute('aria-invalid');
        refundMessage('ok', 'Saved. If an operator decides to refund, the money goes to ', code, '. To change it, contact the merchant.');
      } else {
        input.setAttribute('aria-invalid', 'true');
        refundMessage('error', (body && body.error && body.error.message) || ('The address was not saved (HTTP ' + r.status + '). Try again.'));
        input.focus();
      }
    } catch (e) {
      refundMessage('error', 'The address was not saved: the connection failed. Try again.');
    } finally {
      button.disabled = false;
    }
  });
  async function poll() {
    try {
      const r = await fetch('/v1/public/payments/' + encodeURIComponent(id), { cache: 'no-store' });
      if (r.ok) render(await r.json());
    } catch (e) { /* offline for a moment: try again */ }
  }
  render({ status: card.dataset.status, amount_received: document.getElementById('received').textContent });
  if (document.getElementById('countdown')) { tick(); countdown = setInterval(tick, 1000); }
  poll(); setInterval(poll, 2000);
})();`;
