// JSON Schemas of the payouts, destinations, refunds and sweeps API (merged into api/schemas.ts).
import { PAYOUT_DESTINATION_STATUSES, PAYOUT_STATUSES } from '../workflows/rules/payout-transitions.js';

const amount = { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?$', maxLength: 48, description: 'Decimal string in the asset units, e.g. "125.50"' } as const;
const operatorDecision = {
  type: 'object',
  additionalProperties: false,
  required: ['reason'],
  properties: { reason: { type: 'string', minLength: 1, maxLength: 1000 } },
} as const;

export const payoutSchemas = {
  DestinationList: {
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 100 },
      starting_after: { type: 'string', pattern: '^pd_[0-9A-Za-z]{24}$' },
    },
  },
  AdminDestinationList: {
    type: 'object',
    additionalProperties: false,
    properties: { status: { enum: [...PAYOUT_DESTINATION_STATUSES] } },
  },
  PayoutDestinationCreate: {
    type: 'object',
    additionalProperties: false,
    required: ['rail', 'address', 'label'],
    properties: {
      rail: { type: 'string', minLength: 1, maxLength: 64 },
      address: { type: 'string', minLength: 1, maxLength: 100 },
      label: { type: 'string', minLength: 1, maxLength: 200 },
    },
  },
  PayoutCreate: {
    type: 'object',
    additionalProperties: false,
    required: ['amount', 'rail', 'destination', 'reference'],
    properties: {
      amount,
      rail: { type: 'string', minLength: 1, maxLength: 64 },
      destination: { type: 'string', minLength: 1, maxLength: 100, description: 'An allowlisted address, or its pd_… id' },
      reference: { type: 'string', minLength: 1, maxLength: 200 },
    },
  },
  PayoutList: {
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 100 },
      starting_after: { type: 'string', pattern: '^po_[0-9A-Za-z]{24}$' },
      status: { enum: [...PAYOUT_STATUSES] },
      environment: { enum: ['sandbox', 'live'] },
    },
  },
  OperatorDecision: operatorDecision,
  PayoutCancel: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: 1000 } } },
  PayoutSettings: {
    type: 'object',
    additionalProperties: false,
    required: ['environment', 'dual_approval_above'],
    properties: { environment: { enum: ['sandbox', 'live'] }, dual_approval_above: amount },
  },
  RefundAddress: {
    type: 'object',
    additionalProperties: false,
    required: ['address'],
    properties: { address: { type: 'string', minLength: 1, maxLength: 100 } },
  },
  SweepPlanCreate: {
    type: 'object',
    additionalProperties: false,
    required: ['rail'],
    properties: {
      environment: { enum: ['sandbox', 'live'] },
      rail: { type: 'string', minLength: 1, maxLength: 64 },
      min_amount: amount,
    },
  },
  SweepExecute: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: 1000 } } },
} as const;
