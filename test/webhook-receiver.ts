// A real HTTP receiver on loopback for webhook tests: records every request's raw bytes and
// headers, and answers as the test says (status, headers, delay, or never).
import http from 'node:http';

export interface Received {
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  path: string;
  at: number;
}

export type Reply = { status: number; headers?: Record<string, string>; body?: string; delayMs?: number } | 'hang';

export interface Receiver {
  url: string;
  received: Received[];
  reply: (r: Received, n: number) => Reply;
  close(): Promise<void>;
}

export async function startReceiver(reply: Receiver['reply'] = () => ({ status: 200 })): Promise<Receiver> {
  const received: Received[] = [];
  const hung: http.ServerResponse[] = [];
  const rcv = { received, reply } as Receiver;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // Ports are reused: a client from an earlier test (a watcher polling a stopped RPC proxy)
      // may knock on this one. Only webhook deliveries, to /hooks, are recorded.
      if (!(req.url ?? '').startsWith('/hooks')) {
        res.writeHead(404).end();
        return;
      }
      const r: Received = { headers: req.headers, raw: Buffer.concat(chunks), path: req.url ?? '/', at: Date.now() };
      received.push(r);
      const a = rcv.reply(r, received.length);
      if (a === 'hang') {
        hung.push(res);
        return;
      }
      const send = () => {
        res.writeHead(a.status, a.headers ?? {});
        res.end(a.body ?? 'ok');
      };
      if (a.delayMs) setTimeout(send, a.delayMs);
      else send();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  rcv.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks`;
  rcv.close = async () => {
    for (const res of hung) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return rcv;
}
