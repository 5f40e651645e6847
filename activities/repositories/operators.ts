// Operator accounts, personal tokens, console sessions and sign-in attempts, through Prisma
// Client. The rules (roles, password and TOTP checks, sign-in limits) are activities/operators.ts;
// each write here that changes who may do what runs in the caller's Prisma transaction, next to
// its evidence entry.
//
// One clock: every time an operator credential is judged by (a token's expiry, a session's idle
// and absolute ends, the sign-in failure window) is written and compared by this process's
// clock, never half by the database's `now()`. Processes on different hosts differ by seconds at
// most, against windows of minutes and hours.
import type { Pool } from '../db.js';
import { prismaOf, prismaOrTx } from '../db.js';
import { Prisma } from '../../generated/prisma/client.js';
import { operatorLocked } from './sql/operatorLocked.js';
import { advisoryXactLock } from './sql/advisoryXactLock.js';

type Tx = Prisma.TransactionClient;
type Db = Pool | Tx;
const client = (db: Db): Tx => prismaOrTx(db);

/** What an operator's row shows: never the password hash or the sealed TOTP seed. */
export const OPERATOR_VIEW = {
  id: true,
  email: true,
  name: true,
  role: true,
  status: true,
  totpEnrolledAt: true,
  createdBy: true,
  createdAt: true,
  updatedAt: true,
  lastSeenAt: true,
} as const satisfies Prisma.OperatorSelect;
export type OperatorView = Prisma.OperatorGetPayload<{ select: typeof OPERATOR_VIEW }>;

export const TOKEN_VIEW = {
  id: true,
  operatorId: true,
  prefix: true,
  label: true,
  role: true,
  expiresAt: true,
  revokedAt: true,
  lastUsedAt: true,
  createdAt: true,
} as const satisfies Prisma.OperatorTokenSelect;
export type TokenView = Prisma.OperatorTokenGetPayload<{ select: typeof TOKEN_VIEW }>;

export const OPERATORS_LISTED_MAX = 1000;
export const TOKENS_LISTED_MAX = 100;

export function findOperator(db: Db, id: string): Promise<OperatorView | null> {
  return client(db).operator.findUnique({ where: { id }, select: OPERATOR_VIEW });
}

export function operatorsList(pool: Pool): Promise<OperatorView[]> {
  return prismaOf(pool).operator.findMany({ select: OPERATOR_VIEW, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], take: OPERATORS_LISTED_MAX });
}

/** The operator's row, locked until the transaction ends (prisma/sql/operatorLocked.sql); null when there is none. */
export async function lockOperator(tx: Tx, id: string) {
  const [row] = await tx.$queryRawTyped(operatorLocked(id));
  return row ?? null;
}

/** Inserts the operator, or answers null when the email is taken (the transaction stays usable). */
export async function insertOperator(tx: Tx, o: { id: string; email: string; name: string; role: string; createdBy: string }): Promise<OperatorView | null> {
  const now = new Date();
  const { count } = await tx.operator.createMany({ data: [{ ...o, createdAt: now, updatedAt: now }], skipDuplicates: true });
  return count === 1 ? tx.operator.findUnique({ where: { id: o.id }, select: OPERATOR_VIEW }) : null;
}

/** True when any operator exists, asked under the bootstrap lock: one first admin, ever. */
export async function anyOperatorUnderBootstrapLock(tx: Tx): Promise<boolean> {
  await tx.$queryRawTyped(advisoryXactLock('stablerail.operators.bootstrap'));
  return (await tx.operator.findFirst({ select: { id: true } })) !== null;
}

export function updateOperatorRow(tx: Tx, id: string, data: Pick<Prisma.OperatorUpdateInput, 'role' | 'name' | 'status' | 'passwordHash' | 'totpSecretSealed' | 'totpEnrolledAt' | 'totpLastStep'>): Promise<OperatorView> {
  return tx.operator.update({ where: { id }, data: { ...data, updatedAt: new Date() }, select: OPERATOR_VIEW });
}

/**
 * How many active admins other than `exceptId` remain, asked under a lock every admin removal
 * takes: two admins demoting or disabling each other at once cannot both see the other remain.
 */
export async function otherActiveAdminsLocked(tx: Tx, exceptId: string): Promise<number> {
  await tx.$queryRawTyped(advisoryXactLock('stablerail.operators.admins'));
  return tx.operator.count({ where: { role: 'admin', status: 'active', id: { not: exceptId } } });
}

/** A token never carries more than its operator: tokens of the roles above `role` come down to it. */
export async function lowerTokensTo(tx: Tx, operatorId: string, role: string, rolesAbove: readonly string[]): Promise<void> {
  if (rolesAbove.length) await tx.operatorToken.updateMany({ where: { operatorId, role: { in: [...rolesAbove] } }, data: { role } });
}

export async function endSessionsOf(tx: Tx, operatorId: string): Promise<void> {
  await tx.operatorSession.updateMany({ where: { operatorId, endedAt: null }, data: { endedAt: new Date() } });
}

export function insertToken(tx: Tx, t: { id: string; operatorId: string; secretHash: string; prefix: string; label: string | null; role: string; expiresInS: number | null; createdBy: string }): Promise<TokenView> {
  const now = new Date();
  const { expiresInS, ...row } = t;
  return tx.operatorToken.create({
    data: { ...row, createdAt: now, expiresAt: expiresInS === null ? null : new Date(now.getTime() + expiresInS * 1000) },
    select: TOKEN_VIEW,
  });
}

export function tokensOf(pool: Pool, operatorId: string): Promise<TokenView[]> {
  return prismaOf(pool).operatorToken.findMany({ where: { operatorId }, select: TOKEN_VIEW, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], take: TOKENS_LISTED_MAX });
}

/** Revoked from now, or kept as it was when revoked already; null when there is no such token. */
export async function revokeToken(tx: Tx, id: string): Promise<TokenView | null> {
  await tx.operatorToken.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
  return tx.operatorToken.findUnique({ where: { id }, select: TOKEN_VIEW });
}

/** The live token behind a secret's hash and its active operator; revoked, expired or disabled: null. */
export function liveToken(pool: Pool, secretHash: string) {
  return prismaOf(pool).operatorToken.findFirst({
    where: { secretHash, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }], operator: { status: 'active' } },
    select: { id: true, role: true, lastUsedAt: true, operator: { select: { id: true, email: true, name: true, role: true } } },
  });
}

/** A token's last use and its operator's last sight, in one round trip. */
export async function touchToken(pool: Pool, tokenId: string, operatorId: string): Promise<void> {
  const prisma = prismaOf(pool);
  const now = new Date();
  await prisma.$transaction([
    prisma.operatorToken.update({ where: { id: tokenId }, data: { lastUsedAt: now } }),
    prisma.operator.update({ where: { id: operatorId }, data: { lastSeenAt: now } }),
  ]);
}

/** What sign-in checks an email against: the secrets too, so never answered past activities/operators.ts. */
export function operatorForSignIn(pool: Pool, email: string) {
  return prismaOf(pool).operator.findUnique({
    where: { email },
    select: { id: true, email: true, name: true, role: true, status: true, passwordHash: true, totpSecretSealed: true, totpEnrolledAt: true },
  });
}

/**
 * Accept a TOTP step once: recorded only when later than the last one accepted, in one
 * conditional UPDATE, so two sign-ins racing with the same code cannot both pass.
 */
export async function claimTotpStep(db: Db, id: string, step: number): Promise<boolean> {
  const { count } = await client(db).operator.updateMany({
    where: { id, OR: [{ totpLastStep: null }, { totpLastStep: { lt: step } }] },
    data: { totpLastStep: step },
  });
  return count === 1;
}

/** Failed sign-ins in the window since `since`: for this email, and from this client address. */
export async function signInFailures(pool: Pool, email: string, clientAddress: string, since: Date): Promise<{ account: number; address: number }> {
  const prisma = prismaOf(pool);
  const failed = { outcome: { not: 'ok' }, createdAt: { gt: since } };
  const [account, address] = await Promise.all([
    prisma.operatorSignInAttempt.count({ where: { ...failed, email } }),
    prisma.operatorSignInAttempt.count({ where: { ...failed, clientAddress } }),
  ]);
  return { account, address };
}

export async function recordSignInAttempt(db: Db, a: { email: string; clientAddress: string; outcome: string }): Promise<void> {
  await client(db).operatorSignInAttempt.create({ data: { ...a, createdAt: new Date() } });
}

export async function insertSession(tx: Tx, s: { id: string; operatorId: string; secretHash: string; csrfToken: string; absoluteS: number; clientAddress: string }): Promise<void> {
  const now = new Date();
  const { absoluteS, ...row } = s;
  await tx.operatorSession.create({ data: { ...row, createdAt: now, lastSeenAt: now, expiresAt: new Date(now.getTime() + absoluteS * 1000) } });
}

/**
 * A live session behind a secret's hash, its last sight moved to now, with its active operator:
 * one UPDATE … RETURNING per console request. Ended, expired, idle too long or disabled: null.
 */
export async function touchLiveSession(pool: Pool, secretHash: string, idleS: number) {
  const now = new Date();
  const [row] = await prismaOf(pool).operatorSession.updateManyAndReturn({
    where: { secretHash, endedAt: null, expiresAt: { gt: now }, lastSeenAt: { gt: new Date(now.getTime() - idleS * 1000) }, operator: { status: 'active' } },
    data: { lastSeenAt: now },
    select: { id: true, csrfToken: true, operator: { select: { id: true, email: true, name: true, role: true } } },
  });
  return row ?? null;
}

/** Ends a live session; answers its operator, or null when it had ended already. */
export async function endSession(tx: Tx, id: string): Promise<string | null> {
  const [row] = await tx.operatorSession.updateManyAndReturn({ where: { id, endedAt: null }, data: { endedAt: new Date() }, select: { operatorId: true } });
  return row?.operatorId ?? null;
}
