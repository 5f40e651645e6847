// Which signer a deployment uses, from its config: the keystore signer (sandbox, the devnet's
// seed) or the external HTTP signer (live). Secrets come from the environment, not the config
// file, except the devnet's keystore password, which guards nothing of value.
import { Ajv } from 'ajv';
import { HttpSigner, HTTP_SIGNER_TIMEOUT_MS_MAX } from './http-signer.js';
import { loadKeystoreSigner } from './keystore-signer.js';
import type { Signer } from './signer.js';

export * from './signer.js';
export { HttpSigner } from './http-signer.js';
export { KeystoreSigner, loadKeystoreSigner, writeKeystore } from './keystore-signer.js';

export const SIGNER_PASSWORD_ENV_DEFAULT = 'STABLERAIL_SIGNER_PASSWORD';
export const SIGNER_TOKEN_ENV_DEFAULT = 'STABLERAIL_SIGNER_TOKEN';

export type SignerSpec =
  | {
      kind: 'keystore';
      keystore_file: string;
      /** The variable holding the keystore password; STABLERAIL_SIGNER_PASSWORD by default. */
      password_env?: string;
      /** The password itself: for the devnet's keystore only, never a keystore with real funds. */
      password?: string;
    }
  | {
      kind: 'http';
      /** The external signer's base URL (https, or http on loopback). */
      url: string;
      /** The variable holding the bearer token; STABLERAIL_SIGNER_TOKEN by default. */
      token_env?: string;
      /** One request's bound, connect to last byte; 10 s by default. */
      timeout_ms?: number;
    };

const ENV_NAME = '^[A-Z_][A-Z0-9_]{0,63}$';

export const signerSpecSchema = {
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'keystore_file'],
      properties: {
        kind: { const: 'keystore' },
        keystore_file: { type: 'string', minLength: 1, maxLength: 4096 },
        password_env: { type: 'string', pattern: ENV_NAME },
        password: { type: 'string', minLength: 1, maxLength: 1024, description: 'Devnet keystores only: the password in the config file.' },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'url'],
      properties: {
        kind: { const: 'http' },
        url: { type: 'string', pattern: '^https?://[^\\s]+$', maxLength: 2048 },
        token_env: { type: 'string', pattern: ENV_NAME },
        timeout_ms: { type: 'integer', minimum: 100, maximum: HTTP_SIGNER_TIMEOUT_MS_MAX },
      },
    },
  ],
} as const;

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
