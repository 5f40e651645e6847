// Regenerates activities/chain/contracts/*.json from the Solidity sources beside them with
// the pinned npm `solc` (a devDependency): `node --import tsx scripts/compile-contracts.ts`.
// The artifacts are committed so `npm start` and the tests never compile at run time.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const solc = require('solc') as { compile(input: string): string; version(): string };

const dir = fileURLToPath(new URL('../activities/chain/contracts/', import.meta.url));
const CONTRACTS = ['TetherLikeToken'] as const;

for (const name of CONTRACTS) {
  const source = readFileSync(`${dir}${name}.sol`, 'utf8');
  const input = {
    language: 'Solidity',
    sources: { [`${name}.sol`]: { content: source } },
    settings: {
      // Paris: no PUSH0, so the bytecode runs on any EVM devnet or testnet a merchant points at.
      evmVersion: 'paris',
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (out.errors ?? []).filter((e: { severity: string }) => e.severity === 'error');
  if (errors.length) throw new Error(errors.map((e: { formattedMessage: string }) => e.formattedMessage).join('\n'));
  const c = out.contracts[`${name}.sol`][name];
  const artifact = { contractName: name, compiler: `solc ${solc.version()}`, abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
  writeFileSync(`${dir}${name}.json`, JSON.stringify(artifact, null, 2) + '\n');
  process.stdout.write(`compiled ${name} with solc ${solc.version()}\n`);
}
