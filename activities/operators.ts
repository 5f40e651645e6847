// Operators are people: accounts with a role, personal API tokens for scripts, and console
// sessions signed in with a password and (for approvers and admins) a TOTP code. Every change
// lands in the evidence log with the acting operator and the credential they used. Secrets
// are stored only as hashes (tokens, sessions) or sealed (TOTP seeds, with the master key).
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import type { DbClient, Pool } from './db.js';
import { withTx } from './db.js';
import { appendEvidence } from './evidence.js';
import { newId, randomBase62, sha256Hex } from './ids.js';
import { DomainError } from './merchant.js';
import { openSecret, sealSecret } from './webhooks/secret-box.js';

export const ROLES = ['viewer', 'operator', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];
/** Each role holds every power of the roles before it. */
export const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1, approver: 2, admin: 3 };
export const roleAtLeast = (have: Role, need: Role): boolean => ROLE_RANK[have] >= ROLE_RANK[need];
/** Roles that sign in to the console only with a second factor. */
export const SECOND_FACTOR_ROLES: readonly Role[] = ['approver', 'admin'];

export const TOKEN_RE = /^opk_[0-9A-Za-z]{40}$/;
export const SESSION_RE = /^oss_[0-9A-Za-z]{40}$/;
export const OPERATOR_ID_RE = /^op_[0-9A-Za-z]{24}$/;
export const TOKEN_ID_RE = /^otk_[0-9A-Za-z]{24}$/;

/** scrypt cost: N=2^15, r=8, p=1 is 32 MiB and about 60 ms per check on this machine's cores. */
export const SCRYPT = { N: 1 << 15, r: 8, p: 1, keyLen: 32, maxmem: 64 * 1024 * 1024 } as const;
export const PASSWORD_LENGTH_MIN = 12;
export const PASSWORD_LENGTH_MAX = 200;
/** Console sessions end after this long without a request, and after this long in any case. */
export const SESSION_IDLE_S = 30 * 60;
export const SESSION_ABSOLUTE_S = 12 * 3600;
/** Sign-in failures allowed per account and per client address in the window, before 429. */
export const SIGN_IN_WINDOW_S = 15 * 60;
export const SIGN_IN_FAILURES_PER_ACCOUNT_MAX = 5;
export const SIGN_IN_FAILURES_PER_ADDRESS_MAX = 20;
export const TOTP_ISSUER = 'Stablerail';
/** A token's last use is written at most this often: an auth check is a read, not a write. */
const LAST_USED_RESOLUTION_S = 60;

export interface OperatorRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  status: 'active' | 'disabled';
  totp_enrolled_at: Date | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  last_seen_at: Date | null;
}

const OPERATOR_COLUMNS = 'id, email, name, role, status, totp_enrolled_at, created_by, created_at, updated_at, last_seen_at';

/** Who is calling, as the API and the workflows see it: never a name from the request. */
export interface OperatorAuth {
  operatorId: string;
  /** The token (`otk_…`) or console session (`oss_…`) used for this request. */
  credentialId: string;
  kind: 'token' | 'session';
  role: Role;
  email: string;
  name: string;
  /** Sessions only: state-changing calls must echo it in X-CSRF-Token. */
  csrfToken?: string;
}

/** The actor recorded in evidence and decision columns: operator and credential, both. */
export const actorOf = (a: Pick<OperatorAuth, 'operatorId' | 'credentialId'>): string => `${a.operatorId}@${a.credentialId}`;

export function operatorObject(r: OperatorRow) {
  return {
    id: r.id,
    object: 'operator' as const,
    email: r.email,
    name: r.name,
    role: r.role,
    status: r.status,
    second_factor: r.totp_enrolled_at ? 'totp' : null,
    created_at: r.created_at.toISOString(),
    last_seen_at: r.last_seen_at ? r.last_seen_at.toISOString() : null,
  };
}

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

function scrypt(password: string, salt: Buffer, opts: ScryptOptions & { keyLen: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, opts.keyLen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  if (!stored) return false;
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p), keyLen: expected.length, maxmem: SCRYPT.maxmem });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

function newTokenSecret(): { id: string; secret: string; hash: string; prefix: string } {
  const secret = `opk_${randomBase62(40)}`;
  return { id: newId('otk'), secret, hash: sha256Hex(secret), prefix: secret.slice(0, 12) };
}

export async function getOperator(pool: Pool | DbClient, id: string): Promise<OperatorRow | undefined> {
  if (!OPERATOR_ID_RE.test(id)) return undefined;
  const { rows } = await pool.query<OperatorRow>(`SELECT ${OPERATOR_COLUMNS} FROM operators WHERE id = $1`, [id]);
  return rows[0];
}

export async function listOperators(pool: Pool): Promise<OperatorRow[]> {
  const { rows } = await pool.query<OperatorRow>(`SELECT ${OPERATOR_COLUMNS} FROM operators ORDER BY created_at, id LIMIT 1000`);
  return rows;
}

async function insertToken(c: DbClient, operatorId: string, role: Role, opts: { label?: string | null; expiresInS?: number | null }, actor: string) {
  const t = newTokenSecret();
  const { rows } = await c.query(
    `INSERT INTO operator_tokens (id, operator_id, secret_hash, prefix, label, role, expires_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7::int IS NULL THEN NULL ELSE now() + make_interval(secs => $7::int) END, $8)
     RETURNING id, prefix, label, role, expires_at, created_at`,
    [t.id, operatorId, t.hash, t.prefix, opts.label ?? null, role, opts.expiresInS ?? null, actor],
  );
  await appendEvidence(c, { kind: 'operator.token_created', subject: operatorId, actor, payload: { token_id: t.id, role, prefix: t.prefix, expires_at: rows[0].expires_at?.toISOString() ?? null }, dedupeKey: `operator_token:${t.id}` });
  return { row: rows[0] as { id: string; prefix: string; label: string | null; role: Role; expires_at: Date | null; created_at: Date }, secret: t.secret };
}

export function tokenObject(r: { id: string; prefix: string; label: string | null; role: Role; expires_at: Date | null; created_at: Date; revoked_at?: Date | null; last_used_at?: Date | null; operator_id?: string }) {
  return {
    id: r.id,
    object: 'operator_token' as const,
    prefix: r.prefix,
    label: r.label,
    role: r.role,
    expires_at: r.expires_at ? r.expires_at.toISOString() : null,
    revoked_at: r.revoked_at ? r.revoked_at.toISOString() : null,
    last_used_at: r.last_used_at ? r.last_used_at.toISOString() : null,
    created_at: r.created_at.toISOString(),
  };
}

/** A new operator and their first personal token (the secret is answered once). */
export async function createOperator(pool: Pool, o: { email: string; name?: string; role: Role }, actor: string) {
  const email = normalizeEmail(o.email);
  return withTx(pool, async (c) => {
    const id = newId('op');
    const ins = await c.query<OperatorRow>(
      `INSERT INTO operators (id, email, name, role, created_by) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (email) DO NOTHING RETURNING ${OPERATOR_COLUMNS}`,
      [id, email, o.name ?? email, o.role, actor],
    );
    if (!ins.rows[0]) throw new DomainError('operator_email_taken', `An operator with email ${email} exists`, 'email', 409);
    await appendEvidence(c, { kind: 'operator.created', subject: id, actor, payload: { email, name: ins.rows[0].name, role: o.role }, dedupeKey: `operator:${id}` });
    const token = await insertToken(c, id, o.role, { label: 'first token' }, actor);
    return { operator: ins.rows[0], token };
  });
}

/**
 * The first admin of a fresh database (npm start, `stablerail operators create` on an empty
 * table). Answers null when any operator exists: bootstrap never mints a second admin.
 */
export async function bootstrapFirstAdmin(pool: Pool, email: string, actor = 'bootstrap') {
  return withTx(pool, async (c) => {
    // One bootstrap at a time across processes; the check and the insert are one decision.
    await c.query(`SELECT pg_advisory_xact_lock(hashtext('stablerail.operators.bootstrap'))`);
    const { rows } = await c.query(`SELECT 1 FROM operators LIMIT 1`);
    if (rows[0]) return null;
    const id = newId('op');
    const ins = await c.query<OperatorRow>(`INSERT INTO operators (id, email, name, role, created_by) VALUES ($1, $2, $3, 'admin', $4) RETURNING ${OPERATOR_COLUMNS}`, [id, normalizeEmail(email), 'First admin', actor]);
    await appendEvidence(c, { kind: 'operator.created', subject: id, actor, payload: { email: normalizeEmail(email), role: 'admin', bootstrap: true }, dedupeKey: `operator:${id}` });
    const token = await insertToken(c, id, 'admin', { label: 'bootstrap' }, actor);
    return { operator: ins.rows[0]!, token };
  });
}

export async function updateOperator(pool: Pool, id: string, patch: { role?: Role; name?: string }, actor: string): Promise<OperatorRow> {
  return withTx(pool, async (c) => {
    const before = await getOperatorForUpdate(c, id);
    const { rows } = await c.query<OperatorRow>(
      `UPDATE operators SET role = coalesce($2, role), name = coalesce($3, name), updated_at = now() WHERE id = $1 RETURNING ${OPERATOR_COLUMNS}`,
      [id, patch.role ?? null, patch.name ?? null],
    );
    // A token never carries more than its operator: a demotion lowers the tokens with it.
    if (patch.role) await c.query(`UPDATE operator_tokens SET role = $2 WHERE operator_id = $1 AND array_position($3::text[], role) > array_position($3::text[], $2)`, [id, patch.role, ROLES]);
    await appendEvidence(c, { kind: 'operator.updated', subject: id, actor, payload: { before: { role: before.role, name: before.name }, after: { role: rows[0]!.role, name: rows[0]!.name } }, dedupeKey: `operator_update:${id}:${newId('x')}` });
    return rows[0]!;
  });
}

async function getOperatorForUpdate(c: DbClient, id: string): Promise<OperatorRow> {
  const { rows } = await c.query<OperatorRow>(`SELECT ${OPERATOR_COLUMNS} FROM operators WHERE id = $1 FOR UPDATE`, [id]);
  if (!rows[0]) throw new DomainError('resource_missing', `No such operator: ${id}`, 'id', 404);
  return rows[0];
}

/** Disabled at once: tokens and sessions are refused from the next request (they are checked against status). */
export async function disableOperator(pool: Pool, id: string, actor: string, reason: string | null): Promise<OperatorRow> {
  return withTx(pool, async (c) => {
    await getOperatorForUpdate(c, id);
    const { rows } = await c.query<OperatorRow>(`UPDATE operators SET status = 'disabled', updated_at = now() WHERE id = $1 RETURNING ${OPERATOR_COLUMNS}`, [id]);
    await c.query(`UPDATE operator_sessions SET ended_at = now() WHERE operator_id = $1 AND ended_at IS NULL`, [id]);
    await appendEvidence(c, { kind: 'operator.disabled', subject: id, actor, payload: { reason }, dedupeKey: `operator_disable:${id}:${newId('x')}` });
    return rows[0]!;
  });
}

export async function createOperatorToken(pool: Pool, operatorId: string, opts: { label?: string; role?: Role; expires_in_s?: number }, actor: string) {
  return withTx(pool, async (c) => {
    const op = await getOperatorForUpdate(c, operatorId);
    if (op.status !== 'active') throw new DomainError('operator_disabled', 'A disabled operator gets no token', 'id', 409);
    const role = opts.role ?? op.role;
    if (!roleAtLeast(op.role, role)) throw new DomainError('role_exceeds_operator', `A token cannot carry more than the operator's role (${op.role})`, 'role');
    return insertToken(c, operatorId, role, { label: opts.label ?? null, expiresInS: opts.expires_in_s ?? null }, actor);
  });
}

export async function listOperatorTokens(pool: Pool, operatorId: string) {
  const { rows } = await pool.query(
    `SELECT id, prefix, label, role, expires_at, revoked_at, last_used_at, created_at FROM operator_tokens WHERE operator_id = $1 ORDER BY created_at DESC, id LIMIT 100`,
    [operatorId],
  );
  return rows;
}

export async function revokeOperatorToken(pool: Pool, tokenId: string, actor: string) {
  return withTx(pool, async (c) => {
    const { rows } = await c.query(
      `UPDATE operator_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1
       RETURNING id, operator_id, prefix, label, role, expires_at, revoked_at, last_used_at, created_at`,
      [tokenId],
    );
    if (!rows[0]) throw new DomainError('resource_missing', `No such operator token: ${tokenId}`, 'id', 404);
    await appendEvidence(c, { kind: 'operator.token_revoked', subject: rows[0].operator_id, actor, payload: { token_id: tokenId }, dedupeKey: `operator_token_revoked:${tokenId}` });
    return rows[0];
  });
}

/** A personal token's operator, with the token's role (never above the operator's); disabled, revoked or expired: none. */
export async function authenticateOperatorToken(pool: Pool, secret: string): Promise<OperatorAuth | undefined> {
  if (!TOKEN_RE.test(secret)) return undefined;
  const { rows } = await pool.query(
    `SELECT t.id AS token_id, t.role AS token_role, t.last_used_at, o.id, o.email, o.name, o.role
       FROM operator_tokens t JOIN operators o ON o.id = t.operator_id
      WHERE t.secret_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()) AND o.status = 'active'`,
    [sha256Hex(secret)],
  );
  const r = rows[0];
  if (!r) return undefined;
  if (!r.last_used_at || Date.now() - new Date(r.last_used_at).getTime() > LAST_USED_RESOLUTION_S * 1000) {
    await pool.query(`WITH t AS (UPDATE operator_tokens SET last_used_at = now() WHERE id = $1 RETURNING operator_id) UPDATE operators SET last_seen_at = now() WHERE id = (SELECT operator_id FROM t)`, [r.token_id]);
  }
  const role: Role = ROLE_RANK[r.token_role as Role] <= ROLE_RANK[r.role as Role] ? r.token_role : r.role;
  return { operatorId: r.id, credentialId: r.token_id, kind: 'token', role, email: r.email, name: r.name };
}

// ---- console sign-in ------------------------------------------------------------------------

export async function setOperatorPassword(pool: Pool, id: string, password: string, actor: string): Promise<void> {
  if (password.length < PASSWORD_LENGTH_MIN || password.length > PASSWORD_LENGTH_MAX) {
    throw new DomainError('password_invalid', `A password has ${PASSWORD_LENGTH_MIN} to ${PASSWORD_LENGTH_MAX} characters`, 'password');
  }
  const hash = await hashPassword(password);
  await withTx(pool, async (c) => {
    await getOperatorForUpdate(c, id);
    await c.query(`UPDATE operators SET password_hash = $2, updated_at = now() WHERE id = $1`, [id, hash]);
    await appendEvidence(c, { kind: 'operator.password_set', subject: id, actor, payload: {}, dedupeKey: `operator_password:${id}:${newId('x')}` });
  });
}

function totpFor(email: string, secretBase32: string): OTPAuth.TOTP {
  // RFC 6238 defaults every authenticator app reads: SHA-1, 6 digits, 30 s.
  return new OTPAuth.TOTP({ issuer: TOTP_ISSUER, label: email, algorithm: 'SHA1', digits: 6, period: 30, secret: OTPAuth.Secret.fromBase32(secretBase32) });
}

/** Start TOTP enrolment: a new seed (sealed at rest) and its otpauth:// URI for the QR code; confirmed by a first code. */
export async function beginTotpEnrolment(pool: Pool, masterKey: Buffer, id: string, actor: string): Promise<{ secret: string; uri: string }> {
  const secret = new OTPAuth.Secret({ size: 20 }).base32;
  return withTx(pool, async (c) => {
    const op = await getOperatorForUpdate(c, id);
    await c.query(`UPDATE operators SET totp_secret_sealed = $2, totp_enrolled_at = NULL, totp_last_step = NULL, updated_at = now() WHERE id = $1`, [id, sealSecret(masterKey, secret, `totp:${id}`)]);
    await appendEvidence(c, { kind: 'operator.totp_enrolment_started', subject: id, actor, payload: {}, dedupeKey: `operator_totp_begin:${id}:${newId('x')}` });
    return { secret, uri: totpFor(op.email, secret).toString() };
  });
}

const TOTP_PERIOD_S = 30;

/** The 30-second step a code is valid for (one step either way of now), or null. */
function totpStep(masterKey: Buffer, id: string, email: string, sealed: string | null, code: string): number | null {
  if (!sealed || !/^\d{6}$/.test(code)) return null;
  // One step either way: a phone clock a few seconds off still signs in.
  const delta = totpFor(email, openSecret(masterKey, sealed, `totp:${id}`)).validate({ token: code, window: 1 });
  return delta === null ? null : Math.floor(Date.now() / 1000 / TOTP_PERIOD_S) + delta;
}

/**
 * Accept a code once (RFC 6238 §5.2): the step it belongs to must be later than the last one
 * accepted, and recording it is one conditional UPDATE, so two sign-ins racing with the same
 * code cannot both pass.
 */
async function consumeTotp(c: Pick<Pool, 'query'>, masterKey: Buffer, id: string, email: string, sealed: string | null, code: string): Promise<boolean> {
  const step = totpStep(masterKey, id, email, sealed, code);
  if (step === null) return false;
  const { rowCount } = await c.query(`UPDATE operators SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)`, [id, step]);
  return rowCount === 1;
}

export async function confirmTotpEnrolment(pool: Pool, masterKey: Buffer, id: string, code: string, actor: string): Promise<OperatorRow> {
  return withTx(pool, async (c) => {
    const { rows } = await c.query(`SELECT email, totp_secret_sealed FROM operators WHERE id = $1 FOR UPDATE`, [id]);
    if (!rows[0]) throw new DomainError('resource_missing', `No such operator: ${id}`, 'id', 404);
    if (!(await consumeTotp(c, masterKey, id, rows[0].email, rows[0].totp_secret_sealed, code))) throw new DomainError('totp_invalid', 'The code does not match or was used already', 'code');
    const up = await c.query<OperatorRow>(`UPDATE operators SET totp_enrolled_at = now(), updated_at = now() WHERE id = $1 RETURNING ${OPERATOR_COLUMNS}`, [id]);
    await appendEvidence(c, { kind: 'operator.totp_enrolled', subject: id, actor, payload: {}, dedupeKey: `operator_totp:${id}:${newId('x')}` });
    return up.rows[0]!;
  });
}

export async function resetSecondFactor(pool: Pool, id: string, actor: string): Promise<OperatorRow> {
  return withTx(pool, async (c) => {
    await getOperatorForUpdate(c, id);
    const { rows } = await c.query<OperatorRow>(`UPDATE operators SET totp_secret_sealed = NULL, totp_enrolled_at = NULL, totp_last_step = NULL, updated_at = now() WHERE id = $1 RETURNING ${OPERATOR_COLUMNS}`, [id]);
    await c.query(`UPDATE operator_sessions SET ended_at = now() WHERE operator_id = $1 AND ended_at IS NULL`, [id]);
    await appendEvidence(c, { kind: 'operator.second_factor_reset', subject: id, actor, payload: {}, dedupeKey: `operator_totp_reset:${id}:${newId('x')}` });
    return rows[0]!;
  });
}

export class SignInRefused extends DomainError {}

/**
 * Email + password (+ TOTP for approvers and admins) → a console session. Every attempt is
 * logged; too many failures per account or per client address in the window answer 429
 * before the password is even checked. The error never says which factor was wrong.
 */
export async function signIn(pool: Pool, masterKey: Buffer, i: { email: string; password: string; totp?: string; clientAddress: string }) {
  const email = normalizeEmail(i.email);
  const { rows: counts } = await pool.query(
    `SELECT count(*) FILTER (WHERE email = $1)::int AS account, count(*) FILTER (WHERE client_address = $2)::int AS address
       FROM operator_sign_in_attempts WHERE outcome <> 'ok' AND created_at > now() - make_interval(secs => $3) AND (email = $1 OR client_address = $2)`,
    [email, i.clientAddress, SIGN_IN_WINDOW_S],
  );
  const attempt = (outcome: string) => pool.query(`INSERT INTO operator_sign_in_attempts (email, client_address, outcome) VALUES ($1, $2, $3)`, [email, i.clientAddress, outcome]);
  if (counts[0].account >= SIGN_IN_FAILURES_PER_ACCOUNT_MAX || counts[0].address >= SIGN_IN_FAILURES_PER_ADDRESS_MAX) {
    await attempt('rate_limited');
    throw new SignInRefused('sign_in_rate_limited', 'Too many failed sign-ins; wait and try again', undefined, 429);
  }
  const { rows } = await pool.query(`SELECT id, email, name, role, status, password_hash, totp_secret_sealed, totp_enrolled_at FROM operators WHERE email = $1`, [email]);
  const op = rows[0];
  const passwordOk = await verifyPassword(i.password, op?.password_hash ?? null);
  if (!op || op.status !== 'active' || !passwordOk) {
    await attempt('bad_credentials');
    throw new SignInRefused('sign_in_failed', 'Email, password or code is wrong', undefined, 401);
  }
  const needsTotp = SECOND_FACTOR_ROLES.includes(op.role) || op.totp_enrolled_at;
  if (needsTotp) {
    if (!op.totp_enrolled_at) {
      await attempt('second_factor_missing');
      throw new SignInRefused('second_factor_required', 'This role signs in with a TOTP second factor; ask an admin to enrol one', undefined, 403);
    }
    if (!(await consumeTotp(pool, masterKey, op.id, op.email, op.totp_secret_sealed, i.totp ?? ''))) {
      await attempt('bad_totp');
      throw new SignInRefused('sign_in_failed', 'Email, password or code is wrong', undefined, 401);
    }
  }
  const secret = `oss_${randomBase62(40)}`;
  const sessionId = newId('oss');
  const csrf = randomBase62(32);
  await withTx(pool, async (c) => {
    await c.query(
      `INSERT INTO operator_sessions (id, operator_id, secret_hash, csrf_token, expires_at, client_address) VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5), $6)`,
      [sessionId, op.id, sha256Hex(secret), csrf, SESSION_ABSOLUTE_S, i.clientAddress],
    );
    await c.query(`INSERT INTO operator_sign_in_attempts (email, client_address, outcome) VALUES ($1, $2, 'ok')`, [email, i.clientAddress]);
    await appendEvidence(c, { kind: 'operator.signed_in', subject: op.id, actor: `${op.id}@${sessionId}`, payload: { client_address: i.clientAddress, second_factor: needsTotp ? 'totp' : null }, dedupeKey: `operator_session:${sessionId}` });
  });
  return { secret, sessionId, csrfToken: csrf, operator: { id: op.id as string, email: op.email as string, name: op.name as string, role: op.role as Role } };
}

/** A live session's operator: ends on idle, on its absolute expiry, on sign-out and when the operator is disabled. */
export async function authenticateSession(pool: Pool, secret: string): Promise<OperatorAuth | undefined> {
  if (!SESSION_RE.test(secret)) return undefined;
  const { rows } = await pool.query(
    `UPDATE operator_sessions s SET last_seen_at = now()
       FROM operators o
      WHERE s.secret_hash = $1 AND s.ended_at IS NULL AND s.expires_at > now() AND s.last_seen_at > now() - make_interval(secs => $2)
        AND o.id = s.operator_id AND o.status = 'active'
      RETURNING s.id AS session_id, s.csrf_token, o.id, o.email, o.name, o.role`,
    [sha256Hex(secret), SESSION_IDLE_S],
  );
  const r = rows[0];
  if (!r) return undefined;
  return { operatorId: r.id, credentialId: r.session_id, kind: 'session', role: r.role, email: r.email, name: r.name, csrfToken: r.csrf_token };
}

export async function signOut(pool: Pool, sessionId: string): Promise<void> {
  await withTx(pool, async (c) => {
    const { rows } = await c.query(`UPDATE operator_sessions SET ended_at = now() WHERE id = $1 AND ended_at IS NULL RETURNING operator_id`, [sessionId]);
    if (rows[0]) await appendEvidence(c, { kind: 'operator.signed_out', subject: rows[0].operator_id, actor: `${rows[0].operator_id}@${sessionId}`, payload: {}, dedupeKey: `operator_signout:${sessionId}` });
  });
}
