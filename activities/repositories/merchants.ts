// Merchants, API keys, rail enablements and access requests: plain reads through Prisma Client.
// (Their writes share a transaction with the evidence log, which is raw SQL under an advisory
// lock, so they stay in activities/merchant.ts's transactions for now.)
import type { Pool } from '../db.js';
import { prismaOf } from '../db.js';
import type { AccessRequest, Merchant, RailEnablement } from '../../generated/prisma/client.js';

export type { AccessRequest, Merchant, RailEnablement };

export function findMerchant(pool: Pool, id: string): Promise<Merchant | null> {
  return prismaOf(pool).merchant.findUnique({ where: { id } });
}

/** The live key behind a secret's hash; a revoked key is no key. */
export function findActiveKeyByHash(pool: Pool, secretHash: string) {
  return prismaOf(pool).apiKey.findFirst({
    where: { secretHash, revokedAt: null },
    select: { id: true, merchantId: true, environment: true, scopes: true },
  });
}

export async function railEnabled(pool: Pool, merchantId: string, environment: string, railId: string): Promise<boolean> {
  const row = await prismaOf(pool).railEnablement.findUnique({ where: { merchantId_environment_railId: { merchantId, environment, railId } }, select: { railId: true } });
  return row !== null;
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
