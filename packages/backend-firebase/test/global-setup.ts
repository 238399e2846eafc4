import type { TestProject } from 'vitest/node';
import { startEmulator } from './emulator.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `host:port` of the firebase-server emulator started for this run. */
    firebaseEmulatorHost: string;
  }
}

/** Starts one emulator for the whole run and stops it at the end. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const emulator = await startEmulator();
  project.provide('firebaseEmulatorHost', emulator.host);
  return emulator.stop;
}
