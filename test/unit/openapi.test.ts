// /openapi.json as a contract: every operation documents its success answer, the
// Idempotency-Key's bounds, whether its body is required, and (operator routes) the roles that
// may call it, taken from api/roles.ts, the same table the app enforces.
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { buildOpenApi } from '../../api/openapi.js';
import { routes as allRoutes } from '../../api/routes.js';
import { schemas } from '../../api/schemas.js';
import { ROUTE_RESPONSES, responseSchemas } from '../../api/response-schemas.js';
import { ADMIN_ROUTE_ROLES, rolesFor } from '../../api/roles.js';
import { IDEMPOTENCY_KEY_LENGTH_MAX } from '../../api/idempotency.js';
import { ROLES, roleAtLeast } from '../../activities/operators.js';

const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (a: Ajv) => Ajv;
const spec = buildOpenApi('http://127.0.0.1:3000') as any;
// A devnet-only route exists only in a process that runs the devnet; this spec is one without.
const routes = allRoutes.filter((r) => !r.devnetOnly);
const operations = Object.entries(spec.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
const expressPath = (p: string) => p.replace(/\{([a-z_]+)\}/g, ':$1');

describe('/openapi.json', () => {
  it('has one operation per route and a documented answer for each, and the answer table names no route that does not exist', () => {
    assert.equal(operations.length, routes.length);
    const keys = routes.map((r) => `${r.method.toUpperCase()} ${r.path}`);
    for (const k of keys) assert.ok(ROUTE_RESPONSES[k], `${k} has no response schema`);
    const allKeys = allRoutes.map((r) => `${r.method.toUpperCase()} ${r.path}`);
    for (const k of Object.keys(ROUTE_RESPONSES)) assert.ok(allKeys.includes(k), `${k} is in the answer table but not a route`);
    for (const name of Object.keys(responseSchemas)) assert.ok(!(name in schemas), `${name} names both a request and a response schema`);
  });

  it('every operation has a success response with a JSON schema, and typed errors for 4xx', () => {
    for (const { path, method, op } of operations) {
      const route = routes.find((r) => r.method === method && r.path === expressPath(path))!;
      const ok = op.responses[String(route.status ?? 200)];
      assert.ok(ok?.content?.['application/json']?.schema?.$ref, `${method} ${path}: success schema`);
      for (const code of ['400', '404', '405', '429']) assert.equal(op.responses[code].content['application/json'].schema.$ref, '#/components/schemas/Error', `${method} ${path} ${code}`);
      if (method === 'post') for (const code of ['413', '415', '422']) assert.ok(op.responses[code], `${method} ${path} ${code}`);
    }
  });

  it('the Idempotency-Key header has its length bounds on every POST, and only there', () => {
    for (const { method, path, op } of operations) {
      const h = op.parameters.find((p: any) => p.in === 'header' && p.name === 'Idempotency-Key');
      if (method === 'post') assert.deepEqual({ min: h.schema.minLength, max: h.schema.maxLength }, { min: 1, max: IDEMPOTENCY_KEY_LENGTH_MAX }, path);
      else assert.equal(h, undefined, path);
    }
  });

  it('a body is required exactly when its schema requires a property', () => {
    let required = 0;
    for (const r of routes.filter((x) => x.body)) {
      const op = spec.paths[r.path.replace(/:([a-z_]+)/g, '{$1}')][r.method];
      const schemaRequires = ((schemas[r.body!] as { required?: string[] }).required ?? []).length > 0;
      assert.equal(op.requestBody.required, schemaRequires, `${r.method} ${r.path}`);
      if (schemaRequires) required++;
    }
    assert.ok(required > 20, 'most bodies are required');
  });

  it('every operator operation carries x-stablerail-roles equal to api/roles.ts, and no other operation does', () => {
    for (const { path, method, op } of operations) {
      const route = routes.find((r) => r.method === method && r.path === expressPath(path))!;
      if (route.auth === 'admin') {
        const least = ADMIN_ROUTE_ROLES[`${method.toUpperCase()} ${route.path}`]!;
        assert.deepEqual(op['x-stablerail-roles'], ROLES.filter((r) => roleAtLeast(r, least)), `${method} ${path}`);
        assert.deepEqual(op['x-stablerail-roles'], rolesFor(method, route.path));
      } else {
        assert.equal(op['x-stablerail-roles'], undefined, `${method} ${path}`);
      }
    }
    assert.ok(operations.filter((o) => o.path.startsWith('/v1/admin/')).every((o) => Array.isArray(o.op['x-stablerail-roles'])));
  });

  it('every schema it references compiles (ajv), and a success schema refuses an answer missing its id', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'spec', components: spec.components });
    for (const name of Object.keys(spec.components.schemas)) assert.ok(ajv.getSchema(`spec#/components/schemas/${name}`), name);
    const payment = ajv.getSchema('spec#/components/schemas/Payment')!;
    assert.equal(payment({ object: 'payment' }), false);
  });
});
