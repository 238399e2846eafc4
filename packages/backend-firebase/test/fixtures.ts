/** Configs for tests: a fresh namespace per store, on the emulator of this run. */
import { inject } from 'vitest';
import type { CommunicationConfigInput } from '@agent-state/core';
import { deleteApp, initializeApp } from 'firebase-admin/app';
import { getDatabase } from 'firebase-admin/database';
import { namespaceNodes } from '../src/layout.js';

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

/** Removes every node of a namespace (its own and its native families'), through a short-lived app. */
export async function removeNamespace(namespace: string | undefined): Promise<void> {
  if (namespace === undefined) return;
  const app = initializeApp({ databaseURL: `http://${emulatorHost()}?ns=agent-state-test` }, `cleanup-${process.pid}-${++count}`);
  try {
    await getDatabase(app).ref().update(Object.fromEntries(namespaceNodes(namespace).map((node) => [node, null])));
  } finally {
    await deleteApp(app);
  }
}

/**
 * Counts every stored item of a namespace: entries (tombstones included) and lock nodes, each
 * queue's jobs and index entries, each log's records (flushed and buffered). Not counted: the
 * per-namespace meta node and the per-queue / per-log counters and name records, which stay
 * (a log's last seq survives trims, a queue's sequence never restarts).
 */
export async function storageCount(namespace: string | undefined): Promise<number> {
  if (namespace === undefined) return 0;
  const app = initializeApp({ databaseURL: `http://${emulatorHost()}?ns=agent-state-test` }, `count-${process.pid}-${++count}`);
  try {
    const db = getDatabase(app);
    const [root, queues, logs] = namespaceNodes(namespace);
    const value = async (path: string): Promise<Record<string, Record<string, unknown>>> =>
      ((await db.ref(path).once('value')).val() ?? {}) as Record<string, Record<string, unknown>>;
    const size = (node: unknown): number => (node && typeof node === 'object' ? Object.keys(node).length : 0);
    const ns = await value(root!);
    // Entries (k/), lock nodes (l/) and intent records of commits that have not finished (t/).
    let total = size(ns.k) + size(ns.l) + size(ns.t);
    for (const queue of Object.values(await value(queues!))) total += size(queue.j) + size(queue.r) + size(queue.d) + size(queue.f);
    for (const log of Object.values(await value(logs!))) total += size(log.r) + size((log.n as { b?: unknown } | undefined)?.b);
    return total;
  } finally {
    await deleteApp(app);
  }
}
