/**
 * Format upgrade, part two: first-wave stores kept coordination as plain entries (`@q/<queue>/…`,
 * `@ch/<channel>/…`, `@mail/<agent>/…`, see core's coordination/layout.ts). Core now uses this
 * backend's native families and no longer reads them, so the upgrade moves them: each job, and
 * each channel or mailbox with its records and counter, in ONE multi-location `update()` that
 * writes the native nodes and replaces the moved entries by tombstones (all or nothing, so a
 * crash leaves every item in exactly one place). Everything written is derived from the entry
 * alone, so two clients upgrading at once write the same nodes.
 */
import type { JsonValue } from '@agent-state/core';
import { firstWaveJob, firstWaveJobState } from '@agent-state/core/backend';
import type { DataSnapshot } from 'firebase-admin/database';
import type { Connection } from './connection.js';
import { tombOf } from './codec.js';
import { LEGACY_ENTRIES, childName, keyOfChild, pad, type NativePaths } from './layout.js';

interface Stored {
  key: string;
  name: string;
  value: JsonValue;
  v: number;
  u: number;
}

/** Moves every first-wave queue, channel and mailbox (from `entries`, the old entries node); returns how many items moved. */
export async function movePortableCoordination(connection: Connection, root: string, native: NativePaths, entries: DataSnapshot): Promise<number> {
  const now = connection.now();
  const found: Stored[] = [];
  entries.forEach((child) => {
    const key = child.key === null ? undefined : keyOfChild(child.key);
    const node = child.val() as { j?: unknown; v?: unknown; u?: unknown; x?: unknown } | null;
    if (key === undefined || !/^@(q|ch|mail)\//.test(key) || !node || typeof node.j !== 'string' || typeof node.v !== 'number') return;
    if (typeof node.x === 'number' && node.x <= now) return;
    try {
      found.push({ key, name: child.key!, value: JSON.parse(node.j) as JsonValue, v: node.v, u: typeof node.u === 'number' ? node.u : now });
    } catch {
      // Damaged entries stay where they are: reads report them, repair removes them.
    }
  });
  const gone = (e: Stored) => [`${root}/${LEGACY_ENTRIES}/${e.name}`, tombOf(e.v, now)] as const;
  let moved = 0;
  // Queues: the counter and each job, one update each.
  for (const e of found.filter((x) => x.key.startsWith('@q/'))) {
    const [, queue, kind] = e.key.split('/') as [string, string, string];
    const base = `${native.queues}/${childName(queue)}`;
    const update: Record<string, unknown> = Object.fromEntries([gone(e), [`${native.names}/q/${childName(queue)}`, true]]);
    if (kind === 'seq') update[`${base}/n`] = Number(e.value);
    else if (kind === 'j' || kind === 'dead') {
      const job = firstWaveJob(e.value);
      if (!job) continue;
      const id = `j${job.sequence}`;
      const node: Record<string, unknown> = { j: JSON.stringify(job.payload), p: job.priority, s: job.sequence, a: job.attempts, at: job.enqueuedAt, e: 1, t: e.u };
      const { state, dueAt } = firstWaveJobState(job, kind === 'dead', now);
      if (state === 'dead') node.st = 'x';
      else if (state === 'in-flight') Object.assign(node, { st: 'f', vis: dueAt, lid: job.lease!.id });
      else if (state === 'delayed') Object.assign(node, { st: 'd', vis: dueAt });
      else node.st = 'w';
      update[`${base}/j/${id}`] = node;
      if (node.st === 'w') update[`${base}/r/${pad(1_000_000 - job.priority, 7)}-${pad(job.sequence, 15)}`] = 1;
      else if (node.st !== 'x') update[`${base}/${node.st as string}/${pad(node.vis as number, 15)}-${id}`] = 1;
    } else continue;
    await connection.bounded(connection.ref('/').update(update), 'upgrade');
    moved++;
  }
  // Channels and mailboxes: each log with its records and counter in one update.
  for (const [prefix, logPrefix, timeField] of [['@ch/', 'ch/', 'publishedAt'], ['@mail/', 'mail/', 'sentAt']] as const) {
    const byName = new Map<string, Stored[]>();
    for (const e of found.filter((x) => x.key.startsWith(prefix))) {
      const name = e.key.split('/')[1]!;
      byName.set(name, [...(byName.get(name) ?? []), e]);
    }
    for (const [name, items] of byName) {
      const log = `${logPrefix}${name}`;
      const base = `${native.logs}/${childName(log)}`;
      const update: Record<string, unknown> = { [`${native.names}/g/${childName(log)}`]: true };
      let last = 0;
      for (const e of items) {
        const rest = e.key.slice(prefix.length + name.length + 1);
        if (rest === 'seq') last = Math.max(last, Number(e.value));
        else if (rest.startsWith('m/')) {
          const seq = Number(rest.slice(2));
          const value = e.value as Record<string, JsonValue>;
          const at = typeof value[timeField] === 'number' ? (value[timeField] as number) : e.u;
          update[`${base}/r/s${pad(seq, 15)}`] = { j: JSON.stringify(e.value), at };
          last = Math.max(last, seq);
        } else continue;
        const [path, tomb] = gone(e);
        update[path] = tomb;
      }
      update[`${base}/n`] = { s: last, lo: 0 };
      await connection.bounded(connection.ref('/').update(update), 'upgrade');
      moved += items.length;
    }
  }
  return moved;
}
