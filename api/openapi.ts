// OpenAPI 3.1 generated from the route table and the same JSON Schemas ajv enforces.
import { routes } from './routes.js';
import { schemas } from './schemas.js';

export function buildOpenApi(baseUrl: string, o: { devnet?: boolean } = {}) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    if (r.devnetOnly && !o.devnet) continue;
    const path = r.path.replace(/:([a-z_]+)/g, '{$1}');
    const params = [...r.path.matchAll(/:([a-z_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const querySchema = r.query ? (schemas[r.query] as { properties: Record<string, unknown> }) : undefined;
    const queryParams = querySchema ? Object.entries(querySchema.properties).map(([name, schema]) => ({ name, in: 'query', required: false, schema })) : [];
    const headerParams = r.method === 'post' ? [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 } }] : [];
    (paths[path] ??= {})[r.method] = {
      summary: r.summary,
      operationId: `${r.method}${path.replace(/[{}]/g, '').replace(/\/(.)/g, (_, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, '')}`,
      security: r.auth === 'public' ? [] : [{ [r.auth === 'admin' ? 'operatorToken' : 'secretKey']: r.scope ? [r.scope] : [] }],
      parameters: [...params, ...queryParams, ...headerParams],
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${r.body}` } } } } } : {}),
      responses: {
        [String(r.status ?? 200)]: { description: 'OK' },
        default: { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Stablerail API', version: '1', description: 'Self-hosted stablecoin payments. Amounts are decimal strings.' },
    servers: [{ url: baseUrl }],
    paths,
    components: {
      securitySchemes: {
        secretKey: { type: 'http', scheme: 'bearer', description: 'sk_test_… (sandbox) or sk_live_… (live)' },
        operatorToken: { type: 'http', scheme: 'bearer', description: 'The operator credential (admin_token)' },
      },
      schemas: {
        ...schemas,
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['type', 'code', 'message'],
              properties: { type: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' }, param: { type: ['string', 'null'] } },
            },
          },
        },
      },
    },
  };
}
