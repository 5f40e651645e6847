// JSON Schemas for every request body and query: ajv validates with them and /openapi.json is built from them.
import { PAYMENT_STATUSES, RESOLUTION_DECISIONS } from '../workflows/rules/transitions.js';
import { SCOPES } from '../activities/merchant.js';
import { webhookSchemas } from './webhook-schemas.js';

const metadata = {
  type: 'object',
  maxProperties: 20,
  propertyNames: { maxLength: 40 },
  additionalProperties: { type: 'string', maxLength: 500 },
} as const;

export const amountSchema = { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?$', maxLength: 48, description: 'Decimal string in the asset units, e.g. "125.50"' } as const;

export const schemas = {
  ...webhookSchemas,
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
      type: { type: 'string', maxLength: 64 },
      object_id: { type: 'string', maxLength: 64 },
    },
  },
  Empty: { type: 'object', additionalProperties: false, properties: {} },
  MerchantCreate: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, operator: { type: 'string', minLength: 1, maxLength: 100 } },
  },
  ApiKeyCreate: {
    type: 'object',
    additionalProperties: false,
    required: ['environment'],
    properties: {
      environment: { enum: ['sandbox', 'live'] },
      scopes: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...SCOPES] } },
      operator: { type: 'string', minLength: 1, maxLength: 100 },
    },
  },
  OperatorAction: {
    type: 'object',
    additionalProperties: false,
    properties: { operator: { type: 'string', minLength: 1, maxLength: 100 }, reason: { type: 'string', maxLength: 1000 } },
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
      operator: { type: 'string', minLength: 1, maxLength: 100 },
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
      operator: { type: 'string', minLength: 1, maxLength: 100 },
    },
  },
} as const;

export type SchemaName = keyof typeof schemas;
