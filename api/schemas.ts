// JSON Schemas for every request body and query: ajv validates with them and /openapi.json is built from them.
import { CHAIN_EXCEPTION_RESOLUTIONS } from '../activities/chain-exceptions.js';
import { EVENT_TYPES } from '../workflows/rules/event-types.js';
import { PAYMENT_STATUSES, RESOLUTION_DECISIONS } from '../workflows/rules/transitions.js';
import { SCOPES } from '../activities/merchant.js';
import { webhookSchemas } from './webhook-schemas.js';
import { payoutSchemas } from './payout-schemas.js';
import { operatorSchemas } from './operator-schemas.js';
import { devnetSchemas } from './devnet-schemas.js';

const metadata = {
  type: 'object',
  maxProperties: 20,
  propertyNames: { maxLength: 40 },
  additionalProperties: { type: 'string', maxLength: 500 },
} as const;

export const amountSchema = { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?$', maxLength: 48, description: 'Decimal string in the asset units, e.g. "125.50"' } as const;

const orderSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['reference', 'amount', 'asset'],
  properties: {
    reference: { type: 'string', minLength: 1, maxLength: 200 },
    amount: amountSchema,
    asset: { type: 'string', pattern: '^[A-Z0-9]{2,12}$' },
    status: { enum: ['open', 'fulfilled', 'canceled'] },
  },
} as const;

export const schemas = {
  ...webhookSchemas,
  ...payoutSchemas,
  ...operatorSchemas,
  ...devnetSchemas,
  PaymentCreate: {
    type: 'object',
    additionalProperties: false,
    required: ['amount', 'rail', 'reference'],
    properties: {
      amount: amountSchema,
      rail: { type: 'string', minLength: 1, maxLength: 64 },
      reference: { type: 'string', minLength: 1, maxLength: 200 },
      expires_in_s: { type: 'integer', minimum: 10, maximum: 604800 },
      metadata,
    },
  },
  PaymentList: {
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 100 },
      starting_after: { type: 'string', pattern: '^pay_[0-9A-Za-z]{24}$' },
      status: { enum: [...PAYMENT_STATUSES] },
      reference: { type: 'string', minLength: 1, maxLength: 200 },
    },
  },
  EventList: {
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 100 },
      starting_after: { type: 'string', pattern: '^evt_[0-9A-Za-z]{24}$' },
      type: { type: 'string', enum: [...EVENT_TYPES], description: 'One exact event type' },
      object_id: { type: 'string', maxLength: 64 },
    },
  },
  Empty: { type: 'object', additionalProperties: false, properties: {} },
  FormatOnly: { type: 'object', additionalProperties: false, properties: { format: { enum: ['json', 'csv'] } } },
  ReconciliationRunCreate: { type: 'object', additionalProperties: false, properties: { grace_s: { type: 'integer', minimum: 0, maximum: 3600 } } },
  AdminReconciliationRunCreate: {
    type: 'object',
    additionalProperties: false,
    properties: {
      environment: { enum: ['sandbox', 'live'] },
      merchant_id: { type: 'string', pattern: '^mer_[0-9A-Za-z]{24}$' },
      grace_s: { type: 'integer', minimum: 0, maximum: 3600 },
    },
  },
  RunList: {
    type: 'object', additionalProperties: false,
    properties: { limit: { type: 'integer', minimum: 1, maximum: 200 }, starting_after: { type: 'string', pattern: '^rec_[0-9A-Za-z]{24}$' } },
  },
  BreakList: {
    type: 'object', additionalProperties: false,
    properties: { status: { enum: ['open', 'cleared', 'resolved'] }, limit: { type: 'integer', minimum: 1, maximum: 500 }, starting_after: { type: 'string', pattern: '^brk_[0-9a-f]{24}$' } },
  },
  ChainExceptionList: {
    type: 'object', additionalProperties: false,
    properties: { status: { enum: ['open', 'resolved'] }, limit: { type: 'integer', minimum: 1, maximum: 500 }, starting_after: { type: 'string', pattern: '^cex_[0-9A-Za-z]{24}$' } },
  },
  ChainExceptionResolve: {
    type: 'object',
    additionalProperties: false,
    required: ['resolution', 'reason'],
    properties: {
      resolution: { enum: [...CHAIN_EXCEPTION_RESOLUTIONS], description: 'returned (sent back to the payer), credited (given to a merchant by a posting of its own), written_off, false_positive' },
      reason: { type: 'string', minLength: 1, maxLength: 1000 },
    },
  },
  BreakResolve: {
    type: 'object',
    additionalProperties: false,
    required: ['resolution', 'reason'],
    properties: {
      resolution: { enum: ['accepted', 'corrected', 'written_off', 'false_positive'] },
      reason: { type: 'string', minLength: 1, maxLength: 1000 },
    },
  },
  AdminPaymentList: {
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 200 },
      starting_after: { type: 'string', pattern: '^pay_[0-9A-Za-z]{24}$' },
      status: { enum: [...PAYMENT_STATUSES] },
      environment: { enum: ['sandbox', 'live'] },
      merchant_id: { type: 'string', pattern: '^mer_[0-9A-Za-z]{24}$' },
    },
  },
  OrderCreate: orderSchema,
  OrderBatch: {
    type: 'object',
    additionalProperties: false,
    required: ['orders'],
    properties: { orders: { type: 'array', minItems: 1, maxItems: 1000, items: orderSchema } },
  },
  OrderList: {
    type: 'object',
    additionalProperties: false,
    properties: { limit: { type: 'integer', minimum: 1, maximum: 100 }, starting_after: { type: 'string', pattern: '^ord_[0-9A-Za-z]{24}$' }, reference: { type: 'string', maxLength: 200 } },
  },
  LedgerBalances: {
    type: 'object',
    additionalProperties: false,
    properties: { as_of: { type: 'string', format: 'date-time' }, format: { enum: ['json', 'csv'] } },
  },
  LedgerEntries: {
    type: 'object',
    additionalProperties: false,
    properties: {
      as_of: { type: 'string', format: 'date-time' },
      format: { enum: ['json', 'csv'] },
      limit: { type: 'integer', minimum: 1, maximum: 1000 },
      starting_after: { type: 'string', pattern: '^pst_[0-9a-f]{32}$' },
    },
  },
  AdminLedgerBalances: {
    type: 'object',
    additionalProperties: false,
    properties: { environment: { enum: ['sandbox', 'live'] }, as_of: { type: 'string', format: 'date-time' }, format: { enum: ['json', 'csv'] } },
  },
  MerchantCreate: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: { name: { type: 'string', minLength: 1, maxLength: 200 } },
  },
  SandboxRailsEnable: {
    type: 'object',
    additionalProperties: false,
    properties: { rails: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 64 }, description: 'Rail ids; every sandbox rail when left out' } },
  },
  ApiKeyCreate: {
    type: 'object',
    additionalProperties: false,
    required: ['environment'],
    properties: {
      environment: { enum: ['sandbox', 'live'] },
      scopes: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...SCOPES] } },
    },
  },
  OperatorAction: {
    type: 'object',
    additionalProperties: false,
    properties: { reason: { type: 'string', maxLength: 1000 } },
  },
  AccessRequestCreate: {
    type: 'object',
    additionalProperties: false,
    required: ['rails', 'use_case', 'expected_volume'],
    properties: {
      rails: { type: 'array', minItems: 1, maxItems: 32, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 64 } },
      use_case: { type: 'string', minLength: 1, maxLength: 2000 },
      expected_volume: { type: 'string', minLength: 1, maxLength: 200 },
    },
  },
  AccessRequestDecision: {
    type: 'object',
    additionalProperties: false,
    required: ['reason'],
    properties: {
      reason: { type: 'string', minLength: 1, maxLength: 1000 },
      rails: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 64 } },
    },
  },
  AccessRequestList: {
    type: 'object',
    additionalProperties: false,
    properties: { status: { enum: ['pending', 'approved', 'rejected'] } },
  },
  PaymentResolve: {
    type: 'object',
    additionalProperties: false,
    required: ['decision', 'reason'],
    properties: {
      decision: { enum: [...RESOLUTION_DECISIONS] },
      reason: { type: 'string', minLength: 1, maxLength: 1000 },
      refund_address: { type: 'string', minLength: 1, maxLength: 100, description: 'refund only: where the money goes back; else the address the payer left on the payment page' },
    },
  },
} as const;

export type SchemaName = keyof typeof schemas;
