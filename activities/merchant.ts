// Merchants, API keys, access requests and rail enablement: the control plane of
// reviewed enablement. Every change an auditor may ask about lands in the evidence log
// in the same transaction as the change.
import type { Pool } from './db.js';
import { withTx } from './db.js';
import type { StablerailConfig } from './config.js';
import { appendEvidence } from './evidence.js';
import { newId, randomBase62, sha256Hex } from './ids.js';
import { accessRequests, anyRailEnabled, findActiveKeyByHash, findMerchant, railEnabled, railEnablements, type AccessRequest } from './repositories/merchants.js';

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
  return withTx(pool, async (c) => {
    const { rows } = await c.query<MerchantRow>(`INSERT INTO merchants (id, name) VALUES ($1, $2) RETURNING id, name, created_at`, [id, name]);
    // Sandbox rails are on from the start so an engineer can integrate before review.
    for (const rail of sandboxRails) {
      await c.query(`INSERT INTO rail_enablements (merchant_id, environment, rail_id, enabled_by) VALUES ($1, 'sandbox', $2, $3)`, [id, rail, operator]);
    }
    await appendEvidence(c, { kind: 'merchant.created', subject: id, actor: operator, payload: { name, sandbox_rails: sandboxRails }, dedupeKey: `merchant:${id}` });
    return { ...rows[0]!, sandbox_rails: sandboxRails };
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
  return withTx(pool, async (c) => {
    const { rows } = await c.query(
      `INSERT INTO api_keys (id, merchant_id, environment, secret_hash, prefix, scopes, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, merchant_id, environment, prefix, scopes, created_at`,
      [id, merchantId, environment, keyHash(secret), prefix, scopes, operator],
    );
    await appendEvidence(c, { kind: 'api_key.created', subject: merchantId, actor: operator, payload: { key_id: id, environment, scopes, prefix }, dedupeKey: `api_key:${id}:created` });
    return { ...rows[0], secret };
  });
}

export async function revokeApiKey(pool: Pool, keyId: string, operator: string, merchantId?: string) {
  return withTx(pool, async (c) => {
    const { rows } = await c.query(
      `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 AND ($2::text IS NULL OR merchant_id = $2)
       RETURNING id, merchant_id, environment, prefix, scopes, created_at, revoked_at`,
      [keyId, merchantId ?? null],
    );
    if (!rows[0]) return undefined;
    await appendEvidence(c, { kind: 'api_key.revoked', subject: rows[0].merchant_id, actor: operator, payload: { key_id: keyId }, dedupeKey: `api_key:${keyId}:revoked` });
    return rows[0];
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
  return withTx(pool, async (c) => {
    const { rows } = await c.query(
      `INSERT INTO access_requests (id, merchant_id, rails, use_case, expected_volume, status, decided_rails)
       VALUES ($1, $2, $3, $4, $5, 'pending', '{}') RETURNING *`,
      [id, merchantId, body.rails, body.use_case, body.expected_volume],
    );
    await appendEvidence(c, { kind: 'access_request.filed', subject: merchantId, actor: `merchant:${merchantId}`, payload: { access_request_id: id, rails: body.rails }, dedupeKey: `access_request:${id}:filed` });
    return accessRequestObject(rows[0]);
  });
}

/** Prisma's model in the column names the raw writes' RETURNING rows carry. */
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
  return withTx(pool, async (c) => {
    const { rows } = await c.query(`SELECT * FROM access_requests WHERE id = $1 FOR UPDATE`, [id]);
    const ar = rows[0];
    if (!ar) throw new DomainError('resource_missing', `no access request ${id}`, 'id', 404);
    if (ar.status !== 'pending') throw new DomainError('access_request_decided', `access request is already ${ar.status}`, undefined, 409);
    const approved = decision === 'approved' ? (rails ?? ar.rails) : [];
    for (const r of approved) {
      if (!ar.rails.includes(r)) throw new DomainError('rail_not_requested', `rail ${r} was not requested`, 'rails');
    }
    const upd = await c.query(
      `UPDATE access_requests SET status = $2, decided_by = $3, decision_reason = $4, decided_rails = $5, decided_at = now()
        WHERE id = $1 RETURNING *`,
      [id, decision, operator, reason, approved],
    );
    for (const r of approved) {
      await c.query(
        `INSERT INTO rail_enablements (merchant_id, environment, rail_id, enabled_by) VALUES ($1, 'live', $2, $3) ON CONFLICT DO NOTHING`,
        [ar.merchant_id, r, operator],
      );
      await appendEvidence(c, { kind: 'rail.enabled', subject: ar.merchant_id, actor: operator, payload: { rail: r, environment: 'live', access_request_id: id }, dedupeKey: `rail:${ar.merchant_id}:live:${r}:${id}` });
    }
    await appendEvidence(c, { kind: `access_request.${decision}`, subject: ar.merchant_id, actor: operator, payload: { access_request_id: id, rails: approved, reason }, dedupeKey: `access_request:${id}:decided` });
    return accessRequestObject(upd.rows[0]);
  });
}
