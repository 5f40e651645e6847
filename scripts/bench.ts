// `npm run bench -- <name> [options]`: runs one benchmark from scripts/bench/. Benchmarks are
// measurements, not tests: they print each figure beside a ceiling measured in the same run on
// the same servers, so the ratio means something on any machine, and never gate a build.
const BENCHES: Record<string, () => Promise<(argv: string[]) => Promise<void>>> = {
  payments: () => import('./bench/payments.js').then((m) => m.main),
  ledger: () => import('./bench/ledger.js').then((m) => m.main),
  recon: () => import('./bench/recon.js').then((m) => m.main),
  webhooks: () => import('./bench/webhooks.js').then((m) => m.main),
  ingest: () => import('./bench/ingest.js').then((m) => m.run),
  evidence: () => import('./bench/evidence.js').then((m) => m.main),
};

const [name, ...rest] = process.argv.slice(2);
const load = name ? BENCHES[name] : undefined;
if (!load) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> [options]\n`);
  process.exit(2);
}
await (await load())(rest);
process.exit(0);
