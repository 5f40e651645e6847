// Which signer a deployment uses, from its config: the keystore signer (sandbox, the devnet's
// seed) or the external HTTP signer (live). Secrets come from the environment, not the config
// file, except the devnet's keystore password, which guards nothing of value.
import { Ajv } from 'ajv';
import { HttpSigner } from './http-signer.js';
import { loadKeystoreSigner } from './keystore-signer.js';
import type { Signer } from './signer.js';
import { signerSpecSchema, type SignerSpec } from './spec.js';

export * from './signer.js';
export { signerSpecSchema, type SignerSpec } from './spec.js';
export { HttpSigner } from './http-signer.js';
export { KeystoreSigner, loadKeystoreSigner, writeKeystore } from './keystore-signer.js';

export const SIGNER_PASSWORD_ENV_DEFAULT = 'STABLERAIL_SIGNER_PASSWORD';
export const SIGNER_TOKEN_ENV_DEFAULT = 'STABLERAIL_SIGNER_TOKEN';

const validateSpec = new Ajv({ allErrors: true, strict: false }).compile<SignerSpec>(signerSpecSchema);

export class SignerConfigError extends Error {
  override name = 'SignerConfigError';
}

/** The signer a spec names, the spec checked again (it may come from a JSON file cast). `env`: process.env unless a test hands in its own. */
export async function createSigner(spec: SignerSpec, env: NodeJS.ProcessEnv = process.env): Promise<Signer> {
  if (!validateSpec(spec)) {
    const errors = validateSpec.errors!.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new SignerConfigError(`invalid signer config: ${errors}`);
  }
  if (spec.kind === 'keystore') {
    const name = spec.password_env ?? SIGNER_PASSWORD_ENV_DEFAULT;
    if (spec.password !== undefined && spec.password_env !== undefined) throw new SignerConfigError('signer config: give password_env or password, not both');
    const password = spec.password ?? env[name];
    if (!password) throw new SignerConfigError(`signer config: set ${name} to the keystore's password`);
    return loadKeystoreSigner(spec.keystore_file, password);
  }
  const name = spec.token_env ?? SIGNER_TOKEN_ENV_DEFAULT;
  const token = env[name];
  if (!token) throw new SignerConfigError(`signer config: set ${name} to the external signer's bearer token`);
  return new HttpSigner({ url: spec.url, token, ...(spec.timeout_ms !== undefined ? { timeout_ms: spec.timeout_ms } : {}) });
}
