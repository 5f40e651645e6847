// The signer's part of the deployment config: its shape and bounds, with no signer code behind
// it, so the config module can validate it without importing the signers.

/** The longest one exchange with the external signer may be configured to take. */
export const HTTP_SIGNER_TIMEOUT_MS_MAX = 60_000;

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
