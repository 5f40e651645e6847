// Crash-safe broadcast: a payout worker in its own process is SIGKILLed right after the signed
// transaction is recorded (nothing sent yet), and another time right after it went on the wire
// (not yet marked as sent). A fresh worker finishes each payout, and the chain shows exactly
// one transfer for each: the nonce and hash recorded before broadcasting are what is sent.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { id as topicOf, zeroPadValue } from 'ethers';
import { admin, eventually, h, newMerchant, asOperator } from './harness.js';
import { devnet, rpc } from './chain-helpers.js';
import { allowlist, freshAddress, miner, seedAvailable, tokenBalance, USDT, waitPayout } from './payout-helpers.js';
import { createPayout } from '../api/payout-commands.js';
import type { Metrics } from '../api/metrics.js';

// The production command itself (`stablerail …`), run directly so a SIGKILL reaches the worker.
const CLI = fileURLToPath(new URL('../scripts/cli.ts', import.meta.url));
const SIGNER = fileURLToPath(new URL('../scripts/signer.ts', import.meta.url));
const SIGNER_TOKEN = 'crash-test-signer-token-0123456789';

/** The reference external signer on a free loopback port, holding the devnet keystore. */
function startSigner(keystore: string, password: string): Promise<{ child: ChildProcess; url: string; log: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SIGNER, '--keystore', keystore, '--port', '0'], {
    env: { ...process.env, STABLERAIL_SIGNER_PASSWORD: password, STABLERAIL_SIGNER_TOKEN: SIGNER_TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /signer listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, log: () => out });
    });
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => reject(new Error(`signer exited (${code}): ${out.slice(-2000)}`)));
  });
}

function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'payout-worker'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('payout worker ready')) resolve(child);
    });
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before ready: ${out.slice(-2000)}`)));
  });
}

const exited = (c: ChildProcess) => new Promise<string | null>((r) => (c.exitCode !== null || c.signalCode !== null ? r(c.signalCode) : c.once('exit', (_code, sig) => r(sig))));

describe('payout worker killed between signing and broadcasting', function () {
  this.timeout(180_000);
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  // The second case signs through the reference external signer over HTTP, as a live deployment does.
  for (const [point, signerKind] of [['EXIT_AFTER_SIGN', 'keystore'], ['EXIT_AFTER_BROADCAST', 'http']] as const) {
    it(`${point} (${signerKind} signer): a fresh worker finishes the payout and the chain shows exactly one transfer`, async () => {
      const { stack, config, bundle, dataDir } = h();
      let configPath = h().configPath;
      const extraEnv: Record<string, string> = {};
      let signerLog: (() => string) | null = null;
      let rows0TxHash = '';
      if (signerKind === 'http') {
        const ks = config.payouts.signer as { keystore_file: string; password: string };
        const signer = await startSigner(ks.keystore_file, ks.password);
        children.push(signer.child);
        signerLog = signer.log;
        configPath = join(dataDir, 'config-http-signer.json');
        const file = JSON.parse(readFileSync(h().configPath, 'utf8'));
        file.payouts = { ...file.payouts, signer: { kind: 'http', url: signer.url } };
        writeFileSync(configPath, JSON.stringify(file));
        extraEnv.STABLERAIL_SIGNER_TOKEN = SIGNER_TOKEN;
      }
      const m = await newMerchant({ name: `Crash ${point}` });
      await seedAvailable(m.merchantId, 100n * USDT);
      const dest = freshAddress();
      await allowlist(m.key, dest);
      const bundleFile = join(dataDir, 'payout-crash-bundle.js');
      if (!existsSync(bundleFile)) writeFileSync(bundleFile, bundle.code);
      const marker = join(dataDir, `fault-${point}`);
      // A queue per case: the healthy worker of one case must not take the other's work.
      const TASK_QUEUE = `payouts-crash-${point.toLowerCase()}`;
      const env = {
        DATABASE_URL: stack.databaseUrl,
        TEMPORAL_ADDRESS: stack.temporalAddress,
        TEMPORAL_NAMESPACE: stack.namespace,
        STABLERAIL_CONFIG: configPath,
        STABLERAIL_WORKFLOW_BUNDLE: bundleFile,
        STABLERAIL_PAYOUT_TASK_QUEUE: TASK_QUEUE,
        TEMPORAL_LOG_LEVEL: 'ERROR',
        ...extraEnv,
      };
      const first = await startWorker({ ...env, [`STABLERAIL_FAULT_${point}`]: marker });
      children.push(first);

      const metrics = { workflowStarts: { inc() {} } } as unknown as Metrics;
      const row = await createPayout(
        { pool: stack.pool, config, temporal: stack.client, metrics, payoutTaskQueue: TASK_QUEUE },
        { keyId: 'test', merchantId: m.merchantId, environment: 'sandbox', scopes: ['payouts:write'] },
        { amount: '42', rail: 'usdt-erc20', destination: dest, reference: `crash-${point}` },
        null,
      );
      const stop = miner();
      try {
        const ok = await asOperator('alice')('POST', `/v1/admin/payouts/${row.id}/approve`, { reason: 'ok' });
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        assert.equal(await exited(first), 'SIGKILL', 'the worker killed itself at the fault point');
        assert.ok(existsSync(marker));
        const { rows } = await stack.pool.query(`SELECT tx_hash, nonce, status FROM chain_sends WHERE send_key = $1`, [`payout:${row.id}`]);
        assert.equal(rows.length, 1, 'the signed transaction was recorded before the crash');
        assert.equal(rows[0].status, 'signed');
        rows0TxHash = rows[0].tx_hash;
        const onChain = await rpc('eth_getTransactionByHash', [rows[0].tx_hash]);
        if (point === 'EXIT_AFTER_SIGN') assert.equal(onChain, null, 'killed before anything was sent');
        else assert.ok(onChain, 'killed after the transaction was sent');

        children.push(await startWorker(env));
        const done = await waitPayout(m.key, row.id, ['settled', 'failed'], 90_000);
        assert.equal(done.status, 'settled', JSON.stringify(done));
        assert.equal(done.tx_hash, rows[0].tx_hash, 'the recorded transaction is the one that was sent');

        // Exactly one token transfer from the treasury to the destination, ever.
        const { devnet: d } = devnet();
        const logs = await rpc('eth_getLogs', [{ fromBlock: '0x0', toBlock: 'latest', address: d.tokenAddress, topics: [topicOf('Transfer(address,address,uint256)'), null, zeroPadValue(dest, 32)] }]);
        assert.equal(logs.length, 1, `transfers to the destination: ${logs.length}`);
        assert.equal(await tokenBalance(dest), 42n * USDT);
        const sends = await stack.pool.query(`SELECT count(*)::int AS n FROM chain_sends WHERE send_key = $1`, [`payout:${row.id}`]);
        assert.equal(sends.rows[0].n, 1);
      } finally {
        await stop();
      }
      await eventually(async () => (await stack.client.workflow.getHandle(row.id).describe()).status.name === 'COMPLETED', 20_000, 200);
      // The external signer, not the worker, signed it: its log line names the hash (and no key).
      if (signerLog) assert.ok(signerLog().includes(rows0TxHash), 'the reference signer logged the signature');
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    });
  }
});
