// Custom search attributes registered on the namespace, so engineers can filter payment
// workflows in the Temporal UI by merchant, environment, rail and status.
import { SEARCH_ATTRIBUTES } from '../workflows/shared.js';

export const SEARCH_ATTRIBUTE_DEFS = [
  { name: SEARCH_ATTRIBUTES.merchantId, type: 'Keyword' },
  { name: SEARCH_ATTRIBUTES.environment, type: 'Keyword' },
  { name: SEARCH_ATTRIBUTES.rail, type: 'Keyword' },
  { name: SEARCH_ATTRIBUTES.status, type: 'Keyword' },
] as const;

/** The operator API's numbering of indexed value types (temporal.api.enums.v1.IndexedValueType). */
const INDEXED_VALUE_TYPE = { Keyword: 2 } as const;
const GRPC_UNIMPLEMENTED = 12;

interface OperatorConnection {
  operatorService: {
    listSearchAttributes(req: { namespace: string }): Promise<{ customAttributes?: Record<string, unknown> | null }>;
    addSearchAttributes(req: { namespace: string; searchAttributes: Record<string, number> }): Promise<unknown>;
  };
}

/**
 * Register Stablerail's search attributes on a namespace, skipping those already there: safe
 * to run at every start, on a cluster, Temporal Cloud (where the operator API allows it) or
 * the time-skipping test server.
 */
export async function registerSearchAttributes(connection: OperatorConnection, namespace: string): Promise<string[]> {
  // The time-skipping test server answers UNIMPLEMENTED to the list: then add them all.
  const existing = await connection.operatorService.listSearchAttributes({ namespace }).then(
    (r) => r.customAttributes ?? {},
    (err: { code?: number }) => {
      if (err.code === GRPC_UNIMPLEMENTED) return {};
      throw err;
    },
  );
  const missing = SEARCH_ATTRIBUTE_DEFS.filter((d) => !(d.name in existing));
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((d) => [d.name, INDEXED_VALUE_TYPE[d.type]])) });
  return missing.map((d) => d.name);
}
