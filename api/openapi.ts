// OpenAPI 3.1 generated from the route table and the same JSON Schemas ajv enforces, with each
// route's success answer (api/response-schemas.ts) and each operator route's roles (api/roles.ts).
import { routes } from './routes.js';
import { schemas } from './schemas.js';
import { responseSchemaFor, responseSchemas } from './response-schemas.js';
import { rolesFor } from './roles.js';
import { IDEMPOTENCY_KEY_LENGTH_MAX } from './idempotency.js';

const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };

/** The refusals a route can answer, by what it takes: every one in the Error shape. */
function errorResponses(r: (typeof routes)[number]): Record<string, { description: string; content: typeof errorContent }> {
  const out: Record<string, string> = { 400: 'Invalid request (typed code)', 404: 'No such object', 405: 'Method not allowed on this path (Allow lists the methods)', 409: 'State conflict', 429: 'Rate limited (Retry-After)' };
  if (r.auth !== 'public') Object.assign(out, { 401: 'Missing or invalid credential', 403: 'Scope, role or CSRF refused' });
  // Console sign-in is public but answers 401 to wrong credentials.
  if (r.body === 'ConsoleSignIn') out[401] = 'Email, password or code is wrong';
  if (r.method === 'post') {
    Object.assign(out, {
      413: 'Body too large', 415: 'Body not application/json in UTF-8, or a Content-Encoding that cannot be undone',
      422: 'Idempotency-Key reused with a different body', 503: 'Orchestrator unavailable: retry with the same Idempotency-Key',
    });
  }
  return Object.fromEntries(Object.entries(out).map(([code, description]) => [code, { description, content: errorContent }]));
}

/** A body is required exactly when its schema requires a property: then an empty POST is 400. */
function bodyRequired(name: keyof typeof schemas): boolean {
  const req = (schemas[name] as { required?: readonly string[] }).required;
  return Array.isArray(req) && req.length > 0;
}

export function buildOpenApi(baseUrl: string, o: { devnet?: boolean } = {}) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    if (r.devnetOnly && !o.devnet) continue;
    const path = r.path.replace(/:([a-z_]+)/g, '{$1}');
    const params = [...r.path.matchAll(/:([a-z_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const querySchema = r.query ? (schemas[r.query] as { properties: Record<string, unknown> }) : undefined;
    const queryParams = querySchema ? Object.entries(querySchema.properties).map(([name, schema]) => ({ name, in: 'query', required: false, schema })) : [];
    const headerParams = r.method === 'post'
      ? [{ name: 'Idempotency-Key', in: 'header', required: false, description: 'Same key and body replay the first answer; another body is 422', schema: { type: 'string', minLength: 1, maxLength: IDEMPOTENCY_KEY_LENGTH_MAX } }]
      : [];
    const success = { $ref: `#/components/schemas/${responseSchemaFor(r.method, r.path)}` };
    const csv = querySchema && 'format' in querySchema.properties;
    (paths[path] ??= {})[r.method] = {
      summary: r.summary,
      operationId: `${r.method}${path.replace(/[{}]/g, '').replace(/\/(.)/g, (_, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, '')}`,
      security: r.auth === 'public' ? [] : [{ [r.auth === 'admin' ? 'operatorToken' : 'secretKey']: r.scope ? [r.scope] : [] }],
      parameters: [...params, ...queryParams, ...headerParams],
      ...(r.body ? { requestBody: { required: bodyRequired(r.body), content: { 'application/json': { schema: { $ref: `#/components/schemas/${r.body}` } } } } } : {}),
      responses: {
        [String(r.status ?? 200)]: {
          description: 'OK',
          content: { 'application/json': { schema: success }, ...(csv ? { 'text/csv': { schema: { type: 'string' } } } : {}) },
        },
        ...errorResponses(r),
        default: { description: 'Server error', content: errorContent },
      },
      ...(r.auth === 'admin' ? { 'x-stablerail-roles': rolesFor(r.method, r.path) } : {}),
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
        ...responseSchemas,
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
