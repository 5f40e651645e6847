// Operator accounts, personal tokens, second factors and console sessions. Who may call each
// route is api/roles.ts; every change is evidence (activities/operators.ts).
import QRCode from 'qrcode';
import {
  actorOf,
  beginTotpEnrolment,
  confirmTotpEnrolment,
  createOperator,
  createOperatorToken,
  disableOperator,
  getOperator,
  listOperators,
  listOperatorTokens,
  operatorObject,
  resetSecondFactor,
  revokeOperatorToken,
  SESSION_ABSOLUTE_S,
  setOperatorPassword,
  signIn,
  SignInRefused,
  SIGN_IN_WINDOW_S,
  signOut,
  tokenObject,
  TOKEN_ID_RE,
  updateOperator,
  type OperatorAuth,
} from '../activities/operators.js';
import { ApiError, notFound } from './errors.js';
import { allowedRoutes } from './roles.js';
import type { Ctx, RouteDef } from './route-types.js';

export const SESSION_COOKIE = 'stablerail_session';

const me = (ctx: Ctx): OperatorAuth => ctx.operator!;
/** The acting operator and the credential they used, as evidence records them. */
export const actor = (ctx: Ctx): string => actorOf(me(ctx));

async function existing(ctx: Ctx) {
  const row = await getOperator(ctx.deps.pool, ctx.params.id!);
  if (!row) throw notFound('operator');
  return row;
}

/** The client address sign-in limits count against (Express's, which honours `trust proxy` when set). */
const clientAddress = (ctx: Ctx): string => ctx.req.ip ?? ctx.req.socket.remoteAddress ?? 'unknown';

function sessionCookie(ctx: Ctx, value: string, maxAgeS: number): string {
  // Secure whenever the console is served over https (directly or behind a proxy that says so).
  const secure = ctx.req.secure || ctx.deps.config.base_url.startsWith('https://');
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
}

export const operatorRoutes: RouteDef[] = [
  {
    method: 'get', path: '/v1/admin/operators/me', summary: 'The calling operator, their role and the credential in use', auth: 'admin',
    handler: async (ctx) => {
      const row = await getOperator(ctx.deps.pool, me(ctx).operatorId);
      // allowed_routes lets the console offer only what this credential may do; the server still decides.
      return { ...operatorObject(row!), credential: { id: me(ctx).credentialId, kind: me(ctx).kind, role: me(ctx).role }, csrf_token: me(ctx).csrfToken ?? null, allowed_routes: allowedRoutes(me(ctx).role) };
    },
  },
  {
    method: 'get', path: '/v1/admin/operators', summary: 'List operators', auth: 'admin',
    handler: async (ctx) => ({ object: 'list', data: (await listOperators(ctx.deps.pool)).map(operatorObject), has_more: false }),
  },
  {
    method: 'post', path: '/v1/admin/operators', summary: 'Create an operator; answers their first personal token once', auth: 'admin', body: 'OperatorCreate', status: 201,
    storedResponse: (out) => ({ ...(out as Record<string, unknown>), token: null }),
    handler: async (ctx) => {
      const { operator, token } = await createOperator(ctx.deps.pool, { email: ctx.body.email, name: ctx.body.name, role: ctx.body.role }, actor(ctx));
      if (ctx.body.password) await setOperatorPassword(ctx.deps.pool, operator.id, ctx.body.password, actor(ctx));
      return { ...operatorObject(operator), token: token.secret, token_id: token.row.id };
    },
  },
  {
    method: 'post', path: '/v1/admin/operators/:id', summary: 'Change an operator\'s role or name', auth: 'admin', body: 'OperatorUpdate',
    handler: async (ctx) => {
      await existing(ctx);
      return operatorObject(await updateOperator(ctx.deps.pool, ctx.params.id!, { role: ctx.body.role, name: ctx.body.name }, actor(ctx)));
    },
  },
  {
    method: 'post', path: '/v1/admin/operators/:id/disable', summary: 'Disable an operator: their tokens and sessions stop working on the next request', auth: 'admin', body: 'OperatorDisable',
    handler: async (ctx) => {
      await existing(ctx);
      if (ctx.params.id === me(ctx).operatorId) throw new ApiError(409, 'state_error', 'operator_self_disable', 'An admin cannot disable themselves; another admin can');
      return operatorObject(await disableOperator(ctx.deps.pool, ctx.params.id!, actor(ctx), ctx.body.reason ?? null));
    },
  },
  {
    method: 'post', path: '/v1/admin/operators/:id/password', summary: 'Set an operator\'s console password', auth: 'admin', body: 'OperatorPassword',
    storedResponse: () => ({ ok: true }),
    handler: async (ctx) => {
      await existing(ctx);
      await setOperatorPassword(ctx.deps.pool, ctx.params.id!, ctx.body.password, actor(ctx));
      return { ok: true };
    },
  },
  {
    method: 'post', path: '/v1/admin/operators/:id/reset_second_factor', summary: 'Remove an operator\'s TOTP so they enrol again; ends their sessions', auth: 'admin',
    handler: async (ctx) => {
      await existing(ctx);
      return operatorObject(await resetSecondFactor(ctx.deps.pool, ctx.params.id!, actor(ctx)));
    },
  },
  {
    method: 'get', path: '/v1/admin/operators/:id/tokens', summary: 'An operator\'s personal tokens (never their secrets)', auth: 'admin',
    handler: async (ctx) => {
      await existing(ctx);
      return { object: 'list', data: (await listOperatorTokens(ctx.deps.pool, ctx.params.id!)).map(tokenObject), has_more: false };
    },
  },
  {
    method: 'post', path: '/v1/admin/operators/:id/tokens', summary: 'A new personal token, shown once (its role at most the operator\'s)', auth: 'admin', body: 'OperatorTokenCreate', status: 201,
    storedResponse: (out) => ({ ...(out as Record<string, unknown>), token: null }),
    handler: async (ctx) => {
      await existing(ctx);
      const t = await createOperatorToken(ctx.deps.pool, ctx.params.id!, ctx.body, actor(ctx));
      return { ...tokenObject(t.row), token: t.secret };
    },
  },
  {
    method: 'post', path: '/v1/admin/operator_tokens/:id/revoke', summary: 'Revoke a personal token (refused from the next request)', auth: 'admin',
    handler: async (ctx) => {
      if (!TOKEN_ID_RE.test(ctx.params.id!)) throw notFound('operator_token');
      return tokenObject(await revokeOperatorToken(ctx.deps.pool, ctx.params.id!, actor(ctx)));
    },
  },
  {
    method: 'post', path: '/v1/admin/operators/me/totp', summary: 'Begin TOTP enrolment: a new seed, its otpauth:// URI and a QR code (SVG) to scan', auth: 'admin',
    storedResponse: () => ({ enrolment: 'started' }),
    handler: async (ctx) => {
      const e = await beginTotpEnrolment(ctx.deps.pool, ctx.deps.masterKey, me(ctx).operatorId, actor(ctx));
      return { otpauth_uri: e.uri, secret: e.secret, qr_svg: await QRCode.toString(e.uri, { type: 'svg', margin: 1 }) };
    },
  },
  {
    method: 'post', path: '/v1/admin/operators/me/totp/confirm', summary: 'Confirm TOTP enrolment with a first code', auth: 'admin', body: 'TotpConfirm',
    handler: async (ctx) => operatorObject(await confirmTotpEnrolment(ctx.deps.pool, ctx.deps.masterKey, me(ctx).operatorId, ctx.body.code, actor(ctx))),
  },
  // Console sessions: an HttpOnly, SameSite=Strict cookie; state-changing calls echo the CSRF token.
  {
    method: 'post', path: '/v1/console/sessions', summary: 'Console sign-in: email, password and (approvers, admins) a TOTP code; sets the session cookie', auth: 'public', body: 'ConsoleSignIn', status: 201,
    handler: async (ctx) => {
      const s = await signIn(ctx.deps.pool, ctx.deps.masterKey, { email: ctx.body.email, password: ctx.body.password, totp: ctx.body.totp, clientAddress: clientAddress(ctx) }).catch((err) => {
        // Locked out: say when to come back (at most the failure window; the oldest failure may leave it sooner).
        if (err instanceof SignInRefused && err.code === 'sign_in_rate_limited') {
          throw new ApiError(429, 'rate_limit_error', err.code, err.message, undefined, { 'Retry-After': String(SIGN_IN_WINDOW_S) });
        }
        throw err;
      });
      ctx.outHeaders['Set-Cookie'] = sessionCookie(ctx, s.secret, SESSION_ABSOLUTE_S);
      return { object: 'console_session', id: s.sessionId, operator: s.operator, csrf_token: s.csrfToken };
    },
  },
  {
    method: 'post', path: '/v1/console/sessions/end', summary: 'Sign out: ends this console session and clears its cookie', auth: 'admin',
    handler: async (ctx) => {
      if (me(ctx).kind === 'session') await signOut(ctx.deps.pool, me(ctx).credentialId);
      ctx.outHeaders['Set-Cookie'] = sessionCookie(ctx, '', 0);
      return { ok: true };
    },
  },
];
