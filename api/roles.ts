// Who may call which operator route: one table, enforced in one place (api/app.ts) and shown in
// /openapi.json as `x-stablerail-roles` and in README. Each role holds every power of the roles
// before it (viewer < operator < approver < admin), so an entry names the least role it needs.
import { ROLES, roleAtLeast, type Role } from '../activities/operators.js';

export const ADMIN_ROUTE_ROLES: Readonly<Record<string, Role>> = {
  // Reads: everything an operator can see.
  'GET /v1/admin/info': 'viewer',
  'GET /v1/admin/merchants': 'viewer',
  'GET /v1/admin/merchants/:id': 'viewer',
  'GET /v1/admin/access_requests': 'viewer',
  'GET /v1/admin/payments': 'viewer',
  'GET /v1/admin/payments/:id/timeline': 'viewer',
  'GET /v1/admin/payments/:id/evidence': 'viewer',
  'GET /v1/admin/evidence/verify': 'viewer',
  'GET /v1/admin/ledger/balances': 'viewer',
  'GET /v1/admin/payouts': 'viewer',
  'GET /v1/admin/payouts/:id': 'viewer',
  'GET /v1/admin/payout_destinations': 'viewer',
  'GET /v1/admin/sweeps/:id': 'viewer',
  'GET /v1/admin/reconciliation/runs': 'viewer',
  'GET /v1/admin/reconciliation/runs/:id': 'viewer',
  'GET /v1/admin/reconciliation/breaks': 'viewer',
  'GET /v1/admin/chain_exceptions': 'viewer',
  'GET /v1/admin/webhook_endpoints': 'viewer',
  'GET /v1/admin/operators/me': 'viewer',
  'POST /v1/admin/operators/me/totp': 'viewer',
  'POST /v1/admin/operators/me/totp/confirm': 'viewer',
  'POST /v1/console/sessions/end': 'viewer',
  // Operations: exceptions, onboarding decisions, reconciliation.
  'POST /v1/admin/payments/:id/resolve': 'operator',
  'POST /v1/admin/access_requests/:id/approve': 'operator',
  'POST /v1/admin/access_requests/:id/reject': 'operator',
  'POST /v1/admin/reconciliation/runs': 'operator',
  'POST /v1/admin/reconciliation/breaks/:id/resolve': 'operator',
  'POST /v1/admin/chain_exceptions/:id/resolve': 'operator',
  'POST /v1/admin/events/:id/redeliver': 'operator',
  // Money leaving: payouts, refunds' payouts, destinations, sweeps.
  'POST /v1/admin/payouts/:id/approve': 'approver',
  'POST /v1/admin/payouts/:id/cancel': 'approver',
  'POST /v1/admin/payout_destinations/:id/approve': 'approver',
  'POST /v1/admin/payout_destinations/:id/reject': 'approver',
  'POST /v1/admin/payout_destinations/:id/revoke': 'approver',
  'POST /v1/admin/sweeps': 'approver',
  'POST /v1/admin/sweeps/:id/execute': 'approver',
  // Administration: people, merchants, keys, settings.
  'GET /v1/admin/operators': 'admin',
  'GET /v1/admin/operators/:id/tokens': 'admin',
  'POST /v1/admin/operators': 'admin',
  'POST /v1/admin/operators/:id': 'admin',
  'POST /v1/admin/operators/:id/disable': 'admin',
  'POST /v1/admin/operators/:id/password': 'admin',
  'POST /v1/admin/operators/:id/reset_second_factor': 'admin',
  'POST /v1/admin/operators/:id/tokens': 'admin',
  'POST /v1/admin/operator_tokens/:id/revoke': 'admin',
  'POST /v1/admin/merchants': 'admin',
  'POST /v1/admin/merchants/:id/api_keys': 'admin',
  'POST /v1/admin/merchants/:id/sandbox_rails': 'admin',
  'POST /v1/admin/merchants/:id/payout_settings': 'admin',
  'POST /v1/admin/api_keys/:id/revoke': 'admin',
};

export const routeKey = (method: string, path: string): string => `${method.toUpperCase()} ${path}`;

/** The least role a route needs; an operator route missing from the table is a startup error, not an open door. */
export function requiredRole(method: string, path: string): Role {
  const role = ADMIN_ROUTE_ROLES[routeKey(method, path)];
  if (!role) throw new Error(`operator route ${routeKey(method, path)} has no entry in api/roles.ts`);
  return role;
}

/** The roles that may call a route, for /openapi.json's x-stablerail-roles. */
export const rolesFor = (method: string, path: string): Role[] => ROLES.filter((r) => roleAtLeast(r, requiredRole(method, path)));

/** Every operator route a role may call, as `METHOD /path` keys of the table. */
export const allowedRoutes = (role: Role): string[] => Object.entries(ADMIN_ROUTE_ROLES).filter(([, least]) => roleAtLeast(role, least)).map(([route]) => route);

/** The role table as README prints it (test/unit/roles.test.ts keeps README equal to this). */
export function roleTableMarkdown(): string {
  const rows = Object.entries(ADMIN_ROUTE_ROLES).map(([route, role]) => `| \`${route}\` | ${ROLES.filter((r) => roleAtLeast(r, role)).join(', ')} |`);
  return ['| route | roles |', '|---|---|', ...rows].join('\n');
}
