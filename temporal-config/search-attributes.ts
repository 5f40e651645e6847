// Custom search attributes registered on the namespace, so engineers can filter payment
// workflows in the Temporal UI by merchant, environment, rail and status.
import { SEARCH_ATTRIBUTES } from '../workflows/shared.js';

export const SEARCH_ATTRIBUTE_DEFS = [
  { name: SEARCH_ATTRIBUTES.merchantId, type: 'Keyword' },
  { name: SEARCH_ATTRIBUTES.environment, type: 'Keyword' },
  { name: SEARCH_ATTRIBUTES.rail, type: 'Keyword' },
  { name: SEARCH_ATTRIBUTES.status, type: 'Keyword' },
] as const;
