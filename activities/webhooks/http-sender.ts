// One HTTP POST to a pinned address: the connection goes to the address the guard checked,
// while Host and TLS SNI/certificate checks use the URL's name. Redirects are never followed
// (node:http does not), the whole exchange has one deadline, and only a bounded excerpt of
// the answer is kept.
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { ResolvedTarget } from './url-guard.js';

export const RESPONSE_EXCERPT_BYTES_MAX = 1024;
/** Past this much answer body we stop reading: the status is known, and a huge body must not hold the attempt. */
export const RESPONSE_READ_BYTES_MAX = 64 * 1024;
/** Sockets per process and origin: enough for a burst, bounded so a slow receiver cannot take them all. */
export const SOCKETS_PER_ORIGIN_MAX = 64;

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: SOCKETS_PER_ORIGIN_MAX, maxFreeSockets: 16 }),
  https: new https.Agent({ keepAlive: true, maxSockets: SOCKETS_PER_ORIGIN_MAX, maxFreeSockets: 16 }),
};

export interface SendResult {
  status: number;
  retryAfter: string | null;
  excerpt: string;
  latencyMs: number;
}

export class SendError extends Error {
  constructor(
    readonly code: 'timeout' | 'connection_failed',
    message: string,
    readonly latencyMs: number,
  ) {
    super(message);
    this.name = 'SendError';
  }
}

export function postPinned(target: ResolvedTarget, headers: Record<string, string>, body: Buffer, timeoutMs: number): Promise<SendResult> {
  const started = performance.now();
  const isHttps = target.url.protocol === 'https:';
  const host = target.url.hostname.replace(/^\[|\]$/g, '');
  return new Promise<SendResult>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const req = (isHttps ? https : http).request({
      method: 'POST',
      host: target.address,
      family: target.family,
      port: target.url.port || (isHttps ? 443 : 80),
      path: `${target.url.pathname}${target.url.search}`,
      agent: isHttps ? agents.https : agents.http,
      // SNI and the certificate check are about the name, never the pinned address.
      ...(isHttps && !isIP(host) ? { servername: host } : {}),
      headers: { ...headers, host: target.url.host, 'content-length': String(body.length) },
    });
    const timer = setTimeout(() => {
      finish(() => reject(new SendError('timeout', `no complete answer within ${timeoutMs} ms`, Math.round(performance.now() - started))));
      req.destroy();
    }, timeoutMs);
    req.on('error', (err) => finish(() => reject(new SendError('connection_failed', err.message, Math.round(performance.now() - started)))));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      let read = 0;
      const done = () =>
        finish(() =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: typeof res.headers['retry-after'] === 'string' ? res.headers['retry-after'] : null,
            // Decoding cuts on a character boundary; NULs go, since PostgreSQL text refuses them.
            excerpt: Buffer.concat(chunks).toString('utf8').replace(/\u0000/g, ''),
            latencyMs: Math.round(performance.now() - started),
          }),
        );
      res.on('data', (c: Buffer) => {
        read += c.length;
        if (kept < RESPONSE_EXCERPT_BYTES_MAX) {
          const part = c.subarray(0, RESPONSE_EXCERPT_BYTES_MAX - kept);
          chunks.push(part);
          kept += part.length;
        }
        if (read > RESPONSE_READ_BYTES_MAX) {
          done();
          res.destroy();
        }
      });
      res.on('end', done);
      res.on('error', (err) => finish(() => reject(new SendError('connection_failed', err.message, Math.round(performance.now() - started)))));
    });
    req.end(body);
  });
}
