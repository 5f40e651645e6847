// Merchants, API keys, access requests and rail enablement: the control plane of
// reviewed enablement. Every change an auditor may ask about lands in the evidence log
// in the same transaction as the change.
import type { Pool } from './db.js';
import { withPrismaTx } from './db.js';
import type { StablerailConfig } from './config.js';
import { appendEvidence } from './evidence.js';
import { newId, randomBase62, sha256Hex } from './ids.js';
import * as repo from './repositories/merchants.js';
import { accessRequests, anyRailEnabled, findActiveKeyByHash, findMerchant, railEnabled, railEnablements, type AccessRequest, type ApiKeyView } from './repositories/merchants.js';

export type Environment = 'sandbox' | 'live';
export const ENVIRONMENTS: readonly Environment[] = ['sandbox', 'live'];

export const SCOPES = [
  'payments:write',
  'payments:read',
  'webhooks:manage',
  'events:read',
  'ledger:read',
  'reconciliation:read',
  'reconciliation:write',
  'orders:write',
  'payouts:write',
  'payouts:read',
  'access_requests:write',
] as const;
export type Scope = (typeof SCOPES)[number];

export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly param?: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export interface MerchantRow {
  id: string;
  name: string;
  created_at: Date;
}

export async function createMerchant(pool: Pool, config: StablerailConfig, name: string, operator: string) {
  const id = newId('mer');
  const sandboxRails = config.rails.filter((r) => r.environments.includes('sandbox')).map((r) => r.id);
  return withPrismaTx(pool, async (tx) => {
    // Sandbox rails are on from the start so an engineer can integrate before review.
    const m = await repo.insertMerchant(tx, { id, name, sandboxRails, enabledBy: operator });
    await appendEvidence(tx, { kind: 'merchant.created', subject: id, actor: operator, payload: { name, sandbox_rails: sandboxRails }, dedupeKey: `merchant:${id}` });
    return { id: m.id, name: m.name, created_at: m.createdAt, sandbox_rails: sandboxRails };
  });
}

/**
 * Sandbox rails for a merchant created before they were configured (a new merchant gets every
 * sandbox rail at creation): the named ones, or every sandbox rail. Each one enabled is evidence.
 */
export async function enableSandboxRails(pool: Pool, config: StablerailConfig, merchantId: string, rails: string[] | undefined, operator: string): Promise<string[]> {
  const offered = config.rails.filter((r) => r.environments.includes('sandbox')).map((r) => r.id);
  for (const r of rails ?? []) if (!offered.includes(r)) throw new DomainError('rail_unknown', `No rail ${r} is configured for sandbox`, 'rails');
  return withPrismaTx(pool, async (tx) => {
    const enabled = await repo.enableSandboxRails(tx, merchantId, rails ?? offered, operator);
    for (const r of enabled) {
      await appendEvidence(tx, { kind: 'rail.enabled', subject: merchantId, actor: operator, payload: { rail: r, environment: 'sandbox' }, dedupeKey: `rail:${merchantId}:sandbox:${r}` });
    }
    return enabled;
  });
}

export async function getMerchant(pool: Pool, id: string): Promise<MerchantRow | undefined> {
  const m = await findMerchant(pool, id);
  return m ? { id: m.id, name: m.name, created_at: m.createdAt } : undefined;
}

export const keyHash = (secret: string): string => sha256Hex(secret);

export async function createApiKey(pool: Pool, merchantId: string, environment: Environment, scopes: Scope[], operator: string) {
  if (environment === 'live') {
    if (!(await anyRailEnabled(pool, merchantId, 'live'))) throw new DomainError('live_not_approved', 'live keys exist only after an operator approves an access request', 'environment', 403);
  }
  const id = newId('key');
  // The secret is shown once; only its SHA-256 is stored (keys are 190 random bits, so no slow hash is needed).
  const secret = `${environment === 'live' ? 'sk_live_' : 'sk_test_'}${randomBase62(32)}`;
  const prefix = secret.slice(0, 12);
  return withPrismaTx(pool, async (tx) => {
    const k = await repo.insertApiKey(tx, { id, merchantId, environment, secretHash: keyHash(secret), prefix, scopes, createdBy: operator });
    await appendEvidence(tx, { kind: 'api_key.created', subject: merchantId, actor: operator, payload: { key_id: id, environment, scopes, prefix }, dedupeKey: `api_key:${id}:created` });
    return { ...apiKeyRow(k), secret };
  });
}

/** A key as the routes answer it (snake_case, like every API object). */
function apiKeyRow(k: ApiKeyView) {
  return { id: k.id, merchant_id: k.merchantId, environment: k.environment as Environment, prefix: k.prefix, scopes: k.scopes as Scope[], created_at: k.createdAt, revoked_at: k.revokedAt };
}

export async function revokeApiKey(pool: Pool, keyId: string, operator: string, merchantId?: string) {
  return withPrismaTx(pool, async (tx) => {
    const k = await repo.revokeKey(tx, keyId, merchantId);
    if (!k) return undefined;
    await appendEvidence(tx, { kind: 'api_key.revoked', subject: k.merchantId, actor: operator, payload: { key_id: keyId }, dedupeKey: `api_key:${keyId}:revoked` });
    return { ...apiKeyRow(k), revoked_at: k.revokedAt! };
  });
}

export interface KeyAuth {
  keyId: string;
  merchantId: string;
  environment: Environment;
  scopes: Scope[];
}

export async function authenticateKey(pool: Pool, secret: string): Promise<KeyAuth | undefined> {
  if (!/^sk_(test|live)_[0-9A-Za-z]{32}$/.test(secret)) return undefined;
  const r = await findActiveKeyByHash(pool, keyHash(secret));
  if (!r) return undefined;
  return { keyId: r.id, merchantId: r.merchantId, environment: r.environment as Environment, scopes: r.scopes as Scope[] };
}

export async function isRailEnabled(pool: Pool, merchantId: string, environment: Environment, railId: string): Promise<boolean> {
  return railEnabled(pool, merchantId, environment, railId);
}

export async function enabledRails(pool: Pool, merchantId: string) {
  return (await railEnablements(pool, merchantId)).map((r) => ({ environment: r.environment as Environment, rail_id: r.railId, enabled_by: r.enabledBy, created_at: r.createdAt }));
}

export async function fileAccessRequest(pool: Pool, config: StablerailConfig, merchantId: string, body: { rails: string[]; use_case: string; expected_volume: string }) {
  for (const rail of body.rails) {
    const rc = config.rails.find((r) => r.id === rail);
    if (!rc || !rc.environments.includes('live')) throw new DomainError('rail_unknown', `rail ${rail} is not offered for live use`, 'rails');
  }
  const id = newId('ar');
  return withPrismaTx(pool, async (tx) => {
    const ar = await repo.insertAccessRequest(tx, { id, merchantId, rails: body.rails, useCase: body.use_case, expectedVolume: body.expected_volume });
    await appendEvidence(tx, { kind: 'access_request.filed', subject: merchantId, actor: `merchant:${merchantId}`, payload: { access_request_id: id, rails: body.rails }, dedupeKey: `access_request:${id}:filed` });
    return accessRequestObject(accessRequestRow(ar));
  });
}

/** Prisma's model in the API's snake_case names. */
function accessRequestRow(m: AccessRequest): Record<string, unknown> {
  return {
    id: m.id,
    merchant_id: m.merchantId,
    rails: m.rails,
    use_case: m.useCase,
    expected_volume: m.expectedVolume,
    status: m.status,
    decided_rails: m.decidedRails,
    decided_by: m.decidedBy,
    decision_reason: m.decisionReason,
    created_at: m.createdAt,
    decided_at: m.decidedAt,
  };
}

export function accessRequestObject(r: Record<string, any>) {
  return {
    id: r.id,
    object: 'access_request',
    merchant_id: r.merchant_id,
    rails: r.rails,
    use_case: r.use_case,
    expected_volume: r.expected_volume,
    status: r.status,
    approved_rails: r.decided_rails ?? [],
    decided_by: r.decided_by ?? null,
    decision_reason: r.decision_reason ?? null,
    created_at: new Date(r.created_at).toISOString(),
    decided_at: r.decided_at ? new Date(r.decided_at).toISOString() : null,
  };
}

export async function listAccessRequests(pool: Pool, status?: string) {
  return (await accessRequests(pool, status)).map(accessRequestRow).map(accessRequestObject);
}

/** Approve (some or all requested rails) or reject; approval enables those rails in live. */
export async function decideAccessRequest(
  pool: Pool,
  id: string,
  decision: 'approved' | 'rejected',
  operator: string,
  reason: string,
  rails?: string[],
) {
  return withPrismaTx(pool, async (tx) => {
    const ar = await repo.lockAccessRequest(tx, id);
    if (!ar) throw new DomainError('resource_missing', `no access request ${id}`, 'id', 404);
    if (ar.status !== 'pending') throw new DomainError('access_request_decided', `access request is already ${ar.status}`, undefined, 409);
    const requested = ar.rails ?? [];
    const approved = decision === 'approved' ? (rails ?? requested) : [];
    for (const r of approved) {
      if (!requested.includes(r)) throw new DomainError('rail_not_requested', `rail ${r} was not requested`, 'rails');
    }
    const decided = await repo.decideAccessRequestRow(tx, id, { status: decision, decidedBy: operator, decisionReason: reason, decidedRails: approved });
    await repo.enableLiveRails(tx, ar.merchant_id, approved, operator);
    for (const r of approved) {
      await appendEvidence(tx, { kind: 'rail.enabled', subject: ar.merchant_id, actor: operator, payload: { rail: r, environment: 'live', access_request_id: id }, dedupeKey: `rail:${ar.merchant_id}:live:${r}:${id}` });
    }
    await appendEvidence(tx, { kind: `access_request.${decision}`, subject: ar.merchant_id, actor: operator, payload: { access_request_id: id, rails: approved, reason }, dedupeKey: `access_request:${id}:decided` });
    return accessRequestObject(accessRequestRow(decided));
  });
}
