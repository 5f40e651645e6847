// The namespace Stablerail runs in; TEMPORAL_NAMESPACE overrides it for a shared cluster.
export const STABLERAIL_NAMESPACE = process.env.TEMPORAL_NAMESPACE ?? 'stablerail';
/** How long closed workflow histories stay visible in the UI on the embedded dev server. */
export const RETENTION_DAYS = 30;
