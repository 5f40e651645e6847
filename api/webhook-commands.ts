// Webhook commands from the API: start the delivery workflows of a redelivery, or the workflow
// of a recovery.
// Automatic deliveries are started by the payment workflow itself, as its children.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Pool } from '../activities/db.js';
import { withTx } from '../activities/db.js';
import { DomainError, type KeyAuth } from '../activities/merchant.js';
import { enableEndpoint, subscriptionKeys, type EndpointRow } from '../activities/webhooks/endpoints.js';
import { findEventById, findOwnedEvent, undeliveredEvents, type Event } from '../activities/repositories/events.js';
import { appendEvidence } from '../activities/evidence.js';
import { redeliveryTargets, type Owner } from '../activities/repositories/webhook-endpoints.js';
import type { webhookDeliveryWorkflow } from '../workflows/webhook-delivery.js';
import type { webhookLaneWorkflow } from '../workflows/webhook-lane.js';
import type { webhookRecoveryWorkflow } from '../workflows/webhook-recovery.js';
import { TASK_QUEUES } from '../workflows/shared.js';
import { deliveryIdFor, laneIdFor, laneWakeSignal, type DeliveryInput, type DeliveryKind, type PlannedDelivery } from '../workflows/webhook-shared.js';

/** Events one recovery resends; a wider outage is recovered in several calls (has_more). */
export const RECOVER_EVENTS_MAX = 1_000;
export const RECOVER_WINDOW_MS_MAX = 30 * 86_400_000;
/** Workflow starts in flight at once from one request. */
const STARTS_CONCURRENT_MAX = 32;

/**
 * Start delivery workflows; each writes its own pending row first (the API writes none), so a
 * start that fails leaves nothing behind and the retried request starts it.
 */
export async function startDeliveries(temporal: Client, deliveries: Array<DeliveryInput & { kind: DeliveryKind }>, taskQueue: string = TASK_QUEUES.webhooks): Promise<void> {
  for (let i = 0; i < deliveries.length; i += STARTS_CONCURRENT_MAX) {
    await Promise.all(
      deliveries.slice(i, i + STARTS_CONCURRENT_MAX).map(async (d) => {
        try {
          await temporal.workflow.start<typeof webhookDeliveryWorkflow>('webhookDeliveryWorkflow', {
            taskQueue,
            workflowId: d.deliveryId,
            args: [{ deliveryId: d.deliveryId, eventId: d.eventId, endpointId: d.endpointId, kind: d.kind }],
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
          });
        } catch (err) {
          // A retried request converging on a delivery it already started.
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
      }),
    );
  }
}

/**
 * Deliveries planned outside a workflow (a merchant disabling an endpoint notifies the others):
 * each goes to the lane of its object and endpoint, as a workflow would hand it off.
 */
export async function startLanes(temporal: Client, planned: PlannedDelivery[], taskQueue: string = TASK_QUEUES.webhooks): Promise<void> {
  await Promise.all(
    planned.map(async (p) => {
      try {
        if (p.ordering === 'none' || p.objectId === undefined) {
          await temporal.workflow.start<typeof webhookDeliveryWorkflow>('webhookDeliveryWorkflow', {
            taskQueue, workflowId: p.deliveryId, args: [{ deliveryId: p.deliveryId, eventId: p.eventId, endpointId: p.endpointId }], workflowIdReusePolicy: 'REJECT_DUPLICATE',
          });
        } else {
          // Start it, or wake it if it runs: one that just read "nothing pending" reads again before it ends.
          await temporal.workflow.signalWithStart<typeof webhookLaneWorkflow>('webhookLaneWorkflow', {
            taskQueue, workflowId: laneIdFor(p.objectId, p.endpointId), args: [{ objectId: p.objectId, endpointId: p.endpointId }], workflowIdReusePolicy: 'ALLOW_DUPLICATE',
            signal: laneWakeSignal, signalArgs: [],
          });
        }
      } catch (err) {
        // A running lane reads its pending deliveries itself; a retried request converges.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    }),
  );
}

export async function redeliverEvent(pool: Pool, temporal: Client, auth: KeyAuth, eventId: string, endpointId: string | undefined, redeliveryId: string) {
  const ev = await findOwnedEvent(pool, auth, eventId);
  if (!ev) throw new DomainError('resource_missing', 'No such event', 'id', 404);
  return redeliverTo(pool, temporal, ev, endpointId, redeliveryId);
}

/**
 * An operator resends a merchant's event (a merchant whose integration lost it asks support):
 * the same deliveries as the merchant's own redelivery, and the request is evidence.
 */
export async function redeliverEventForOperator(pool: Pool, temporal: Client, actor: string, eventId: string, endpointId: string | undefined, redeliveryId: string) {
  const ev = await findEventById(pool, eventId);
  if (!ev) throw new DomainError('resource_missing', 'No such event', 'id', 404);
  const out = await redeliverTo(pool, temporal, ev, endpointId, redeliveryId);
  await withTx(pool, (c) => appendEvidence(c, {
    kind: 'webhook.redelivery_requested',
    subject: ev.id,
    actor,
    payload: { merchant_id: ev.merchantId, environment: ev.environment, endpoint_id: endpointId ?? null, deliveries: out.data.map((d) => d.id) },
    dedupeKey: `webhook_redelivery:${redeliveryId}`,
  }));
  return out;
}

async function redeliverTo(pool: Pool, temporal: Client, ev: Event, endpointId: string | undefined, redeliveryId: string) {
  const rows = await redeliveryTargets(pool, { merchantId: ev.merchantId, environment: ev.environment as Owner['environment'] }, endpointId, subscriptionKeys(ev.type));
  if (endpointId && !rows[0]) throw new DomainError('resource_missing', 'No such webhook endpoint', 'endpoint_id', 404);
  if (endpointId && rows[0]!.status === 'deleted') throw new DomainError('endpoint_deleted', 'This webhook endpoint was deleted; nothing is sent to it any more', 'endpoint_id', 409);
  if (endpointId && rows[0]!.status !== 'enabled') throw new DomainError('endpoint_disabled', 'This webhook endpoint is disabled; recover it to resend', 'endpoint_id', 409);
  const targets = rows.filter((r) => r.status === 'enabled');
  const deliveries = targets.map((w) => ({ deliveryId: deliveryIdFor(ev.id, w.id, redeliveryId), eventId: ev.id, endpointId: w.id, kind: 'redelivery' as const }));
  await startDeliveries(temporal, deliveries);
  return {
    object: 'list',
    data: deliveries.map((d) => ({ id: d.deliveryId, object: 'webhook_delivery', event_id: d.eventId, endpoint_id: d.endpointId, kind: d.kind, status: 'pending' })),
    has_more: false,
  };
}

function instant(v: string, param: string): Date {
  const d = new Date(v);
  if (Number.isNaN(d.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(v)) throw new DomainError('parameter_invalid', `${param} must be an ISO 8601 instant`, param);
  return d;
}

/**
 * Recover an endpoint after an outage: enable it again and resend every event of the window
 * it subscribes to that has no successful delivery to it (failed, canceled, or never sent
 * because the endpoint was disabled). Bounded per call; has_more says to call again from
 * the last event's created_at.
 */
export async function recoverEndpoint(pool: Pool, temporal: Client, auth: KeyAuth, endpoint: EndpointRow, body: { since: string; until?: string }, recoveryId: string) {
  const since = instant(body.since, 'since');
  const until = body.until ? instant(body.until, 'until') : new Date();
  if (since >= until) throw new DomainError('parameter_invalid', 'since must be before until', 'since');
  if (until.getTime() - since.getTime() > RECOVER_WINDOW_MS_MAX) throw new DomainError('parameter_invalid', 'the window is at most 30 days', 'since');
  await withTx(pool, (c) => enableEndpoint(c, endpoint.id, `api_key:${auth.keyId}`));
  const rows = await undeliveredEvents(pool, auth, { id: endpoint.id, enabledEvents: endpoint.enabled_events }, { since, until }, RECOVER_EVENTS_MAX + 1);
  const page = rows.slice(0, RECOVER_EVENTS_MAX);
  const deliveries: PlannedDelivery[] = page.map((e) => ({
    deliveryId: deliveryIdFor(e.id, endpoint.id, recoveryId), eventId: e.id, endpointId: endpoint.id,
    objectId: e.object_id, sequence: Number(e.sequence), ordering: endpoint.ordering,
  }));
  // One call: the recovery's workflow writes the rows (skipping events another recovery at the
  // same moment took) and hands them to the objects' lanes (in sequence order, behind anything
  // pending) or to delivery children (ordering "none"); the answer is what it resent.
  let resent: string[] = [];
  if (deliveries.length > 0) {
    try {
      resent = (await temporal.workflow.execute<typeof webhookRecoveryWorkflow>('webhookRecoveryWorkflow', {
        taskQueue: TASK_QUEUES.webhooks, workflowId: recoveryId, workflowIdReusePolicy: 'REJECT_DUPLICATE',
        args: [{ recoveryId, endpointId: endpoint.id, deliveries }],
      })).eventIds;
    } catch (err) {
      // A retried request converging on the recovery it already started.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      resent = (await temporal.workflow.getHandle<typeof webhookRecoveryWorkflow>(recoveryId).result()).eventIds;
    }
  }
  return {
    object: 'webhook_recovery',
    id: recoveryId,
    endpoint_id: endpoint.id,
    since: since.toISOString(),
    until: until.toISOString(),
    resent: resent.length,
    event_ids: resent,
    has_more: rows.length > RECOVER_EVENTS_MAX,
    last_event_created_at: page.at(-1)?.created_at.toISOString() ?? null,
  };
}
