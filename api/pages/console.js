// Stablerail console: plain browser JavaScript over the JSON API. Everything shown is
// inserted as text (never as HTML), so API data cannot inject markup.
(() => {
  'use strict';
  const $ = (sel, root = document) => root.querySelector(sel);
  const main = $('#main');
  let token = sessionStorage.getItem('stablerail.token') || '';
  let role = null; // 'operator' | 'merchant'
  let info = null;

  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
      else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) e.append(c instanceof Node ? c : document.createTextNode(c === null || c === undefined ? '' : String(c)));
    return e;
  }

  async function call(method, path, body) {
    const headers = { authorization: 'Bearer ' + token };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['idempotency-key'] = 'console-' + crypto.randomUUID();
    }
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let data;
    try { data = JSON.parse(text); } catch { data = text; }
    if (!r.ok) throw new Error((data && data.error && (data.error.code + ': ' + data.error.message)) || ('HTTP ' + r.status));
    return data;
  }

  async function download(path, filename) {
    const r = await fetch(path, { headers: { authorization: 'Bearer ' + token } });
    const blob = await r.blob();
    const a = el('a', { href: URL.createObjectURL(blob), download: filename });
    document.body.append(a);
    a.click();
    a.remove();
  }

  function table(columns, rows) {
    return el('table', {}, el('thead', {}, el('tr', {}, columns.map((c) => el('th', { scope: 'col' }, c[0])))),
      el('tbody', {}, rows.length ? rows.map((r) => el('tr', {}, columns.map((c) => el('td', {}, c[1](r))))) : el('tr', {}, el('td', { colspan: columns.length, class: 'muted' }, 'Nothing here yet.'))));
  }

  function section(title, ...children) {
    main.replaceChildren(el('h2', {}, title), ...children);
    main.focus();
  }

  function errorBox(e) { return el('p', { class: 'error', role: 'alert' }, String(e.message || e)); }
  const status = (s) => el('span', { class: 'status status-' + s }, s);

  // Sections ------------------------------------------------------------------

  async function merchants() {
    const form = el('form', { class: 'card row', on: { submit: async (ev) => {
      ev.preventDefault();
      try { await call('POST', '/v1/admin/merchants', { name: $('#new-merchant').value }); merchants(); } catch (e) { form.append(errorBox(e)); }
    } } }, el('label', { for: 'new-merchant' }, 'New merchant'), el('input', { id: 'new-merchant', required: true }), el('button', { type: 'submit' }, 'Create'));
    const list = await call('GET', '/v1/admin/merchants');
    const ars = await call('GET', '/v1/admin/access_requests');
    const decide = (ar, verb) => async () => {
      const reason = $('#reason-' + ar.id).value;
      try { await call('POST', '/v1/admin/access_requests/' + ar.id + '/' + verb, { reason }); merchants(); } catch (e) { main.append(errorBox(e)); }
    };
    section('Merchants and access requests', form,
      table([['Merchant', (m) => el('code', {}, m.id)], ['Name', (m) => m.name], ['Rails', (m) => m.rails.join(', ')], ['Created', (m) => m.created_at]], list.data),
      el('h3', {}, 'Access requests'),
      table([
        ['Request', (a) => el('code', {}, a.id)], ['Merchant', (a) => el('code', {}, a.merchant_id)], ['Rails', (a) => a.rails.join(', ')],
        ['Use case', (a) => a.use_case + ' (' + a.expected_volume + ')'], ['Status', (a) => status(a.status)],
        ['Decision', (a) => a.status !== 'pending' ? (a.decided_by + ': ' + (a.decision_reason || '')) : el('span', {},
          el('label', { for: 'reason-' + a.id }, 'Reason'), el('input', { id: 'reason-' + a.id, required: true }),
          el('button', { type: 'button', on: { click: decide(a, 'approve') } }, 'Approve'), ' ',
          el('button', { type: 'button', class: 'danger', on: { click: decide(a, 'reject') } }, 'Reject'))],
      ], ars.data));
  }

  async function payments(filter = {}) {
    const qs = new URLSearchParams(Object.entries(filter).filter(([, v]) => v)).toString();
    const base = role === 'operator' ? '/v1/admin/payments' : '/v1/payments';
    const list = await call('GET', base + (qs ? '?' + qs : ''));
    const statusSel = el('select', { id: 'f-status' }, el('option', { value: '' }, 'any'),
      ['awaiting_payment', 'detected', 'confirmed', 'recognized', 'expired', 'canceled', 'requires_review', 'refunded', 'written_off'].map((s) => el('option', { value: s, selected: filter.status === s }, s)));
    const form = el('form', { class: 'row', on: { submit: (ev) => { ev.preventDefault(); payments({ status: statusSel.value, ...(role === 'merchant' ? { reference: $('#f-ref').value } : { merchant_id: $('#f-merchant').value }) }); } } },
      el('label', { for: 'f-status' }, 'Status'), statusSel,
      role === 'merchant' ? [el('label', { for: 'f-ref' }, 'Reference'), el('input', { id: 'f-ref', value: filter.reference || '' })]
        : [el('label', { for: 'f-merchant' }, 'Merchant'), el('input', { id: 'f-merchant', value: filter.merchant_id || '', placeholder: 'mer_…' })],
      el('button', { type: 'submit' }, 'Filter'));
    section('Payments', form, table([
      ['Payment', (p) => el('button', { type: 'button', class: 'secondary', on: { click: () => paymentDetail(p.id) } }, p.id)],
      ['Status', (p) => status(p.status + (p.exception ? ' (' + p.exception.code + ')' : ''))],
      ['Amount', (p) => p.amount + ' ' + p.asset], ['Received', (p) => p.amount_received], ['Rail', (p) => p.rail],
      ['Reference', (p) => p.reference], ['Created', (p) => p.created_at],
    ], list.data));
  }

  async function paymentDetail(id) {
    const t = await call('GET', (role === 'operator' ? '/v1/admin/payments/' : '/v1/payments/') + id + '/timeline');
    const p = t.payment;
    const parts = [
      el('p', {}, 'Status ', status(p.status), p.exception ? ' · exception ' + p.exception.code : '', ' · ', p.amount + ' ' + p.asset, ' · received ', p.amount_received, ' · ', p.rail),
      el('p', {}, 'Deposit address ', el('code', {}, p.deposit_address), ' · reference ', p.reference),
      t.temporal.ui_url ? el('p', {}, el('a', { href: t.temporal.ui_url, target: '_blank', rel: 'noopener' }, 'Open the workflow history in the Temporal UI')) : el('p', { class: 'muted' }, 'Workflow id ' + t.temporal.workflow_id),
      el('h3', {}, 'Transitions'),
      table([['#', (r) => r.seq], ['From', (r) => r.from_status || '—'], ['To', (r) => status(r.to_status)], ['Cause', (r) => r.cause], ['Actor', (r) => r.actor], ['Reason', (r) => r.reason || r.exception_code || ''], ['At', (r) => r.created_at]], t.transitions),
      el('h3', {}, 'Transfers'),
      table([['Tx', (r) => el('code', {}, r.tx_hash + ':' + r.log_index)], ['Block', (r) => r.block_height], ['Amount (minor)', (r) => r.amount_minor], ['Removed by reorg', (r) => r.removed_at || '']], t.transfers),
      el('h3', {}, 'Webhook attempts'),
      table([['Event', (r) => el('code', {}, r.event_id)], ['Endpoint', (r) => r.endpoint_id], ['Attempt', (r) => r.attempt], ['Status', (r) => r.response_status || r.error || ''], ['Latency ms', (r) => r.latency_ms], ['At', (r) => r.created_at]], t.webhook_attempts),
      el('h3', {}, 'Ledger postings'),
      table([['Entry', (r) => el('code', {}, r.id)], ['Gate', (r) => r.gate], ['Account', (r) => r.account_id], ['Amount (minor)', (r) => r.amount_minor], ['Reverses', (r) => r.reverses_id || '']], t.postings),
    ];
    if (role === 'operator' && p.status === 'requires_review') parts.splice(2, 0, resolveForm(p.id));
    section('Payment ' + p.id, ...parts);
  }

  function resolveForm(id) {
    const form = el('form', { class: 'card row', 'aria-label': 'Resolve exception', on: { submit: async (ev) => {
      ev.preventDefault();
      try {
        await call('POST', '/v1/admin/payments/' + id + '/resolve', { decision: $('#decision-' + id).value, reason: $('#why-' + id).value });
        paymentDetail(id);
      } catch (e) { form.append(errorBox(e)); }
    } } },
    el('label', { for: 'decision-' + id }, 'Decision'),
    el('select', { id: 'decision-' + id }, ['accept', 'refund', 'write_off'].map((d) => el('option', { value: d }, d))),
    el('label', { for: 'why-' + id }, 'Reason'), el('input', { id: 'why-' + id, required: true, size: 40 }),
    el('button', { type: 'submit' }, 'Resolve'));
    return form;
  }

  async function exceptions() {
    const list = await call('GET', '/v1/admin/payments?status=requires_review');
    section('Exceptions queue', table([
      ['Payment', (p) => el('button', { type: 'button', class: 'secondary', on: { click: () => paymentDetail(p.id) } }, p.id)],
      ['Exception', (p) => p.exception ? p.exception.code : ''], ['Amount', (p) => p.amount + ' ' + p.asset], ['Received', (p) => p.amount_received],
      ['Merchant', (p) => el('code', {}, p.merchant_id)], ['Resolve', (p) => resolveForm(p.id)],
    ], list.data));
  }

  async function ledger(env = 'sandbox') {
    const path = role === 'operator' ? '/v1/admin/ledger/balances?environment=' + env : '/v1/ledger/balances';
    const b = await call('GET', path);
    const csv = el('button', { type: 'button', class: 'secondary', on: { click: () => download(path + (path.includes('?') ? '&' : '?') + 'format=csv', 'balances.csv') } }, 'Download balances CSV');
    const entries = role === 'merchant' ? el('button', { type: 'button', class: 'secondary', on: { click: () => download('/v1/ledger/entries?format=csv&limit=1000', 'ledger-entries.csv') } }, 'Download entries CSV') : '';
    const envSel = role === 'operator' ? el('select', { id: 'ledger-env', 'aria-label': 'Environment', on: { change: (ev) => ledger(ev.target.value) } }, ['sandbox', 'live'].map((e) => el('option', { value: e, selected: e === env }, e))) : '';
    section('Ledger balances', el('div', { class: 'row' }, envSel, csv, entries),
      table([['Account', (r) => el('code', {}, r.account)], ['Purpose', (r) => r.purpose], ['Asset', (r) => r.asset], ['Balance', (r) => r.balance]], b.data));
  }

  async function evidence() {
    const out = el('p', { role: 'status' }, 'Checking the chain…');
    section('Evidence', out);
    const v = await call('GET', '/v1/admin/evidence/verify');
    out.replaceChildren(v.ok ? el('span', { class: 'ok' }, 'Evidence chain intact: ' + v.checked + ' entries, head ' + v.headHash)
      : el('span', { class: 'error' }, 'Evidence chain BROKEN at seq ' + v.firstBroken.seq + ': ' + v.firstBroken.reason));
  }

  async function events() {
    const list = await call('GET', '/v1/events?limit=50');
    section('Events', table([['Event', (e) => el('code', {}, e.id)], ['Type', (e) => e.type], ['Object', (e) => el('code', {}, e.data && e.data.id)], ['Seq', (e) => e.sequence], ['At', (e) => e.created_at]], list.data));
  }

  async function webhooks() {
    const list = await call('GET', role === 'operator' ? '/v1/admin/webhook_endpoints' : '/v1/webhook_endpoints?limit=50');
    const deliveries = el('div', { id: 'deliveries' });
    const showDeliveries = async (ep) => {
      const d = await call('GET', '/v1/webhook_endpoints/' + ep.id + '/deliveries');
      deliveries.replaceChildren(el('h3', {}, 'Deliveries to ' + ep.url), table([
        ['Event', (x) => el('code', {}, x.event_id)], ['Type', (x) => x.event_type], ['Status', (x) => status(x.status)],
        ['Attempts', (x) => x.attempt_count], ['Last answer', (x) => x.last_response_status || x.last_error || ''],
        ['Redeliver', (x) => el('button', { type: 'button', class: 'secondary', on: { click: async (ev) => {
          try { await call('POST', '/v1/events/' + x.event_id + '/redeliver', { endpoint_id: ep.id }); ev.target.replaceWith(el('span', { class: 'ok' }, 'sent again')); }
          catch (e) { ev.target.replaceWith(errorBox(e)); }
        } } }, 'Redeliver')],
      ], d.data));
    };
    section('Webhook endpoints', table([
      ['Endpoint', (e) => role === 'merchant' ? el('button', { type: 'button', class: 'secondary', on: { click: () => showDeliveries(e) } }, e.id) : el('code', {}, e.id)],
      ['URL', (e) => e.url], ['Events', (e) => (e.enabled_events || []).join(', ')], ['Status', (e) => status(e.status + (e.disabled_reason ? ' (' + e.disabled_reason + ')' : ''))],
    ], list.data), deliveries);
  }

  async function reconciliation() {
    const runs = role === 'operator' ? (await call('GET', '/v1/admin/reconciliation/runs')).data : [];
    const start = el('button', { type: 'button', on: { click: async () => {
      try {
        const r = role === 'operator' ? await call('POST', '/v1/admin/reconciliation/runs', { environment: 'sandbox' }) : await call('POST', '/v1/reconciliation/runs', {});
        out.replaceChildren(el('p', { role: 'status' }, 'Run ' + r.id + ' started…'));
        for (let i = 0; i < 120; i++) {
          const run = await call('GET', (role === 'operator' ? '/v1/admin/reconciliation/runs/' : '/v1/reconciliation/runs/') + r.id);
          if (run.status !== 'running') { showRun(run); return; }
          await new Promise((res) => setTimeout(res, 500));
        }
      } catch (e) { out.replaceChildren(errorBox(e)); }
    } } }, 'Run reconciliation now');
    const out = el('div', { id: 'recon-run' });
    function showRun(run) {
      const base = (role === 'operator' ? '/v1/admin/reconciliation/runs/' : '/v1/reconciliation/runs/') + run.id;
      out.replaceChildren(
        el('p', {}, 'Run ', el('code', {}, run.id), ' · ', status(run.status), ' · open breaks ', String(run.open_breaks), ' · matched payments ', String(run.matched_payments)),
        el('button', { type: 'button', class: 'secondary', on: { click: () => download(base + '?format=csv', run.id + '.csv') } }, 'Download breaks CSV'),
        table([['Break', (b) => el('code', {}, b.id)], ['Class', (b) => b.class], ['Order', (b) => b.order_reference || ''], ['Payment', (b) => b.payment_id || ''],
          ['Tx', (b) => b.tx_hash ? el('code', {}, b.tx_hash + ':' + b.log_index) : ''], ['Expected', (b) => b.expected], ['Actual', (b) => b.actual], ['Drift', (b) => b.drift + ' ' + b.asset]], run.breaks || []));
    }
    const parts = [el('div', { class: 'row' }, start), out];
    if (role === 'operator') {
      const breaks = (await call('GET', '/v1/admin/reconciliation/breaks')).data;
      const resolve = (b) => el('form', { class: 'row', 'aria-label': 'Resolve break', on: { submit: async (ev) => {
        ev.preventDefault();
        try { await call('POST', '/v1/admin/reconciliation/breaks/' + b.id + '/resolve', { resolution: $('#res-' + b.id).value, reason: $('#rr-' + b.id).value }); reconciliation(); }
        catch (e) { ev.target.append(errorBox(e)); }
      } } }, el('select', { id: 'res-' + b.id, 'aria-label': 'Resolution' }, ['accepted', 'corrected', 'written_off', 'false_positive'].map((r) => el('option', { value: r }, r))),
        el('label', { for: 'rr-' + b.id }, 'Reason'), el('input', { id: 'rr-' + b.id, required: true }), el('button', { type: 'submit' }, 'Resolve'));
      parts.push(el('h3', {}, 'Open breaks'), table([['Break', (b) => el('code', {}, b.id)], ['Class', (b) => b.class], ['Merchant', (b) => b.merchant_id || ''], ['Payment', (b) => b.payment_id || b.order_reference || ''], ['Drift', (b) => b.drift + ' ' + b.asset], ['Resolve', resolve]], breaks),
        el('h3', {}, 'Recent runs'), table([['Run', (r) => el('code', {}, r.id)], ['Trigger', (r) => r.trigger], ['Status', (r) => status(r.status)], ['Open breaks', (r) => r.open_breaks], ['Started', (r) => r.started_at]], runs));
    }
    section('Reconciliation', ...parts);
  }

  // Shell ---------------------------------------------------------------------

  const SECTIONS = {
    operator: [['Merchants', merchants], ['Payments', () => payments()], ['Exceptions', exceptions], ['Webhooks', webhooks], ['Reconciliation', reconciliation], ['Ledger', () => ledger()], ['Evidence', evidence]],
    merchant: [['Payments', () => payments()], ['Events', events], ['Webhooks', webhooks], ['Reconciliation', reconciliation], ['Ledger', () => ledger()]],
  };

  function nav() {
    const n = $('#nav');
    n.replaceChildren(...SECTIONS[role].map(([name, fn]) => el('button', { type: 'button', on: { click: async (ev) => {
      for (const b of n.querySelectorAll('button')) b.removeAttribute('aria-current');
      ev.target.setAttribute('aria-current', 'page');
      try { await fn(); } catch (e) { section(name, errorBox(e)); }
    } } }, name)), el('button', { type: 'button', on: { click: () => { sessionStorage.removeItem('stablerail.token'); location.reload(); } } }, 'Sign out'));
    $('#who').textContent = role === 'operator' ? 'operator' : 'merchant key ' + token.slice(0, 12) + '…';
  }

  async function signIn(t) {
    token = t;
    if (/^sk_(test|live)_/.test(t)) {
      await call('GET', '/v1/payments?limit=1');
      role = 'merchant';
    } else {
      info = await call('GET', '/v1/admin/info');
      role = 'operator';
    }
    sessionStorage.setItem('stablerail.token', t);
    nav();
    await SECTIONS[role][0][1]();
    $('#nav button').setAttribute('aria-current', 'page');
  }

  $('#signin').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try { await signIn($('#token').value.trim()); } catch (e) { $('#signin-error').textContent = 'Sign-in failed: ' + e.message; }
  });
  if (token) signIn(token).catch(() => sessionStorage.removeItem('stablerail.token'));
  window.stablerailConsole = { paymentDetail };
})();
