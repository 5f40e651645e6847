// `stablerail webhooks listen [--port N]`: a loopback webhook receiver for the sandbox merchant,
// in the spirit of `stripe listen`. It registers an endpoint pointing at itself (sandbox allows
// loopback URLs), verifies each delivery's signature with the SDK, prints one line per verified
// event, and disables the endpoint again on Ctrl-C.
import { createServer, type IncomingMessage } from 'node:http';
import { verifyWebhook, WebhookVerificationError, MemoryReplayStore } from '../sdk/index.js';

const BODY_BYTES_MAX = 1 << 20;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > BODY_BYTES_MAX) reject(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function webhooksListen(args: string[], o: { apiUrl: string; key: string; out?: (s: string) => void; signal?: AbortSignal }): Promise<number> {
  const out = o.out ?? ((s: string) => process.stdout.write(s + '\n'));
  const portArg = args.indexOf('--port') >= 0 ? Number(args[args.indexOf('--port') + 1]) : 0;
  let secret = '';
  const replays = new MemoryReplayStore();
  const server = createServer(async (req, res) => {
    try {
      const raw = await readBody(req);
      const event = verifyWebhook<{ id?: string; status?: string; amount_received?: string; asset?: string }>(raw, req.headers, secret, { replayStore: replays });
      const d = event.data ?? {};
      out(`${new Date().toISOString()}  ${event.type.padEnd(26)} ${event.id}  ${d.id ?? ''}${d.status ? `  ${d.status}` : ''}${d.amount_received ? `  received ${d.amount_received} ${d.asset ?? ''}` : ''}  (signature verified)`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    } catch (err) {
      const code = err instanceof WebhookVerificationError ? err.code : 'error';
      out(`${new Date().toISOString()}  refused a delivery: ${code} ${(err as Error).message}`);
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: code }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(portArg, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/webhooks`;
  const auth = { authorization: `Bearer ${o.key}`, 'content-type': 'application/json' };
  const r = await fetch(`${o.apiUrl}/v1/webhook_endpoints`, { method: 'POST', headers: auth, body: JSON.stringify({ url, description: 'stablerail webhooks listen' }) });
  const endpoint = await r.json();
  if (r.status !== 201) {
    server.close();
    throw new Error(`could not register ${url}: ${r.status} ${JSON.stringify(endpoint.error ?? endpoint)}`);
  }
  secret = endpoint.secret;
  out(`listening on ${url} as ${endpoint.id}; every event of this merchant's sandbox arrives here, signed (Ctrl-C to stop)`);
  // Kept (not once): npx and the wrapper pass Ctrl-C on too, and a second SIGINT must not kill
  // the process before the endpoint is disabled.
  let stopping = (): void => undefined;
  const stopped = new Promise<void>((resolve) => (stopping = resolve));
  const onSignal = () => stopping();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (o.signal) o.signal.addEventListener('abort', onSignal, { once: true });
  await stopped;
  // Left enabled, the endpoint would fail every delivery and be retried for days.
  await fetch(`${o.apiUrl}/v1/webhook_endpoints/${endpoint.id}`, { method: 'POST', headers: auth, body: JSON.stringify({ disabled: true }) }).catch(() => undefined);
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  out(`disabled ${endpoint.id}`);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return 0;
}
