// One sender per rail kind, as adapters.ts has one reader per kind.
import type { RailConfig } from '../config.js';
import type { RailSender } from './rail-sender.js';
import { EvmSender } from './evm-sender.js';
import { TronSender } from './tron-sender.js';

const factories: Partial<Record<RailConfig['kind'], (rail: RailConfig) => RailSender>> = {
  evm: (rail) => new EvmSender(rail),
  tron: (rail) => new TronSender(rail),
};

export function createRailSender(rail: RailConfig): RailSender {
  const f = factories[rail.kind];
  if (!f) throw new Error(`no sender for rail kind ${rail.kind}`);
  return f(rail);
}

/** Senders are kept per rail for the life of a worker: each holds its node connections. */
export class RailSenders {
  private readonly senders = new Map<string, RailSender>();
  get(rail: RailConfig): RailSender {
    let s = this.senders.get(rail.id);
    if (!s) {
      s = createRailSender(rail);
      this.senders.set(rail.id, s);
    }
    return s;
  }
  close(): void {
    for (const s of this.senders.values()) s.close();
    this.senders.clear();
  }
}
