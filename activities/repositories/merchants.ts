// Merchants, API keys, rail enablements and access requests through Prisma Client: plain reads,
// and writes in the caller's Prisma transaction (activities/merchant.ts appends the evidence in it).
// The two reads on every payment's path (the key behind a secret, a rail's enablement) are
// TypedSQL run over pg instead, each with its figure beside it.
import type { Pool } from '../db.js';
import { prismaOf, typedRows } from '../db.js';
import type { AccessRequest, Merchant, Prisma, RailEnablement } from '../../generated/prisma/client.js';
import { accessRequestLocked } from './sql/accessRequestLocked.js';
import { apiKeyActiveByHash } from './sql/apiKeyActiveByHash.js';
import { railEnabledFor } from './sql/railEnabledFor.js';

export type { AccessRequest, Merchant, RailEnablement };
type Tx = Prisma.TransactionClient;

export function findMerchant(pool: Pool, id: string): Promise<Merchant | null> {
  return prismaOf(pool).merchant.findUnique({ where: { id } });
}

/** The live key behind a secret's hash; a revoked key is no key. */
export async function findActiveKeyByHash(pool: Pool, secretHash: string): Promise<{ id: string; merchantId: string; environment: string; scopes: string[] } | null> {
  // TypedSQL over pg, prepared once per connection, not Prisma Client: every authenticated
  // request reads this, and Prisma's findFirst cost 0.32-0.73 ms of CPU against 0.03-0.09 ms
  // (docs/benchmarks.md, payments, 2026-12-03 afternoon).
  const r = (await typedRows(pool, apiKeyActiveByHash(secretHash), 'api_key_active_by_hash'))[0];
  return r ? { id: r.id, merchantId: r.merchant_id, environment: r.environment, scopes: r.scopes ?? [] } : null;
}

export async function railEnabled(pool: Pool, merchantId: string, environment: string, railId: string): Promise<boolean> {
  // TypedSQL over pg for the same reason: every payment's creation asks (Prisma's findUnique
  // cost 0.17-0.30 ms of CPU, docs/benchmarks.md, payments, 2026-12-03 afternoon).
  return (await typedRows(pool, railEnabledFor(merchantId, environment, railId), 'rail_enabled_for')).length > 0;
}

export async function anyRailEnabled(pool: Pool, merchantId: string, environment: string): Promise<boolean> {
  const row = await prismaOf(pool).railEnablement.findFirst({ where: { merchantId, environment }, select: { railId: true } });
  return row !== null;
}

export function railEnablements(pool: Pool, merchantId: string): Promise<RailEnablement[]> {
  return prismaOf(pool).railEnablement.findMany({ where: { merchantId }, orderBy: [{ environment: 'asc' }, { railId: 'asc' }] });
}

export const ACCESS_REQUESTS_PAGE = 200;

export function accessRequests(pool: Pool, status?: string): Promise<AccessRequest[]> {
  return prismaOf(pool).accessRequest.findMany({ where: status ? { status } : {}, orderBy: { createdAt: 'desc' }, take: ACCESS_REQUESTS_PAGE });
}

export const MERCHANTS_LISTED_MAX = 200;

/** The newest merchants, each with its enabled rails as `environment:rail` (two queries). */
export async function latestMerchantsWithRails(pool: Pool): Promise<Array<Merchant & { rails: string[] }>> {
  const prisma = prismaOf(pool);
  const merchants = await prisma.merchant.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: MERCHANTS_LISTED_MAX });
  const rails = merchants.length
    ? await prisma.railEnablement.findMany({ where: { merchantId: { in: merchants.map((m) => m.id) } }, orderBy: [{ environment: 'asc' }, { railId: 'asc' }] })
    : [];
  return merchants.map((m) => ({ ...m, rails: rails.filter((r) => r.merchantId === m.id).map((r) => `${r.environment}:${r.railId}`) }));
}

/** A merchant and its enabled sandbox rails. */
export async function insertMerchant(tx: Tx, m: { id: string; name: string; sandboxRails: string[]; enabledBy: string }): Promise<Merchant> {
  const row = await tx.merchant.create({ data: { id: m.id, name: m.name } });
  await tx.railEnablement.createMany({ data: m.sandboxRails.map((railId) => ({ merchantId: m.id, environment: 'sandbox', railId, enabledBy: m.enabledBy })) });
  return row;
}

export const API_KEY_VIEW = { id: true, merchantId: true, environment: true, prefix: true, scopes: true, createdAt: true, revokedAt: true } as const satisfies Prisma.ApiKeySelect;
export type ApiKeyView = Prisma.ApiKeyGetPayload<{ select: typeof API_KEY_VIEW }>;

export function insertApiKey(tx: Tx, k: { id: string; merchantId: string; environment: string; secretHash: string; prefix: string; scopes: string[]; createdBy: string }): Promise<ApiKeyView> {
  return tx.apiKey.create({ data: k, select: API_KEY_VIEW });
}

/** Revoked from now, or as it was when revoked already; null when there is no such key (of that merchant, when given). */
export async function revokeKey(tx: Tx, id: string, merchantId?: string): Promise<ApiKeyView | null> {
  const owned = { id, ...(merchantId ? { merchantId } : {}) };
  await tx.apiKey.updateMany({ where: { ...owned, revokedAt: null }, data: { revokedAt: new Date() } });
  return tx.apiKey.findFirst({ where: owned, select: API_KEY_VIEW });
}

export function insertAccessRequest(tx: Tx, r: { id: string; merchantId: string; rails: string[]; useCase: string; expectedVolume: string }): Promise<AccessRequest> {
  return tx.accessRequest.create({ data: { ...r, status: 'pending', decidedRails: [] } });
}

/** The request, locked to the transaction's end (prisma/sql/accessRequestLocked.sql); null when there is none. */
export async function lockAccessRequest(tx: Tx, id: string) {
  const [row] = await tx.$queryRawTyped(accessRequestLocked(id));
  return row ?? null;
}

export function decideAccessRequestRow(tx: Tx, id: string, d: { status: string; decidedBy: string; decisionReason: string; decidedRails: string[] }): Promise<AccessRequest> {
  return tx.accessRequest.update({ where: { id }, data: { ...d, decidedAt: new Date() } });
}

/** Live rails on for a merchant; one already on stays as it was. */
/** Enables the sandbox rails the merchant lacks; answers those it enabled (none twice, even racing). */
export async function enableSandboxRails(tx: Tx, merchantId: string, rails: string[], enabledBy: string): Promise<string[]> {
  const have = new Set((await tx.railEnablement.findMany({ where: { merchantId, environment: 'sandbox' }, select: { railId: true } })).map((r) => r.railId));
  const missing = rails.filter((r) => !have.has(r));
  if (missing.length) await tx.railEnablement.createMany({ data: missing.map((railId) => ({ merchantId, environment: 'sandbox', railId, enabledBy })), skipDuplicates: true });
  return missing;
}

export async function enableLiveRails(tx: Tx, merchantId: string, rails: string[], enabledBy: string): Promise<void> {
  if (rails.length) await tx.railEnablement.createMany({ data: rails.map((railId) => ({ merchantId, environment: 'live', railId, enabledBy })), skipDuplicates: true });
}
