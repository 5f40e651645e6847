// JSON-RPC over several node URLs with failover: a call goes to the node that last answered,
// and on an error or timeout to the next one, each at most once per call. Which node answered
// is reported so a batch can pin its reads to one node and refuse a mixed view.
import { FetchRequest, JsonRpcProvider, Network } from 'ethers';
import { RPC_TIMEOUT_MS, RpcUnavailableError } from './rail-adapter.js';

export class RpcPool {
  private readonly providers: JsonRpcProvider[];
  private current = 0;

  constructor(readonly urls: readonly string[], chainId: number | undefined, timeoutMs = RPC_TIMEOUT_MS) {
    this.providers = urls.map((u) => {
      const req = new FetchRequest(u);
      req.timeout = timeoutMs;
      // Static network: no eth_chainId chatter or background polling; the rail names its chain.
      return new JsonRpcProvider(req, chainId === undefined ? undefined : Network.from(chainId), {
        staticNetwork: chainId === undefined ? true : Network.from(chainId),
        batchMaxCount: 1,
        cacheTimeout: -1,
        polling: false,
      });
    });
  }

  /** The index of the node that answered last (for tests and metrics). */
  get currentIndex(): number {
    return this.current;
  }

  async call(method: string, params: unknown[]): Promise<unknown> {
    const errors: string[] = [];
    for (let attempt = 0; attempt < this.providers.length; attempt++) {
      const i = (this.current + attempt) % this.providers.length;
      try {
        const out = await this.providers[i]!.send(method, params);
        this.current = i;
        return out;
      } catch (err) {
        errors.push(`${this.urls[i]}: ${(err as Error).message?.slice(0, 160)}`);
      }
    }
    // Moving on for the next call: the node that failed last is not the one to try first.
    this.current = (this.current + 1) % this.providers.length;
    throw new RpcUnavailableError(`${method} failed on every node: ${errors.join(' | ')}`);
  }

  close(): void {
    for (const p of this.providers) p.destroy();
  }
}
