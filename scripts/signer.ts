// The reference external signer, for self-hosting: a small HTTP process that holds the seed (in
// an encrypted keystore file) so that the service never does. It speaks the contract in
// docs/signer.md, which an HSM- or MPC-backed signer can speak instead.
//
//   STABLERAIL_SIGNER_PASSWORD=… node --import tsx scripts/signer.ts init --keystore FILE [--show-mnemonic]
//   STABLERAIL_SIGNER_PASSWORD=… STABLERAIL_SIGNER_TOKEN=… \
//     node --import tsx scripts/signer.ts --keystore FILE [--port N] [--host 127.0.0.1] [--allow-to ADDR[,ADDR]]
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Mnemonic, computeAddress, randomBytes } from 'ethers';
import { depositAccountPath, keyPath, railAddress, rootFromMnemonic } from '../activities/signer/keys.js';
import { KEYSTORE_SCRYPT_N_DEFAULT, loadKeystoreSigner, parseAllowTo, writeKeystore } from '../activities/signer/keystore-signer.js';
import { SignerRefusedError, SignerUnavailableError, type KeyRef, type Signer, type UnsignedTx } from '../activities/signer/signer.js';
import { destinationOf } from '../activities/signer/transactions.js';

export const SIGNER_PORT_DEFAULT = 8590;
/** A request is a key name and one transaction: a few KiB at most. */
export const SIGNER_BODY_BYTES_MAX = 64 * 1024;
/** One request, first byte to last; signing itself takes milliseconds. */
const REQUEST_TIMEOUT_MS = 10_000;
const HEADERS_TIMEOUT_MS = 5_000;
const CONNECTIONS_MAX = 256;
/** A token shorter than this is guessable; the signer refuses to start with one. */
export const SIGNER_TOKEN_LENGTH_MIN = 16;
/** Refusals whose cause is who asks or what policy allows, not a malformed request. */
const FORBIDDEN_CODES = new Set(['policy_refused', 'wrong_key']);

const PASSWORD_ENV = 'STABLERAIL_SIGNER_PASSWORD';
const TOKEN_ENV = 'STABLERAIL_SIGNER_TOKEN';

const USAGE = `usage:
  signer.ts --keystore FILE [--port N] [--host 127.0.0.1] [--allow-to ADDR[,ADDR]]
      serve POST /v1/addresses, /v1/sign/evm, /v1/sign/tron and GET /healthz;
      ${PASSWORD_ENV} opens the keystore, ${TOKEN_ENV} (at least ${SIGNER_TOKEN_LENGTH_MIN} characters)
      is the bearer token callers must send; --allow-to limits EVM \`to\` and TRON contract
      addresses to the ones listed
  signer.ts init --keystore FILE [--show-mnemonic] [--scrypt-n N]
      create a keystore with a fresh 24-word mnemonic (password from ${PASSWORD_ENV}) and print
      the account xpubs and treasury addresses for the service's config; --scrypt-n lowers the
      keystore's cost for a devnet or a test, never for real funds`;

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export type SignerLog = (line: Record<string, unknown>) => void;

const jsonLog: SignerLog = (line) => process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...line }) + '\n');

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new HttpError(415, 'unsupported_media_type', 'send Content-Type: application/json');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > SIGNER_BODY_BYTES_MAX) throw new HttpError(413, 'body_too_large', `a request body is at most ${SIGNER_BODY_BYTES_MAX} bytes`);
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req) {
    bytes += (chunk as Buffer).length;
    if (bytes > SIGNER_BODY_BYTES_MAX) throw new HttpError(413, 'body_too_large', `a request body is at most ${SIGNER_BODY_BYTES_MAX} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_json', 'the body is not JSON');
  }
}

function requestFields(body: unknown, fields: string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'invalid_request', 'the body must be a JSON object');
  const o = body as Record<string, unknown>;
  for (const f of Object.keys(o)) if (!fields.includes(f)) throw new HttpError(400, 'invalid_request', `unknown field ${JSON.stringify(f).slice(0, 50)}`);
  for (const f of fields) if (o[f] === undefined) throw new HttpError(400, 'invalid_request', `${f} is required`);
  return o;
}

/** The three endpoints and /healthz over a Signer; the whole contract of docs/signer.md. */
export function createSignerServer(o: { signer: Signer; token: string; log?: SignerLog }): Server {
  if (o.token.length < SIGNER_TOKEN_LENGTH_MIN) throw new Error(`the signer token must have at least ${SIGNER_TOKEN_LENGTH_MIN} characters`);
  // Compared as digests: equal lengths for timingSafeEqual, and the token's length stays private.
  const tokenDigest = digest(o.token);
  const log = o.log ?? jsonLog;

  const authorized = (req: IncomingMessage): boolean => {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    return m !== null && timingSafeEqual(digest(m[1]!), tokenDigest);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method_not_allowed', 'use GET');
      return send(res, 200, { status: 'ok' });
    }
    const kind = path === '/v1/sign/evm' ? 'evm' : path === '/v1/sign/tron' ? 'tron' : null;
    if (kind === null && path !== '/v1/addresses') throw new HttpError(404, 'not_found', 'no such endpoint');
    if (req.method !== 'POST') throw new HttpError(405, 'method_not_allowed', 'use POST');
    if (!authorized(req)) throw new HttpError(401, 'unauthorized', 'a valid Authorization: Bearer token is required');
    const body = await readJson(req);
    if (kind === null) {
      const { key } = requestFields(body, ['key']);
      return send(res, 200, { address: await o.signer.address(key as KeyRef) });
    }
    const { key, tx } = requestFields(body, ['key', 'tx']);
    const t = tx as { kind?: unknown };
    if (typeof t !== 'object' || t === null || t.kind !== kind) throw new HttpError(400, 'kind_mismatch', `/v1/sign/${kind} signs tx.kind '${kind}' only`);
    const signed = await o.signer.sign(key as KeyRef, tx as UnsignedTx);
    log({ level: 'info', msg: 'signed', key, kind, tx_hash: signed.txHash, from: signed.from, to: destinationOf(tx as UnsignedTx) });
    return send(res, 200, { from: signed.from, tx_hash: signed.txHash, raw: signed.raw });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      let status = 500;
      let code = 'internal';
      let message = 'the signer failed; see its log';
      if (e instanceof HttpError) ({ status, code, message } = e);
      else if (e instanceof SignerRefusedError) {
        status = FORBIDDEN_CODES.has(e.code) ? 403 : 400;
        ({ code, message } = e);
      } else if (e instanceof SignerUnavailableError) {
        status = 503;
        code = 'unavailable';
        message = e.message;
      }
      // Refusals are logged too: a run of them (a wrong token, a policy hit) is an auditor's business.
      log({ level: status >= 500 ? 'error' : 'warn', msg: 'refused', path: (req.url ?? '').slice(0, 100), status, code, ...(status >= 500 ? { error: String(e).slice(0, 300) } : {}) });
      if (res.headersSent) return void res.destroy();
      send(res, status, { error: { code, message } }, status === 401 ? { 'www-authenticate': 'Bearer' } : {});
      // An oversized body is not read to its end: close rather than drain it.
      if (status === 413) req.destroy();
    });
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.maxConnections = CONNECTIONS_MAX;
  return server;
}

function takeEnv(name: string): string {
  const value = process.env[name];
  // Out of the environment once read: child processes and crash dumps need not see it.
  delete process.env[name];
  if (!value) throw new Error(`set ${name}`);
  return value;
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || /^127\./.test(host);

async function serve(args: { keystore: string; port: number; host: string; allowTo: string[] | undefined }): Promise<void> {
  const password = takeEnv(PASSWORD_ENV);
  const token = takeEnv(TOKEN_ENV);
  if (args.allowTo) parseAllowTo(args.allowTo); // fail at startup, not on the first request
  const signer = await loadKeystoreSigner(args.keystore, password, args.allowTo ? { allowTo: args.allowTo } : {});
  const server = createSignerServer({ signer, token });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(args.port, args.host, () => ok());
  });
  const { port } = server.address() as { port: number };
  const shown = args.host.includes(':') ? `[${args.host}]` : args.host;
  if (!isLoopback(args.host)) process.stderr.write(`warning: plain HTTP on ${args.host}; put TLS in front of the signer (docs/signer.md)\n`);
  process.stdout.write(`signer listening on http://${shown}:${port}\n`);
  const stop = () => {
    server.close();
    server.closeAllConnections();
    void signer.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function init(args: { keystore: string; showMnemonic: boolean; scryptN: number }): Promise<void> {
  if (existsSync(args.keystore)) throw new Error(`${args.keystore} exists; a keystore is never overwritten`);
  const password = takeEnv(PASSWORD_ENV);
  // 32 bytes of entropy: a 24-word mnemonic.
  const mnemonic = Mnemonic.fromEntropy(randomBytes(32));
  await writeKeystore(args.keystore, mnemonic.phrase, password, { scryptN: args.scryptN });
  const root = rootFromMnemonic(mnemonic);
  const account = (kind: KeyRef['kind']) => ({ path: depositAccountPath(kind), xpub: root.derivePath(depositAccountPath(kind)).neuter().extendedKey });
  const treasury = (kind: KeyRef['kind']) => {
    const path = keyPath({ rail: 'treasury', kind, role: 'treasury' });
    return { path, address: railAddress(kind, computeAddress(root.derivePath(path).publicKey)) };
  };
  const out = {
    keystore: resolve(args.keystore),
    // The rails' `xpub` in the service's config: watch-only, deposit addresses derive from them.
    xpubs: { evm: account('evm'), tron: account('tron') },
    // Fund these: payouts leave from them.
    treasury: { evm: treasury('evm'), tron: treasury('tron') },
    ...(args.showMnemonic ? { mnemonic: mnemonic.phrase } : {}),
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  if (args.showMnemonic) process.stderr.write('the mnemonic above is every key: write it down offline and clear this terminal\n');
}

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      keystore: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'allow-to': { type: 'string', multiple: true },
      'show-mnemonic': { type: 'boolean' },
      'scrypt-n': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void process.stdout.write(USAGE + '\n');
  if (!values.keystore) throw new Error('--keystore FILE is required');
  if (positionals[0] === 'init' && positionals.length === 1) {
    const scryptN = values['scrypt-n'] === undefined ? KEYSTORE_SCRYPT_N_DEFAULT : Number(values['scrypt-n']);
    return init({ keystore: values.keystore, showMnemonic: values['show-mnemonic'] === true, scryptN });
  }
  if (positionals.length > 0) throw new Error(`unknown command ${positionals.join(' ')}`);
  const port = values.port === undefined ? SIGNER_PORT_DEFAULT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be 0..65535');
  const allowTo = values['allow-to']?.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v.length > 0);
  if (allowTo && allowTo.length === 0) throw new Error('--allow-to needs at least one address');
  await serve({ keystore: values.keystore, port, host: values.host ?? '127.0.0.1', allowTo });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`signer: ${(e as Error).message}\n${USAGE}\n`);
    process.exit(1);
  });
}
