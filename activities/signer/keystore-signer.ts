// The keystore signer: keys derived from a BIP-39 seed kept in an encrypted JSON keystore file
// (the format ethers and most wallets write). Sandbox signs in-process with it on the devnet's
// seed; in live it runs only inside the external signer process (scripts/signer.ts), never in
// the service, whose database and workers hold no key.
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { HDNodeWallet, Mnemonic, SigningKey, Wallet, encryptKeystoreJson, getAddress, type KeystoreAccount } from 'ethers';
import { TronWeb } from 'tronweb';
import { deriveKey, parseKeyRef, rootFromMnemonic, type DerivedKey } from './keys.js';
import { SignerRefusedError, SignerUnavailableError, type KeyRef, type SignedTx, type Signer, type UnsignedTx } from './signer.js';
import { checkKindMatches, evmTransaction, parseEvmUnsignedTx, parseTronUnsignedTx, signTronTxId, tronSignedRaw } from './transactions.js';
import { tronFromHex20 } from '../chain/tron-address.js';

/** ethers' (and geth's) default scrypt cost, 2^17: about a second and 128 MiB per decryption. */
export const KEYSTORE_SCRYPT_N_DEFAULT = 2 ** 17;
/**
 * The devnet's scrypt cost. Its keystore guards throwaway devnet keys whose password sits in the
 * sandbox config anyway, and `npm start` and every test decrypt it on startup: at the default
 * cost that is a second of CPU and 128 MiB each time for no protection. Never use it for live.
 */
export const KEYSTORE_SCRYPT_N_DEVNET = 2 ** 12;
/** Below this scrypt is no longer a key-stretching function worth the name, devnet or not. */
export const KEYSTORE_SCRYPT_N_MIN = 2 ** 10;
/** A keystore is about 1 KiB; anything much larger is not one. */
const KEYSTORE_FILE_BYTES_MAX = 64 * 1024;
/** Derived keys kept for reuse; a sweep over many deposit indexes must not grow memory unbounded. */
const DERIVED_KEYS_CACHED_MAX = 4096;

export interface KeystoreSignerOptions {
  /**
   * The allow-to policy: when set, EVM `to` and the TRON contract_address (to_address for a TRX
   * transfer) must be one of these addresses (EVM 0x…, TRON T…), else `policy_refused`.
   */
  allowTo?: string[];
}

/** The allow-to list, each entry in its rail's canonical form; throws on one that is neither. */
export function parseAllowTo(entries: string[]): Set<string> {
  const allowed = new Set<string>();
  for (const raw of entries) {
    const entry = raw.trim();
    if (/^0x[0-9a-fA-F]{40}$/.test(entry)) allowed.add(getAddress(entry));
    else if (/^T[1-9A-HJ-NP-Za-km-z]{33}$/.test(entry) && TronWeb.isAddress(entry)) {
      // Re-encode, so the comparison is on the canonical base58check form.
      allowed.add(tronFromHex20(TronWeb.address.toHex(entry).slice(2)));
    } else throw new Error(`allow-to: ${JSON.stringify(entry).slice(0, 60)} is neither an EVM 0x address nor a TRON base58 address`);
  }
  return allowed;
}

export class KeystoreSigner implements Signer {
  private root: HDNodeWallet | null;
  private readonly derived = new Map<string, DerivedKey>();
  private readonly allowTo: Set<string> | null;

  /** From the seed's root node (depth 0); see rootFromMnemonic. */
  constructor(root: HDNodeWallet, opts: KeystoreSignerOptions = {}) {
    if (root.depth !== 0) throw new Error('KeystoreSigner needs the root node of the seed');
    this.root = root;
    this.allowTo = opts.allowTo ? parseAllowTo(opts.allowTo) : null;
  }

  static fromMnemonic(mnemonic: string, opts: KeystoreSignerOptions = {}): KeystoreSigner {
    return new KeystoreSigner(rootFromMnemonic(mnemonic), opts);
  }

  private key(ref: KeyRef): DerivedKey {
    if (!this.root) throw new SignerUnavailableError('the keystore signer is closed');
    const id = `${ref.kind}/${ref.role}/${ref.index ?? ''}`;
    let k = this.derived.get(id);
    if (!k) {
      k = deriveKey(this.root, ref);
      if (this.derived.size >= DERIVED_KEYS_CACHED_MAX) this.derived.clear();
      this.derived.set(id, k);
    }
    return k;
  }

  private checkPolicy(to: string): void {
    if (this.allowTo && !this.allowTo.has(to)) throw new SignerRefusedError('policy_refused', `destination ${to} is not on the signer's allow-to list`);
  }

  async address(key: KeyRef): Promise<string> {
    return this.key(parseKeyRef(key)).address;
  }

  async sign(key: KeyRef, tx: UnsignedTx): Promise<SignedTx> {
    const ref = parseKeyRef(key);
    checkKindMatches(ref.kind, tx);
    if (tx.kind === 'evm') {
      const asked = parseEvmUnsignedTx(tx);
      this.checkPolicy(getAddress(asked.to));
      const k = this.key(ref);
      const t = evmTransaction(asked);
      t.signature = new SigningKey(k.privateKey).sign(t.unsignedHash);
      return { kind: 'evm', from: t.from!, txHash: t.hash!.toLowerCase(), raw: t.serialized };
    }
    const { tx: asked, contract } = parseTronUnsignedTx(tx);
    const k = this.key(ref);
    if (contract.owner !== k.address) {
      throw new SignerRefusedError('wrong_key', `the transaction's owner_address ${contract.owner} is not the address of the key named (${k.address})`);
    }
    this.checkPolicy(contract.to);
    const signature = signTronTxId(k.privateKey, asked.txID);
    return { kind: 'tron', from: k.address, txHash: '0x' + asked.txID.toLowerCase(), raw: tronSignedRaw(asked, signature) };
  }

  async close(): Promise<void> {
    // JavaScript cannot wipe memory; dropping the references is what is in our hands.
    this.derived.clear();
    this.root = null;
  }
}

/**
 * Write a new encrypted keystore holding the mnemonic (mode 0600). Refuses to replace an existing
 * file: overwriting a keystore loses every key in it. `scryptN` lowers the cost for a devnet only
 * (KEYSTORE_SCRYPT_N_DEVNET); omitted, ethers' default applies.
 */
export async function writeKeystore(file: string, mnemonic: string, password: string, opts: { scryptN?: number } = {}): Promise<void> {
  if (password.length === 0) throw new Error('a keystore needs a non-empty password');
  const scryptN = opts.scryptN ?? KEYSTORE_SCRYPT_N_DEFAULT;
  if (!Number.isInteger(Math.log2(scryptN)) || scryptN < KEYSTORE_SCRYPT_N_MIN || scryptN > 2 ** 20) {
    throw new Error(`scrypt N must be a power of two in ${KEYSTORE_SCRYPT_N_MIN}..${2 ** 20}`);
  }
  const m = Mnemonic.fromPhrase(mnemonic.trim().replace(/\s+/g, ' '));
  // The keystore's own address is the one ethers gives the phrase (m/44'/60'/0'/0/0); the
  // signer only uses the mnemonic inside it and derives every key from the root.
  const first = HDNodeWallet.fromMnemonic(m);
  const account: KeystoreAccount = { address: first.address, privateKey: first.privateKey, mnemonic: { entropy: m.entropy, path: first.path!, locale: 'en' } };
  const json = await encryptKeystoreJson(account, password, { scrypt: { N: scryptN } });
  writeFileSync(file, json, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600); // the mode above is subject to the umask; this is not
}

/** Decrypt a keystore file and sign with the seed inside it. Throws on a wrong password or no mnemonic. */
export async function loadKeystoreSigner(file: string, password: string, opts: KeystoreSignerOptions = {}): Promise<KeystoreSigner> {
  const size = statSync(file).size;
  if (size > KEYSTORE_FILE_BYTES_MAX) throw new Error(`${file} is ${size} bytes: not a keystore`);
  const json = readFileSync(file, 'utf8');
  let wallet: HDNodeWallet | Wallet;
  try {
    wallet = await Wallet.fromEncryptedJson(json, password);
  } catch (e) {
    throw new Error(`cannot open keystore ${file}: ${(e as Error).message.split(' (')[0]}`);
  }
  if (!(wallet instanceof HDNodeWallet) || !wallet.mnemonic) {
    throw new Error(`keystore ${file} holds a single key, not a mnemonic: the signer derives every key from a seed`);
  }
  return new KeystoreSigner(rootFromMnemonic(wallet.mnemonic), opts);
}
