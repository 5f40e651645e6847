// Stablerail console: plain browser JavaScript over the JSON API. Everything shown is
// inserted as text (never as HTML), so API data cannot inject markup.
(() => {
  'use strict';
  const $ = (sel, root = document) => root.querySelector(sel);
  const main = $('#main');
  // A merchant key or an operator's personal token (kept in this tab); empty for a session
  // signed in with email and password, whose credential is an HttpOnly cookie the page never sees.
  let token = sessionStorage.getItem('stablerail.token') || '';
  let role = null; // 'operator' | 'merchant': which console this is
  let me = null; // the signed-in operator: id, name, role, allowed_routes
  let csrf = null; // a session's CSRF token, held in memory only and echoed on every change
  let info = null;
  // The server decides every call; this only keeps the page from offering what the role cannot do.
  const can = (route) => Boolean(me && me.allowed_routes.includes(route));
  const ROLES = ['viewer', 'operator', 'approver', 'admin'];

  // Every poll loop has an end: live rows and sweep progress stop after this many rounds.
  const POLL_INTERVAL_MS = 1000;
  const POLL_ROUNDS_MAX = 600;
  const LIST_LIMIT = 50;
  // The admin API has no single-payout read: live rows re-read the newest payouts, this many.
  const LIVE_LIST_LIMIT = 100;
  const PAYOUT_STATUSES = ['pending_approval', 'approved', 'signing', 'broadcast', 'confirmed', 'settled', 'requires_review', 'failed', 'canceled'];
  // Statuses that move without a person: the page follows them until they settle (finality).
  const PAYOUT_MOVING = ['approved', 'signing', 'broadcast', 'confirmed'];
  const PAYOUT_DECIDABLE = ['pending_approval', 'approved'];
  const SWEEP_SETTLED = ['completed', 'failed', 'canceled'];
  const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
  // A reconciliation run may be unknown for a moment after it is started: this many polls of 500 ms.
  const RUN_UNRECORDED_ROUNDS_MAX = 20;

  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
      else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) e.append(c instanceof Node ? c : document.createTextNode(c === null || c === undefined ? '' : String(c)));
    return e;
  }

  function authHeaders(method) {
    const headers = {};
    if (token) headers.authorization = 'Bearer ' + token;
    if (csrf && method !== 'GET') headers['x-csrf-token'] = csrf;
    return headers;
  }

  async function send(method, path, body, { idempotent = true } = {}) {
    const headers = authHeaders(method);
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      if (idempotent) headers['idempotency-key'] = 'console-' + crypto.randomUUID();
    }
    const r = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let data;
    try { data = JSON.parse(text); } catch { data = text; }
    if (!r.ok) {
      const err = new Error((data && data.error && (data.error.code + ': ' + data.error.message)) || ('HTTP ' + r.status));
      err.code = data && data.error ? data.error.code : null;
      err.status = r.status;
      throw err;
    }
    return data;
  }

  async function call(method, path, body) {
    try { return await send(method, path, body); }
    catch (e) {
      // A session that ended (idle, absolute limit, disabled account, sign-out elsewhere) sends
      // the operator back to sign-in with the reason, instead of failing section by section.
      if (e.status === 401 && role) {
        sessionStorage.removeItem('stablerail.token');
        sessionStorage.setItem('stablerail.notice', 'Signed out: ' + e.message);
        location.reload();
      }
      throw e;
    }
  }

  async function download(path, filename) {
    const r = await fetch(path, { headers: authHeaders('GET'), credentials: 'same-origin' });
    const blob = await r.blob();
    const a = el('a', { href: URL.createObjectURL(blob), download: filename });
    document.body.append(a);
    a.click();
    a.remove();
  }

  // A keyed row remembers what it shows, so a live refresh replaces only the rows that changed.
  const shown = new WeakMap();
  function tr(columns, r, keyed) {
    const row = el('tr', keyed ? { 'data-key': r.id } : {}, columns.map((c) => el('td', {}, c[1](r))));
    if (keyed) shown.set(row, JSON.stringify(r));
    return row;
  }

  function table(columns, rows, keyed = false) {
    return el('table', {}, el('thead', {}, el('tr', {}, columns.map((c) => el('th', { scope: 'col' }, c[0])))),
      el('tbody', {}, rows.length ? rows.map((r) => tr(columns, r, keyed)) : el('tr', {}, el('td', { colspan: columns.length, class: 'muted' }, 'Nothing here yet.'))));
  }

  /**
   * Keep the keyed rows of a table current while any of them is still moving (a payout being
   * signed, broadcast, confirmed). Rows are replaced one by one, so what an operator is typing
   * in another row survives. Stops when nothing moves, the view is gone, or the rounds run out.
   */
  function keepCurrent(tbl, columns, load, moving) {
    if (tbl.dataset.live) return;
    tbl.dataset.live = 'on';
    (async () => {
      try {
        for (let round = 0; round < POLL_ROUNDS_MAX; round++) {
          await sleep(POLL_INTERVAL_MS);
          if (!tbl.isConnected) return;
          let still = false;
          for (const r of await load()) {
            const row = tbl.querySelector('tr[data-key="' + CSS.escape(r.id) + '"]');
            if (!row) continue;
            if (shown.get(row) !== JSON.stringify(r)) row.replaceWith(tr(columns, r, true));
            if (moving(r)) still = true;
          }
          if (!still) return;
        }
      } catch { /* a failed refresh leaves the rows as they were; the section's own reload shows the truth */ }
      finally { delete tbl.dataset.live; }
    })();
  }

  /** One message per form or cell: a new answer replaces the previous one. */
  function say(container, node) {
    unsay(container);
    node.classList.add('msg');
    container.append(node);
  }
  // Cleared when a form is sent again, so the last answer is never mistaken for the new one.
  function unsay(container) {
    for (const old of container.querySelectorAll(':scope > .msg')) old.remove();
  }

  function section(title, ...children) {
    main.replaceChildren(el('h2', {}, title), ...children);
    main.focus();
  }

  function errorBox(e) { return el('p', { class: 'error', role: 'alert' }, String(e.message || e)); }
  function okBox(text) { return el('p', { class: 'ok', role: 'status' }, text); }
  const status = (s) => el('span', { class: 'status status-' + s }, s);
  const status_ = status; // for views whose own parameter is named status

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
    section('Merchants and access requests', can('POST /v1/admin/merchants') ? form : '',
      table([['Merchant', (m) => el('code', {}, m.id)], ['Name', (m) => m.name], ['Rails', (m) => m.rails.join(', ')], ['Created', (m) => m.created_at]], list.data),
      el('h3', {}, 'Access requests'),
      table([
        ['Request', (a) => el('code', {}, a.id)], ['Merchant', (a) => el('code', {}, a.merchant_id)], ['Rails', (a) => a.rails.join(', ')],
        ['Use case', (a) => a.use_case + ' (' + a.expected_volume + ')'], ['Status', (a) => status(a.status)],
        ['Decision', (a) => a.status !== 'pending' ? (a.decided_by + ': ' + (a.decision_reason || '')) : !can('POST /v1/admin/access_requests/:id/approve') ? el('span', { class: 'muted' }, 'pending') : el('span', {},
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

  async function paymentDetail(id, notice) {
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
    if (role === 'operator' && p.status === 'requires_review' && can('POST /v1/admin/payments/:id/resolve')) parts.splice(2, 0, resolveForm(p.id));
    if (!p.livemode && ['awaiting_payment', 'detected'].includes(p.status)) parts.splice(2, 0, simulateControl(p));
    section('Payment ' + p.id, notice || '', ...parts);
  }

  // Sandbox on a devnet rail only: the public view says whether the payment is simulatable
  // (its route exists only where the devnet runs, never in live); it then pays from the devnet
  // payer, a real transfer the watcher sees like any other.
  function simulateControl(p) {
    const box = el('div', { class: 'card row', id: 'simulate', hidden: true, 'aria-label': 'Simulate payment (devnet)' });
    const pay = async (outcome) => {
      unsay(box);
      try {
        const r = await fetch('/v1/public/payments/' + encodeURIComponent(p.public_id) + '/simulate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ outcome }) });
        const b = await r.json();
        if (!r.ok) throw new Error((b.error && b.error.message) || 'HTTP ' + r.status);
        paymentDetail(p.id, okBox('Simulated: sent ' + b.amount + ' ' + b.asset + ' from ' + b.from + ' in ' + b.tx_hash + ' on the devnet.'));
      } catch (e) { say(box, errorBox(e)); }
    };
    fetch('/v1/public/payments/' + encodeURIComponent(p.public_id)).then((r) => r.ok ? r.json() : null).then((v) => {
      if (!v || !v.simulatable) return;
      box.append(el('strong', {}, 'Sandbox devnet:'),
        el('button', { type: 'button', on: { click: () => pay('exact') } }, 'Simulate payment'),
        el('button', { type: 'button', class: 'secondary', on: { click: () => pay('underpay') } }, 'Underpay'),
        el('button', { type: 'button', class: 'secondary', on: { click: () => pay('overpay') } }, 'Overpay'));
      box.hidden = false;
    }).catch(() => undefined);
    return box;
  }

  function resolveForm(id) {
    // A refund goes to the address given here, or else to the one the payer left on the payment page.
    const refundTo = el('input', { id: 'refund-to-' + id, size: 44, autocomplete: 'off', spellcheck: 'false' });
    const refundBox = el('span', { hidden: true }, el('label', { for: 'refund-to-' + id }, 'Refund address (optional)'), refundTo);
    const decision = el('select', { id: 'decision-' + id, on: { change: () => { refundBox.hidden = decision.value !== 'refund'; } } },
      ['accept', 'refund', 'write_off'].map((d) => el('option', { value: d }, d)));
    const form = el('form', { class: 'card row', 'aria-label': 'Resolve exception', on: { submit: async (ev) => {
      ev.preventDefault();
      unsay(form);
      const body = { decision: decision.value, reason: $('#why-' + id, form).value };
      if (decision.value === 'refund' && refundTo.value.trim()) body.refund_address = refundTo.value.trim();
      try {
        const r = await call('POST', '/v1/admin/payments/' + id + '/resolve', body);
        paymentDetail(id, r.refund ? okBox('Refund ' + r.refund.id + ' to ' + r.refund.destination + ' is ' + r.refund.status + '; it is approved like any payout, under Payouts.') : null);
      } catch (e) { say(form, errorBox(e)); }
    } } },
    el('label', { for: 'decision-' + id }, 'Decision'), decision,
    el('label', { for: 'why-' + id }, 'Reason'), el('input', { id: 'why-' + id, required: true, size: 40 }),
    refundBox,
    el('button', { type: 'submit' }, 'Resolve'));
    return form;
  }

  async function exceptions(notice) {
    const [list, chain] = await Promise.all([call('GET', '/v1/admin/payments?status=requires_review'), call('GET', '/v1/admin/chain_exceptions?status=open&limit=' + LIST_LIMIT)]);
    section('Exceptions queue', notice || '', table([
      ['Payment', (p) => el('button', { type: 'button', class: 'secondary', on: { click: () => paymentDetail(p.id) } }, p.id)],
      ['Exception', (p) => p.exception ? p.exception.code : ''], ['Amount', (p) => p.amount + ' ' + p.asset], ['Received', (p) => p.amount_received],
      ['Merchant', (p) => el('code', {}, p.merchant_id)], ...(can('POST /v1/admin/payments/:id/resolve') ? [['Resolve', (p) => resolveForm(p.id)]] : []),
    ], list.data),
    // Money on chain that reached no open payment: the operator's decision is a record (and
    // evidence); sending it back or crediting it is done by a payout or by finance (README).
    el('h3', {}, 'Chain exceptions: money that reached no open payment'),
    chain.data.length ? '' : el('p', { class: 'muted' }, 'None open.'),
    chain.data.length ? table([
      ['Exception', (e) => el('code', {}, e.id)], ['Reason', (e) => e.code + (e.detail && e.detail.reason ? ' (' + e.detail.reason + ')' : '')],
      ['Rail', (e) => e.rail], ['Amount', (e) => e.amount], ['To', (e) => long(e.to_address)], ['Tx', (e) => long(e.tx_hash + ':' + e.log_index)],
      ['Payment', (e) => e.payment_id ? el('button', { type: 'button', class: 'secondary', on: { click: () => paymentDetail(e.payment_id) } }, e.payment_id) : ''],
      ['Seen', (e) => when(e.created_at)],
      ...(can('POST /v1/admin/chain_exceptions/:id/resolve') ? [['Resolve', chainExceptionForm]] : []),
    ], chain.data) : '',
    chain.has_more ? el('p', { class: 'muted' }, 'Showing the newest ' + chain.data.length + '; more are open (GET /v1/admin/chain_exceptions pages through them).') : '');
  }

  function chainExceptionForm(e) {
    const form = el('form', { class: 'row', 'aria-label': 'Resolve chain exception', on: { submit: async (ev) => {
      ev.preventDefault();
      const button = form.querySelector('button');
      button.disabled = true;
      try {
        await call('POST', '/v1/admin/chain_exceptions/' + e.id + '/resolve', { resolution: $('#cres-' + e.id).value, reason: $('#crr-' + e.id).value });
        await exceptions(okBox('Chain exception ' + e.id + ' resolved.'));
      } catch (err) { button.disabled = false; form.append(errorBox(err)); }
    } } }, el('select', { id: 'cres-' + e.id, 'aria-label': 'Resolution' }, ['returned', 'credited', 'written_off', 'false_positive'].map((r) => el('option', { value: r }, r))),
    el('label', { for: 'crr-' + e.id }, 'Reason'), el('input', { id: 'crr-' + e.id, required: true, size: 30 }), el('button', { type: 'submit' }, 'Resolve'));
    return form;
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
    // Re-enabling offers to resend what the endpoint missed: recover enables it and resends every
    // event of the window it subscribes to that did not reach it. The default window starts four
    // days before it was disabled: the retry schedule (about 3.1 days) of the event that failed.
    const RECOVER_DEFAULT_MS_BEFORE_DISABLED = 4 * 86400000;
    const recoverForm = (e) => {
      const from = (e.disabled_at ? Date.parse(e.disabled_at) : Date.now()) - RECOVER_DEFAULT_MS_BEFORE_DISABLED;
      const since = el('input', { type: 'text', id: 'recover-since-' + e.id, 'aria-label': 'Resend missed events since', value: new Date(from).toISOString() });
      const out = el('span', {});
      const button = el('button', { type: 'submit' }, 'Enable and resend missed');
      return el('form', { class: 'row', on: { submit: async (ev) => {
        ev.preventDefault();
        // One recovery per click: the button stays off once it worked (the endpoint is enabled).
        button.disabled = true;
        try {
          const r = await call('POST', '/v1/webhook_endpoints/' + e.id + '/recover', { since: since.value });
          out.replaceChildren(el('span', { class: 'ok', role: 'status' }, 'Enabled; ' + r.resent + ' missed event(s) resent' + (r.has_more ? ' (more: recover again from ' + r.last_event_created_at + ')' : '') + '. Reload this page to see its status.'));
          if (r.has_more) button.disabled = false;
        } catch (err) {
          button.disabled = false;
          out.replaceChildren(errorBox(err));
        }
      } } }, since, button, out);
    };
    const disabled = list.data.filter((e) => e.status === 'disabled');
    section('Webhook endpoints',
      disabled.length ? el('p', { class: 'error', role: 'status' }, disabled.length + ' endpoint(s) disabled: ' + disabled.map((e) => e.id + ' (' + (e.disabled_reason || 'disabled') + ')').join(', ')) : '',
      table([
        ['Endpoint', (e) => role === 'merchant' ? el('button', { type: 'button', class: 'secondary', on: { click: () => showDeliveries(e) } }, e.id) : el('code', {}, e.id)],
        ...(role === 'operator' ? [['Merchant', (e) => el('code', {}, e.merchant_id)]] : []),
        ['URL', (e) => e.url], ['Events', (e) => (e.enabled_events || []).join(', ')], ['Ordering', (e) => e.ordering || 'sequence'],
        ['Status', (e) => status(e.status + (e.disabled_reason ? ' (' + e.disabled_reason + ')' : ''))], ['Disabled at', (e) => e.disabled_at || ''],
        ...(role === 'merchant' ? [['Recover', (e) => e.status === 'disabled' ? recoverForm(e) : '']] : []),
      ], list.data), deliveries);
  }

  async function reconciliation() {
    const runs = role === 'operator' ? (await call('GET', '/v1/admin/reconciliation/runs')).data : [];
    const start = el('button', { type: 'button', on: { click: async () => {
      try {
        const r = role === 'operator' ? await call('POST', '/v1/admin/reconciliation/runs', { environment: 'sandbox' }) : await call('POST', '/v1/reconciliation/runs', {});
        out.replaceChildren(el('p', { role: 'status' }, 'Run ' + r.id + ' started…'));
        for (let i = 0; i < 120; i++) {
          let run;
          try { run = await call('GET', (role === 'operator' ? '/v1/admin/reconciliation/runs/' : '/v1/reconciliation/runs/') + r.id); }
          catch (e) {
            // The run's row is written by its workflow's first step, a moment after the start is answered.
            if (i < RUN_UNRECORDED_ROUNDS_MAX && /^resource_missing/.test(e.message)) { await sleep(500); continue; }
            throw e;
          }
          if (run.status !== 'running') { showRun(run); return; }
          await sleep(500);
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
    const parts = [el('div', { class: 'row' }, role === 'merchant' || can('POST /v1/admin/reconciliation/runs') ? start : ''), out];
    if (role === 'operator') {
      const breaks = (await call('GET', '/v1/admin/reconciliation/breaks')).data;
      const resolve = (b) => el('form', { class: 'row', 'aria-label': 'Resolve break', on: { submit: async (ev) => {
        ev.preventDefault();
        try { await call('POST', '/v1/admin/reconciliation/breaks/' + b.id + '/resolve', { resolution: $('#res-' + b.id).value, reason: $('#rr-' + b.id).value }); reconciliation(); }
        catch (e) { ev.target.append(errorBox(e)); }
      } } }, el('select', { id: 'res-' + b.id, 'aria-label': 'Resolution' }, ['accepted', 'corrected', 'written_off', 'false_positive'].map((r) => el('option', { value: r }, r))),
        el('label', { for: 'rr-' + b.id }, 'Reason'), el('input', { id: 'rr-' + b.id, required: true }), el('button', { type: 'submit' }, 'Resolve'));
      parts.push(el('h3', {}, 'Open breaks'), table([['Break', (b) => el('code', {}, b.id)], ['Class', (b) => b.class], ['Merchant', (b) => b.merchant_id || ''], ['Payment', (b) => b.payment_id || b.order_reference || ''], ['Drift', (b) => b.drift + ' ' + b.asset],
        ...(can('POST /v1/admin/reconciliation/breaks/:id/resolve') ? [['Resolve', resolve]] : [])], breaks),
        el('h3', {}, 'Recent runs'), table([['Run', (r) => el('code', {}, r.id)], ['Trigger', (r) => r.trigger], ['Status', (r) => status(r.status)], ['Open breaks', (r) => r.open_breaks], ['Started', (r) => r.started_at]], runs));
    }
    section('Reconciliation', ...parts);
  }

  // Payouts, destinations, sweeps ----------------------------------------------

  // Approvals name operator ids, as the evidence does; the signed-in operator's own is marked.
  const who = (id) => (me && id === me.id ? id + ' (you)' : id);
  const approvalsText = (po) => po.approvals.length + ' of ' + po.approvals_required + (po.approvals.length ? ' (' + po.approvals.map((a) => who(a.operator)).join(', ') + ')' : '');
  // A UTC timestamp to the second, short enough for a narrow column; the exact one stays in datetime.
  const when = (iso) => (iso ? el('time', { datetime: iso }, iso.replace('T', ' ').slice(0, 19)) : '');
  // Addresses and transaction hashes may wrap anywhere; ids stay whole.
  const long = (v) => (v ? el('code', { class: 'long' }, v) : '');

  function payoutColumns(action) {
    return [
      ['Payout', (po) => el('code', {}, po.id)], ['Kind', (po) => po.kind], ['Amount', (po) => po.amount + ' ' + po.asset], ['Rail', (po) => po.rail],
      ['Destination', (po) => long(po.destination.address)],
      ['Status', (po) => el('span', {}, status(po.status), po.failure_code ? ' ' + po.failure_code : '')],
      ['Approvals', approvalsText], ['Tx', (po) => long(po.tx_hash)],
      ['Network fee', (po) => (po.network_fee ? po.network_fee.amount + ' ' + po.network_fee.asset : '')],
      ['Reference', (po) => el('span', {}, po.reference || '', po.payment_id ? [el('br'), 'refund of ', el('code', {}, po.payment_id)] : '')], ['Created (UTC)', (po) => when(po.created_at)],
      ...(action ? [['Decision', action]] : []),
    ];
  }

  /**
   * A reason input with submit buttons; the pressed button's value is the verb. The decision is
   * the signed-in operator's: the server takes who decides from the credential, never the page.
   */
  function decisionForm(label, idBase, verbs, decide) {
    const whyId = 'why-' + idBase;
    const form = el('form', { class: 'row', 'aria-label': label, on: { submit: async (ev) => {
      ev.preventDefault();
      const verb = ev.submitter && ev.submitter.value ? ev.submitter.value : verbs[0][0];
      unsay(form);
      for (const b of form.querySelectorAll('button')) b.disabled = true;
      try { await decide(verb, { reason: $('#' + whyId, form).value }, form); }
      catch (e) { say(form, errorBox(e)); }
      finally { for (const b of form.querySelectorAll('button')) b.disabled = false; }
    } } },
    el('label', { for: whyId }, 'Reason'), el('input', { id: whyId, required: true, size: 18 }),
    verbs.map(([value, text, cls]) => el('button', { type: 'submit', value, class: cls }, text)));
    return form;
  }

  async function payouts(filter = role === 'operator' ? { environment: 'sandbox' } : {}, notice) {
    const operator = role === 'operator';
    const base = operator ? '/v1/admin/payouts' : '/v1/payouts';
    const query = (f, limit) => base + '?' + new URLSearchParams({ limit: String(limit), ...Object.fromEntries(Object.entries(f).filter(([, v]) => v)) });
    const list = (await call('GET', query(filter, LIST_LIMIT))).data;
    // Live rows are found again without the status filter: a payout leaves "pending_approval" as it moves.
    const load = async () => (await call('GET', query({ environment: filter.environment }, LIVE_LIST_LIMIT))).data;
    const moving = (po) => PAYOUT_MOVING.includes(po.status);
    let tbl;
    const decide = (po) => (!PAYOUT_DECIDABLE.includes(po.status) || !can('POST /v1/admin/payouts/:id/approve') ? '' : decisionForm('Decide payout ' + po.id, po.id,
      po.status === 'pending_approval' ? [['approve', 'Approve'], ['cancel', 'Cancel payout', 'danger']] : [['cancel', 'Cancel payout', 'danger']],
      async (verb, body, form) => {
        const next = await call('POST', '/v1/admin/payouts/' + po.id + '/' + verb, body);
        const row = tr(columns, next, true);
        form.closest('tr').replaceWith(row);
        // In the new row's form when there is one, so its next answer replaces this one.
        say(row.lastChild.querySelector('form') || row.lastChild, okBox(verb === 'approve' ? 'Approved by you: ' + approvalsText(next) + ', now ' + next.status : 'Canceled by you'));
        if (moving(next)) keepCurrent(tbl, columns, load, moving);
      }));
    const columns = payoutColumns(operator ? decide : null);
    tbl = table(columns, list, true);
    const statusSel = el('select', { id: 'po-status' }, el('option', { value: '' }, 'any'), PAYOUT_STATUSES.map((s) => el('option', { value: s, selected: filter.status === s }, s)));
    const envSel = operator ? el('select', { id: 'po-env' }, ['sandbox', 'live'].map((e) => el('option', { value: e, selected: e === filter.environment }, e))) : null;
    const filters = el('form', { class: 'row', 'aria-label': 'Filter payouts', on: { submit: (ev) => { ev.preventDefault(); payouts({ status: statusSel.value, environment: envSel ? envSel.value : undefined }); } } },
      el('label', { for: 'po-status' }, 'Status'), statusSel,
      envSel ? [el('label', { for: 'po-env' }, 'Environment'), envSel] : '',
      el('button', { type: 'submit' }, 'Filter'));
    const intro = operator
      ? el('p', { class: 'muted' }, 'Above a merchant\'s threshold two different operators must approve; the same operator twice counts once.')
      : await payoutRequestForm(filter);
    section('Payouts', intro, notice || '', filters, tbl);
    if (list.some(moving)) keepCurrent(tbl, columns, load, moving);
  }

  async function payoutRequestForm(filter) {
    const [rails, dests] = await Promise.all([call('GET', '/v1/rails'), call('GET', '/v1/payout_destinations?limit=100')]);
    const railSel = el('select', { id: 'po-rail' }, rails.data.map((r) => el('option', { value: r.id }, r.id)));
    const form = el('form', { class: 'card', 'aria-labelledby': 'po-request-title', on: { submit: async (ev) => {
      ev.preventDefault();
      const button = $('button[type=submit]', form);
      button.disabled = true;
      unsay(form);
      try {
        // call() sends a fresh Idempotency-Key with every submit; the disabled button stops a double submit.
        const po = await call('POST', '/v1/payouts', { amount: $('#po-amount', form).value.trim(), rail: railSel.value, destination: $('#po-destination', form).value.trim(), reference: $('#po-reference', form).value.trim() });
        await payouts(filter, okBox('Payout ' + po.id + ' requested: ' + po.status + ', ' + po.approvals_required + ' operator approval' + (po.approvals_required > 1 ? 's' : '') + ' needed.'));
      } catch (e) { say(form, errorBox(e)); }
      finally { button.disabled = false; }
    } } },
    el('h3', { id: 'po-request-title' }, 'Request a payout'),
    el('p', { class: 'muted' }, 'Paid from your available balance to an active allowlisted address, after an operator approves.'),
    el('div', { class: 'row' },
      el('label', { for: 'po-amount' }, 'Amount'), el('input', { id: 'po-amount', required: true, inputmode: 'decimal', size: 12, autocomplete: 'off' }),
      el('label', { for: 'po-rail' }, 'Rail'), railSel),
    el('div', { class: 'row' },
      el('label', { for: 'po-destination' }, 'Destination'), el('input', { id: 'po-destination', required: true, size: 44, list: 'po-destinations', autocomplete: 'off', spellcheck: 'false' }),
      el('datalist', { id: 'po-destinations' }, dests.data.filter((d) => d.status === 'active').map((d) => el('option', { value: d.address }, d.label + ' (' + d.rail + ')')))),
    el('div', { class: 'row' },
      el('label', { for: 'po-reference' }, 'Reference'), el('input', { id: 'po-reference', required: true, size: 24 }),
      el('button', { type: 'submit' }, 'Request payout')));
    return form;
  }

  async function destinations(notice, status = 'pending_approval') {
    if (role === 'merchant') return merchantDestinations(notice);
    const list = (await call('GET', '/v1/admin/payout_destinations?status=' + encodeURIComponent(status))).data;
    const mayDecide = can('POST /v1/admin/payout_destinations/:id/approve');
    const answered = (d, verb, next) => okBox(next.address + ' (' + d.id + ') ' + (verb === 'approve' ? 'approved: usable from ' + next.usable_at : verb === 'revoke' ? 'revoked: no new payout can use it; pending ones were canceled' : 'rejected') + ' by you.');
    const decide = (d) => {
      if (!mayDecide) return el('span', { class: 'muted' }, 'an approver decides');
      // A request is approved or rejected; an approved address (cooling off or active) can be revoked at any time.
      const verbs = d.status === 'pending_approval' ? [['approve', 'Approve'], ['reject', 'Reject', 'danger']] : ['cooling_off', 'active'].includes(d.status) ? [['revoke', 'Revoke', 'danger']] : null;
      if (!verbs) return '';
      return decisionForm('Decide destination ' + d.id, d.id, verbs, async (verb, body) => {
        const next = await call('POST', '/v1/admin/payout_destinations/' + d.id + '/' + verb, body);
        await destinations(answered(d, verb, next), status);
      });
    };
    const statusSel = el('select', { id: 'pd-status', 'aria-label': 'Status', on: { change: () => destinations(null, statusSel.value) } },
      ['pending_approval', 'cooling_off', 'active', 'rejected', 'revoked'].map((s) => el('option', { value: s, selected: s === status }, s)));
    section('Payout destinations',
      el('p', { class: 'muted' }, 'Allowlist requests wait for an approver. An approved address becomes usable after the cooling-off delay; an approver can revoke it at any time.'),
      el('div', { class: 'row' }, el('label', { for: 'pd-status' }, 'Status'), statusSel),
      notice || '',
      table([
        ['Request', (d) => el('code', {}, d.id)], ['Merchant', (d) => el('code', {}, d.merchant_id)], ['Environment', (d) => (d.livemode ? 'live' : 'sandbox')],
        ['Rail', (d) => d.rail], ['Address', (d) => long(d.address)], ['Label', (d) => d.label], ['Status', (d) => status_(d.status)], ['Usable from (UTC)', (d) => when(d.usable_at)], ['Requested (UTC)', (d) => when(d.created_at)], ['Decision', decide],
      ], list, true));
  }

  async function merchantDestinations(notice) {
    const [rails, list] = await Promise.all([call('GET', '/v1/rails'), call('GET', '/v1/payout_destinations?limit=100')]);
    const railSel = el('select', { id: 'pd-rail' }, rails.data.map((r) => el('option', { value: r.id }, r.id)));
    const form = el('form', { class: 'card', 'aria-labelledby': 'pd-request-title', on: { submit: async (ev) => {
      ev.preventDefault();
      const button = $('button[type=submit]', form);
      button.disabled = true;
      unsay(form);
      try {
        const d = await call('POST', '/v1/payout_destinations', { rail: railSel.value, address: $('#pd-address', form).value.trim(), label: $('#pd-label', form).value.trim() });
        await merchantDestinations(okBox('Requested ' + d.address + ' (' + d.status + '). An operator reviews it; it is usable after approval and a cooling-off delay.'));
      } catch (e) { say(form, errorBox(e)); }
      finally { button.disabled = false; }
    } } },
    el('h3', { id: 'pd-request-title' }, 'Add a payout destination'),
    el('div', { class: 'row' },
      el('label', { for: 'pd-rail' }, 'Rail'), railSel,
      el('label', { for: 'pd-address' }, 'Address'), el('input', { id: 'pd-address', required: true, size: 44, autocomplete: 'off', spellcheck: 'false' }),
      el('label', { for: 'pd-label' }, 'Label'), el('input', { id: 'pd-label', required: true, size: 20 }),
      el('button', { type: 'submit' }, 'Request')));
    section('Payout destinations', form, notice || '', table([
      ['Destination', (d) => el('code', {}, d.id)], ['Rail', (d) => d.rail], ['Address', (d) => long(d.address)], ['Label', (d) => d.label],
      ['Status', (d) => status(d.status)], ['Usable from (UTC)', (d) => when(d.usable_at)], ['Requested (UTC)', (d) => when(d.created_at)],
    ], list.data, true));
  }

  async function sweeps() {
    const railsOf = (env) => ((info && info.rails) || []).filter((r) => (r.environments || []).includes(env)).map((r) => el('option', { value: r.id }, r.id));
    const railSel = el('select', { id: 'sweep-rail', required: true }, railsOf('sandbox'));
    const envSel = el('select', { id: 'sweep-env', on: { change: () => railSel.replaceChildren(...railsOf(envSel.value)) } }, ['sandbox', 'live'].map((e) => el('option', { value: e }, e)));
    const out = el('div', { id: 'sweep-plan' });
    const form = el('form', { class: 'card', 'aria-labelledby': 'sweep-title', on: { submit: async (ev) => {
      ev.preventDefault();
      const button = $('button[type=submit]', form);
      const min = $('#sweep-min', form).value.trim();
      button.disabled = true;
      out.replaceChildren(el('p', { role: 'status' }, 'Reading balances and fees…'));
      try { showSweep(out, await call('POST', '/v1/admin/sweeps', { environment: envSel.value, rail: railSel.value, ...(min ? { min_amount: min } : {}) })); }
      catch (e) { out.replaceChildren(errorBox(e)); }
      finally { button.disabled = false; }
    } } },
    el('h3', { id: 'sweep-title' }, 'Plan a sweep'),
    el('p', { class: 'muted' }, 'Moves the token from deposit addresses into the rail\'s treasury. The plan shows every amount and the network cost; nothing moves until you execute it.'),
    el('div', { class: 'row' },
      el('label', { for: 'sweep-env' }, 'Environment'), envSel,
      el('label', { for: 'sweep-rail' }, 'Rail'), railSel,
      el('label', { for: 'sweep-min' }, 'Minimum per address'), el('input', { id: 'sweep-min', inputmode: 'decimal', size: 12, autocomplete: 'off' }),
      el('button', { type: 'submit' }, 'Plan sweep')));
    section('Sweeps', form, out);
  }

  function showSweep(out, s) {
    const n = s.native_asset;
    const parts = [
      el('h3', {}, 'Sweep ', el('code', {}, s.id)),
      el('p', {}, 'Status ', status(s.status), ' · ', s.rail, ' (', s.environment, ') · into treasury ', el('code', {}, s.treasury_address),
        ' · planned by ', s.planned_by, s.executed_by ? ' · executed by ' + s.executed_by : ''),
      el('p', {}, 'Total ', el('strong', {}, s.total_amount + ' ' + s.asset), ' from ', String(s.items.length), s.items.length === 1 ? ' address' : ' addresses',
        ' · gas top-ups ', s.gas_top_up + ' ' + n, ' · estimated network cost ', s.estimated_fee + ' ' + n,
        s.fees_paid !== null && s.fees_paid !== undefined ? ' · network fees paid ' + s.fees_paid + ' ' + n : ''),
      el('p', { class: 'muted' }, 'How gas gets there: ', s.gas_strategy),
      table([
        ['Address', (i) => long(i.address)], ['Index', (i) => i.address_index], ['Amount', (i) => i.amount + ' ' + s.asset],
        ['Gas top-up', (i) => i.gas_top_up + ' ' + n], ['Estimated fee', (i) => i.estimated_fee + ' ' + n],
        ['Result', (i) => (i.result ? el('span', {}, status(i.result.status), i.result.error ? ' ' + i.result.error : '') : '—')],
        ['Gas tx', (i) => long(i.result && i.result.gas_tx_hash)], ['Sweep tx', (i) => long(i.result && i.result.sweep_tx_hash)],
        ['Fee paid', (i) => (i.result ? i.result.fee_paid + ' ' + n : '')],
      ], s.items),
    ];
    if (s.status === 'planned' && s.items.length) {
      const form = el('form', { class: 'row', 'aria-label': 'Execute sweep ' + s.id, on: { submit: async (ev) => {
        ev.preventDefault();
        unsay(form);
        $('button', form).disabled = true;
        try { await followSweep(out, await call('POST', '/v1/admin/sweeps/' + s.id + '/execute', {})); }
        catch (e) { say(form, errorBox(e)); $('button', form).disabled = false; }
      } } },
      el('button', { type: 'submit' }, 'Execute sweep'));
      parts.push(form);
    } else if (s.status === 'planned') {
      parts.push(el('p', { class: 'muted' }, 'Nothing to sweep: no address holds at least the minimum.'));
    }
    out.replaceChildren(...parts);
  }

  async function followSweep(out, s) {
    showSweep(out, s);
    for (let round = 0; round < POLL_ROUNDS_MAX && !SWEEP_SETTLED.includes(s.status); round++) {
      await sleep(POLL_INTERVAL_MS);
      if (!out.isConnected) return;
      // A failed read is shown and retried: the sweep runs on whether or not this page watches it.
      try { s = await call('GET', '/v1/admin/sweeps/' + s.id); } catch (e) { say(out, errorBox(e)); continue; }
      showSweep(out, s);
    }
  }

  // Operators and the signed-in operator's account ------------------------------

  /** A secret shown exactly once, with what to do with it. */
  function onceBox(text, secret, id) {
    return el('div', { class: 'card', role: 'status' }, el('p', { class: 'ok' }, text), el('p', {}, el('code', { id, class: 'long' }, secret)),
      el('p', { class: 'muted' }, 'Copy it now: it is stored hashed and cannot be shown again.'));
  }

  async function operators(notice) {
    const list = (await call('GET', '/v1/admin/operators')).data;
    const roleSel = (id, current) => el('select', { id, 'aria-label': 'Role' }, ROLES.map((r) => el('option', { value: r, selected: r === current }, r)));
    const create = el('form', { class: 'card', 'aria-labelledby': 'opc-title', on: { submit: async (ev) => {
      ev.preventDefault();
      unsay(create);
      const body = { email: $('#opc-email', create).value.trim(), name: $('#opc-name', create).value.trim(), role: $('#opc-role', create).value };
      const password = $('#opc-password', create).value;
      if (password) body.password = password;
      try {
        const o = await call('POST', '/v1/admin/operators', body);
        await operators(onceBox('Operator ' + o.id + ' (' + o.role + ') created. Their personal token:', o.token, 'new-operator-token'));
      } catch (e) { say(create, errorBox(e)); }
    } } },
    el('h3', { id: 'opc-title' }, 'Add an operator'),
    el('p', { class: 'muted' }, 'Approvers and admins sign in with a second factor: they enrol it under "My account", signed in with their personal token.'),
    el('div', { class: 'row' },
      el('label', { for: 'opc-email' }, 'Email'), el('input', { id: 'opc-email', type: 'email', required: true, size: 28, autocomplete: 'off' }),
      el('label', { for: 'opc-name' }, 'Name'), el('input', { id: 'opc-name', required: true, size: 16 }),
      el('label', { for: 'opc-role' }, 'Role'), roleSel('opc-role', 'viewer')),
    el('div', { class: 'row' },
      el('label', { for: 'opc-password' }, 'Console password (optional, 12+ characters)'), el('input', { id: 'opc-password', type: 'password', size: 24, autocomplete: 'new-password' }),
      el('button', { type: 'submit' }, 'Create operator')));

    const act = (o, label, path, body, done) => el('button', { type: 'button', class: label === 'Disable' ? 'danger' : 'secondary', on: { click: async (ev) => {
      const cell = ev.target.closest('td');
      try { const r = await call('POST', path, body()); await operators(done(r)); }
      catch (e) { say(cell, errorBox(e)); }
    } } }, label);
    const actions = (o) => {
      if (o.status !== 'active') return el('span', { class: 'muted' }, 'disabled');
      const self = me && o.id === me.id;
      return el('div', {},
        el('div', { class: 'row' }, roleSel('role-' + o.id, o.role),
          act(o, 'Change role', '/v1/admin/operators/' + o.id, () => ({ role: $('#role-' + o.id).value }), (r) => okBox(r.id + ' is now ' + r.role + '.'))),
        el('div', { class: 'row' },
          act(o, 'New token', '/v1/admin/operators/' + o.id + '/tokens', () => ({ label: 'console' }), (r) => onceBox('New personal token ' + r.id + ' for ' + o.id + ' (' + r.role + '):', r.token, 'new-operator-token')),
          o.second_factor ? act(o, 'Reset second factor', '/v1/admin/operators/' + o.id + '/reset_second_factor', () => ({}), () => okBox(o.id + ' enrols a new authenticator at their next token sign-in; their sessions ended.')) : '',
          self ? '' : act(o, 'Disable', '/v1/admin/operators/' + o.id + '/disable', () => ({ reason: 'disabled in the console' }), () => okBox(o.id + ' is disabled: their tokens and sessions stop working now.'))));
    };
    section('Operators', notice || '', create, table([
      ['Operator', (o) => el('code', {}, o.id)], ['Name', (o) => o.name + (me && o.id === me.id ? ' (you)' : '')], ['Email', (o) => o.email], ['Role', (o) => o.role],
      ['Status', (o) => status(o.status)], ['Second factor', (o) => o.second_factor || 'none'], ['Last seen (UTC)', (o) => when(o.last_seen_at)], ['Actions', actions],
    ], list, true));
  }

  async function account(notice) {
    me = await call('GET', '/v1/admin/operators/me');
    const out = el('div', { id: 'totp-enrol' });
    const enrol = el('button', { type: 'button', on: { click: async () => {
      try {
        const e = await call('POST', '/v1/admin/operators/me/totp');
        const confirm = el('form', { class: 'row', 'aria-label': 'Confirm authenticator', on: { submit: async (ev) => {
          ev.preventDefault();
          unsay(confirm);
          try { await call('POST', '/v1/admin/operators/me/totp/confirm', { code: $('#totp-code', confirm).value.trim() }); await account(okBox('Authenticator enrolled: console sign-in now asks for its code.')); }
          catch (err) { say(confirm, errorBox(err)); }
        } } }, el('label', { for: 'totp-code' }, 'Code from the app'), el('input', { id: 'totp-code', inputmode: 'numeric', pattern: '[0-9]{6}', required: true, size: 8, autocomplete: 'one-time-code' }),
        el('button', { type: 'submit' }, 'Confirm'));
        out.replaceChildren(
          el('p', {}, 'Scan this code with an authenticator app (RFC 6238, 6 digits, 30 s), then type the code it shows.'),
          el('img', { src: 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(e.qr_svg), alt: 'QR code of the authenticator secret', width: 200, height: 200 }),
          el('p', {}, 'Or type the secret: ', el('code', { id: 'totp-secret' }, e.secret)), confirm);
      } catch (err) { out.replaceChildren(errorBox(err)); }
    } } }, me.second_factor ? 'Replace authenticator' : 'Set up authenticator');
    section('My account', notice || '',
      el('div', { class: 'card' },
        el('p', {}, el('strong', {}, me.name), ' · ', me.email, ' · ', el('code', {}, me.id)),
        el('p', {}, 'Role ', el('strong', {}, me.role), me.credential.role !== me.role ? ' (this credential: ' + me.credential.role + ')' : '', ' · signed in with ', me.credential.kind === 'session' ? 'password' + (me.second_factor ? ' and authenticator' : '') : 'a personal token'),
        el('p', {}, 'Second factor: ', me.second_factor || 'none', ['approver', 'admin'].includes(me.role) && !me.second_factor ? ' — required for console sign-in with a password in this role.' : ''),
        // Enrolment from a session needs a second factor already, so a first enrolment is done with a token.
        el('div', { class: 'row' }, enrol), out));
  }

  // Shell ---------------------------------------------------------------------

  function sections() {
    if (role === 'merchant') {
      return [['Payments', () => payments()], ['Payouts', () => payouts()], ['Payout destinations', () => destinations()], ['Events', events], ['Webhooks', webhooks], ['Reconciliation', reconciliation], ['Ledger', () => ledger()]];
    }
    return [['Merchants', merchants], ['Payments', () => payments()], ['Exceptions', exceptions], ['Payouts', () => payouts()], ['Payout destinations', () => destinations()],
      ...(can('POST /v1/admin/sweeps') ? [['Sweeps', sweeps]] : []),
      ['Webhooks', webhooks], ['Reconciliation', reconciliation], ['Ledger', () => ledger()], ['Evidence', evidence],
      ...(can('GET /v1/admin/operators') ? [['Operators', () => operators()]] : []), ['My account', () => account()]];
  }

  async function signOut() {
    // A session ends on the server too; a token simply leaves this tab.
    if (!token) { try { await send('POST', '/v1/console/sessions/end'); } catch { /* already ended */ } }
    sessionStorage.removeItem('stablerail.token');
    location.reload();
  }

  function nav() {
    const n = $('#nav');
    n.replaceChildren(...sections().map(([name, fn]) => el('button', { type: 'button', on: { click: async (ev) => {
      for (const b of n.querySelectorAll('button')) b.removeAttribute('aria-current');
      ev.target.setAttribute('aria-current', 'page');
      try { await fn(); } catch (e) { section(name, errorBox(e)); }
    } } }, name)), el('button', { type: 'button', id: 'sign-out', on: { click: signOut } }, 'Sign out'));
    $('#who').textContent = role === 'operator' ? me.name + ' · ' + me.role + (token ? ' · personal token' : '') : 'merchant key ' + token.slice(0, 12) + '…';
  }

  async function enter() {
    nav();
    await sections()[0][1]();
    $('#nav button').setAttribute('aria-current', 'page');
  }

  async function asOperator() {
    me = await send('GET', '/v1/admin/operators/me');
    if (me.csrf_token) csrf = me.csrf_token;
    info = await send('GET', '/v1/admin/info');
    role = 'operator';
    await enter();
  }

  async function signInWithKey(t) {
    token = t;
    csrf = null;
    if (/^sk_(test|live)_/.test(t)) {
      await send('GET', '/v1/payments?limit=1');
      role = 'merchant';
      sessionStorage.setItem('stablerail.token', t);
      await enter();
    } else {
      await asOperator();
      sessionStorage.setItem('stablerail.token', t);
    }
  }

  async function signInWithPassword() {
    token = '';
    const body = { email: $('#op-email').value.trim(), password: $('#op-password').value };
    const code = $('#op-totp').value.trim();
    if (code) body.totp = code;
    // No Idempotency-Key: a sign-in's answer carries a CSRF token that must never be stored.
    const s = await send('POST', '/v1/console/sessions', body, { idempotent: false });
    csrf = s.csrf_token;
    $('#op-password').value = '';
    await asOperator();
  }

  const notice = sessionStorage.getItem('stablerail.notice');
  if (notice) { $('#signin-op-error').textContent = notice; sessionStorage.removeItem('stablerail.notice'); }
  $('#signin').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try { await signInWithKey($('#token').value.trim()); } catch (e) { token = ''; $('#signin-error').textContent = 'Sign-in failed: ' + e.message; }
  });
  $('#signin-op').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try { await signInWithPassword(); }
    catch (e) {
      $('#signin-op-error').textContent = 'Sign-in failed: ' + e.message + (e.code === 'second_factor_required' ? ' (sign in with your personal token below and set it up under "My account")' : '');
    }
  });
  // A key kept in this tab, else a session cookie that may still be valid (a reload keeps you in).
  if (token) signInWithKey(token).catch(() => { token = ''; sessionStorage.removeItem('stablerail.token'); });
  else asOperator().catch(() => { /* not signed in: the sign-in forms stay */ });
  window.stablerailConsole = { paymentDetail };
})();
