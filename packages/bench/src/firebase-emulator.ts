/**
 * The Realtime Database the Firebase cases run on: the emulator named by
 * FIREBASE_DATABASE_EMULATOR_HOST, else the backend's own `firebase-server` emulator
 * (`@agent-state/backend-firebase/emulator`) started in this process on a free loopback port
 * (Google's emulator needs Java; see the Firebase backend's README).
 */

export interface FirebaseEmulator {
  ref: { databaseUrl: string; emulatorHost: string };
  stop(): Promise<void>;
}

const DATABASE = 'agent-state-bench';

export async function startFirebaseEmulator(env: NodeJS.ProcessEnv = process.env): Promise<FirebaseEmulator> {
  const existing = env['FIREBASE_DATABASE_EMULATOR_HOST'];
  if (existing) {
    return { ref: { emulatorHost: existing, databaseUrl: `http://${existing}?ns=${DATABASE}` }, stop: async () => undefined };
  }
  const { startEmulator } = await import('@agent-state/backend-firebase/emulator');
  const emulator = await startEmulator();
  return { ref: { emulatorHost: emulator.host, databaseUrl: emulator.databaseUrl(DATABASE) }, stop: emulator.stop };
}
