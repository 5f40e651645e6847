// `npm run bench -- <name>`: benchmarks that report a figure beside a ceiling measured in the
// same run on the same servers, so the ratio means something on any machine.
const name = process.argv[2];
const benches: Record<string, () => Promise<unknown>> = {
  payments: () => import('./bench/payments.js').then((m) => m.run()),
};
if (!name || !benches[name]) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}>`);
  process.exit(2);
}
await benches[name]!();
process.exit(0);
