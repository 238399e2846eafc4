/**
 * The Realtime Database the Firebase cases run on: the emulator named by
 * FIREBASE_DATABASE_EMULATOR_HOST, else a `firebase-server` started in this process on a free
 * loopback port (Google's emulator needs Java; see the Firebase backend's README).
 */
import { createServer } from 'node:net';

export interface FirebaseEmulator {
  ref: { databaseUrl: string; emulatorHost: string };
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export async function startFirebaseEmulator(env: NodeJS.ProcessEnv = process.env): Promise<FirebaseEmulator> {
  const existing = env['FIREBASE_DATABASE_EMULATOR_HOST'];
  if (existing) {
    return { ref: { emulatorHost: existing, databaseUrl: `http://${existing}?ns=agent-state-bench` }, stop: async () => undefined };
  }
  const port = await freePort();
  const { default: FirebaseServer } = (await import('firebase-server' as string)) as {
    default: new (options: object, name: string, data: object) => { setAuthSecret(s: string): void; close(cb: () => void): void };
  };
  const server = new FirebaseServer({ port, address: '127.0.0.1' }, `127.0.0.1:${port}`, {});
  server.setAuthSecret('owner');
  const host = `127.0.0.1:${port}`;
  return {
    ref: { emulatorHost: host, databaseUrl: `http://${host}?ns=agent-state-bench` },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
