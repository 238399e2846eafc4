/**
 * The contract suite's damage hook for Firebase: the entry's node replaced by one that is not an
 * entry, read back raw. Paths come from the package's own `NamespacePaths`, so only the damaged
 * node's content here knows anything of the stored shape.
 */
import type { CommunicationConfigInput } from '@agent-state/core';
import type { DamageHook } from '@agent-state/contract';
import { deleteApp, initializeApp } from 'firebase-admin/app';
import { getDatabase, type Reference } from 'firebase-admin/database';
import { NamespacePaths } from '../src/layout.js';
import { emulatorHost } from './fixtures.js';

let apps = 0;

async function withEntry<T>(config: CommunicationConfigInput, key: string, fn: (ref: Reference) => Promise<T>): Promise<T> {
  const app = initializeApp({ databaseURL: `http://${emulatorHost()}?ns=agent-state-test` }, `damage-${process.pid}-${++apps}`);
  try {
    return await fn(getDatabase(app).ref(new NamespacePaths(config.namespace!).entry(key)));
  } finally {
    await deleteApp(app);
  }
}

/** A node where the entry was that no version of the entry shape matches (another tool's data). */
export const firebaseDamage: DamageHook = {
  damage: (config, key) =>
    withEntry(config, key, async (ref) => {
      if (!(await ref.once('value')).exists()) throw new Error(`no entry node at ${ref.toString()} to damage`);
      await ref.set({ written_by: 'another tool', note: 'not an agent-state entry' });
    }),
  stored: (config, key) => withEntry(config, key, async (ref) => (await ref.once('value')).val() as unknown),
};
