// What every route answers on success, as JSON Schema: /openapi.json publishes these, and the
// spec-driven fuzz test (test/fuzz.test.ts) checks every 2xx answer against them. Keyed by
// "METHOD path" like api/roles.ts, so route modules need not change; a unit test keeps this
// table and the route table equal (a route without a documented answer fails it).
import { PAYMENT_STATUSES } from '../workflows/rules/transitions.js';
import { ROLES } from '../activities/operators.js';
import { amountSchema } from './schemas.js';

type Schema = Record<string, unknown>;

const str = { type: 'string' } as const;
const nstr = { type: ['string', 'null'] } as const;
const int = { type: 'integer' } as const;
const nint = { type: ['integer', 'null'] } as const;
const bool = { type: 'boolean' } as const;
const time = { type: 'string', format: 'date-time' } as const;
const ntime = { anyOf: [time, { type: 'null' }] } as const;
const anyObject = { type: 'object' } as const;
const strings = { type: 'array', items: str } as const;
const objects = { type: 'array', items: anyObject } as const;
const env = { enum: ['sandbox', 'live'] } as const;
const idOf = (prefix: string) => ({ type: 'string', pattern: `^${prefix}_[0-9A-Za-z]+$` });
/** A decimal string that may be negative (ledger lines, drift). */
const signedAmount = { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?$' } as const;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** An object with these properties, all required; more may be added later without breaking clients. */
function obj(props: Record<string, unknown>, optional: Record<string, unknown> = {}): Schema {
  return { type: 'object', required: Object.keys(props), properties: { ...props, ...optional } };
}
const withProps = (base: Schema, props: Record<string, unknown>): Schema =>
  obj({ ...(base.properties as Record<string, unknown>), ...props });
const list = (item: unknown, extra: Record<string, unknown> = {}): Schema =>
  obj({ object: { const: 'list' }, data: { type: 'array', items: item }, has_more: bool, ...extra });

const payment = obj({
  id: idOf('pay'), object: { const: 'payment' }, livemode: bool, status: { enum: [...PAYMENT_STATUSES] },
  exception: { anyOf: [{ type: 'null' }, obj({ code: str })] }, amount: amountSchema, amount_received: amountSchema,
  asset: str, rail: str, deposit_address: nstr, expires_at: time, public_id: idOf('pub'), hosted_url: str,
  reference: str, metadata: { type: 'object', additionalProperties: str }, refund_address: nstr, created_at: time, updated_at: time,
});
const endpoint = obj({
  id: idOf('we'), object: { const: 'webhook_endpoint' }, livemode: bool, url: str, description: nstr, enabled_events: strings,
  status: str, disabled_reason: nstr, disabled_at: ntime, created_at: time,
});
const destination = obj({
  id: idOf('pd'), object: { const: 'payout_destination' }, livemode: bool, rail: str, address: str, label: str, status: str,
  usable_at: ntime, created_at: time, updated_at: time,
});
const payout = obj({
  id: idOf('po'), object: { const: 'payout' }, livemode: bool, kind: str, status: str, amount: amountSchema, asset: str, rail: str,
  destination: obj({ id: nstr, address: str }), reference: nstr, payment_id: nstr, approvals_required: int,
  approvals: { type: 'array', items: obj({ operator: str, created_at: time }) }, tx_hash: nstr,
  network_fee: { anyOf: [{ type: 'null' }, obj({ amount: amountSchema, asset: str })] }, failure_code: nstr, created_at: time, updated_at: time,
});
const operator = obj({
  id: idOf('op'), object: { const: 'operator' }, email: str, name: str, role: { enum: [...ROLES] }, status: { enum: ['active', 'disabled'] },
  second_factor: { enum: ['totp', null] }, created_at: time, last_seen_at: ntime,
});
const operatorToken = obj({
  id: str, object: { const: 'operator_token' }, prefix: str, label: nstr, role: { enum: [...ROLES] },
  expires_at: ntime, revoked_at: ntime, last_used_at: ntime, created_at: time,
});
const reconciliationBreak = obj({
  id: str, object: { const: 'reconciliation_break' }, class: str, status: str, merchant_id: nstr, asset: str,
  expected: signedAmount, actual: signedAmount, drift: signedAmount, first_run_id: str, last_run_id: str, created_at: time, resolved_at: ntime,
});
const chainException = obj({
  id: idOf('cex'), object: { const: 'chain_exception' }, code: str, status: { enum: ['open', 'resolved'] }, rail: str, tx_hash: str, log_index: int,
  to_address: str, amount: str, amount_minor: str, payment_id: nstr, detail: anyObject, created_at: time,
  resolution: nstr, resolved_by: nstr, reason: nstr, resolved_at: ntime,
});
const reconciliationRun = obj(
  {
    id: idOf('rec'), object: { const: 'reconciliation_run' }, status: str, environment: env, merchant_id: nstr, trigger: str,
    drift_by_asset: anyObject, started_at: time, finished_at: ntime,
  },
  { breaks: { type: 'array', items: reconciliationBreak } },
);
const accessRequest = obj({
  id: idOf('ar'), object: { const: 'access_request' }, merchant_id: idOf('mer'), rails: strings, use_case: str, expected_volume: str,
  status: str, approved_rails: strings, decided_by: nstr, decision_reason: nstr, created_at: time, decided_at: ntime,
});
const paymentTimeline = obj({
  payment, merchant_id: idOf('mer'), environment: env, transitions: objects, events: objects, transfers: objects,
  webhook_attempts: objects, postings: objects, temporal: obj({ namespace: str, workflow_id: str, ui_url: nstr }),
});
const balances = list(obj({ account: str, owner_type: str, owner_id: nstr, purpose: str, asset: str, balance: signedAmount, balance_minor: str }), { as_of: nstr });

export const responseSchemas = {
  Payment: payment,
  PaymentPage: list(payment),
  AdminPaymentPage: list(withProps(payment, { merchant_id: idOf('mer'), environment: env })),
  PaymentResolved: withProps(payment, { refund: { anyOf: [{ type: 'null' }, obj({ id: idOf('po'), status: str, destination: str })] } }),
  PublicPayment: obj({
    public_id: idOf('pub'), object: { const: 'public_payment' }, status: { enum: [...PAYMENT_STATUSES] }, exception: { anyOf: [{ type: 'null' }, obj({ code: str })] },
    amount: amountSchema, amount_received: amountSchema, asset: str, network: str, rail: str, token_contract: nstr, chain_id: nint, decimals: int,
    deposit_address: nstr, expires_at: time, confirmations_required: int, refund_address_set: bool,
  }),
  RefundAddressSet: obj({ refund_address: str }),
  SimulatedPayment: obj({ object: { const: 'simulated_payment' }, public_id: idOf('pub'), rail: str, tx_hash: str, from: str, to: str, amount: amountSchema, asset: str }),
  PaymentTimeline: paymentTimeline,
  EvidencePack: obj({
    object: { const: 'evidence_pack' }, generated_at: time, payment, merchant_id: idOf('mer'), environment: env,
    transitions: objects, events: objects, transfers: objects, webhook_attempts: objects, postings: objects, operator_decisions: objects, evidence: objects,
    chain_proof: obj({ intact: bool, entries_verified: int, head_hash: nstr, first_broken: { anyOf: [{ type: 'null' }, anyObject] } }),
    temporal_history: anyObject,
  }),
  Event: obj({ id: idOf('evt'), object: { const: 'event' }, type: str, created_at: time, sequence: int, data: anyObject }),
  EventPage: list(ref('Event')),
  Rail: obj({ id: str, object: { const: 'rail' }, asset: str, network: str, kind: str, decimals: int, confirmations_required: int, finality_confirmations: int, payment_window_s: int }),
  RailPage: list(ref('Rail')),
  Order: obj({ id: idOf('ord'), object: { const: 'order' }, reference: str, amount: amountSchema, asset: str, status: { enum: ['open', 'fulfilled', 'canceled'] }, created_at: time, updated_at: time }),
  OrderPage: list(ref('Order')),
  OrderBatchResult: obj({ object: { const: 'order_batch' }, received: int, changed: int }),
  LedgerBalancePage: balances,
  LedgerEntryPage: list(obj({
    id: str, object: { const: 'ledger_entry' }, effective_at: time, gate: str, payment_id: nstr, payout_id: nstr, reference: nstr, rail: nstr, tx_hash: nstr,
    log_index: nint, reverses: nstr, memo: nstr, lines: { type: 'array', items: obj({ account: str, purpose: str, asset: str, amount: signedAmount, amount_minor: str }) },
  })),
  Merchant: obj({ id: idOf('mer'), object: { const: 'merchant' }, name: str, created_at: time, rails: obj({ sandbox: strings, live: strings }) }),
  MerchantPage: list(obj({ id: idOf('mer'), object: { const: 'merchant' }, name: str, created_at: time, rails: strings })),
  ApiKeyCreated: obj({ id: str, object: { const: 'api_key' }, merchant_id: idOf('mer'), environment: env, scopes: strings, prefix: str, secret: str, created_at: time }),
  ApiKeyRevoked: obj({ id: str, object: { const: 'api_key' }, merchant_id: idOf('mer'), environment: env, prefix: str, revoked_at: time }),
  AccessRequest: accessRequest,
  AccessRequestPage: list(accessRequest),
  EvidenceVerification: obj({ ok: bool, checked: int }, { headHash: nstr, firstBroken: obj({ seq: { type: ['string', 'integer'] }, reason: str }) }),
  AdminInfo: obj({ temporal_ui_url: nstr, namespace: str, rails: { type: 'array', items: obj({ id: str, environments: strings }) } }),
  WebhookEndpoint: endpoint,
  WebhookEndpointDeleted: withProps(endpoint, { deleted: { const: true } }),
  /** The secret is shown once: an idempotent replay answers it as null. */
  WebhookEndpointCreated: withProps(endpoint, { secret: nstr }),
  WebhookEndpointRotated: withProps(endpoint, { secret: nstr, previous_secret_expires_at: ntime }),
  WebhookEndpointPage: list(endpoint),
  AdminWebhookEndpointPage: list(withProps(endpoint, { merchant_id: idOf('mer'), environment: env })),
  WebhookDeliveryPage: list(obj({ id: str, object: { const: 'webhook_delivery' }, endpoint_id: idOf('we'), event_id: idOf('evt'), kind: str, status: str })),
  WebhookRecovery: obj({
    object: { const: 'webhook_recovery' }, id: str, endpoint_id: idOf('we'), since: time, until: time, resent: int, event_ids: strings, has_more: bool, last_event_created_at: ntime,
  }),
  PayoutDestination: destination,
  PayoutDestinationPage: list(destination),
  AdminPayoutDestinationPage: list(withProps(destination, { merchant_id: idOf('mer') })),
  Payout: payout,
  PayoutPage: list(payout),
  AdminPayout: withProps(payout, { merchant_id: idOf('mer') }),
  PayoutSettingsSet: obj({ object: { const: 'payout_settings' }, merchant_id: idOf('mer'), environment: env, dual_approval_above: { anyOf: [amountSchema, { type: 'null' }] } }),
  Sweep: obj({
    id: str, object: { const: 'sweep' }, environment: env, rail: str, status: str, treasury_address: str, asset: str, native_asset: str,
    total_amount: amountSchema, estimated_fee: amountSchema, gas_top_up: amountSchema, items: objects, fees_paid: { anyOf: [amountSchema, { type: 'null' }] },
    planned_by: str, executed_by: nstr, created_at: time, updated_at: time,
  }),
  ReconciliationRunStarted: obj({ id: idOf('rec'), object: { const: 'reconciliation_run' }, status: { const: 'running' }, environment: env, merchant_id: nstr }),
  ReconciliationRun: reconciliationRun,
  ReconciliationRunPage: list(reconciliationRun),
  ReconciliationBreak: reconciliationBreak,
  ReconciliationBreakPage: list(reconciliationBreak),
  ChainException: chainException,
  ChainExceptionPage: list(chainException),
  Operator: operator,
  OperatorMe: withProps(operator, { credential: obj({ id: str, kind: str, role: { enum: [...ROLES] } }), csrf_token: nstr }),
  /** The token is shown once: an idempotent replay answers it as null. */
  OperatorCreated: withProps(operator, { token: nstr, token_id: str }),
  OperatorPage: list(operator),
  OperatorToken: operatorToken,
  OperatorTokenCreated: withProps(operatorToken, { token: nstr }),
  OperatorTokenPage: list(operatorToken),
  /** The seed is shown once: an idempotent replay answers only that enrolment started. */
  TotpEnrolment: { anyOf: [obj({ otpauth_uri: str, secret: str, qr_svg: str }), obj({ enrolment: { const: 'started' } })] },
  ConsoleSession: obj({ object: { const: 'console_session' }, id: str, operator: anyObject, csrf_token: str }),
  Ok: obj({ ok: { const: true } }),
} as const satisfies Record<string, Schema>;

export type ResponseSchemaName = keyof typeof responseSchemas;

/** Each route's success answer; routes whose query takes format=csv may answer text/csv instead. */
export const ROUTE_RESPONSES: Readonly<Record<string, ResponseSchemaName>> = {
  'GET /v1/payments/:id/evidence': 'EvidencePack',
  'GET /v1/admin/payments/:id/evidence': 'EvidencePack',
  'GET /v1/admin/info': 'AdminInfo',
  'GET /v1/admin/merchants': 'MerchantPage',
  'GET /v1/admin/payments': 'AdminPaymentPage',
  'GET /v1/admin/payments/:id/timeline': 'PaymentTimeline',
  'GET /v1/payments/:id/timeline': 'PaymentTimeline',
  'GET /v1/admin/operators/me': 'OperatorMe',
  'GET /v1/admin/operators': 'OperatorPage',
  'POST /v1/admin/operators': 'OperatorCreated',
  'POST /v1/admin/operators/:id': 'Operator',
  'POST /v1/admin/operators/:id/disable': 'Operator',
  'POST /v1/admin/operators/:id/password': 'Ok',
  'POST /v1/admin/operators/:id/reset_second_factor': 'Operator',
  'GET /v1/admin/operators/:id/tokens': 'OperatorTokenPage',
  'POST /v1/admin/operators/:id/tokens': 'OperatorTokenCreated',
  'POST /v1/admin/operator_tokens/:id/revoke': 'OperatorToken',
  'POST /v1/admin/operators/me/totp': 'TotpEnrolment',
  'POST /v1/admin/operators/me/totp/confirm': 'Operator',
  'POST /v1/console/sessions': 'ConsoleSession',
  'POST /v1/console/sessions/end': 'Ok',
  'POST /v1/reconciliation/runs': 'ReconciliationRunStarted',
  'GET /v1/reconciliation/runs/:id': 'ReconciliationRun',
  'POST /v1/admin/reconciliation/runs': 'ReconciliationRunStarted',
  'GET /v1/admin/reconciliation/runs/:id': 'ReconciliationRun',
  'GET /v1/admin/reconciliation/runs': 'ReconciliationRunPage',
  'GET /v1/admin/reconciliation/breaks': 'ReconciliationBreakPage',
  'POST /v1/admin/reconciliation/breaks/:id/resolve': 'ReconciliationBreak',
  'GET /v1/admin/chain_exceptions': 'ChainExceptionPage',
  'POST /v1/admin/chain_exceptions/:id/resolve': 'ChainException',
  'POST /v1/payments': 'Payment',
  'GET /v1/payments': 'PaymentPage',
  'GET /v1/payments/:id': 'Payment',
  'POST /v1/payments/:id/cancel': 'Payment',
  'GET /v1/events': 'EventPage',
  'GET /v1/events/:id': 'Event',
  'POST /v1/webhook_endpoints': 'WebhookEndpointCreated',
  'GET /v1/webhook_endpoints': 'WebhookEndpointPage',
  'GET /v1/webhook_endpoints/:id': 'WebhookEndpoint',
  'POST /v1/webhook_endpoints/:id': 'WebhookEndpoint',
  'POST /v1/webhook_endpoints/:id/rotate_secret': 'WebhookEndpointRotated',
  'DELETE /v1/webhook_endpoints/:id': 'WebhookEndpointDeleted',
  'GET /v1/webhook_endpoints/:id/deliveries': 'WebhookDeliveryPage',
  'POST /v1/webhook_endpoints/:id/recover': 'WebhookRecovery',
  'POST /v1/events/:id/redeliver': 'WebhookDeliveryPage',
  'POST /v1/admin/events/:id/redeliver': 'WebhookDeliveryPage',
  'GET /v1/admin/webhook_endpoints': 'AdminWebhookEndpointPage',
  'POST /v1/payout_destinations': 'PayoutDestination',
  'GET /v1/payout_destinations': 'PayoutDestinationPage',
  'GET /v1/payout_destinations/:id': 'PayoutDestination',
  'DELETE /v1/payout_destinations/:id': 'PayoutDestination',
  'POST /v1/admin/payout_destinations/:id/revoke': 'PayoutDestination',
  'POST /v1/payouts': 'Payout',
  'GET /v1/payouts': 'PayoutPage',
  'GET /v1/payouts/:id': 'Payout',
  'POST /v1/payouts/:id/cancel': 'Payout',
  'POST /v1/public/payments/:public_id/refund_address': 'RefundAddressSet',
  'POST /v1/public/payments/:public_id/simulate': 'SimulatedPayment',
  'GET /v1/admin/payouts': 'PayoutPage',
  'GET /v1/admin/payouts/:id': 'AdminPayout',
  'POST /v1/admin/payouts/:id/approve': 'Payout',
  'POST /v1/admin/payouts/:id/cancel': 'Payout',
  'GET /v1/admin/payout_destinations': 'AdminPayoutDestinationPage',
  'POST /v1/admin/payout_destinations/:id/approve': 'PayoutDestination',
  'POST /v1/admin/payout_destinations/:id/reject': 'PayoutDestination',
  'POST /v1/admin/merchants/:id/payout_settings': 'PayoutSettingsSet',
  'POST /v1/admin/sweeps': 'Sweep',
  'GET /v1/admin/sweeps/:id': 'Sweep',
  'POST /v1/admin/sweeps/:id/execute': 'Sweep',
  'POST /v1/access_requests': 'AccessRequest',
  'GET /v1/rails': 'RailPage',
  'GET /v1/public/payments/:public_id': 'PublicPayment',
  'GET /v1/ledger/balances': 'LedgerBalancePage',
  'GET /v1/ledger/entries': 'LedgerEntryPage',
  'POST /v1/orders': 'Order',
  'POST /v1/orders/batch': 'OrderBatchResult',
  'GET /v1/orders': 'OrderPage',
  'GET /v1/admin/ledger/balances': 'LedgerBalancePage',
  'POST /v1/admin/merchants': 'Merchant',
  'GET /v1/admin/merchants/:id': 'Merchant',
  'POST /v1/admin/merchants/:id/sandbox_rails': 'Merchant',
  'POST /v1/admin/merchants/:id/api_keys': 'ApiKeyCreated',
  'POST /v1/admin/api_keys/:id/revoke': 'ApiKeyRevoked',
  'GET /v1/admin/access_requests': 'AccessRequestPage',
  'POST /v1/admin/access_requests/:id/approve': 'AccessRequest',
  'POST /v1/admin/access_requests/:id/reject': 'AccessRequest',
  'POST /v1/admin/payments/:id/resolve': 'PaymentResolved',
  'GET /v1/admin/evidence/verify': 'EvidenceVerification',
};

/** The documented success schema of a route; a route missing here is a startup error, like a missing role. */
export function responseSchemaFor(method: string, path: string): ResponseSchemaName {
  const name = ROUTE_RESPONSES[`${method.toUpperCase()} ${path}`];
  if (!name) throw new Error(`route ${method.toUpperCase()} ${path} has no documented answer in api/response-schemas.ts`);
  return name;
}
