// The Express app: authenticate, validate, claim the idempotency key, call the handler,
// shape the answer. No business rule lives here.
import { amountFormatError } from '../workflows/rules/money.js';
import express, { type NextFunction, type Request, type Response } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { Ajv, type ValidateFunction, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Logger } from 'pino';
import { authenticateKey, DomainError } from '../activities/merchant.js';
import { authenticateOperatorToken, authenticateSession, roleAtLeast, type OperatorAuth } from '../activities/operators.js';
import { requiredRole } from './roles.js';
import { SESSION_COOKIE } from './operator-routes.js';
import { newId } from '../activities/ids.js';
import { ApiError, typeForStatus } from './errors.js';
import { crashPoint } from '../activities/faults.js';
import { claimIdempotencyKey, requestHash, settleIdempotencyKey } from './idempotency.js';
import { RateLimiter } from './rate-limit.js';
import { contentEncodingProblem, contentTypeProblem, decodableUrlPart, duplicateKeyPath, unstorablePath } from './request-body.js';
import { CsvBody, routes } from './routes.js';
import type { AppDeps, Ctx, RouteDef } from './route-types.js';
import { schemas, type SchemaName } from './schemas.js';
import { buildOpenApi } from './openapi.js';
import { responseSchemaFor } from './response-schemas.js';
import { mountPayerPages } from './pages/payer.js';
import { mountConsole } from './pages/console.js';
import { TASK_QUEUES } from '../workflows/shared.js';
import { httpTracing, traceLogFields } from './tracing.js';

export const BODY_BYTES_MAX = 64 * 1024;
// ajv-formats ships CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (a: Ajv) => Ajv;

const bodyAjv = new Ajv({ allErrors: false, strict: false });
const queryAjv = new Ajv({ allErrors: false, strict: false, coerceTypes: true });
addFormats(bodyAjv);
addFormats(queryAjv);
const validators = new Map<string, ValidateFunction>();
function validator(kind: 'body' | 'query', name: SchemaName): ValidateFunction {
  const k = `${kind}:${name}`;
  let v = validators.get(k);
  if (!v) {
    v = (kind === 'body' ? bodyAjv : queryAjv).compile(schemas[name]);
    validators.set(k, v);
  }
  return v;
}

function validationError(e: ErrorObject, where: 'body' | 'query', input?: unknown): ApiError {
  const path = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  // An amount's format is judged like the money rules judge it, with the same stable codes.
  if ((path === 'amount' || path.endsWith('.amount')) && (e.keyword === 'pattern' || e.keyword === 'maxLength')) {
    const value = e.instancePath.split('/').slice(1).reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], input);
    if (typeof value === 'string') {
      const m = amountFormatError(value);
      return new ApiError(400, 'invalid_request_error', m.code, m.message, path);
    }
  }
  // A key of an object (metadata's are at most 40 characters) is judged apart from its value: name the key.
  if (e.propertyName !== undefined) {
    const key = e.propertyName.length > 60 ? `${e.propertyName.slice(0, 60)}…` : e.propertyName;
    return new ApiError(400, 'invalid_request_error', 'parameter_invalid', `${path || where} key "${key}" ${e.message}`, path ? `${path}.${key}` : key);
  }
  if (e.keyword === 'required') {
    const p = (e.params as { missingProperty: string }).missingProperty;
    return new ApiError(400, 'invalid_request_error', 'parameter_missing', `Missing required parameter: ${p}`, path ? `${path}.${p}` : p);
  }
  if (e.keyword === 'additionalProperties') {
    const p = (e.params as { additionalProperty: string }).additionalProperty;
    return new ApiError(400, 'invalid_request_error', 'parameter_unknown', `Unknown parameter: ${p}`, path ? `${path}.${p}` : p);
  }
  if (e.keyword === 'type') return new ApiError(400, 'invalid_request_error', 'parameter_invalid_type', `${path || where} ${e.message}`, path || undefined);
  if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
    return new ApiError(400, 'invalid_request_error', 'parameter_invalid', `${path || where} must be one of: ${allowed.map(String).join(', ')}`, path || undefined);
  }
  return new ApiError(400, 'invalid_request_error', 'parameter_invalid', `${path || where} ${e.message}`, path || undefined);
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** One cookie's value; the console's only cookie is the session. */
function cookieValue(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim() || undefined;
  }
  return undefined;
}

function bearer(req: Request): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  // The scheme is case-insensitive (RFC 9110 §11.1): `bearer sk_…` is the same credential.
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1];
}

export function createApp(deps: AppDeps, logger: Logger) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  const idemPool = deps.relaxedPool ?? deps.pool;
  const limiter = new RateLimiter(deps.config.rate_limit.per_s, deps.config.rate_limit.burst);
  const addressLimiter = new RateLimiter(deps.config.rate_limit.address_per_s, deps.config.rate_limit.address_burst);
  /** Before authentication, per client address (Express's req.ip, which honours `trust proxy` when set). */
  const addressOf = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';
  const addressLimited = (wait: number) =>
    new ApiError(429, 'rate_limit_error', 'rate_limited', 'Too many requests from this address', undefined, { 'Retry-After': String(wait) });

  // First, so the request's span covers everything after it (null when tracing is off).
  const tracing = httpTracing();
  if (tracing) app.use(tracing);

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      deps.metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      deps.metrics.httpLatency.observe({ method: req.method, route }, seconds);
      // Only the route pattern, never the raw URL (it can carry public ids) or any header.
      logger.info({ method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000), ...traceLogFields() }, 'request');
    });
    next();
  });

  // The URL first: a malformed percent-escape or a NUL anywhere in the path or query is a 400
  // here, before a router decodes a parameter (which would throw) or PostgreSQL sees a NUL.
  app.use((req, _res, next) => {
    const q = req.url.indexOf('?');
    const path = q < 0 ? req.url : req.url.slice(0, q);
    const query = q < 0 ? '' : req.url.slice(q + 1);
    const pairs = query ? query.split('&').map((p) => [p.slice(0, p.indexOf('=') < 0 ? p.length : p.indexOf('=')), p.slice(p.indexOf('=') < 0 ? p.length : p.indexOf('=') + 1)] as const) : [];
    if (![path, ...pairs.flat()].every(decodableUrlPart)) return next(new ApiError(400, 'invalid_request_error', 'url_malformed', 'The URL holds a malformed percent-escape'));
    const decoded = (p: string) => decodeURIComponent(p.replace(/\+/g, ' '));
    if (decoded(path).includes('\u0000')) return next(new ApiError(400, 'invalid_request_error', 'parameter_invalid', 'The URL path must not contain a NUL character'));
    const nulIn = pairs.find(([k, v]) => decoded(k).includes('\u0000') || decoded(v).includes('\u0000'));
    if (nulIn) return next(new ApiError(400, 'invalid_request_error', 'parameter_invalid', `${decoded(nulIn[0]).replace(/\u0000/g, '\\u0000')} must not contain a NUL character`, decoded(nulIn[0]).replace(/\u0000/g, '\\u0000')));
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, boolean> = { database: false, temporal: false, workers: false };
    try {
      await deps.pool.query('SELECT 1');
      checks.database = true;
    } catch { /* reported below */ }
    try {
      // Both queues need a worker: payments, and webhook deliveries (their own workers).
      const queues = await Promise.all([TASK_QUEUES.payments, TASK_QUEUES.webhooks].map((name) =>
        deps.temporal.workflowService.describeTaskQueue({
          namespace: deps.config.temporal.namespace,
          taskQueue: { name },
          taskQueueType: 1, // workflow task queue
        })));
      checks.temporal = true;
      checks.workers = queues.every((tq) => (tq.pollers?.length ?? 0) > 0);
    } catch { /* reported below */ }
    // The launcher holds readiness until its first-run setup (merchant, key, dev.json) is written.
    if (deps.readiness) checks.setup = deps.readiness.ready;
    const ok = Object.values(checks).every(Boolean);
    res.status(ok ? 200 : 503).json({ ok, checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(buildOpenApi(deps.config.base_url, { devnet: !!deps.devnetPayer }));
  });

  // Payer pages need no key: each view spends the address's allowance.
  app.use('/pay', (req, _res, next) => {
    const wait = addressLimiter.take(addressOf(req));
    next(wait > 0 ? addressLimited(wait) : undefined);
  });
  mountPayerPages(app, deps);
  mountConsole(app);

  // Bodies: JSON in UTF-8 only (415 otherwise), a content coding we can undo (415), inflated
  // within the size limit, parsed, and refused when an object repeats a key (JSON.parse would
  // keep the last silently). A POST without a body is an empty object.
  const raw = express.raw({ limit: BODY_BYTES_MAX, type: () => true });
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const json = (req: Request, res: Response, next: NextFunction) => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!hasBody) {
      req.body = undefined;
      return next();
    }
    const typeProblem = contentTypeProblem(req.headers['content-type']);
    if (typeProblem) return next(new ApiError(415, 'invalid_request_error', 'content_type_unsupported', typeProblem, 'Content-Type'));
    const encodingProblem = contentEncodingProblem(req.headers['content-encoding']);
    if (encodingProblem) return next(new ApiError(415, 'invalid_request_error', 'content_encoding_unsupported', encodingProblem, 'Content-Encoding'));
    raw(req, res, (err?: unknown) => {
      if (err) return next(err);
      const buf = req.body as unknown;
      if (!Buffer.isBuffer(buf) || buf.length === 0) {
        req.body = undefined;
        return next();
      }
      let text: string;
      try {
        text = utf8.decode(buf);
      } catch {
        return next(new ApiError(400, 'invalid_request_error', 'body_malformed_json', 'The request body is not valid UTF-8'));
      }
      try {
        req.body = JSON.parse(text);
      } catch {
        return next(new ApiError(400, 'invalid_request_error', 'body_malformed_json', 'The request body is not valid JSON'));
      }
      const dup = duplicateKeyPath(text);
      if (dup) return next(new ApiError(400, 'invalid_request_error', 'body_duplicate_key', `The request body repeats the key ${dup}`, dup));
      next();
    });
  };

  // Every operator route has its role: a route missing from api/roles.ts fails here, at start.
  for (const route of routes) if (route.auth === 'admin') requiredRole(route.method, route.path);
  // And its documented answer (api/response-schemas.ts), so /openapi.json never lacks one.
  for (const route of routes) responseSchemaFor(route.method, route.path);

  for (const route of routes) {
    // A devnet-only route does not exist where no devnet runs (live): 404 like any unknown URL.
    if (route.devnetOnly && !deps.devnetPayer) continue;
    const handlers = [
      ...(route.method === 'post' ? [json] : []),
      async (req: Request, res: Response) => {
        await handle(route, req, res);
      },
    ];
    app[route.method](route.path, ...handlers);
  }

  /**
   * An operator route's caller: a personal token (Bearer opk_…) or a console session cookie,
   * whose state-changing calls must echo the session's CSRF token. Then the role table.
   */
  async function authenticateOperator(req: Request, route: RouteDef): Promise<OperatorAuth> {
    const token = bearer(req);
    let op: OperatorAuth | undefined;
    if (token) {
      op = await authenticateOperatorToken(deps.pool, token);
      if (!op) throw new ApiError(401, 'authentication_error', 'operator_token_invalid', 'Invalid, expired or revoked operator token, or a disabled operator');
    } else {
      const session = cookieValue(req, SESSION_COOKIE);
      if (!session) throw new ApiError(401, 'authentication_error', 'operator_credential_missing', 'Send a personal operator token as Authorization: Bearer opk_…, or sign in to the console');
      op = await authenticateSession(deps.pool, session);
      if (!op) throw new ApiError(401, 'authentication_error', 'session_invalid', 'The console session has ended; sign in again');
      if (route.method !== 'get') {
        const csrf = req.headers['x-csrf-token'];
        if (typeof csrf !== 'string' || !safeEqual(csrf, op.csrfToken!)) throw new ApiError(403, 'permission_error', 'csrf_token_invalid', 'A state-changing console call must send the session\'s X-CSRF-Token');
      }
    }
    const need = requiredRole(route.method, route.path);
    if (!roleAtLeast(op.role, need)) {
      throw new ApiError(403, 'permission_error', 'role_forbidden', `This needs the ${need} role; the credential carries ${op.role}`);
    }
    return op;
  }

  /** Who is calling: the merchant's key (then its rate) or the operator's credential, into ctx. */
  async function authenticate(route: RouteDef, req: Request, ctx: Ctx) {
    if (route.auth === 'merchant') {
      const token = bearer(req);
      if (!token) throw new ApiError(401, 'authentication_error', 'api_key_missing', 'Send your secret key as Authorization: Bearer sk_…');
      const auth = await authenticateKey(deps.pool, token);
      if (!auth) throw new ApiError(401, 'authentication_error', 'api_key_invalid', 'Invalid or revoked API key');
      if (route.scope && !auth.scopes.includes(route.scope)) {
        throw new ApiError(403, 'permission_error', 'scope_missing', `This key lacks the ${route.scope} scope`);
      }
      const wait = limiter.take(auth.keyId);
      if (wait > 0) throw new ApiError(429, 'rate_limit_error', 'rate_limited', 'Too many requests for this key', undefined, { 'Retry-After': String(wait) });
      ctx.auth = auth;
    } else if (route.auth === 'admin') {
      ctx.operator = await authenticateOperator(req, route);
    }
  }

  async function handle(route: RouteDef, req: Request, res: Response) {
    // Answers carry payments, balances and one-time secrets: no shared or browser cache keeps them.
    res.set('Cache-Control', 'no-store');
    const ctx: Ctx = { req, deps, auth: null, operator: null, outHeaders: {}, body: undefined, query: {}, params: req.params as Record<string, string>, resourceId: null, takeover: false };
    // An operator is who their credential says: a name in a header is refused, never believed.
    if (req.headers['stablerail-operator'] !== undefined) {
      throw new ApiError(400, 'invalid_request_error', 'parameter_unknown', 'The Stablerail-Operator header is not accepted: the operator is who the credential says', 'Stablerail-Operator');
    }
    // 0. Per client address, before any credential is looked at: public calls spend the
    // allowance, failed credentials spend it below, and an address that spent it all waits.
    const address = addressOf(req);
    const addressWait = route.auth === 'public' ? addressLimiter.take(address) : addressLimiter.wait(address);
    if (addressWait > 0) throw addressLimited(addressWait);
    // 1. Who is calling.
    try {
      await authenticate(route, req, ctx);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) addressLimiter.take(address);
      throw err;
    }
    // 2. Validate input before anything is written (a NUL would fail in PostgreSQL as a 500, an
    // unpaired surrogate would be stored changed).
    if (route.method === 'post') {
      const body = req.body === undefined ? {} : req.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'invalid_request_error', 'body_invalid', 'The request body must be a JSON object');
      const bad = unstorablePath(body);
      if (bad) throw new ApiError(400, 'invalid_request_error', 'parameter_invalid', `${bad.path} must not contain ${bad.what}`, bad.path);
      const v = validator('body', route.body ?? 'Empty');
      if (!v(body)) throw validationError(v.errors![0]!, 'body', body);
      ctx.body = body;
    }
    if (route.query || route.method === 'get') {
      const query = { ...(req.query as Record<string, unknown>) };
      if (route.query) {
        const v = validator('query', route.query);
        if (!v(query)) throw validationError(v.errors![0]!, 'query');
      } else if (Object.keys(query).length > 0) {
        throw new ApiError(400, 'invalid_request_error', 'parameter_unknown', `Unknown parameter: ${Object.keys(query)[0]}`, Object.keys(query)[0]);
      }
      ctx.query = query;
    }
    // 3. Idempotency: claim, or replay the first answer.
    const idemKey = route.method === 'post' ? req.headers['idempotency-key'] : undefined;
    // Keys belong to the caller: a merchant environment, one operator (two approvers sending the
    // same key must each be recorded, never replayed one from the other), or a public path.
    const scope = ctx.auth
      ? `${ctx.auth.merchantId}:${ctx.auth.environment}`
      : ctx.operator
        ? `admin:${ctx.operator.operatorId}`
        : `public:${req.path}`;
    if (typeof idemKey === 'string') {
      const hash = requestHash(req.method, req.path, ctx.body);
      const claim = await claimIdempotencyKey(idemPool, scope, idemKey, hash, route.createsIdPrefix ? newId(route.createsIdPrefix) : null);
      if (claim.kind === 'replay') {
        res.set('Idempotent-Replayed', 'true');
        res.status(claim.status).json(claim.body);
        return;
      }
      ctx.resourceId = claim.resourceId;
      ctx.takeover = claim.takeover;
      crashPoint('EXIT_AFTER_CLAIM', req.path);
      let status = 500;
      let out: unknown = null;
      try {
        out = await route.handler(ctx);
        status = route.status ?? 200;
        crashPoint('EXIT_BEFORE_ANSWER', req.path);
      } catch (err) {
        status = err instanceof ApiError ? err.status : isDomainError(err) ? err.status : 500;
        await settleIdempotencyKey(idemPool, scope, idemKey, status, null).catch(() => undefined);
        throw err;
      }
      await settleIdempotencyKey(idemPool, scope, idemKey, status, route.storedResponse ? route.storedResponse(out) : out);
      res.set(ctx.outHeaders);
      res.status(status).json(out);
      return;
    }
    const out = await route.handler(ctx);
    res.set(ctx.outHeaders);
    if (out instanceof CsvBody) {
      res.status(200).type('text/csv; charset=utf-8').set('Content-Disposition', `attachment; filename="${out.filename}"`).send(out.text);
      return;
    }
    res.status(route.status ?? 200).json(out);
  }

  // A known path with a method it does not serve: 405 with the methods it does (HEAD with GET).
  const allowed = new Map<string, Set<string>>();
  for (const layer of (app as unknown as { router: { stack: Array<{ route?: { path: string | string[]; methods: Record<string, boolean> } }> } }).router.stack) {
    if (!layer.route) continue;
    for (const path of ([] as string[]).concat(layer.route.path)) {
      const set = allowed.get(path) ?? new Set<string>();
      for (const [m, on] of Object.entries(layer.route.methods)) if (on && m !== '_all') set.add(m.toUpperCase());
      if (set.has('GET')) set.add('HEAD');
      allowed.set(path, set);
    }
  }
  for (const [path, methods] of allowed) {
    const allow = [...methods].sort().join(', ');
    app.all(path, (req, _res, next) => next(new ApiError(405, 'invalid_request_error', 'method_not_allowed', `${req.method} is not allowed here; use ${allow}`, undefined, { Allow: allow })));
  }

  // Unknown paths answer in the same error shape.
  app.use((_req, _res, next) => next(new ApiError(404, 'invalid_request_error', 'route_unknown', 'Unrecognized request URL')));

  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let e: ApiError;
    if (err instanceof ApiError) e = err;
    else if (isBodyParserError(err)) {
      if (err.type === 'entity.too.large') e = new ApiError(413, 'invalid_request_error', 'body_too_large', `The request body exceeds ${BODY_BYTES_MAX} bytes`);
      else if (err.type === 'entity.parse.failed') e = new ApiError(400, 'invalid_request_error', 'body_malformed_json', 'The request body is not valid JSON');
      else e = new ApiError(err.status ?? 400, typeForStatus(err.status ?? 400), 'body_invalid', 'The request body could not be read');
    } else if (isDomainError(err)) {
      e = new ApiError(err.status, typeForStatus(err.status), err.code, err.message, err.param);
    } else if (isClientHttpError(err)) {
      // body-parser's own refusals (a coding or charset it cannot undo, a corrupt gzip, deflate
      // or brotli stream, an aborted upload): the client's fault, never a 500.
      if (err.type === 'encoding.unsupported') e = new ApiError(415, 'invalid_request_error', 'content_encoding_unsupported', 'The Content-Encoding is not supported', 'Content-Encoding');
      else if (err.type === 'charset.unsupported') e = new ApiError(415, 'invalid_request_error', 'content_type_unsupported', 'The charset is not supported; JSON is UTF-8', 'Content-Type');
      else if (/^(gzip|deflate|br)$/i.test(String(req.headers['content-encoding'] ?? '').trim())) e = new ApiError(400, 'invalid_request_error', 'body_encoding_invalid', 'The request body could not be decoded with its Content-Encoding', 'Content-Encoding');
      else e = new ApiError(400, 'invalid_request_error', 'body_invalid', 'The request could not be read');
    } else {
      logger.error({ err: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err) }, 'unhandled error');
      e = new ApiError(500, 'api_error', 'internal_error', 'An internal error occurred; the request may be retried with the same Idempotency-Key');
    }
    res.set(e.headers);
    res.status(e.status).json(e.toJSON());
  });

  return app;
}

function isBodyParserError(err: unknown): err is { type: string; status?: number } {
  return typeof err === 'object' && err !== null && 'type' in err && typeof (err as { type: unknown }).type === 'string' && String((err as { type: string }).type).startsWith('entity.');
}

/** An http-errors style refusal from body-parser (checked after our own error classes, which carry a status too). */
function isClientHttpError(err: unknown): err is { type?: string; status: number } {
  const status = typeof err === 'object' && err !== null ? (err as { status?: unknown }).status : undefined;
  return typeof status === 'number' && status >= 400 && status < 500;
}

const isDomainError = (err: unknown): err is DomainError => err instanceof DomainError;
