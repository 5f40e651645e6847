// The external signer, over HTTP (docs/signer.md is the contract; scripts/signer.ts a reference
// implementation). The service sends a key's name and an unsigned transaction and gets the
// signed bytes back, and it believes none of them until it has checked them: a compromised or
// buggy signer must not get a different transaction broadcast than the one the workflow
// decided on, nor one signed by another key.
import { Transaction, getAddress } from 'ethers';
import { TronWeb } from 'tronweb';
import { parseKeyRef } from './keys.js';
import { SignerRefusedError, SignerUnavailableError, type KeyRef, type SignedTx, type Signer, type UnsignedTx } from './signer.js';
import {
  checkKindMatches,
  evmTxDifference,
  parseEvmUnsignedTx,
  parseTronUnsignedTx,
  recoverTronSigner,
  tronAnswerDifference,
  tronSignedRaw,
} from './transactions.js';
import { HTTP_SIGNER_TIMEOUT_MS_MAX } from './spec.js';

/** One exchange, connect to last byte. A signer behind an HSM answers in well under a second. */
export const HTTP_SIGNER_TIMEOUT_MS_DEFAULT = 10_000;
/** An answer is a few hundred bytes; a larger one is not an answer. */
export const HTTP_SIGNER_ANSWER_BYTES_MAX = 256 * 1024;
/** Addresses remembered per key name, to check each signature's `from`; bounded like any cache. */
const ADDRESSES_CACHED_MAX = 4096;
const ERROR_CODE = /^[a-z0-9_]{1,64}$/;

export interface HttpSignerOptions {
  /** Base URL, e.g. https://signer.internal:8443 (no trailing /v1). */
  url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token: string;
  timeout_ms?: number;
}

function mismatch(message: string): never {
  throw new SignerRefusedError('signer_answer_mismatch', message);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class HttpSigner implements Signer {
  private readonly base: string;
  private readonly token: string;
  private readonly timeout_ms: number;
  private readonly addresses = new Map<string, string>();

  constructor(opts: HttpSignerOptions) {
    let u: URL;
    try {
      u = new URL(opts.url);
    } catch {
      throw new Error(`signer url ${JSON.stringify(opts.url)} is not a URL`);
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('signer url must be http(s)');
    if (u.username || u.password || u.search || u.hash) throw new Error('signer url carries no credentials, query or fragment; the token goes in STABLERAIL_SIGNER_TOKEN');
    if (opts.token.length === 0) throw new Error('the signer token is empty');
    const timeout_ms = opts.timeout_ms ?? HTTP_SIGNER_TIMEOUT_MS_DEFAULT;
    if (!Number.isInteger(timeout_ms) || timeout_ms < 100 || timeout_ms > HTTP_SIGNER_TIMEOUT_MS_MAX) {
      throw new Error(`signer timeout_ms must be an integer in 100..${HTTP_SIGNER_TIMEOUT_MS_MAX}`);
    }
    this.base = u.href.replace(/\/+$/, '');
    this.token = opts.token;
    this.timeout_ms = timeout_ms;
  }

  /** POST a JSON body; the 2xx answer as an object, or the error the status calls for. */
  private async post(path: string, body: unknown): Promise<Record<string, unknown>> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.base + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        // A redirect would carry the request (and, to the same origin, the token) elsewhere.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeout_ms),
      });
      text = await readBounded(res);
    } catch (e) {
      const err = e as Error;
      if (err instanceof SignerRefusedError) throw err;
      if (err.name === 'TimeoutError' || err.name === 'AbortError') throw new SignerUnavailableError(`signer ${path}: no answer within ${this.timeout_ms} ms`);
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new SignerUnavailableError(`signer ${path}: ${cause?.code ?? cause?.message ?? err.message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (res.status >= 200 && res.status < 300) {
      if (!isObject(parsed)) mismatch(`signer ${path} answered ${res.status} without a JSON object`);
      return parsed;
    }
    const error = isObject(parsed) && isObject(parsed.error) ? parsed.error : {};
    const message = `signer ${path} answered ${res.status}: ${typeof error.message === 'string' ? error.message.slice(0, 300) : text.slice(0, 200)}`;
    // 408 and 429 are the signer asking to be asked again later; 5xx is the signer failing.
    if (res.status === 408 || res.status === 429 || res.status >= 500) throw new SignerUnavailableError(message);
    const fallback = res.status === 401 ? 'unauthorized' : res.status === 403 ? 'forbidden' : `http_${res.status}`;
    const code = typeof error.code === 'string' && ERROR_CODE.test(error.code) ? error.code : fallback;
    throw new SignerRefusedError(code, message);
  }

  async address(key: KeyRef): Promise<string> {
    const ref = parseKeyRef(key);
    const id = `${ref.kind}/${ref.role}/${ref.index ?? ''}`;
    const known = this.addresses.get(id);
    if (known) return known;
    const answer = await this.post('/v1/addresses', { key: ref });
    const address = answer.address;
    if (typeof address !== 'string') mismatch('signer answered no address');
    if (ref.kind === 'evm') {
      if (!/^0x[0-9a-fA-F]{40}$/.test(address) || getAddress(address) !== address) mismatch(`signer answered ${address.slice(0, 60)}, not a checksummed EVM address`);
    } else if (!/^T[1-9A-HJ-NP-Za-km-z]{33}$/.test(address) || !TronWeb.isAddress(address)) {
      mismatch(`signer answered ${address.slice(0, 60)}, not a TRON base58check address`);
    }
    if (this.addresses.size >= ADDRESSES_CACHED_MAX) this.addresses.clear();
    this.addresses.set(id, address);
    return address;
  }

  async sign(key: KeyRef, tx: UnsignedTx): Promise<SignedTx> {
    const ref = parseKeyRef(key);
    checkKindMatches(ref.kind, tx);
    // Checked here too: a transaction the signer would refuse is refused without a round trip,
    // and the answer is compared with a transaction known to be well formed.
    if (tx.kind === 'evm') {
      const asked = parseEvmUnsignedTx(tx);
      const expectedFrom = await this.address(ref);
      const answer = await this.post('/v1/sign/evm', { key: ref, tx: asked });
      return verifyEvmAnswer(asked, answer, expectedFrom);
    }
    const { tx: asked } = parseTronUnsignedTx(tx);
    const expectedFrom = await this.address(ref);
    const answer = await this.post('/v1/sign/tron', { key: ref, tx: asked });
    return verifyTronAnswer(asked, answer, expectedFrom);
  }
}

/** The body as text, refusing one longer than HTTP_SIGNER_ANSWER_BYTES_MAX. */
async function readBounded(res: Response): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > HTTP_SIGNER_ANSWER_BYTES_MAX) {
      await reader.cancel();
      mismatch(`signer answer exceeds ${HTTP_SIGNER_ANSWER_BYTES_MAX} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function answerFields(answer: Record<string, unknown>): { from: string; tx_hash: string; raw: string } {
  const { from, tx_hash, raw } = answer;
  if (typeof from !== 'string' || typeof tx_hash !== 'string' || typeof raw !== 'string') mismatch('signer answer lacks from, tx_hash or raw');
  return { from, tx_hash, raw };
}

/**
 * An EVM answer is believed only if its raw transaction decodes to exactly the one asked for,
 * its signature recovers to the key's address, and the hash and from it states are the ones the
 * bytes carry. Exported for tests.
 */
export function verifyEvmAnswer(asked: ReturnType<typeof parseEvmUnsignedTx>, answer: Record<string, unknown>, expectedFrom: string): SignedTx {
  const { from, tx_hash, raw } = answerFields(answer);
  let t: Transaction;
  try {
    t = Transaction.from(raw);
  } catch (e) {
    mismatch(`signer raw does not decode: ${(e as Error).message.slice(0, 200)}`);
  }
  if (!t.signature || !t.from || !t.hash) mismatch('signer raw is not signed');
  const differs = evmTxDifference(asked, t);
  if (differs) mismatch(`signer signed a different transaction (${differs} differs)`);
  if (t.from !== expectedFrom) mismatch(`signer signed with ${t.from}, not the key named (${expectedFrom})`);
  if (from !== t.from) mismatch(`signer answered from ${from.slice(0, 60)}, the signature says ${t.from}`);
  if (tx_hash !== t.hash.toLowerCase()) mismatch(`signer answered tx_hash ${tx_hash.slice(0, 80)}, the bytes hash to ${t.hash}`);
  return { kind: 'evm', from: t.from, txHash: t.hash.toLowerCase(), raw: t.serialized };
}

/**
 * A TRON answer is believed only if it is the same transaction (txID, raw_data_hex, raw_data),
 * its one signature recovers from the txID to the key's address, and tx_hash is 0x + txID. What
 * is returned is built from the transaction asked for plus that signature. Exported for tests.
 */
export function verifyTronAnswer(asked: ReturnType<typeof parseTronUnsignedTx>['tx'], answer: Record<string, unknown>, expectedFrom: string): SignedTx {
  const { from, tx_hash, raw } = answerFields(answer);
  let decoded: unknown;
  try {
    decoded = JSON.parse(raw);
  } catch {
    mismatch('signer raw is not JSON');
  }
  const checked = tronAnswerDifference(asked, decoded);
  if ('difference' in checked) mismatch(`signer answered a different transaction (${checked.difference})`);
  let signer: string;
  try {
    signer = recoverTronSigner(asked.txID, checked.signature);
  } catch (e) {
    mismatch(`signer signature does not recover: ${(e as Error).message.slice(0, 200)}`);
  }
  if (signer !== expectedFrom) mismatch(`signer signed with ${signer}, not the key named (${expectedFrom})`);
  if (from !== signer) mismatch(`signer answered from ${from.slice(0, 60)}, the signature says ${signer}`);
  const txHash = '0x' + asked.txID.toLowerCase();
  if (tx_hash !== txHash) mismatch(`signer answered tx_hash ${tx_hash.slice(0, 80)}, not ${txHash}`);
  return { kind: 'tron', from: signer, txHash, raw: tronSignedRaw(asked, checked.signature) };
}
