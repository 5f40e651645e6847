// Operators are people: every admin call is one operator's, by their own credential. Two-person
// approval needs two accounts; a name in a body or header is refused; roles are enforced; a
// disabled operator is locked out on the next request; console sessions carry a second factor,
// HttpOnly SameSite=Strict cookies and CSRF tokens; the evidence names operator and credential.
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import { ADMIN_OPERATOR_ID, ADMIN_TOKEN, admin, api, eventually, h, newMerchant, newOperator } from './harness.js';
import { allowlist, freshAddress, seedAvailable, USDT } from './payout-helpers.js';

async function evidenceOf(subject: string, kind: string) {
  const { rows } = await h().stack.pool.query(`SELECT actor, payload FROM evidence WHERE subject = $1 AND kind = $2 ORDER BY seq`, [subject, kind]);
  return rows as Array<{ actor: string; payload: Record<string, unknown> }>;
}

function totpNow(secret: string, email: string, offsetMs = 0): string {
  return new OTPAuth.TOTP({ issuer: 'Stablerail', label: email, algorithm: 'SHA1', digits: 6, period: 30, secret: OTPAuth.Secret.fromBase32(secret) }).generate({ timestamp: Date.now() + offsetMs });
}

describe('operators are people', function () {
  this.timeout(90_000);

  it('two approvals need two operator accounts: no name in a body or header counts, the same one twice is refused, a viewer is forbidden; evidence names each operator and credential', async () => {
    const alice = await newOperator('approver', 'alice-ops');
    const bob = await newOperator('approver', 'bob-ops');
    const vic = await newOperator('viewer', 'vic-ops');
    const m = await newMerchant({ name: 'Two-person merchant' });
    await seedAvailable(m.merchantId, 50n * USDT);
    assert.equal((await admin('POST', `/v1/admin/merchants/${m.merchantId}/payout_settings`, { environment: 'sandbox', dual_approval_above: '1' })).status, 200);
    const dest = freshAddress();
    await allowlist(m.key, dest);
    const po = await api('POST', '/v1/payouts', { key: m.key, idem: 'two-person-1', body: { amount: '5', rail: 'usdt-erc20', destination: dest, reference: 'two-person' } });
    assert.equal(po.status, 201, JSON.stringify(po.body));
    assert.equal(po.body.approvals_required, 2);
    const approve = `/v1/admin/payouts/${po.body.id}/approve`;

    assert.equal((await alice.call('POST', approve, { reason: 'invoice checked' })).status, 200);
    // The same person under another name: refused before anything is recorded.
    const asBob = await alice.call('POST', approve, { reason: 'as bob', operator: 'bob' });
    assert.equal(asBob.status, 400);
    assert.equal(asBob.body.error.code, 'parameter_unknown');
    const header = await api('POST', approve, { key: alice.token, body: { reason: 'as bob' }, headers: { 'stablerail-operator': 'bob' } });
    assert.equal(header.status, 400);
    assert.equal(header.body.error.code, 'parameter_unknown');
    assert.equal(header.body.error.param, 'Stablerail-Operator');
    const twice = await alice.call('POST', approve, { reason: 'again' });
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error.code, 'operator_already_approved');
    // A second token of the same operator is still the same operator.
    const aliceToken2 = await admin('POST', `/v1/admin/operators/${alice.id}/tokens`, { label: 'second laptop' });
    assert.equal(aliceToken2.status, 201, JSON.stringify(aliceToken2.body));
    const viaToken2 = await api('POST', approve, { key: aliceToken2.body.token, body: { reason: 'from the other laptop' } });
    assert.equal(viaToken2.status, 409);
    assert.equal(viaToken2.body.error.code, 'operator_already_approved');
    const viewer = await vic.call('POST', approve, { reason: 'I can only look' });
    assert.equal(viewer.status, 403);
    assert.equal(viewer.body.error.code, 'role_forbidden');
    assert.equal((await admin('GET', `/v1/admin/payouts/${po.body.id}`)).body.status, 'pending_approval');

    const second = await bob.call('POST', approve, { reason: 'second pair of eyes' });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.ok(['approved', 'signing', 'broadcast', 'confirmed'].includes(second.body.status), second.body.status);
    assert.deepEqual(second.body.approvals.map((a: { operator: string }) => a.operator).sort(), [alice.id, bob.id].sort());

    const ev = await evidenceOf(po.body.id, 'payout.approval');
    assert.deepEqual(ev.map((e) => e.actor).sort(), [`${alice.id}@${alice.tokenId}`, `${bob.id}@${bob.tokenId}`].sort());
    for (const e of ev) assert.match(String(e.payload.credential_id), /^otk_/);
    await admin('POST', `/v1/admin/payouts/${po.body.id}/cancel`, { reason: 'test done' }).catch(() => undefined);
  });

  it('a viewer reads but cannot resolve; each route answers by the role table', async () => {
    const vic = await newOperator('viewer', 'vic-reader');
    assert.equal((await vic.call('GET', '/v1/admin/payments')).status, 200);
    const resolve = await vic.call('POST', '/v1/admin/payments/pay_000000000000000000000000/resolve', { decision: 'accept', reason: 'no' });
    assert.equal(resolve.status, 403);
    assert.equal(resolve.body.error.code, 'role_forbidden');
    const ops = await newOperator('operator', 'olga-ops');
    assert.equal((await ops.call('POST', '/v1/admin/merchants', { name: 'not mine to create' })).status, 403);
    assert.equal((await ops.call('GET', '/v1/admin/operators')).status, 403);
    // A token never carries more than its operator.
    const over = await admin('POST', `/v1/admin/operators/${ops.id}/tokens`, { role: 'admin' });
    assert.equal(over.status, 400);
    assert.equal(over.body.error.code, 'role_exceeds_operator');
    // And a token may carry less: a viewer token of an operator.
    const less = await admin('POST', `/v1/admin/operators/${ops.id}/tokens`, { role: 'viewer', label: 'read-only script' });
    assert.equal(less.status, 201);
    const lessCall = await api('POST', '/v1/admin/payments/pay_000000000000000000000000/resolve', { key: less.body.token, body: { decision: 'accept', reason: 'no' } });
    assert.equal(lessCall.body.error.code, 'role_forbidden');
  });

  it('a disabled operator\'s token is refused on the next request; a revoked token too; both are evidence', async () => {
    const dave = await newOperator('operator', 'dave-ops');
    assert.equal((await dave.call('GET', '/v1/admin/info')).status, 200);
    const other = await admin('POST', `/v1/admin/operators/${dave.id}/tokens`, { label: 'spare' });
    const revoked = await admin('POST', `/v1/admin/operator_tokens/${other.body.id}/revoke`);
    assert.equal(revoked.status, 200);
    assert.equal((await api('GET', '/v1/admin/info', { key: other.body.token })).status, 401);
    const disabled = await admin('POST', `/v1/admin/operators/${dave.id}/disable`, { reason: 'left the company' });
    assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
    assert.equal(disabled.body.status, 'disabled');
    const after = await dave.call('GET', '/v1/admin/info');
    assert.equal(after.status, 401);
    assert.equal(after.body.error.code, 'operator_token_invalid');
    const ev = await evidenceOf(dave.id, 'operator.disabled');
    assert.equal(ev.length, 1);
    assert.match(ev[0]!.actor, new RegExp(`^${ADMIN_OPERATOR_ID}@otk_`));
    assert.equal((await evidenceOf(dave.id, 'operator.token_revoked')).length, 1);
    // No shared token exists: the old suite constant and a made-up one are both refused.
    assert.equal((await api('GET', '/v1/admin/info', { key: 'adm_test_token_for_the_suite_only' })).status, 401);
    assert.notEqual(ADMIN_TOKEN, '');
  });

  it('console sign-in: password and TOTP for an approver, a wrong code refused, HttpOnly SameSite=Strict cookie, CSRF on every change, sign-out ends it, failures rate limited', async () => {
    const ann = await newOperator('approver', 'ann-console');
    const email = (await admin('GET', '/v1/admin/operators')).body.data.find((o: { id: string }) => o.id === ann.id).email as string;
    assert.equal((await admin('POST', `/v1/admin/operators/${ann.id}/password`, { password: 'correct horse battery staple' })).status, 200);
    const signIn = (body: Record<string, string>) => fetch(`${h().stack.apiUrl}/v1/console/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, ...body }) });

    // An approver without a second factor cannot sign in at all.
    let r = await signIn({ password: 'correct horse battery staple' });
    assert.equal(r.status, 403);
    assert.equal((await r.json()).error.code, 'second_factor_required');
    // Enrol with her own token: the seed, its URI and a QR code, then a first code confirms.
    const enrol = await ann.call('POST', '/v1/admin/operators/me/totp');
    assert.equal(enrol.status, 200, JSON.stringify(enrol.body));
    assert.match(enrol.body.otpauth_uri, /^otpauth:\/\/totp\/Stablerail:/);
    assert.match(enrol.body.qr_svg, /<svg/);
    const confirmed = await ann.call('POST', '/v1/admin/operators/me/totp/confirm', { code: totpNow(enrol.body.secret, email) });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    assert.equal(confirmed.body.second_factor, 'totp');

    // The enrolment's code is spent; the app's next one (30 s on, inside the accepted window) signs in.
    const good = totpNow(enrol.body.secret, email, 30_000);
    const wrong = good === '000000' ? '111111' : '000000';
    r = await signIn({ password: 'correct horse battery staple', totp: wrong });
    assert.equal(r.status, 401);
    assert.equal((await r.json()).error.code, 'sign_in_failed');
    r = await signIn({ password: 'correct horse battery staple', totp: good });
    assert.equal(r.status, 201);
    const session = await r.json();
    const cookie = r.headers.get('set-cookie')!;
    // RFC 6238 §5.2: the same code never signs in twice, even with the right password.
    const replay = await signIn({ password: 'correct horse battery staple', totp: good });
    assert.equal(replay.status, 401);
    assert.equal((await replay.json()).error.code, 'sign_in_failed');
    assert.match(cookie, /^stablerail_session=oss_[0-9A-Za-z]{40};/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const jar = cookie.split(';')[0]!;

    const me = await fetch(`${h().stack.apiUrl}/v1/admin/operators/me`, { headers: { cookie: jar } });
    assert.equal(me.status, 200);
    assert.equal((await me.json()).id, ann.id);
    // A state-changing call on the session without its CSRF token is refused; with it, it runs.
    const run = (headers: Record<string, string>) => fetch(`${h().stack.apiUrl}/v1/admin/reconciliation/runs`, { method: 'POST', headers: { cookie: jar, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ environment: 'sandbox' }) });
    const noCsrf = await run({});
    assert.equal(noCsrf.status, 403);
    assert.equal((await noCsrf.json()).error.code, 'csrf_token_invalid');
    const withCsrf = await run({ 'x-csrf-token': session.csrf_token });
    assert.equal(withCsrf.status, 201, await withCsrf.clone().text());
    const runId = (await withCsrf.json()).id;
    // The run records who asked, by the session's credential (written by the run's first activity).
    const requestedBy = await eventually(async () => (await h().stack.pool.query(`SELECT requested_by FROM reconciliation_runs WHERE id = $1`, [runId])).rows[0]?.requested_by as string | null, 15_000, 100);
    assert.match(requestedBy, new RegExp(`^${ann.id}@oss_`));

    const out = await fetch(`${h().stack.apiUrl}/v1/console/sessions/end`, { method: 'POST', headers: { cookie: jar, 'x-csrf-token': session.csrf_token } });
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie')!, /Max-Age=0/);
    assert.equal((await fetch(`${h().stack.apiUrl}/v1/admin/operators/me`, { headers: { cookie: jar } })).status, 401);
    const signedIn = await evidenceOf(ann.id, 'operator.signed_in');
    assert.equal(signedIn.length, 1);
    assert.match(signedIn[0]!.actor, new RegExp(`^${ann.id}@oss_`));

    // Failed sign-ins are counted per account: after five, even the right password waits.
    // Failures so far: the wrong code and the replayed one.
    for (let i = 0; i < 2; i++) assert.equal((await signIn({ password: "wrong password!!", totp: good })).status, 401);
    r = await signIn({ password: 'correct horse battery staple', totp: totpNow(enrol.body.secret, email, -30_000) });
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '900', 'says when to come back');
    assert.equal((await r.json()).error.code, 'sign_in_rate_limited');
  });
});

describe('operator records (Prisma repository, evidence in the same transaction)', function () {
  this.timeout(60_000);
  const pool = () => h().stack.pool;
  const count = async (sql: string, args: unknown[]) => Number((await pool().query(sql, args)).rows[0].n);

  it('a taken email is 409 and leaves no row, token or evidence; two racing creations of one email make one operator', async () => {
    const email = `race-${Date.now()}@suite.test`;
    const results = await Promise.allSettled([1, 2, 3].map(() => admin('POST', '/v1/admin/operators', { email, role: 'viewer' })));
    const statuses = results.map((r) => (r.status === 'fulfilled' ? r.value.status : 0)).sort();
    assert.deepEqual(statuses, [201, 409, 409]);
    const losers = results.filter((r) => r.status === 'fulfilled' && r.value.status === 409);
    for (const r of losers) assert.equal((r as PromiseFulfilledResult<{ body: { error: { code: string } } }>).value.body.error.code, 'operator_email_taken');
    assert.equal(await count(`SELECT count(*) AS n FROM operators WHERE email = $1`, [email]), 1);
    const { rows } = await pool().query(`SELECT id FROM operators WHERE email = $1`, [email]);
    assert.equal(await count(`SELECT count(*) AS n FROM operator_tokens WHERE operator_id = $1`, [rows[0].id]), 1);
    assert.equal(await count(`SELECT count(*) AS n FROM evidence WHERE payload->>'email' = $1 AND kind = 'operator.created'`, [email]), 1);
    const { verifyEvidence } = await import('../activities/evidence.js');
    assert.equal((await verifyEvidence(pool())).ok, true);
  });

  it('a demotion lowers the tokens above the new role and no other; the evidence records before and after', async () => {
    const op = await newOperator('admin', 'demoted');
    const approverToken = await admin('POST', `/v1/admin/operators/${op.id}/tokens`, { role: 'approver', label: 'approver' });
    const viewerToken = await admin('POST', `/v1/admin/operators/${op.id}/tokens`, { role: 'viewer', label: 'viewer' });
    assert.equal(approverToken.status, 201);
    const res = await admin('POST', `/v1/admin/operators/${op.id}`, { role: 'operator' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.role, 'operator');
    const tokens = await admin('GET', `/v1/admin/operators/${op.id}/tokens`);
    const roles = Object.fromEntries(tokens.body.data.map((t: { id: string; role: string }) => [t.id, t.role]));
    assert.equal(roles[op.tokenId], 'operator');
    assert.equal(roles[approverToken.body.id], 'operator');
    assert.equal(roles[viewerToken.body.id], 'viewer');
    const ev = await evidenceOf(op.id, 'operator.updated');
    assert.deepEqual(ev.at(-1)!.payload, { before: { role: 'admin', name: 'demoted' }, after: { role: 'operator', name: 'demoted' } });
    // The demoted token's next request carries the lower role: an admin-only route is refused.
    assert.equal((await op.call('POST', '/v1/admin/operators', { email: `x-${Date.now()}@suite.test`, role: 'viewer' })).status, 403);
  });

  it('the last active admin cannot step down (and no admin can disable themself); with a second admin one can', async () => {
    const other = await newOperator('admin', 'second-admin');
    // Leave the suite's admin and `other` as the only active admins (earlier tests made others).
    const { rows } = await h().stack.pool.query(`SELECT id FROM operators WHERE role = 'admin' AND status = 'active' AND id <> ALL($1)`, [[ADMIN_OPERATOR_ID, other.id]]);
    for (const r of rows) assert.equal((await admin('POST', `/v1/admin/operators/${r.id}`, { role: 'operator' })).status, 200);
    // Two admins: one may step down, and the other is then the last.
    const down = await other.call('POST', `/v1/admin/operators/${other.id}`, { role: 'approver' });
    assert.equal(down.status, 200, JSON.stringify(down.body));
    const before = (await evidenceOf(ADMIN_OPERATOR_ID, 'operator.updated')).length + (await evidenceOf(ADMIN_OPERATOR_ID, 'operator.disabled')).length;
    // Only the last admin itself could remove the last admin (any other caller is an admin too).
    const refused = await admin('POST', `/v1/admin/operators/${ADMIN_OPERATOR_ID}`, { role: 'viewer' });
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'last_admin');
    assert.equal(refused.body.error.param, 'id');
    assert.equal((await admin('POST', `/v1/admin/operators/${ADMIN_OPERATOR_ID}/disable`, { reason: 'leaving' })).body.error.code, 'operator_self_disable');
    const me = (await admin('GET', '/v1/admin/operators')).body.data.find((o: { id: string }) => o.id === ADMIN_OPERATOR_ID);
    assert.deepEqual([me.role, me.status], ['admin', 'active']);
    assert.equal((await evidenceOf(ADMIN_OPERATOR_ID, 'operator.updated')).length + (await evidenceOf(ADMIN_OPERATOR_ID, 'operator.disabled')).length, before, 'a refusal records nothing');
    assert.equal((await admin('GET', '/v1/admin/info')).status, 200);
    // Renaming the last admin is not a removal.
    assert.equal((await admin('POST', `/v1/admin/operators/${ADMIN_OPERATOR_ID}`, { name: 'First admin' })).status, 200);
  });

  it('an expired token and an idle console session are refused; signing out twice records one sign-out', async () => {
    const { authenticateOperatorToken, authenticateSession, setOperatorPassword, signIn, signOut, SESSION_IDLE_S } = await import('../activities/operators.js');
    const op = await newOperator('viewer', 'clocked');
    const short = await admin('POST', `/v1/admin/operators/${op.id}/tokens`, { label: 'short', expires_in_s: 3600 });
    assert.equal(short.status, 201);
    assert.ok(await authenticateOperatorToken(pool(), short.body.token));
    await pool().query(`UPDATE operator_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [short.body.id]);
    assert.equal(await authenticateOperatorToken(pool(), short.body.token), undefined);

    const { rows } = await pool().query(`SELECT email FROM operators WHERE id = $1`, [op.id]);
    await setOperatorPassword(pool(), op.id, 'correct horse battery', `${ADMIN_OPERATOR_ID}@test`);
    const s = await signIn(pool(), h().masterKey, { email: rows[0].email, password: 'correct horse battery', clientAddress: '198.51.100.7' });
    const live = await authenticateSession(pool(), s.secret);
    assert.equal(live?.operatorId, op.id);
    assert.equal(live?.csrfToken, s.csrfToken);
    await pool().query(`UPDATE operator_sessions SET last_seen_at = now() - make_interval(secs => $2) WHERE id = $1`, [s.sessionId, SESSION_IDLE_S + 1]);
    assert.equal(await authenticateSession(pool(), s.secret), undefined);
    await signOut(pool(), s.sessionId);
    await signOut(pool(), s.sessionId);
    assert.equal((await evidenceOf(op.id, 'operator.signed_out')).length, 1);
  });
});
