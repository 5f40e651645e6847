// A loopback JSON-RPC forwarder in front of the suite's anvil, so a test can make "a node" go
// down, come back, or lag (answer a frozen head) while the real chain behind it moves on.
import { createServer, type Server } from 'node:http';

export type ProxyMode = 'up' | 'down' | 'frozen' | 'garbage' | 'hang';

export interface RpcProxy {
  url: string;
  mode: ProxyMode;
  /** The head a frozen node keeps answering. */
  frozenHead: number;
  requests: number;
  close(): Promise<void>;
}

export async function startRpcProxy(target: () => string): Promise<RpcProxy> {
  const state = { mode: 'up' as ProxyMode, frozenHead: 0, requests: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      state.requests += 1;
      if (state.mode === 'down') {
        res.destroy(); // a dead node: the connection drops without an answer
        return;
      }
      if (state.mode === 'hang') return; // a stuck node: the request is never answered
      if (state.mode === 'garbage') {
        // A broken node: well-formed JSON-RPC around malformed chain data.
        const msg = JSON.parse(Buffer.concat(chunks).toString());
        const junk: Record<string, unknown> = {
          eth_blockNumber: '0xNOTHEX',
          eth_getBlockByNumber: { number: '0x1', hash: '0x1234', parentHash: 42 },
          eth_getLogs: [{ topics: ['0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef', '0x12', '0x34'], data: '0xzz', transactionHash: 'nope', logIndex: '-1', blockNumber: '0x1', blockHash: '0x00' }],
        };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: junk[msg.method] ?? 'garbage' }));
        return;
      }
      const body = Buffer.concat(chunks).toString();
      try {
        const msg = JSON.parse(body);
        if (state.mode === 'frozen' && msg.method === 'eth_blockNumber') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: '0x' + state.frozenHead.toString(16) }));
          return;
        }
        const up = await fetch(target(), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        res.writeHead(up.status, { 'content-type': 'application/json' });
        res.end(await up.text());
      } catch {
        res.destroy();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get mode() { return state.mode; },
    set mode(m: ProxyMode) { state.mode = m; },
    get frozenHead() { return state.frozenHead; },
    set frozenHead(h: number) { state.frozenHead = h; },
    get requests() { return state.requests; },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
