/** Raw firebase-admin baseline on the same Realtime Database: `set`, `once('value')`, `transaction`, every key a child of one node. */
import { randomUUID } from 'node:crypto';
import type { StoreRef, Subject, SubjectSpec } from './types.js';

export const rawFirebase: SubjectSpec = {
  id: 'raw',
  kind: 'raw',
  label: "firebase-admin: ref.set; once('value'); ref.transaction",
  capabilities: ['read', 'write', 'rmw'],
  async open(store: StoreRef): Promise<Subject> {
    const fb = store.firebase;
    if (!fb) throw new Error('no firebase database configured');
    process.env['FIREBASE_DATABASE_EMULATOR_HOST'] = fb.emulatorHost;
    const { initializeApp, deleteApp } = await import('firebase-admin/app');
    const { getDatabase } = await import('firebase-admin/database');
    const app = initializeApp({ databaseURL: fb.databaseUrl, projectId: 'agent-state-bench' }, `bench-raw-${randomUUID()}`);
    const db = getDatabase(app);
    // Every key a child of one node, as our backend stores them (`k/<name>`): on firebase-server a
    // write's cost grows with the siblings of the written node (its rules simulator copies them),
    // so a raw layout nesting `scale/w/*` apart from `scale/fill/*` would compare a write beside 8
    // keys with ours beside all of them.
    const ref = (key: string) => db.ref(`${store.namespace}-raw/${key.replaceAll('.', '_').replaceAll('/', ':')}`);
    return {
      read: async (key) => (await ref(key).once('value')).val() ?? undefined,
      write: (key, value) => ref(key).set(value),
      rmw: async (key, fn) => {
        await ref(key).transaction((current: unknown) => fn(current ?? undefined) as object);
      },
      close: () => deleteApp(app),
    };
  },
};
