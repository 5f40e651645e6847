// Operators are people: accounts with a role, personal API tokens for scripts, and console
// sessions signed in with a password and (for approvers and admins) a TOTP code. Every change
// lands in the evidence log with the acting operator and the credential they used. Secrets
// are stored only as hashes (tokens, sessions) or sealed (TOTP seeds, with the master key).
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import type { Prisma } from '../generated/prisma/client.js';
import type { Pool } from './db.js';
import { withPrismaTx } from './db.js';
import { appendEvidence } from './evidence.js';
import * as repo from './repositories/operators.js';
import type { OperatorView, TokenView } from './repositories/operators.js';
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

export type { OperatorView };

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

export function operatorObject(r: OperatorView) {
  return {
    id: r.id,
    object: 'operator' as const,
    email: r.email,
    name: r.name,
    role: r.role as Role,
    status: r.status as 'active' | 'disabled',
    second_factor: r.totpEnrolledAt ? 'totp' : null,
    created_at: r.createdAt.toISOString(),
    last_seen_at: r.lastSeenAt ? r.lastSeenAt.toISOString() : null,
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

export async function getOperator(pool: Pool, id: string): Promise<OperatorView | undefined> {
  if (!OPERATOR_ID_RE.test(id)) return undefined;
  return (await repo.findOperator(pool, id)) ?? undefined;
}

export const listOperators = (pool: Pool): Promise<OperatorView[]> => repo.operatorsList(pool);

async function insertToken(tx: Prisma.TransactionClient, operatorId: string, role: Role, opts: { label?: string | null; expiresInS?: number | null }, actor: string) {
  const t = newTokenSecret();
  const row = await repo.insertToken(tx, { id: t.id, operatorId, secretHash: t.hash, prefix: t.prefix, label: opts.label ?? null, role, expiresInS: opts.expiresInS ?? null, createdBy: actor });
  await appendEvidence(tx, { kind: 'operator.token_created', subject: operatorId, actor, payload: { token_id: t.id, role, prefix: t.prefix, expires_at: row.expiresAt?.toISOString() ?? null }, dedupeKey: `operator_token:${t.id}` });
  return { row, secret: t.secret };
}

export function tokenObject(r: TokenView) {
  return {
    id: r.id,
    object: 'operator_token' as const,
    prefix: r.prefix,
    label: r.label,
    role: r.role as Role,
    expires_at: r.expiresAt ? r.expiresAt.toISOString() : null,
    revoked_at: r.revokedAt ? r.revokedAt.toISOString() : null,
    last_used_at: r.lastUsedAt ? r.lastUsedAt.toISOString() : null,
    created_at: r.createdAt.toISOString(),
  };
}

/** A new operator and their first personal token (the secret is answered once). */
export async function createOperator(pool: Pool, o: { email: string; name?: string; role: Role }, actor: string) {
  const email = normalizeEmail(o.email);
  return withPrismaTx(pool, async (tx) => {
    const id = newId('op');
    const operator = await repo.insertOperator(tx, { id, email, name: o.name ?? email, role: o.role, createdBy: actor });
    if (!operator) throw new DomainError('operator_email_taken', `An operator with email ${email} exists`, 'email', 409);
    await appendEvidence(tx, { kind: 'operator.created', subject: id, actor, payload: { email, name: operator.name, role: o.role }, dedupeKey: `operator:${id}` });
    const token = await insertToken(tx, id, o.role, { label: 'first token' }, actor);
    return { operator, token };
  });
}

/**
 * The first admin of a fresh database (npm start, `stablerail operators create` on an empty
 * table). Answers null when any operator exists: bootstrap never mints a second admin.
 */
export async function bootstrapFirstAdmin(pool: Pool, email: string, actor = 'bootstrap') {
  return withPrismaTx(pool, async (tx) => {
    if (await repo.anyOperatorUnderBootstrapLock(tx)) return null;
    const id = newId('op');
    const operator = (await repo.insertOperator(tx, { id, email: normalizeEmail(email), name: 'First admin', role: 'admin', createdBy: actor }))!;
    await appendEvidence(tx, { kind: 'operator.created', subject: id, actor, payload: { email: normalizeEmail(email), role: 'admin', bootstrap: true }, dedupeKey: `operator:${id}` });
    const token = await insertToken(tx, id, 'admin', { label: 'bootstrap' }, actor);
    return { operator, token };
  });
}

async function lockedOperator(tx: Prisma.TransactionClient, id: string) {
  const row = OPERATOR_ID_RE.test(id) ? await repo.lockOperator(tx, id) : null;
  if (!row) throw new DomainError('resource_missing', `No such operator: ${id}`, 'id', 404);
  return row as typeof row & { role: Role };
}

/**
 * The last active admin can be neither demoted nor disabled (by another admin or by themself):
 * no admin left means no one can manage operators, keys or rails, and disabling is final.
 */
async function keepAnAdmin(tx: Prisma.TransactionClient, op: { id: string; role: string; status: string }, change: 'demoted' | 'disabled'): Promise<void> {
  if (op.role !== 'admin' || op.status !== 'active') return;
  if ((await repo.otherActiveAdminsLocked(tx, op.id)) === 0) {
    throw new DomainError('last_admin', `${op.id} is the last active admin and cannot be ${change}; make another operator admin first`, 'id', 409);
  }
}

export async function updateOperator(pool: Pool, id: string, patch: { role?: Role; name?: string }, actor: string): Promise<OperatorView> {
  return withPrismaTx(pool, async (tx) => {
    const before = await lockedOperator(tx, id);
    if (patch.role && patch.role !== 'admin') await keepAnAdmin(tx, before, 'demoted');
    const after = await repo.updateOperatorRow(tx, id, { role: patch.role, name: patch.name });
    // A token never carries more than its operator: a demotion lowers the tokens with it.
    if (patch.role) await repo.lowerTokensTo(tx, id, patch.role, ROLES.filter((r) => ROLE_RANK[r] > ROLE_RANK[patch.role!]));
    await appendEvidence(tx, { kind: 'operator.updated', subject: id, actor, payload: { before: { role: before.role, name: before.name }, after: { role: after.role, name: after.name } }, dedupeKey: `operator_update:${id}:${newId('x')}` });
    return after;
  });
}

/** Disabled at once: tokens and sessions are refused from the next request (they are checked against status). */
export async function disableOperator(pool: Pool, id: string, actor: string, reason: string | null): Promise<OperatorView> {
  return withPrismaTx(pool, async (tx) => {
    await keepAnAdmin(tx, await lockedOperator(tx, id), 'disabled');
    const row = await repo.updateOperatorRow(tx, id, { status: 'disabled' });
    await repo.endSessionsOf(tx, id);
    await appendEvidence(tx, { kind: 'operator.disabled', subject: id, actor, payload: { reason }, dedupeKey: `operator_disable:${id}:${newId('x')}` });
    return row;
  });
}

export async function createOperatorToken(pool: Pool, operatorId: string, opts: { label?: string; role?: Role; expires_in_s?: number }, actor: string) {
  return withPrismaTx(pool, async (tx) => {
    const op = await lockedOperator(tx, operatorId);
    if (op.status !== 'active') throw new DomainError('operator_disabled', 'A disabled operator gets no token', 'id', 409);
    const role = opts.role ?? op.role;
    if (!roleAtLeast(op.role, role)) throw new DomainError('role_exceeds_operator', `A token cannot carry more than the operator's role (${op.role})`, 'role');
    return insertToken(tx, operatorId, role, { label: opts.label ?? null, expiresInS: opts.expires_in_s ?? null }, actor);
  });
}

export const listOperatorTokens = (pool: Pool, operatorId: string): Promise<TokenView[]> => repo.tokensOf(pool, operatorId);

export async function revokeOperatorToken(pool: Pool, tokenId: string, actor: string): Promise<TokenView> {
  return withPrismaTx(pool, async (tx) => {
    const row = TOKEN_ID_RE.test(tokenId) ? await repo.revokeToken(tx, tokenId) : null;
    if (!row) throw new DomainError('resource_missing', `No such operator token: ${tokenId}`, 'id', 404);
    await appendEvidence(tx, { kind: 'operator.token_revoked', subject: row.operatorId, actor, payload: { token_id: tokenId }, dedupeKey: `operator_token_revoked:${tokenId}` });
    return row;
  });
}

/** A personal token's operator, with the token's role (never above the operator's); disabled, revoked or expired: none. */
export async function authenticateOperatorToken(pool: Pool, secret: string): Promise<OperatorAuth | undefined> {
  if (!TOKEN_RE.test(secret)) return undefined;
  const t = await repo.liveToken(pool, sha256Hex(secret));
  if (!t) return undefined;
  if (!t.lastUsedAt || Date.now() - t.lastUsedAt.getTime() > LAST_USED_RESOLUTION_S * 1000) await repo.touchToken(pool, t.id, t.operator.id);
  const role: Role = ROLE_RANK[t.role as Role] <= ROLE_RANK[t.operator.role as Role] ? (t.role as Role) : (t.operator.role as Role);
  return { operatorId: t.operator.id, credentialId: t.id, kind: 'token', role, email: t.operator.email, name: t.operator.name };
}

// ---- console sign-in ------------------------------------------------------------------------

export async function setOperatorPassword(pool: Pool, id: string, password: string, actor: string): Promise<void> {
  if (password.length < PASSWORD_LENGTH_MIN || password.length > PASSWORD_LENGTH_MAX) {
    throw new DomainError('password_invalid', `A password has ${PASSWORD_LENGTH_MIN} to ${PASSWORD_LENGTH_MAX} characters`, 'password');
  }
  const hash = await hashPassword(password);
  await withPrismaTx(pool, async (tx) => {
    await lockedOperator(tx, id);
    await repo.updateOperatorRow(tx, id, { passwordHash: hash });
    await appendEvidence(tx, { kind: 'operator.password_set', subject: id, actor, payload: {}, dedupeKey: `operator_password:${id}:${newId('x')}` });
  });
}

function totpFor(email: string, secretBase32: string): OTPAuth.TOTP {
  // RFC 6238 defaults every authenticator app reads: SHA-1, 6 digits, 30 s.
  return new OTPAuth.TOTP({ issuer: TOTP_ISSUER, label: email, algorithm: 'SHA1', digits: 6, period: 30, secret: OTPAuth.Secret.fromBase32(secretBase32) });
}

/** Start TOTP enrolment: a new seed (sealed at rest) and its otpauth:// URI for the QR code; confirmed by a first code. */
export async function beginTotpEnrolment(pool: Pool, masterKey: Buffer, id: string, actor: string): Promise<{ secret: string; uri: string }> {
  const secret = new OTPAuth.Secret({ size: 20 }).base32;
  return withPrismaTx(pool, async (tx) => {
    const op = await lockedOperator(tx, id);
    await repo.updateOperatorRow(tx, id, { totpSecretSealed: sealSecret(masterKey, secret, `totp:${id}`), totpEnrolledAt: null, totpLastStep: null });
    await appendEvidence(tx, { kind: 'operator.totp_enrolment_started', subject: id, actor, payload: {}, dedupeKey: `operator_totp_begin:${id}:${newId('x')}` });
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
async function consumeTotp(db: Pool | Prisma.TransactionClient, masterKey: Buffer, id: string, email: string, sealed: string | null, code: string): Promise<boolean> {
  const step = totpStep(masterKey, id, email, sealed, code);
  return step !== null && repo.claimTotpStep(db, id, step);
}

export async function confirmTotpEnrolment(pool: Pool, masterKey: Buffer, id: string, code: string, actor: string): Promise<OperatorView> {
  return withPrismaTx(pool, async (tx) => {
    const op = await lockedOperator(tx, id);
    if (!(await consumeTotp(tx, masterKey, id, op.email, op.totpSecretSealed, code))) throw new DomainError('totp_invalid', 'The code does not match or was used already', 'code');
    const up = await repo.updateOperatorRow(tx, id, { totpEnrolledAt: new Date() });
    await appendEvidence(tx, { kind: 'operator.totp_enrolled', subject: id, actor, payload: {}, dedupeKey: `operator_totp:${id}:${newId('x')}` });
    return up;
  });
}

export async function resetSecondFactor(pool: Pool, id: string, actor: string): Promise<OperatorView> {
  return withPrismaTx(pool, async (tx) => {
    await lockedOperator(tx, id);
    const row = await repo.updateOperatorRow(tx, id, { totpSecretSealed: null, totpEnrolledAt: null, totpLastStep: null });
    await repo.endSessionsOf(tx, id);
    await appendEvidence(tx, { kind: 'operator.second_factor_reset', subject: id, actor, payload: {}, dedupeKey: `operator_totp_reset:${id}:${newId('x')}` });
    return row;
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
  const failures = await repo.signInFailures(pool, email, i.clientAddress, new Date(Date.now() - SIGN_IN_WINDOW_S * 1000));
  const attempt = (outcome: string) => repo.recordSignInAttempt(pool, { email, clientAddress: i.clientAddress, outcome });
  if (failures.account >= SIGN_IN_FAILURES_PER_ACCOUNT_MAX || failures.address >= SIGN_IN_FAILURES_PER_ADDRESS_MAX) {
    await attempt('rate_limited');
    throw new SignInRefused('sign_in_rate_limited', 'Too many failed sign-ins; wait and try again', undefined, 429);
  }
  const op = await repo.operatorForSignIn(pool, email);
  const passwordOk = await verifyPassword(i.password, op?.passwordHash ?? null);
  if (!op || op.status !== 'active' || !passwordOk) {
    await attempt('bad_credentials');
    throw new SignInRefused('sign_in_failed', 'Email, password or code is wrong', undefined, 401);
  }
  const needsTotp = SECOND_FACTOR_ROLES.includes(op.role as Role) || op.totpEnrolledAt !== null;
  if (needsTotp) {
    if (!op.totpEnrolledAt) {
      await attempt('second_factor_missing');
      throw new SignInRefused('second_factor_required', 'This role signs in with a TOTP second factor; ask an admin to enrol one', undefined, 403);
    }
    if (!(await consumeTotp(pool, masterKey, op.id, op.email, op.totpSecretSealed, i.totp ?? ''))) {
      await attempt('bad_totp');
      throw new SignInRefused('sign_in_failed', 'Email, password or code is wrong', undefined, 401);
    }
  }
  const secret = `oss_${randomBase62(40)}`;
  const sessionId = newId('oss');
  const csrf = randomBase62(32);
  await withPrismaTx(pool, async (tx) => {
    await repo.insertSession(tx, { id: sessionId, operatorId: op.id, secretHash: sha256Hex(secret), csrfToken: csrf, absoluteS: SESSION_ABSOLUTE_S, clientAddress: i.clientAddress });
    await repo.recordSignInAttempt(tx, { email, clientAddress: i.clientAddress, outcome: 'ok' });
    await appendEvidence(tx, { kind: 'operator.signed_in', subject: op.id, actor: `${op.id}@${sessionId}`, payload: { client_address: i.clientAddress, second_factor: needsTotp ? 'totp' : null }, dedupeKey: `operator_session:${sessionId}` });
  });
  return { secret, sessionId, csrfToken: csrf, operator: { id: op.id, email: op.email, name: op.name, role: op.role as Role } };
}

/** A live session's operator: ends on idle, on its absolute expiry, on sign-out and when the operator is disabled. */
export async function authenticateSession(pool: Pool, secret: string): Promise<OperatorAuth | undefined> {
  if (!SESSION_RE.test(secret)) return undefined;
  const s = await repo.touchLiveSession(pool, sha256Hex(secret), SESSION_IDLE_S);
  if (!s) return undefined;
  return { operatorId: s.operator.id, credentialId: s.id, kind: 'session', role: s.operator.role as Role, email: s.operator.email, name: s.operator.name, csrfToken: s.csrfToken };
}

export async function signOut(pool: Pool, sessionId: string): Promise<void> {
  await withPrismaTx(pool, async (tx) => {
    const operatorId = await repo.endSession(tx, sessionId);
    if (operatorId) await appendEvidence(tx, { kind: 'operator.signed_out', subject: operatorId, actor: `${operatorId}@${sessionId}`, payload: {}, dedupeKey: `operator_signout:${sessionId}` });
  });
}
