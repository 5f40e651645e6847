// Which Temporal server a benchmark measures: the embedded dev server (default), one named by
// TEMPORAL_ADDRESS (and its envconfig settings), or, with `--temporal-server`, the real server
// of scripts/temporal-server.ts on its own embedded PostgreSQL, started and stopped here.
import { join } from 'node:path';
import { startEmbeddedPostgres, PG_PASSWORD, PG_USER } from '../embedded/postgres.js';
import { freePort } from '../embedded/temporal.js';
import { startTemporalServer, TEMPORAL_SERVER_VERSION } from '../temporal-server.js';

export interface TemporalTarget {
  /** For the report's machine line. */
  label: string;
  stop(): Promise<void>;
}

export async function temporalTarget(argv: string[], root: string): Promise<TemporalTarget> {
  if (argv.includes('--temporal-server')) {
    const pgPort = await freePort();
    const pg = await startEmbeddedPostgres({ dataDir: join(root, 'temporal-pg'), port: pgPort, log: (s) => process.stderr.write(`${s}\n`) });
    const server = await startTemporalServer({
      dataDir: join(root, 'temporal'),
      postgres: { host: '127.0.0.1', port: pgPort, user: PG_USER, password: PG_PASSWORD },
      log: (s) => process.stderr.write(`${s}\n`),
    });
    // startStack then connects to it instead of starting the dev server.
    process.env.TEMPORAL_ADDRESS = server.address;
    return {
      label: `Temporal server ${TEMPORAL_SERVER_VERSION} (scripts/temporal-server.ts: all services in one process, 4 history shards) on its own embedded PostgreSQL (fsync on)`,
      async stop() {
        delete process.env.TEMPORAL_ADDRESS;
        await server.stop();
        await pg.stop();
      },
    };
  }
  if (process.env.TEMPORAL_ADDRESS) return { label: `the Temporal server at ${process.env.TEMPORAL_ADDRESS}`, stop: async () => undefined };
  return { label: 'Temporal dev server (SQLite file)', stop: async () => undefined };
}
