/**
 * `@agent-state/backend-firebase/emulator`: starts a `firebase-server` Realtime Database (an
 * in-memory emulator in Node, no Java) on a free loopback port, for tests and benchmarks of this
 * backend and of tools built on it. `firebase-server` must be installed beside this package (it
 * is a development dependency, not a runtime one). firebase-admin authenticates to emulators as
 * `owner`, so that is the admin secret.
 */
import { createRequire } from 'node:module';
import { createServer } from 'node:net';

interface FirebaseServerLike {
  close(): Promise<void>;
  setAuthSecret(secret: string): void;
}
type FirebaseServerClass = new (options: { port: number; address: string }, name: string, data: object) => FirebaseServerLike;

/** A running emulator: `host:port` for `emulator_host`, a database URL per namespace, and stop. */
export interface RunningEmulator {
  host: string;
  /** The `database_url` of database `ns` on this emulator. */
  databaseUrl(ns: string): string;
  stop(): Promise<void>;
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts the emulator on a free loopback port. */
export async function startEmulator(): Promise<RunningEmulator> {
  const FirebaseServer = createRequire(import.meta.url)('firebase-server') as FirebaseServerClass;
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const server = new FirebaseServer({ port, address: '127.0.0.1' }, host, {});
  server.setAuthSecret('owner');
  return { host, databaseUrl: (ns) => `http://${host}?ns=${ns}`, stop: () => server.close() };
}
