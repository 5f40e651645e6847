// The operator and merchant console at /console: a small static page and script over the
// same JSON API (no framework, nothing to build). Operators sign in with their own account
// (an HttpOnly session cookie plus a CSRF token held in page memory); a key or personal token
// stays in sessionStorage and goes out only as a Bearer header to this origin.
import type { Express } from 'express';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CONSOLE_JS = readFileSync(fileURLToPath(new URL('./console.js', import.meta.url)), 'utf8');

const CSS = `
:root{--fg:#111827;--muted:#4b5563;--line:#d1d5db;--bg:#f9fafb;--accent:#1d4ed8;--bad:#b91c1c;--ok:#047857;--warn:#8a4b00}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;gap:1rem;align-items:center;padding:.6rem 1rem;background:#111827;color:#fff;flex-wrap:wrap}
header h1{font-size:1rem;margin:0}header nav{display:flex;gap:.25rem;flex-wrap:wrap}
header button{background:transparent;color:#fff;border:1px solid transparent}header button[aria-current="page"]{border-color:#fff}
main{padding:1rem;max-width:75rem;margin:0 auto}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--line);vertical-align:top;font-size:14px}
th{background:#f3f4f6}code{font:13px ui-monospace,monospace}
button{font:inherit;padding:.35rem .7rem;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}
button.secondary{background:#fff;color:var(--accent)}button.danger{background:var(--bad);border-color:var(--bad)}
button:focus-visible,input:focus-visible,select:focus-visible,a:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
input,select,textarea{font:inherit;padding:.35rem;border:1px solid #6b7280;border-radius:6px;background:#fff;color:var(--fg)}
label{font-weight:600;margin-right:.25rem}.row{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap;margin:.5rem 0}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:1rem;margin:.75rem 0}
.error{color:var(--bad);font-weight:600}.ok{color:var(--ok);font-weight:600}.muted{color:var(--muted)}
.status{font-weight:600}.status-requires_review,.status-expired,.status-canceled{color:var(--bad)}.status-confirmed,.status-recognized{color:var(--ok)}
.status-failed,.status-rejected{color:var(--bad)}.status-completed,.status-swept,.status-active,.status-settled{color:var(--ok)}
.status-revoked{color:var(--bad)}
.status-pending_approval,.status-approved,.status-signing,.status-broadcast,.status-cooling_off,.status-planned,.status-running{color:var(--warn)}
td code.long{display:inline-block;min-width:14ch;word-break:break-all}[hidden]{display:none!important}
`;

export function mountConsole(app: Express): void {
  app.get('/console/app.js', (_req, res) => {
    res.type('application/javascript').set('Cache-Control', 'no-cache').send(CONSOLE_JS);
  });
  app.get(['/console', '/console/'], (_req, res) => {
    res.set('Content-Security-Policy', "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    res.type('html').send(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Stablerail console</title><style>${CSS}</style></head>
<body>
<header><h1>Stablerail console</h1><nav id="nav" aria-label="Sections"></nav><span id="who" class="muted"></span></header>
<main id="main" tabindex="-1">
  <div id="signin-panel">
  <form id="signin-op" class="card" aria-labelledby="signin-op-title">
    <h2 id="signin-op-title">Operator sign-in</h2>
    <p class="muted">Your own account. Approvers and admins also give the 6-digit code from their authenticator app.</p>
    <div class="row"><label for="op-email">Email</label><input id="op-email" type="email" autocomplete="username" size="30" required></div>
    <div class="row"><label for="op-password">Password</label><input id="op-password" type="password" autocomplete="current-password" size="30" required></div>
    <div class="row"><label for="op-totp">Code</label><input id="op-totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" size="8"><button type="submit">Sign in</button></div>
    <p id="signin-op-error" class="error" role="alert"></p>
  </form>
  <form id="signin" class="card" aria-labelledby="signin-title">
    <h2 id="signin-title">Sign in with a key</h2>
    <p class="muted">Merchants use a secret key (sk_test_… or sk_live_…); an operator may use a personal token (opk_…), for instance to enrol a second factor. It is kept in this tab only.</p>
    <div class="row"><label for="token">Key or token</label><input id="token" type="password" autocomplete="off" size="50" required><button type="submit">Sign in</button></div>
    <p id="signin-error" class="error" role="alert"></p>
  </form>
  </div>
</main>
<script src="/console/app.js"></script>
</body></html>`);
  });
}
