// The local EVM devnet: anvil (from the npm package @foundry-rs/anvil's platform binary) on
// loopback, with the USDT-like token deployed by anvil's first account at nonce 0 (so its
// address is known before the chain starts) and a payer account funded with ETH and tokens.
// `npm start` and the test harness both start it through scripts/stack.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { forgetPid, killWithParent, recordPid, stopOrphan } from './orphans.js';
import { LauncherError } from './launcher-error.js';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Contract, ContractFactory, HDNodeWallet, JsonRpcProvider, Mnemonic, Network, getAddress } from 'ethers';
import { DEVNET_TOKEN_ADDRESS } from '../devnet-rails.js';

const require = createRequire(import.meta.url);

/** anvil's built-in accounts come from this well-known mnemonic; account 0 deploys the token. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';
export const DEVNET_CHAIN_ID = 31337;
/** The payer sits on another account branch of the devnet wallet than the deposit addresses. */
export const PAYER_PATH = "m/44'/60'/1'/0/0";
const TOKEN_SUPPLY_MINOR = 10n ** 15n; // 1e9 USDT at 6 decimals
const PAYER_TOKENS_MINOR = 10n ** 12n; // 1e6 USDT
const PAYER_ETH_WEI = 10n ** 21n; // 1000 ETH
const TREASURY_FLOAT_MINOR = 10n ** 12n; // 1e6 USDT

export const TOKEN_ARTIFACT_PATH = fileURLToPath(new URL('../../activities/chain/contracts/TetherLikeToken.json', import.meta.url));

export interface TokenArtifact {
  abi: unknown[];
  bytecode: string;
}
export function tokenArtifact(): TokenArtifact {
  return JSON.parse(readFileSync(TOKEN_ARTIFACT_PATH, 'utf8'));
}

/** The anvil binary shipped by the platform package @foundry-rs/anvil depends on (no download). */
export function anvilBinary(): string {
  if (process.env.STABLERAIL_ANVIL_BIN) return process.env.STABLERAIL_ANVIL_BIN;
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  const pkgJson = require.resolve(`${pkg}/package.json`);
  return join(dirname(pkgJson), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
}

export interface Devnet {
  rpcUrl: string;
  chainId: number;
  tokenAddress: string;
  payerAddress: string;
  payerPrivateKey: string;
  /** The deployer (anvil account 0): owner of the token, can mint. */
  deployerPrivateKey: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startDevnet(o: {
  port: number;
  /** The devnet wallet's mnemonic: the payer is derived from it. */
  mnemonic: string;
  /** Where anvil keeps its chain across restarts; omitted: in memory (tests). */
  stateFile?: string;
  /** Addresses given ETH for gas and a token float (the devnet treasury, which payouts leave from). */
  fund?: string[];
  log?: (s: string) => void;
}): Promise<Devnet> {
  const args = ['--host', '127.0.0.1', '--port', String(o.port), '--chain-id', String(DEVNET_CHAIN_ID), '--mnemonic', ANVIL_MNEMONIC,
    '--accounts', '2', '--balance', '1000000', '--silent', '--gas-limit', '1000000000'];
  // Dumped every few seconds too, so a crash loses little of the chain the watcher has stored.
  if (o.stateFile) args.push('--state', o.stateFile, '--state-interval', '5');
  // An anvil orphaned by a crash of the last `npm start` still holds the port and the state file.
  const pidFile = o.stateFile ? `${o.stateFile}.pid` : null;
  if (pidFile) await stopOrphan(pidFile, 'devnet (anvil)', o.log);
  // Another process on the port would answer the readiness probe in anvil's place: refuse early.
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', () => reject(new LauncherError(`devnet port ${o.port} is in use (another npm start or anvil?); set STABLERAIL_DEVNET_PORT`)));
    probe.listen(o.port, '127.0.0.1', () => probe.close(() => resolve()));
  });
  const proc = spawn(anvilBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  killWithParent(proc);
  if (pidFile) {
    recordPid(pidFile, proc.pid, args);
    // However it ends (stopped, crashed, signalled with its group), its pid file goes with it.
    proc.once('exit', () => forgetPid(pidFile));
  }
  let stderr = '';
  proc.stderr!.on('data', (d) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const rpcUrl = `http://127.0.0.1:${o.port}`;
  const stop = async () => {
    // Already gone (Ctrl-C signals the whole process group, anvil included): only the pid file is left to remove.
    if (proc.exitCode !== null || proc.signalCode !== null) {
      if (pidFile) forgetPid(pidFile);
      return;
    }
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM'); // anvil dumps its --state on SIGTERM
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
    if (pidFile) forgetPid(pidFile);
  };
  const provider = new JsonRpcProvider(rpcUrl, Network.from(DEVNET_CHAIN_ID), { staticNetwork: true, batchMaxCount: 1, cacheTimeout: -1 });
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`anvil exited (${proc.exitCode}): ${stderr}`);
      try {
        await provider.send('eth_chainId', []);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`anvil did not become ready: ${(err as Error).message} ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const deployer = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(ANVIL_MNEMONIC), "m/44'/60'/0'/0/0").connect(provider);
    const payer = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(o.mnemonic), PAYER_PATH);
    const art = tokenArtifact();
    if ((await provider.getCode(DEVNET_TOKEN_ADDRESS)) === '0x') {
      const nonce = await provider.getTransactionCount(deployer.address);
      if (nonce !== 0) throw new Error(`devnet deployer has nonce ${nonce}: the token would not land at ${DEVNET_TOKEN_ADDRESS}`);
      const token = await new ContractFactory(art.abi as never, art.bytecode, deployer).deploy(TOKEN_SUPPLY_MINOR);
      await token.waitForDeployment();
      const at = getAddress(await token.getAddress());
      if (at !== getAddress(DEVNET_TOKEN_ADDRESS)) throw new Error(`token deployed at ${at}, expected ${DEVNET_TOKEN_ADDRESS}`);
      o.log?.(`devnet: deployed TetherLikeToken at ${at}`);
    }
    const token = new Contract(DEVNET_TOKEN_ADDRESS, art.abi as never, deployer);
    const balance: bigint = await token.getFunction('balanceOf')(payer.address);
    if (balance < PAYER_TOKENS_MINOR / 2n) await (await token.getFunction('mint')(payer.address, PAYER_TOKENS_MINOR)).wait();
    if ((await provider.getBalance(payer.address)) < PAYER_ETH_WEI / 2n) {
      await (await deployer.sendTransaction({ to: payer.address, value: PAYER_ETH_WEI })).wait();
    }
    // The treasury's float stands in for funds a sweep would have brought there (docs/payouts.md).
    for (const addr of o.fund ?? []) {
      if ((await token.getFunction('balanceOf')(addr)) < TREASURY_FLOAT_MINOR / 2n) await (await token.getFunction('mint')(addr, TREASURY_FLOAT_MINOR)).wait();
      if ((await provider.getBalance(addr)) < PAYER_ETH_WEI / 2n) await (await deployer.sendTransaction({ to: addr, value: PAYER_ETH_WEI })).wait();
    }
    provider.destroy();
    return {
      rpcUrl,
      chainId: DEVNET_CHAIN_ID,
      tokenAddress: getAddress(DEVNET_TOKEN_ADDRESS),
      payerAddress: payer.address,
      payerPrivateKey: payer.privateKey,
      deployerPrivateKey: deployer.privateKey,
      process: proc,
      stop,
    };
  } catch (err) {
    provider.destroy();
    await stop();
    throw err;
  }
}

