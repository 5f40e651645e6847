// One adapter per rail kind; the rest of the code never branches on the chain.
import type { RailConfig } from '../config.js';
import type { RailAdapter } from './rail-adapter.js';
import { EvmAdapter } from './evm-adapter.js';
import { TronAdapter } from './tron-adapter.js';

export type AdapterFactory = (rail: RailConfig) => RailAdapter;

const factories: Partial<Record<RailConfig['kind'], AdapterFactory>> = {
  evm: (rail) => new EvmAdapter(rail),
  tron: (rail) => new TronAdapter(rail),
};

export function createRailAdapter(rail: RailConfig): RailAdapter {
  const f = factories[rail.kind];
  if (!f) throw new Error(`no chain adapter for rail kind ${rail.kind}`);
  return f(rail);
}

export function hasAdapter(kind: RailConfig['kind']): boolean {
  return factories[kind] !== undefined;
}
