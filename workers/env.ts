// Standalone worker processes read their settings from the environment; a missing one stops them at start.
export function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
}
