// Every event type Stablerail emits, and what an endpoint may subscribe to. Derived from the
// payment and payout transition tables, so a new status cannot emit a type no one can subscribe to.
import { eventTypeFor, PAYMENT_STATUSES, TRANSITIONS } from './transitions.js';
import { PAYOUT_STATUSES, payoutEventType } from './payout-transitions.js';

export const EVENT_TYPES: readonly string[] = [
  ...new Set([
    eventTypeFor(null, 'awaiting_payment'),
    ...PAYMENT_STATUSES.flatMap((from) => TRANSITIONS[from].map((to) => eventTypeFor(from, to))),
    ...PAYOUT_STATUSES.map(payoutEventType),
    'webhook_endpoint.disabled',
  ]),
].sort();

/**
 * What `enabled_events` accepts: `*`, an object's wildcard (`payment.*`) or an exact type. A
 * misspelled type is refused rather than stored: an endpoint subscribed to nothing real would
 * receive nothing, and nothing would tell the merchant why.
 */
export const SUBSCRIPTIONS: readonly string[] = ['*', ...[...new Set(EVENT_TYPES.map((t) => `${t.split('.')[0]}.*`))].sort(), ...EVENT_TYPES];
