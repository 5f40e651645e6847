// The role table is one table in code (api/roles.ts); README prints it and every operator route has an entry.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ADMIN_ROUTE_ROLES, roleTableMarkdown, rolesFor } from '../../api/roles.js';
import { routes } from '../../api/routes.js';

describe('operator roles', () => {
  it('every /v1/admin route and the console sign-out has a role, and the table names no route that does not exist', () => {
    const operatorRoutes = routes.filter((r) => r.auth === 'admin').map((r) => `${r.method.toUpperCase()} ${r.path}`);
    for (const r of operatorRoutes) assert.ok(ADMIN_ROUTE_ROLES[r], `${r} has no role`);
    for (const r of Object.keys(ADMIN_ROUTE_ROLES)) assert.ok(operatorRoutes.includes(r), `${r} is in the table but not a route`);
  });

  it('roles nest: viewer < operator < approver < admin', () => {
    assert.deepEqual(rolesFor('get', '/v1/admin/payments'), ['viewer', 'operator', 'approver', 'admin']);
    assert.deepEqual(rolesFor('post', '/v1/admin/payments/:id/resolve'), ['operator', 'approver', 'admin']);
    assert.deepEqual(rolesFor('post', '/v1/admin/payouts/:id/approve'), ['approver', 'admin']);
    assert.deepEqual(rolesFor('post', '/v1/admin/operators'), ['admin']);
  });

  it('README prints the table exactly as the code enforces it', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    assert.ok(readme.includes(roleTableMarkdown()), 'README "Operators, roles and sign-in" must carry api/roles.ts roleTableMarkdown()');
  });
});
