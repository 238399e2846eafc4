import { join } from 'node:path';
import { openState, type CommunicationConfigInput, type StateClient } from '@agent-state/core';
import type { StoreRef, Subject, SubjectSpec } from './types.js';

/** The `communication` config that opens our client on `store`. */
export function oursConfig(store: StoreRef): CommunicationConfigInput {
  const namespace = store.namespace;
  switch (store.backend) {
    case 'file':
      return { backend: 'file', namespace, settings: { directory: join(store.root, 'ours') } };
    case 'sqlite':
      return { backend: 'sqlite', namespace, settings: { database_path: join(store.root, 'ours.db') } };
    case 'redis':
      return { backend: 'redis', namespace, settings: { redis_url: store.redisUrl ?? 'redis://127.0.0.1:6379' } };
    case 'firebase':
      return {
        backend: 'firebase',
        namespace,
        settings: { database_url: store.firebase?.databaseUrl ?? '', emulator_host: store.firebase?.emulatorHost ?? '' },
      };
    case 'memory':
      return { backend: 'memory', namespace };
  }
}

/** Opens our client on `store`. `env: {}` so COMMUNICATION_BACKEND cannot redirect the bench. */
export function openOurs(store: StoreRef): Promise<StateClient> {
  return openState({ config: oursConfig(store), env: {} });
}

/** agent-state itself, through `openState()` and the public API only. */
export const ours: SubjectSpec = {
  id: 'ours',
  kind: 'ours',
  label: 'agent-state (openState + public API)',
  capabilities: ['read', 'write', 'rmw', 'lockCycle', 'state'],
  async open(store: StoreRef): Promise<Subject> {
    const state = await openOurs(store);
    return {
      state,
      async read(key) {
        return (await state.read(key))?.value;
      },
      async write(key, value) {
        await state.write(key, value as never);
      },
      async rmw(key, fn) {
        await state.update(key, (current) => fn(current?.value) as never);
      },
      async lockCycle(resource, options) {
        const lock = await state.lock(resource, { ttlMs: 10_000, waitMs: options.wait ? 60_000 : 0 });
        await lock.release();
      },
      close: () => state.close(),
    };
  },
};
