// Webhook secrets at rest: AES-256-GCM under the master key, bound to their endpoint (the
// endpoint id is the additional data, so a ciphertext moved to another row does not open).
// The master key comes from STABLERAIL_MASTER_KEY, or for `npm start` a file generated once
// in the data directory. A database dump alone never reveals a signing secret.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const MASTER_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 'v1';

export class MasterKeyError extends Error {
  override name = 'MasterKeyError';
}

/** 64 hex characters or the base64 of 32 bytes. */
export function parseMasterKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== MASTER_KEY_BYTES) throw new MasterKeyError('STABLERAIL_MASTER_KEY must be 32 bytes, as 64 hex characters or base64');
  return key;
}

export function loadOrCreateMasterKey(file: string, fromEnv = process.env.STABLERAIL_MASTER_KEY): Buffer {
  if (fromEnv) return parseMasterKey(fromEnv);
  if (existsSync(file)) return parseMasterKey(readFileSync(file, 'utf8'));
  const key = randomBytes(MASTER_KEY_BYTES);
  writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  return key;
}

export function sealSecret(masterKey: Buffer, plaintext: string, boundTo: string): string {
  const iv = randomBytes(IV_BYTES);
  const c = createCipheriv('aes-256-gcm', masterKey, iv);
  c.setAAD(Buffer.from(boundTo, 'utf8'));
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return `${FORMAT}:${Buffer.concat([iv, ct, c.getAuthTag()]).toString('base64')}`;
}

export function openSecret(masterKey: Buffer, sealed: string, boundTo: string): string {
  const [format, b64] = sealed.split(':', 2);
  if (format !== FORMAT || !b64) throw new MasterKeyError(`unknown sealed secret format ${format}`);
  const raw = Buffer.from(b64, 'base64');
  const iv = raw.subarray(0, IV_BYTES);
  const tag = raw.subarray(raw.length - TAG_BYTES);
  const d = createDecipheriv('aes-256-gcm', masterKey, iv);
  d.setAAD(Buffer.from(boundTo, 'utf8'));
  d.setAuthTag(tag);
  return Buffer.concat([d.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), d.final()]).toString('utf8');
}
