// The webhook endpoints API: translate HTTP to the endpoint records and delivery workflows.
// Every route is per merchant and environment, scope webhooks:manage; another merchant's
// endpoint or event is 404.
import {
  createEndpoint,
  deleteEndpoint,
  endpointObject,
  listDeliveries,
  listEndpoints,
  rotateSecret,
  updateEndpoint,
  ROTATION_OVERLAP_S_DEFAULT,
} from '../activities/webhooks/endpoints.js';
import { endpointsForOperators, findOwnedEndpoint, type EndpointRow } from '../activities/repositories/webhook-endpoints.js';
import { newId } from '../activities/ids.js';
import { notFound } from './errors.js';
import { operatorOf } from './operator.js';
import type { Ctx, RouteDef } from './route-types.js';
import { recoverEndpoint, redeliverEvent, redeliverEventForOperator, startLanes } from './webhook-commands.js';

const LIMIT_DEFAULT = 10;

async function owned(ctx: Ctx): Promise<EndpointRow> {
  // Owner check: another merchant's or environment's endpoint is 404, as if it did not exist.
  const row = await findOwnedEndpoint(ctx.deps.pool, ctx.auth!, ctx.params.id!);
  if (!row) throw notFound('webhook endpoint');
  return row;
}

/** A secret is shown once: the stored idempotent replay carries none. */
const withoutSecret = (out: unknown) => ({ ...(out as Record<string, unknown>), secret: null });


export const webhookRoutes: RouteDef[] = [
  {
    method: 'post', path: '/v1/webhook_endpoints', summary: 'Register a webhook endpoint; its signing secret (whsec_…) is answered once',
    auth: 'merchant', scope: 'webhooks:manage', body: 'WebhookEndpointCreate', createsIdPrefix: 'we', status: 201, storedResponse: withoutSecret,
    handler: async (ctx) => {
      const { row, secret } = await createEndpoint(ctx.deps.pool, ctx.deps.masterKey, ctx.deps.config,
        { merchantId: ctx.auth!.merchantId, environment: ctx.auth!.environment, actor: `api_key:${ctx.auth!.keyId}` }, ctx.body, ctx.resourceId);
      return { ...endpointObject(row), secret };
    },
  },
  {
    method: 'get', path: '/v1/webhook_endpoints', summary: 'List webhook endpoints, newest first', auth: 'merchant', scope: 'webhooks:manage', query: 'WebhookEndpointList',
    handler: async (ctx) => listEndpoints(ctx.deps.pool, ctx.auth!, ctx.query.limit ?? LIMIT_DEFAULT, ctx.query.starting_after),
  },
  {
    method: 'get', path: '/v1/webhook_endpoints/:id', summary: 'Retrieve a webhook endpoint (never its secret)', auth: 'merchant', scope: 'webhooks:manage',
    handler: async (ctx) => endpointObject(await owned(ctx)),
  },
  {
    method: 'post', path: '/v1/webhook_endpoints/:id', summary: 'Update a webhook endpoint: url, enabled_events, description, disabled', auth: 'merchant', scope: 'webhooks:manage', body: 'WebhookEndpointUpdate',
    handler: async (ctx) => {
      const { row, notify } = await updateEndpoint(ctx.deps.pool, ctx.deps.config, await owned(ctx), ctx.body, `api_key:${ctx.auth!.keyId}`);
      // Disabling sends webhook_endpoint.disabled to the merchant's other subscribed endpoints.
      await startLanes(ctx.deps.temporal, notify);
      return endpointObject(row);
    },
  },
  {
    method: 'delete', path: '/v1/webhook_endpoints/:id', summary: 'Delete a webhook endpoint: its pending deliveries end; it, its deliveries and their attempts stay readable (status deleted)',
    auth: 'merchant', scope: 'webhooks:manage',
    handler: async (ctx) => ({ ...endpointObject(await deleteEndpoint(ctx.deps.pool, await owned(ctx), `api_key:${ctx.auth!.keyId}`)), deleted: true }),
  },
  {
    method: 'post', path: '/v1/webhook_endpoints/:id/rotate_secret', summary: 'Rotate the signing secret; the previous one keeps signing during the overlap (default 24 h, at most 7 days)',
    auth: 'merchant', scope: 'webhooks:manage', body: 'WebhookSecretRotate', storedResponse: withoutSecret,
    handler: async (ctx) => {
      const row = await owned(ctx);
      const r = await rotateSecret(ctx.deps.pool, ctx.deps.masterKey, row, ctx.body.overlap_s ?? ROTATION_OVERLAP_S_DEFAULT, `api_key:${ctx.auth!.keyId}`);
      return { ...endpointObject(row), secret: r.secret, previous_secret_expires_at: r.previousExpiresAt?.toISOString() ?? null };
    },
  },
  {
    method: 'get', path: '/v1/webhook_endpoints/:id/deliveries', summary: 'Deliveries to this endpoint with their attempts, newest first', auth: 'merchant', scope: 'webhooks:manage', query: 'WebhookDeliveryList',
    handler: async (ctx) => listDeliveries(ctx.deps.pool, await owned(ctx), ctx.query.limit ?? LIMIT_DEFAULT, ctx.query.starting_after),
  },
  {
    method: 'post', path: '/v1/webhook_endpoints/:id/recover', summary: 'Enable the endpoint again and resend what did not reach it between since and until',
    auth: 'merchant', scope: 'webhooks:manage', body: 'WebhookRecover', createsIdPrefix: 'rcv',
    handler: async (ctx) => recoverEndpoint(ctx.deps.pool, ctx.deps.temporal, ctx.auth!, await owned(ctx), ctx.body, ctx.resourceId ?? newId('rcv')),
  },
  {
    method: 'post', path: '/v1/events/:id/redeliver', summary: 'Send an event again to one endpoint (endpoint_id) or to every subscribed one',
    auth: 'merchant', scope: 'webhooks:manage', body: 'EventRedeliver', createsIdPrefix: 'rdl',
    handler: async (ctx) => redeliverEvent(ctx.deps.pool, ctx.deps.temporal, ctx.auth!, ctx.params.id!, ctx.body.endpoint_id, ctx.resourceId ?? newId('rdl')),
  },
  {
    method: 'post', path: '/v1/admin/events/:id/redeliver', summary: "Operators: send a merchant's event again to one of its endpoints (endpoint_id) or to every subscribed one; recorded as evidence",
    auth: 'admin', body: 'EventRedeliver', createsIdPrefix: 'rdl',
    handler: async (ctx) => redeliverEventForOperator(ctx.deps.pool, ctx.deps.temporal, operatorOf(ctx), ctx.params.id!, ctx.body.endpoint_id, ctx.resourceId ?? newId('rdl')),
  },
  {
    method: 'get', path: '/v1/admin/webhook_endpoints', summary: 'Operator view of webhook endpoints, e.g. those disabled after exhausting retries', auth: 'admin', query: 'AdminWebhookEndpointList',
    handler: async (ctx) => {
      const limit: number = ctx.query.limit ?? LIMIT_DEFAULT;
      const rows = await endpointsForOperators(ctx.deps.pool, ctx.query.status, limit + 1);
      return { object: 'list', data: rows.slice(0, limit).map((r) => ({ ...endpointObject(r), merchant_id: r.merchant_id, environment: r.environment })), has_more: rows.length > limit };
    },
  },
];
