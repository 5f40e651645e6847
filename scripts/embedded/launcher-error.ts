/** A start-up problem the operator fixes by hand: the launcher prints the message alone and exits 1. */
export class LauncherError extends Error {
  override name = 'LauncherError';
}
