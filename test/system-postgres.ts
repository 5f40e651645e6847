// A throwaway PostgreSQL cluster from the distribution's own server packages (Debian's
// `postgresql`, whose client tools pg_dump and pg_restore are the same major version), for the
// backup and restore test: the embedded PostgreSQL ships no pg_dump, and a pg_dump older than
// the server refuses to dump it. `.ci/run` installs the packages.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../scripts/embedded/temporal.js';

export const SYSTEM_PG_USER = 'postgres';
const SYSTEM_PG_PASSWORD = 'backup-test';
const PG_LIB = '/usr/lib/postgresql';
/** pg_ctl's own wait for start and stop, in seconds. */
const PG_CTL_TIMEOUT_S = 30;

export interface SystemPostgres {
  /** The server's major version (also pg_dump's and pg_restore's). */
  major: number;
  /** Where pg_dump, pg_restore, createdb live. */
  bin: string;
  port: number;
  /** A URL for `database` on this server. */
  url(database: string): string;
  stop(): void;
}

/** The newest installed server major with initdb, pg_ctl, pg_dump and pg_restore, or null. */
export function systemPostgresBin(): { major: number; bin: string } | null {
  if (!existsSync(PG_LIB)) return null;
  const majors = readdirSync(PG_LIB).filter((d) => /^[0-9]+$/.test(d)).map(Number).sort((a, b) => b - a);
  for (const major of majors) {
    const bin = join(PG_LIB, String(major), 'bin');
    if (['initdb', 'pg_ctl', 'postgres', 'pg_dump', 'pg_restore'].every((b) => existsSync(join(bin, b)))) return { major, bin };
  }
  return null;
}

/**
 * initdb + pg_ctl start in a temporary directory. PostgreSQL refuses to run as root, so as root
 * the cluster belongs to the unprivileged `postgres` user the server package created.
 */
export async function startSystemPostgres(): Promise<SystemPostgres> {
  const found = systemPostgresBin();
  if (!found) throw new Error(`no PostgreSQL server under ${PG_LIB}: install Debian's postgresql (see .ci/run)`);
  const { major, bin } = found;
  const root = mkdtempSync(join(tmpdir(), 'stablerail-pg-'));
  chmodSync(root, 0o755);
  const dataDir = join(root, 'data');
  const asRoot = process.getuid?.() === 0;
  let ids: { uid: number; gid: number } | undefined;
  if (asRoot) {
    ids = { uid: Number(execFileSync('id', ['-u', SYSTEM_PG_USER]).toString().trim()), gid: Number(execFileSync('id', ['-g', SYSTEM_PG_USER]).toString().trim()) };
    execFileSync('chown', [`${ids.uid}:${ids.gid}`, root]);
  }
  const pwFile = join(root, 'pw');
  writeFileSync(pwFile, `${SYSTEM_PG_PASSWORD}\n`, { mode: 0o644 });
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(join(bin, cmd), args, { ...(ids ?? {}), cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
  };
  run('initdb', ['-D', dataDir, '-U', SYSTEM_PG_USER, '--pwfile', pwFile, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  // fsync off: a test cluster that is thrown away; the socket goes to the cluster's own directory.
  run('pg_ctl', ['-D', dataDir, '-l', join(root, 'server.log'), '-w', '-t', String(PG_CTL_TIMEOUT_S), 'start', '-o', `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${root} -c fsync=off -c synchronous_commit=off -c max_connections=100`]);
  let stopped = false;
  return {
    major,
    bin,
    port,
    url: (database) => `postgresql://${SYSTEM_PG_USER}:${SYSTEM_PG_PASSWORD}@127.0.0.1:${port}/${database}`,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', String(PG_CTL_TIMEOUT_S), 'stop']);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}
