/** Configs for tests: a fresh namespace per store, on the emulator of this run. */
import { inject } from 'vitest';
import type { CommunicationConfigInput } from '@agent-state/core';
import { deleteApp, initializeApp } from 'firebase-admin/app';
import { getDatabase } from 'firebase-admin/database';
import { escapeName } from '../src/paths.js';

let count = 0;

/** `host:port` of the emulator started by the global setup. */
export function emulatorHost(): string {
  return inject('firebaseEmulatorHost');
}

/** A serialisable config for a namespace nobody else uses. */
export function freshConfig(extra: Record<string, unknown> = {}): CommunicationConfigInput {
  return {
    backend: 'firebase',
    namespace: `t-${process.pid}-${Date.now().toString(36)}-${++count}`,
    settings: { emulator_host: emulatorHost(), project_id: 'agent-state-test', ...extra },
  };
}

/** Removes a namespace node, through its own short-lived app. */
export async function removeNamespace(namespace: string | undefined): Promise<void> {
  if (namespace === undefined) return;
  const app = initializeApp({ databaseURL: `http://${emulatorHost()}?ns=agent-state-test` }, `cleanup-${process.pid}-${++count}`);
  try {
    await getDatabase(app).ref(escapeName(namespace)).remove();
  } finally {
    await deleteApp(app);
  }
}
