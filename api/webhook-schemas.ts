// JSON Schemas of the webhook endpoints API (merged into api/schemas.ts, so ajv and /openapi.json share them).
import { ROTATION_OVERLAP_S_MAX } from '../activities/webhooks/endpoints.js';
import { URL_LENGTH_MAX } from '../activities/webhooks/url-guard.js';
import { SUBSCRIPTIONS } from '../workflows/rules/event-types.js';

/** `*`, `payment.*` or an exact type such as `payment.confirmed`: one of the types Stablerail emits. */
const SUBSCRIPTION_SCHEMA = { type: 'string', enum: [...SUBSCRIPTIONS] } as const;
export const ENABLED_EVENTS_MAX = 32;

const ORDERING_SCHEMA = {
  enum: ['sequence', 'none'],
  description: '"sequence" (default): one object\'s events arrive in sequence order, a later one waits while an earlier one is retried; "none": each event is delivered on its own',
} as const;

export const webhookSchemas = {
  WebhookEndpointCreate: {
    type: 'object',
    additionalProperties: false,
    required: ['url'],
    properties: {
      url: { type: 'string', minLength: 1, maxLength: URL_LENGTH_MAX },
      enabled_events: { type: 'array', minItems: 1, maxItems: ENABLED_EVENTS_MAX, uniqueItems: true, items: SUBSCRIPTION_SCHEMA, default: ['*'] },
      description: { type: 'string', maxLength: 500 },
      ordering: ORDERING_SCHEMA,
    },
  },
  WebhookEndpointUpdate: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: {
      url: { type: 'string', minLength: 1, maxLength: URL_LENGTH_MAX },
      enabled_events: { type: 'array', minItems: 1, maxItems: ENABLED_EVENTS_MAX, uniqueItems: true, items: SUBSCRIPTION_SCHEMA },
      description: { type: 'string', maxLength: 500 },
      disabled: { type: 'boolean', description: 'true stops deliveries (pending ones end); false enables it again (use recover to resend what it missed)' },
      ordering: ORDERING_SCHEMA,
    },
  },
  WebhookEndpointList: {
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 100 },
      starting_after: { type: 'string', pattern: '^we_[0-9A-Za-z]{24}$' },
    },
  },
  WebhookSecretRotate: {
    type: 'object',
    additionalProperties: false,
    properties: {
      overlap_s: { type: 'integer', minimum: 0, maximum: ROTATION_OVERLAP_S_MAX, description: 'How long the previous secret keeps signing (default 86400, at most 7 days)' },
    },
  },
  WebhookDeliveryList: {
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 100 },
      starting_after: { type: 'string', maxLength: 200 },
    },
  },
  EventRedeliver: {
    type: 'object',
    additionalProperties: false,
    properties: { endpoint_id: { type: 'string', pattern: '^we_[0-9A-Za-z]{24}$' } },
  },
  WebhookRecover: {
    type: 'object',
    additionalProperties: false,
    required: ['since'],
    properties: {
      since: { type: 'string', minLength: 1, maxLength: 40, description: 'ISO 8601 instant: resend what did not reach this endpoint from here' },
      until: { type: 'string', minLength: 1, maxLength: 40, description: 'ISO 8601 instant (default now)' },
    },
  },
  AdminWebhookEndpointList: {
    type: 'object',
    additionalProperties: false,
    properties: { status: { enum: ['enabled', 'disabled'] }, limit: { type: 'integer', minimum: 1, maximum: 100 } },
  },
} as const;
