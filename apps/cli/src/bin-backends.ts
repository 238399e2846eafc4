/**
 * The first-party backends whose code this program carries for the `get` fast path (get-bin.ts
 * runs a `get` on one of them itself; any other goes to the full program). Unbundled, that is
 * every first-party backend. In dist/bin.js, scripts/bundle.mjs replaces this list with the
 * backends it could put in the one file: those whose package imports no driver at load time (a
 * driver there would be a static import of the file, loaded on every call, a `get` on files too).
 */
export const BIN_BACKENDS: readonly string[] = ['file', 'sqlite', 'redis', 'postgres', 'firebase'];
