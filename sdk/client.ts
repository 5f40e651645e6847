// A small Stablerail API client for merchant servers: secret key in, typed objects out,
// errors as StablerailApiError with the API's stable code. Never use it in a browser.
export interface ClientOptions {
  apiKey: string;
  baseUrl: string;
  /** Per request; the API answers well within it. */
  timeoutMs?: number;
}

export class StablerailApiError extends Error {
  override name = 'StablerailApiError';
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: string,
    message: string,
    readonly param: string | null,
  ) {
    super(message);
  }
}

export interface WebhookEndpoint {
  id: string;
  object: 'webhook_endpoint';
  url: string;
  enabled_events: string[];
  status: 'enabled' | 'disabled' | 'deleted';
  disabled_reason: string | null;
  disabled_at?: string | null;
  /** 'sequence' (default): one object's events arrive in sequence order; 'none': each on its own. */
  ordering?: 'sequence' | 'none';
  deleted_at?: string | null;
  livemode: boolean;
  created_at: string;
  /** Only in the answer that created or rotated it. */
  secret?: string;
}

export interface List<T> {
  data: T[];
  has_more: boolean;
}

export const TIMEOUT_MS_DEFAULT = 30_000;

export class StablerailClient {
  constructor(private readonly o: ClientOptions) {}

  async request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, idempotencyKey?: string): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.o.apiKey}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    const res = await fetch(`${this.o.baseUrl.replace(/\/$/, '')}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.o.timeoutMs ?? TIMEOUT_MS_DEFAULT),
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    if (!res.ok) {
      const e = json?.error ?? {};
      throw new StablerailApiError(res.status, e.type ?? 'api_error', e.code ?? 'unknown', e.message ?? `HTTP ${res.status}`, e.param ?? null);
    }
    return json as T;
  }

  createPayment(p: { amount: string; rail: string; reference: string; expires_in_s?: number; metadata?: Record<string, string> }, idempotencyKey?: string) {
    return this.request<Record<string, any>>('POST', '/v1/payments', p, idempotencyKey ?? p.reference);
  }
  getPayment(id: string) {
    return this.request<Record<string, any>>('GET', `/v1/payments/${encodeURIComponent(id)}`);
  }
  cancelPayment(id: string, idempotencyKey?: string) {
    return this.request<Record<string, any>>('POST', `/v1/payments/${encodeURIComponent(id)}/cancel`, {}, idempotencyKey);
  }
  listEvents(q: { limit?: number; starting_after?: string; type?: string; object_id?: string } = {}) {
    return this.request<List<Record<string, any>>>('GET', `/v1/events${query(q)}`);
  }
  createWebhookEndpoint(p: { url: string; enabled_events?: string[]; description?: string; ordering?: 'sequence' | 'none' }, idempotencyKey?: string) {
    return this.request<WebhookEndpoint>('POST', '/v1/webhook_endpoints', p, idempotencyKey);
  }
  listWebhookEndpoints(q: { limit?: number; starting_after?: string } = {}) {
    return this.request<List<WebhookEndpoint>>('GET', `/v1/webhook_endpoints${query(q)}`);
  }
  getWebhookEndpoint(id: string) {
    return this.request<WebhookEndpoint>('GET', `/v1/webhook_endpoints/${encodeURIComponent(id)}`);
  }
  updateWebhookEndpoint(id: string, p: { url?: string; enabled_events?: string[]; description?: string; disabled?: boolean; ordering?: 'sequence' | 'none' }, idempotencyKey?: string) {
    return this.request<WebhookEndpoint>('POST', `/v1/webhook_endpoints/${encodeURIComponent(id)}`, p, idempotencyKey);
  }
  /** Pending deliveries end; the endpoint, its deliveries and attempts stay readable (status deleted). */
  deleteWebhookEndpoint(id: string) {
    return this.request<WebhookEndpoint & { deleted: true }>('DELETE', `/v1/webhook_endpoints/${encodeURIComponent(id)}`);
  }
  rotateWebhookSecret(id: string, p: { overlap_s?: number } = {}, idempotencyKey?: string) {
    return this.request<WebhookEndpoint & { secret: string; previous_secret_expires_at: string | null }>('POST', `/v1/webhook_endpoints/${encodeURIComponent(id)}/rotate_secret`, p, idempotencyKey);
  }
  listDeliveries(id: string, q: { limit?: number; starting_after?: string } = {}) {
    return this.request<List<Record<string, any>>>('GET', `/v1/webhook_endpoints/${encodeURIComponent(id)}/deliveries${query(q)}`);
  }
  redeliverEvent(eventId: string, p: { endpoint_id?: string } = {}, idempotencyKey?: string) {
    return this.request<List<Record<string, any>>>('POST', `/v1/events/${encodeURIComponent(eventId)}/redeliver`, p, idempotencyKey);
  }
  recoverWebhookEndpoint(id: string, p: { since: string; until?: string }, idempotencyKey?: string) {
    return this.request<Record<string, any>>('POST', `/v1/webhook_endpoints/${encodeURIComponent(id)}/recover`, p, idempotencyKey);
  }
}

function query(q: Record<string, string | number | undefined>): string {
  const entries = Object.entries(q).filter(([, v]) => v !== undefined) as Array<[string, string | number]>;
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}` : '';
}
