// The signer: keys derived where the service's xpubs say, EVM and TRON signatures as the chains
// check them, the reference signer process over real HTTP, and the service refusing any answer
// that is not the transaction it asked for. Needs no stack: only a spawned signer process and
// small loopback servers (it runs fine under the suite's root hooks too).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HDNodeWallet, Interface, Mnemonic, Transaction, getAddress, recoverAddress } from 'ethers';
import { TronWeb, utils as tronUtils } from 'tronweb';
import type { RailConfig } from '../activities/config.js';
import { deriveDepositAddress } from '../activities/deposit-address.js';
import { HttpSigner } from '../activities/signer/http-signer.js';
import { SignerConfigError, createSigner, signerSpecSchema } from '../activities/signer/index.js';
import { KEY_INDEX_MAX } from '../activities/signer/keys.js';
import { KEYSTORE_SCRYPT_N_MIN, KeystoreSigner, loadKeystoreSigner, writeKeystore } from '../activities/signer/keystore-signer.js';
import { SignerRefusedError, SignerUnavailableError, type EvmUnsignedTx, type KeyRef, type TronUnsignedTx } from '../activities/signer/signer.js';
import { signTronTxId } from '../activities/signer/transactions.js';
import { DEVNET_TOKEN_ADDRESS, EVM_ACCOUNT_PATH, TRON_ACCOUNT_PATH, TRON_STANDIN_USDT, accountXpub } from '../scripts/devnet-rails.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SIGNER_SCRIPT = join(ROOT, 'scripts', 'signer.ts');
const MNEMONIC = 'test test test test test test test test test test test junk';
const PASSWORD = 'a devnet keystore password';
const TOKEN = 'sgn_test_token_0123456789abcdef';
const STARTUP_TIMEOUT_MS = 20_000;
/** The one EVM address besides the token contract the policy lets through (a gas top-up's). */
const EVM_ALLOWED_PAYEE = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const EVM_OTHER = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const TRON_OTHER = 'T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb';
const ALLOW_TO = [DEVNET_TOKEN_ADDRESS, EVM_ALLOWED_PAYEE, TRON_STANDIN_USDT];

function rail(kind: 'evm' | 'tron'): RailConfig {
  return {
    id: kind === 'evm' ? 'usdt-erc20' : 'usdt-trc20',
    asset: 'USDT',
    network: 'test',
    kind,
    rpc_urls: ['http://127.0.0.1:1'],
    token_contract: kind === 'evm' ? DEVNET_TOKEN_ADDRESS : TRON_STANDIN_USDT,
    decimals: 6,
    confirmations_required: 1,
    finality_confirmations: 1,
    payment_window_s: 900,
    underpay_tolerance_minor: '0',
    xpub: accountXpub(MNEMONIC, kind === 'evm' ? EVM_ACCOUNT_PATH : TRON_ACCOUNT_PATH),
    environments: ['sandbox'],
  };
}
const EVM_RAIL = rail('evm');
const TRON_RAIL = rail('tron');

const depositKey = (r: RailConfig, index: number | string): KeyRef => ({ rail: r.id, kind: r.kind, role: 'deposit', index: String(index) });
const treasuryKey = (r: RailConfig): KeyRef => ({ rail: r.id, kind: r.kind, role: 'treasury' });
const privateKeyAt = (path: string) => HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(MNEMONIC), path).privateKey;

const erc20 = new Interface(['function transfer(address to, uint256 amount)']);

function evmTransfer(o: { to?: string; nonce?: number; amountMinor?: bigint } = {}): EvmUnsignedTx {
  return {
    kind: 'evm',
    chainId: '31337',
    nonce: String(o.nonce ?? 4),
    to: o.to ?? DEVNET_TOKEN_ADDRESS,
    data: erc20.encodeFunctionData('transfer', [EVM_OTHER, o.amountMinor ?? 125_500_000n]),
    value: '0',
    gasLimit: '65000',
    maxFeePerGas: '30000000000',
    maxPriorityFeePerGas: '1500000000',
  };
}

/** A TRC20 transfer as /wallet/triggersmartcontract builds it, encoded by tronweb's own protobuf. */
function tronTransfer(o: { owner: string; contract?: string; amountMinor?: bigint; timestamp?: number }): TronUnsignedTx {
  const data = erc20.encodeFunctionData('transfer', ['0x' + TronWeb.address.toHex(TRON_OTHER).slice(2), o.amountMinor ?? 125_500_000n]).slice(2);
  const timestamp = o.timestamp ?? 1_764_000_000_000;
  const raw_data = {
    contract: [
      {
        parameter: {
          value: { data, owner_address: TronWeb.address.toHex(o.owner).toLowerCase(), contract_address: TronWeb.address.toHex(o.contract ?? TRON_STANDIN_USDT).toLowerCase() },
          type_url: 'type.googleapis.com/protocol.TriggerSmartContract',
        },
        type: 'TriggerSmartContract',
      },
    ],
    ref_block_bytes: '3f1c',
    ref_block_hash: '9a2b7c4d11e0f5a8',
    expiration: timestamp + 60_000,
    fee_limit: 30_000_000,
    timestamp,
  };
  const pb = tronUtils.transaction.txJsonToPb({ raw_data });
  return {
    kind: 'tron',
    txID: tronUtils.transaction.txPbToTxID(pb).replace(/^0x/, ''),
    raw_data_hex: tronUtils.transaction.txPbToRawDataHex(pb).toLowerCase(),
    raw_data,
  };
}

async function refusedWith<T>(p: Promise<T>, code: string): Promise<SignerRefusedError> {
  const e = await p.then(
    () => assert.fail(`expected a refusal with ${code}`),
    (err: unknown) => err,
  );
  assert.ok(e instanceof SignerRefusedError, `expected SignerRefusedError(${code}), got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  return e;
}

interface SignerProcess {
  child: ChildProcess;
  url: string;
  stdout: string[];
}

function runSigner(args: string[], env: Record<string, string>): { child: ChildProcess; stdout: string[]; stderr: string[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', SIGNER_SCRIPT, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout!.on('data', (b: Buffer) => stdout.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => stderr.push(b.toString()));
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  return { child, stdout, stderr, exited };
}

async function startSignerProcess(keystore: string): Promise<SignerProcess> {
  const run = runSigner(['--keystore', keystore, '--port', '0', '--host', '127.0.0.1', '--allow-to', ALLOW_TO.join(',')], {
    STABLERAIL_SIGNER_PASSWORD: PASSWORD,
    STABLERAIL_SIGNER_TOKEN: TOKEN,
  });
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`signer did not start: ${run.stderr.join('')}`)), STARTUP_TIMEOUT_MS);
    const look = () => {
      const m = /signer listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(run.stdout.join(''));
      if (m) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    };
    run.child.stdout!.on('data', look);
    void run.exited.then((code) => fail(new Error(`signer exited ${code}: ${run.stderr.join('')}`)));
  });
  return { child: run.child, url, stdout: run.stdout };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function post(url: string, body: unknown, token = TOKEN): Promise<{ status: number; headers: Headers; body: { error?: { code: string; message: string } } & Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

describe('signer: keys, keystore, reference signer process and HTTP signer', function () {
  this.timeout(30_000);
  let dir: string;
  let keystore: string;
  let proc: SignerProcess;
  let http: HttpSigner;
  let local: KeystoreSigner;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stablerail-signer-'));
    keystore = join(dir, 'keystore.json');
    // The lowest cost writeKeystore accepts: the default would spend seconds on scrypt here.
    await writeKeystore(keystore, MNEMONIC, PASSWORD, { scryptN: KEYSTORE_SCRYPT_N_MIN });
    [proc, local] = await Promise.all([startSignerProcess(keystore), loadKeystoreSigner(keystore, PASSWORD, { allowTo: ALLOW_TO })]);
    http = new HttpSigner({ url: proc.url, token: TOKEN, timeout_ms: 5_000 });
  });

  after(async () => {
    if (proc?.child.exitCode === null) {
      const exited = new Promise((ok) => proc.child.once('exit', ok));
      proc.child.kill('SIGTERM');
      await exited;
    }
    await local?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a deposit key at index i has exactly the address deriveDepositAddress gives the rail, on an evm and a tron rail', async () => {
    for (const r of [EVM_RAIL, TRON_RAIL]) {
      for (const i of [0, 1, 7, 1000, KEY_INDEX_MAX]) {
        assert.equal(await http.address(depositKey(r, i)), deriveDepositAddress(r, BigInt(i)), `${r.kind} index ${i}`);
      }
    }
    // The same 20 bytes in both forms: a TRON address is 0x41 + the EVM address of the key.
    assert.equal(await local.address(depositKey(EVM_RAIL, 3)), HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(MNEMONIC), "m/44'/60'/0'/0/3").address);
  });

  it("treasury keys sit at m/44'/60'/2'/0/0 and m/44'/195'/2'/0/0", async () => {
    const evm = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(MNEMONIC), "m/44'/60'/2'/0/0").address;
    assert.equal(await http.address(treasuryKey(EVM_RAIL)), evm);
    const tronEvm = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(MNEMONIC), "m/44'/195'/2'/0/0").address;
    assert.equal(await http.address(treasuryKey(TRON_RAIL)), TronWeb.address.fromHex('41' + tronEvm.slice(2)));
  });

  it('an EVM transaction signed by the process recovers to the deposit address and decodes to the fields asked for', async () => {
    const asked = evmTransfer();
    const signed = await http.sign(depositKey(EVM_RAIL, 5), asked);
    const expected = deriveDepositAddress(EVM_RAIL, 5n);
    assert.equal(signed.kind, 'evm');
    assert.equal(signed.from, expected);
    const t = Transaction.from(signed.raw);
    assert.equal(t.type, 2);
    assert.equal(t.chainId, 31337n);
    assert.equal(t.nonce, 4);
    assert.equal(t.to, getAddress(asked.to));
    assert.equal(t.data, asked.data);
    assert.equal(t.value, 0n);
    assert.equal(t.gasLimit, 65000n);
    assert.equal(t.maxFeePerGas, 30_000_000_000n);
    assert.equal(t.maxPriorityFeePerGas, 1_500_000_000n);
    assert.equal(recoverAddress(t.unsignedHash, t.signature!), expected);
    assert.equal(signed.txHash, t.hash);
    assert.match(signed.txHash, /^0x[0-9a-f]{64}$/);
  });

  it("a TRON transaction's signature verifies against its txID and equals tronweb's own signTransaction", async () => {
    const owner = deriveDepositAddress(TRON_RAIL, 5n);
    const asked = tronTransfer({ owner });
    const signed = await http.sign(depositKey(TRON_RAIL, 5), asked);
    assert.equal(signed.kind, 'tron');
    assert.equal(signed.from, owner);
    assert.equal(signed.txHash, '0x' + asked.txID);
    const broadcastable = JSON.parse(signed.raw);
    assert.deepEqual(Object.keys(broadcastable).sort(), ['raw_data', 'raw_data_hex', 'signature', 'txID']);
    assert.equal(broadcastable.txID, asked.txID);
    assert.equal(broadcastable.raw_data_hex, asked.raw_data_hex);
    assert.deepEqual(broadcastable.raw_data, asked.raw_data);
    assert.ok(tronUtils.transaction.txCheck(broadcastable), 'raw_data encodes to raw_data_hex and txID');
    const [signature] = broadcastable.signature as string[];
    assert.equal(TronWeb.address.fromHex(tronUtils.crypto.ecRecover(asked.txID, signature!)), owner);
    const byTronweb = tronUtils.crypto.signTransaction(privateKeyAt("m/44'/195'/0'/0/5").slice(2), { txID: asked.txID, raw_data: asked.raw_data, raw_data_hex: asked.raw_data_hex });
    // tronweb writes v in capitals; the bytes are the same.
    assert.equal(signature, (byTronweb.signature as string[])[0]!.toLowerCase());
  });

  it('the keystore signer and the HTTP signer give byte-identical signatures (RFC 6979)', async () => {
    const evm = evmTransfer({ nonce: 9 });
    assert.deepEqual(await local.sign(treasuryKey(EVM_RAIL), evm), await http.sign(treasuryKey(EVM_RAIL), evm));
    const tron = tronTransfer({ owner: await local.address(treasuryKey(TRON_RAIL)) });
    assert.deepEqual(await local.sign(treasuryKey(TRON_RAIL), tron), await http.sign(treasuryKey(TRON_RAIL), tron));
  });

  it('a wrong token is answered 401 and refused', async () => {
    const r = await post(proc.url + '/v1/addresses', { key: treasuryKey(EVM_RAIL) }, 'not_the_token_at_all');
    assert.equal(r.status, 401);
    assert.equal(r.body.error?.code, 'unauthorized');
    assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    const wrong = new HttpSigner({ url: proc.url, token: 'not_the_token_at_all' });
    await refusedWith(wrong.address(treasuryKey(EVM_RAIL)), 'unauthorized');
    await refusedWith(wrong.sign(depositKey(EVM_RAIL, 1), evmTransfer()), 'unauthorized');
  });

  it('a malformed KeyRef is refused by the process and by HttpSigner before it asks', async () => {
    const malformed: unknown[] = [
      { rail: 'usdt-erc20', kind: 'evm', role: 'deposit' },
      { rail: 'usdt-erc20', kind: 'evm', role: 'deposit', index: '01' },
      { rail: 'usdt-erc20', kind: 'evm', role: 'deposit', index: '-1' },
      { rail: 'usdt-erc20', kind: 'evm', role: 'deposit', index: String(KEY_INDEX_MAX + 1) },
      { rail: 'usdt-erc20', kind: 'evm', role: 'deposit', index: 3 },
      { rail: 'usdt-erc20', kind: 'evm', role: 'deposit', index: "0'" },
      { rail: 'usdt-erc20', kind: 'evm', role: 'treasury', index: '0' },
      { rail: 'usdt-erc20', kind: 'btc', role: 'treasury' },
      { rail: 'usdt-erc20', kind: 'evm', role: 'hot' },
      { rail: 'usdt-erc20', kind: 'evm', role: 'treasury', path: "m/44'/60'/0'/0/0" },
      { rail: '../etc', kind: 'evm', role: 'treasury' },
      'treasury',
    ];
    for (const key of malformed) {
      const r = await post(proc.url + '/v1/addresses', { key });
      assert.equal(r.status, 400, JSON.stringify(key));
      assert.equal(r.body.error?.code, 'invalid_key_ref', JSON.stringify(key));
      await refusedWith(http.address(key as KeyRef), 'invalid_key_ref');
      await refusedWith(local.address(key as KeyRef), 'invalid_key_ref');
    }
    const r = await post(proc.url + '/v1/sign/evm', { key: malformed[1], tx: evmTransfer() });
    assert.equal(r.body.error?.code, 'invalid_key_ref');
    await refusedWith(http.sign(malformed[1] as KeyRef, evmTransfer()), 'invalid_key_ref');
  });

  it('the allow-to policy refuses any other EVM `to` or TRON contract', async () => {
    const r = await post(proc.url + '/v1/sign/evm', { key: treasuryKey(EVM_RAIL), tx: evmTransfer({ to: EVM_OTHER }) });
    assert.equal(r.status, 403);
    assert.equal(r.body.error?.code, 'policy_refused');
    await refusedWith(http.sign(treasuryKey(EVM_RAIL), evmTransfer({ to: EVM_OTHER })), 'policy_refused');
    const owner = await http.address(treasuryKey(TRON_RAIL));
    await refusedWith(http.sign(treasuryKey(TRON_RAIL), tronTransfer({ owner, contract: TRON_OTHER })), 'policy_refused');
    // A listed payee passes (a gas top-up), in whatever case it is written.
    const topUp = { ...evmTransfer({ to: EVM_ALLOWED_PAYEE.toLowerCase() }), data: '0x', value: '1000000000000000', gasLimit: '21000' };
    assert.equal((await http.sign(treasuryKey(EVM_RAIL), topUp)).from, await http.address(treasuryKey(EVM_RAIL)));
  });

  it("a TRON transaction is refused when its txID is not sha256(raw_data_hex), its raw_data says something else, or another key owns it", async () => {
    const owner = deriveDepositAddress(TRON_RAIL, 2n);
    const good = tronTransfer({ owner });
    const other = tronTransfer({ owner, amountMinor: 999_000_000n });
    const badId = { ...good, txID: other.txID };
    // The process checks for itself, whoever calls it…
    assert.equal((await post(proc.url + '/v1/sign/tron', { key: depositKey(TRON_RAIL, 2), tx: badId })).body.error?.code, 'txid_mismatch');
    // …and HttpSigner refuses before it asks.
    await refusedWith(http.sign(depositKey(TRON_RAIL, 2), badId), 'txid_mismatch');
    // JSON that reads one amount over a hex (what is signed) that pays another.
    const lying = { ...good, raw_data: other.raw_data };
    assert.equal((await post(proc.url + '/v1/sign/tron', { key: depositKey(TRON_RAIL, 2), tx: lying })).body.error?.code, 'raw_data_mismatch');
    await refusedWith(local.sign(depositKey(TRON_RAIL, 2), lying), 'raw_data_mismatch');
    const wrongKey = await post(proc.url + '/v1/sign/tron', { key: depositKey(TRON_RAIL, 3), tx: good });
    assert.equal(wrongKey.status, 403);
    assert.equal(wrongKey.body.error?.code, 'wrong_key');
    await refusedWith(http.sign(depositKey(TRON_RAIL, 3), good), 'wrong_key');
    // A contract type that is not a transfer (this one would hand the account to other keys).
    const permission = structuredClone(good);
    (permission.raw_data.contract as Array<{ type: string }>)[0]!.type = 'AccountPermissionUpdateContract';
    await refusedWith(local.sign(depositKey(TRON_RAIL, 2), permission), 'invalid_tx');
    await refusedWith(http.sign(depositKey(TRON_RAIL, 2), evmTransfer() as never), 'kind_mismatch');
  });

  it('an answer that is not the transaction asked for, or not by the key named, is refused as signer_answer_mismatch', async () => {
    type Tamper<T> = (body: { key: KeyRef; tx: T }) => Promise<unknown>;
    let tamper: Tamper<never> = async () => ({});
    const stranger = KeystoreSigner.fromMnemonic(Mnemonic.fromEntropy(new Uint8Array(16).fill(7)).phrase);
    const fake = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(text);
        const answer = req.url === '/v1/addresses' ? local.address(body.key).then((address) => ({ address })) : tamper(body);
        void answer.then((a) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(a));
        });
      });
    });
    const url = await listen(fake);
    const victim = new HttpSigner({ url, token: TOKEN, timeout_ms: 2_000 });
    const wire = (s: { from: string; txHash: string; raw: string }) => ({ from: s.from, tx_hash: s.txHash, raw: s.raw });
    try {
      const evmKey = depositKey(EVM_RAIL, 5);
      const cases: Array<[string, Tamper<EvmUnsignedTx>]> = [
        ['another nonce', async (b) => wire(await local.sign(b.key, { ...b.tx, nonce: String(Number(b.tx.nonce) + 1) }))],
        ['another amount in the call data', async (b) => wire(await local.sign(b.key, evmTransfer({ amountMinor: 1n })))],
        ['another chain', async (b) => wire(await local.sign(b.key, { ...b.tx, chainId: '1' }))],
        ['a higher fee cap', async (b) => wire(await local.sign(b.key, { ...b.tx, maxFeePerGas: '90000000000' }))],
        ['another key', async (b) => wire(await local.sign(depositKey(EVM_RAIL, 6), b.tx))],
        ['a stranger key, claimed as ours', async (b) => ({ ...wire(await stranger.sign(b.key, b.tx)), from: deriveDepositAddress(EVM_RAIL, 5n) })],
        ['a wrong tx_hash', async (b) => ({ ...wire(await local.sign(b.key, b.tx)), tx_hash: '0x' + '11'.repeat(32) })],
        ['garbage raw', async (b) => ({ ...wire(await local.sign(b.key, b.tx)), raw: '0x02deadbeef' })],
        ['an unsigned raw', async (b) => {
          const s = await local.sign(b.key, b.tx);
          return { ...wire(s), raw: Transaction.from(s.raw).unsignedSerialized };
        }],
      ];
      for (const [name, t] of cases) {
        tamper = t;
        await refusedWith(victim.sign(evmKey, evmTransfer()), 'signer_answer_mismatch').catch((e) => assert.fail(`${name}: ${e}`));
      }
      const tronKey = depositKey(TRON_RAIL, 5);
      const owner = deriveDepositAddress(TRON_RAIL, 5n);
      const tronCases: Array<[string, Tamper<TronUnsignedTx>]> = [
        ['another transaction, well signed', async (b) => wire(await local.sign(b.key, tronTransfer({ owner, amountMinor: 1n })))],
        ['the same txID over another raw_data', async (b) => {
          const s = await local.sign(b.key, b.tx);
          const raw = JSON.parse(s.raw);
          raw.raw_data = tronTransfer({ owner, amountMinor: 1n }).raw_data;
          return { ...wire(s), raw: JSON.stringify(raw) };
        }],
        ['a signature over the same txID by another key', async (b) => {
          const s = await local.sign(b.key, b.tx);
          const raw = JSON.parse(s.raw);
          raw.signature = [signTronTxId(privateKeyAt("m/44'/195'/0'/0/6"), b.tx.txID)];
          return { ...wire(s), raw: JSON.stringify(raw) };
        }],
        ['a signature over nothing', async (b) => {
          const s = await local.sign(b.key, b.tx);
          const raw = JSON.parse(s.raw);
          raw.signature = ['00'.repeat(65)];
          return { ...wire(s), raw: JSON.stringify(raw) };
        }],
        ['two signatures', async (b) => {
          const s = await local.sign(b.key, b.tx);
          const raw = JSON.parse(s.raw);
          raw.signature.push(raw.signature[0]);
          return { ...wire(s), raw: JSON.stringify(raw) };
        }],
        ['a wrong tx_hash', async (b) => ({ ...wire(await local.sign(b.key, b.tx)), tx_hash: '0x' + '22'.repeat(32) })],
        ['no from', async (b) => ({ tx_hash: '0x' + b.tx.txID, raw: (await local.sign(b.key, b.tx)).raw })],
      ];
      for (const [name, t] of tronCases) {
        tamper = t;
        await refusedWith(victim.sign(tronKey, tronTransfer({ owner })), 'signer_answer_mismatch').catch((e) => assert.fail(`tron, ${name}: ${e}`));
      }
      // And the honest answer through the same fake passes, so the refusals above are the tampering's.
      tamper = async (b: { key: KeyRef; tx: EvmUnsignedTx | TronUnsignedTx }) => wire(await local.sign(b.key, b.tx));
      assert.equal((await victim.sign(evmKey, evmTransfer())).from, deriveDepositAddress(EVM_RAIL, 5n));
      assert.equal((await victim.sign(tronKey, tronTransfer({ owner }))).from, owner);
    } finally {
      await new Promise((ok) => fake.close(ok));
      await stranger.close();
    }
  });

  it('a signer that fails, hangs or is gone is unavailable (retried), not refused', async () => {
    let mode: 'fail' | 'hang' | 'busy' = 'fail';
    const fake = createServer((req, res) => {
      if (mode === 'hang') return; // never answers
      res.writeHead(mode === 'busy' ? 429 : 502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'upstream', message: 'the HSM is rebooting' } }));
    });
    const url = await listen(fake);
    try {
      const s = new HttpSigner({ url, token: TOKEN, timeout_ms: 300 });
      for (const m of ['fail', 'busy', 'hang'] as const) {
        mode = m;
        await assert.rejects(s.address(treasuryKey(EVM_RAIL)), SignerUnavailableError, m);
      }
    } finally {
      fake.closeAllConnections();
      await new Promise((ok) => fake.close(ok));
    }
    await assert.rejects(new HttpSigner({ url, token: TOKEN, timeout_ms: 1_000 }).address(treasuryKey(EVM_RAIL)), SignerUnavailableError);
  });

  it('the process logs one JSON line per signature with the key name, tx hash and destination, and never a key', async () => {
    const signed = await http.sign(depositKey(EVM_RAIL, 11), evmTransfer({ nonce: 11 }));
    const lines = proc.stdout.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const line = lines.find((l) => l.msg === 'signed' && l.tx_hash === signed.txHash);
    assert.ok(line, 'a log line for the signature');
    assert.deepEqual(line.key, depositKey(EVM_RAIL, 11));
    assert.equal(line.to, DEVNET_TOKEN_ADDRESS);
    const everything = proc.stdout.join('');
    for (const path of ["m/44'/60'/0'/0/11", "m/44'/60'/2'/0/0", "m/44'/195'/0'/0/5", "m/44'/195'/2'/0/0"]) {
      assert.ok(!everything.includes(privateKeyAt(path).slice(2)), `no private key of ${path} in the log`);
    }
    assert.ok(!everything.includes(MNEMONIC) && !everything.includes(PASSWORD) && !everything.includes(TOKEN));
  });

  it('init writes a 0600 keystore and prints the xpubs and treasury addresses, the mnemonic only when asked', async () => {
    const run = async (file: string, extra: string[]) => {
      const r = runSigner(['init', '--keystore', file, '--scrypt-n', String(KEYSTORE_SCRYPT_N_MIN), ...extra], { STABLERAIL_SIGNER_PASSWORD: PASSWORD });
      assert.equal(await r.exited, 0, r.stderr.join(''));
      return JSON.parse(r.stdout.join(''));
    };
    const [shown, hidden] = await Promise.all([run(join(dir, 'shown.json'), ['--show-mnemonic']), run(join(dir, 'hidden.json'), [])]);
    assert.equal(shown.mnemonic.split(' ').length, 24);
    assert.equal(shown.xpubs.evm.path, EVM_ACCOUNT_PATH);
    assert.equal(shown.xpubs.evm.xpub, accountXpub(shown.mnemonic, EVM_ACCOUNT_PATH));
    assert.equal(shown.xpubs.tron.path, TRON_ACCOUNT_PATH);
    assert.equal(shown.xpubs.tron.xpub, accountXpub(shown.mnemonic, TRON_ACCOUNT_PATH));
    assert.equal(hidden.mnemonic, undefined);
    for (const [file, out] of [[join(dir, 'shown.json'), shown], [join(dir, 'hidden.json'), hidden]] as const) {
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.ok(!readFileSync(file, 'utf8').includes(shown.mnemonic.split(' ')[0] + ' '), 'the keystore holds the mnemonic encrypted only');
      const s = await loadKeystoreSigner(file, PASSWORD);
      assert.equal(await s.address(treasuryKey(EVM_RAIL)), out.treasury.evm.address);
      assert.equal(await s.address(treasuryKey(TRON_RAIL)), out.treasury.tron.address);
      // A deposit key of the new seed is where the printed xpub says it is.
      assert.equal(await s.address(depositKey(TRON_RAIL, 4)), deriveDepositAddress({ ...TRON_RAIL, xpub: out.xpubs.tron.xpub }, 4n));
      await s.close();
    }
    const again = runSigner(['init', '--keystore', join(dir, 'hidden.json'), '--scrypt-n', String(KEYSTORE_SCRYPT_N_MIN)], { STABLERAIL_SIGNER_PASSWORD: PASSWORD });
    assert.notEqual(await again.exited, 0, 'an existing keystore is never overwritten');
    await assert.rejects(loadKeystoreSigner(join(dir, 'hidden.json'), 'not the password'), /cannot open keystore/);
  });

  it('createSigner builds either signer from a spec and refuses a spec with unknown fields or no secret', async () => {
    const ks = await createSigner({ kind: 'keystore', keystore_file: keystore, password_env: 'TEST_KEYSTORE_PW' }, { TEST_KEYSTORE_PW: PASSWORD });
    assert.equal(await ks.address(treasuryKey(EVM_RAIL)), await local.address(treasuryKey(EVM_RAIL)));
    await ks.close?.();
    const devnet = await createSigner({ kind: 'keystore', keystore_file: keystore, password: PASSWORD }, {});
    assert.equal(await devnet.address(depositKey(TRON_RAIL, 1)), deriveDepositAddress(TRON_RAIL, 1n));
    const remote = await createSigner({ kind: 'http', url: proc.url }, { STABLERAIL_SIGNER_TOKEN: TOKEN });
    assert.equal(await remote.address(treasuryKey(TRON_RAIL)), await local.address(treasuryKey(TRON_RAIL)));
    await assert.rejects(createSigner({ kind: 'http', url: proc.url }, {}), SignerConfigError);
    await assert.rejects(createSigner({ kind: 'http', url: proc.url, token: TOKEN } as never, { STABLERAIL_SIGNER_TOKEN: TOKEN }), SignerConfigError);
    await assert.rejects(createSigner({ kind: 'keystore', keystore_file: keystore }, {}), SignerConfigError);
    await assert.rejects(createSigner({ kind: 'http', url: 'ftp://signer' }, { STABLERAIL_SIGNER_TOKEN: TOKEN }), SignerConfigError);
    assert.equal(signerSpecSchema.oneOf.every((s) => s.additionalProperties === false), true);
  });
});

