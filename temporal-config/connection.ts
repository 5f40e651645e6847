// How every Stablerail process reaches Temporal: the settings the Temporal CLI and SDKs share
// (@temporalio/envconfig), so one set of variables or one temporal.toml profile points the API,
// the workers and the scripts at a dev server, a self-hosted cluster with mTLS, or Temporal
// Cloud with an API key:
//   TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
//   TEMPORAL_TLS_CLIENT_CERT_PATH / _KEY_PATH (or _DATA), TEMPORAL_TLS_SERVER_CA_CERT_PATH,
//   TEMPORAL_TLS_SERVER_NAME, TEMPORAL_TLS=true|false, TEMPORAL_GRPC_META_<NAME>,
//   TEMPORAL_PROFILE and TEMPORAL_CONFIG_FILE (default ~/.config/temporalio/temporal.toml).
// The environment overrides the profile, as in the CLI.
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadClientConnectConfig, type LoadClientProfileOptions } from '@temporalio/envconfig';

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

export interface TemporalConnectionSettings {
  address: string;
  /** The namespace the profile or TEMPORAL_NAMESPACE names, if any (else the config file's). */
  namespace: string | undefined;
  /** Address, TLS (client certificate, server CA and name), API key and gRPC metadata. */
  options: ConnectionOptions & { address: string; apiKey?: string };
}

/**
 * Read the connection settings. `fallbackAddress` is used when neither the environment nor the
 * profile names an address (`npm start`'s dev.json, or a test's own server).
 */
export function temporalConnectionSettings(opts: { fallbackAddress?: string } & LoadClientProfileOptions = {}): TemporalConnectionSettings {
  const { fallbackAddress, ...load } = opts;
  const { connectionOptions, namespace } = loadClientConnectConfig(load);
  const address = connectionOptions.address ?? fallbackAddress ?? DEFAULT_TEMPORAL_ADDRESS;
  const options: TemporalConnectionSettings['options'] = { address };
  if (connectionOptions.tls !== undefined) options.tls = connectionOptions.tls;
  if (connectionOptions.apiKey !== undefined) options.apiKey = connectionOptions.apiKey as string;
  if (connectionOptions.metadata !== undefined) options.metadata = connectionOptions.metadata;
  return { address, namespace: namespace || undefined, options };
}

/** A client connection (API processes, schedules, watchers' starts). */
export function connectTemporalClient(s: TemporalConnectionSettings): Promise<Connection> {
  return Connection.connect(s.options);
}

/** A worker connection (the SDK's Rust core) with the same settings. */
export function connectTemporalWorker(s: TemporalConnectionSettings): Promise<NativeConnection> {
  return NativeConnection.connect(s.options);
}
