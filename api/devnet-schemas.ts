// The devnet-only routes' request bodies (api/devnet-routes.ts).
import { SIMULATED_OUTCOMES } from '../activities/chain/devnet-payer.js';

export const devnetSchemas = {
  PaymentSimulate: {
    type: 'object',
    additionalProperties: false,
    properties: {
      outcome: { enum: [...SIMULATED_OUTCOMES], description: 'exact (what is still owed), underpay or overpay (a tenth less or more)' },
      amount: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?$', maxLength: 48, description: 'Pay this amount instead (decimal string)' },
    },
  },
} as const;
