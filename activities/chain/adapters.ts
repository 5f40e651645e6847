// One adapter per rail kind; the rest of the code never branches on the chain.
import type { RailConfig } from '../config.js';
import type { RailAdapter } from './rail-adapter.js';
import { EvmAdapter } from './evm-adapter.js';

export type AdapterFactory = (rail: RailConfig) => RailAdapter;

const factories: Partial<Record<RailConfig['kind'], AdapterFactory>> = {
  evm: (rail) => new EvmAdapter(rail),
};

/** Register an adapter kind (the TRON adapter registers itself from tron-adapter.ts). */
export function registerAdapter(kind: RailConfig['kind'], f: AdapterFactory): void {
  factories[kind] = f;
}

export function createRailAdapter(rail: RailConfig): RailAdapter {
  const f = factories[rail.kind];
  if (!f) throw new Error(`no chain adapter for rail kind ${rail.kind}`);
  return f(rail);
}

export function hasAdapter(kind: RailConfig['kind']): boolean {
  return factories[kind] !== undefined;
}
