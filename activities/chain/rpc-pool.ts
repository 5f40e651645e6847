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

  /**
   * Call `method`; `parse` validates the answer, and a node whose answer does not parse counts
   * as failed like one that is down, so a garbage-answering node is failed over too.
   */
  async call<T = unknown>(method: string, params: unknown[], parse: (raw: unknown) => T = (raw) => raw as T): Promise<T> {
    const errors: string[] = [];
    let lastParseError: Error | null = null;
    for (let attempt = 0; attempt < this.providers.length; attempt++) {
      const i = (this.current + attempt) % this.providers.length;
      try {
        const out = parse(await this.providers[i]!.send(method, params));
        this.current = i;
        return out;
      } catch (err) {
        if ((err as Error).name === 'ChainDataError') lastParseError = err as Error;
        errors.push(`${this.urls[i]}: ${(err as Error).message?.slice(0, 160)}`);
      }
    }
    // Moving on for the next call: the node that failed last is not the one to try first.
    this.current = (this.current + 1) % this.providers.length;
    // Every node answered, and wrongly: say so as the data error it is.
    if (lastParseError && errors.length === this.providers.length && this.providers.length === 1) throw lastParseError;
    throw new RpcUnavailableError(`${method} failed on every node: ${errors.join(' | ')}`);
  }

  close(): void {
    for (const p of this.providers) p.destroy();
  }
}
