/**
 * The firebase-server emulator the tests run against: a Realtime Database server in Node,
 * started on a free loopback port. firebase-admin authenticates to emulators as `owner`, so that
 * is the admin secret.
 */
import { createRequire } from 'node:module';
import { createServer } from 'node:net';

interface FirebaseServerLike {
  close(): Promise<void>;
  setAuthSecret(secret: string): void;
}
type FirebaseServerClass = new (options: { port: number; address: string }, name: string, data: object) => FirebaseServerLike;

const require = createRequire(import.meta.url);

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

/** Starts the emulator; resolves with its `host:port` and a stop function. */
export async function startEmulator(): Promise<{ host: string; stop: () => Promise<void> }> {
  const FirebaseServer = require('firebase-server') as FirebaseServerClass;
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const server = new FirebaseServer({ port, address: '127.0.0.1' }, host, {});
  server.setAuthSecret('owner');
  return { host, stop: () => server.close() };
}
