/**
 * Format upgrade, part two: first-wave stores kept coordination as plain entries (`@q/<queue>/…`,
 * `@ch/<channel>/…`, `@mail/<agent>/…`, see core's coordination/layout.ts). With native families
 * core no longer reads them, so they are moved into the native layout: each job in one atomic
 * step (`moveJob-10.lua`), each channel or mailbox with its counter in one atomic step
 * (`moveLog-n.lua`, records keep their seq so mailbox message ids stay valid), each queue's
 * counter (`moveQueueSeq-3.lua`). A step checks the entry's version first, so two clients
 * upgrading at once never move anything twice; a crash leaves each item in exactly one place.
 */
import type { Entry, JsonValue } from '@agent-state/core';
import { firstWaveJob } from '@agent-state/core/backend';
import { replyArray, type ScriptContext } from './context.js';
import { listPage } from './list.js';

/** Listing page size while collecting a family's entries. */
const PAGE = 500;
/** Rounds of re-listing a log whose entries keep changing before giving up on it. */
const LOG_ROUNDS = 5;

async function* entries(ctx: ScriptContext, prefix: string): AsyncGenerator<Entry> {
  let after: string | undefined;
  for (;;) {
    const page = await listPage(ctx, { prefix, limit: PAGE, ...(after !== undefined && { after }) });
    yield* page;
    if (page.length < PAGE) return;
    after = page[page.length - 1]!.key;
  }
}

/** Moves every first-wave queue, channel and mailbox; says how many of each it touched. */
export async function movePortableCoordination(ctx: ScriptContext): Promise<{ queues: number; logs: number }> {
  const queues = new Set<string>();
  for await (const entry of entries(ctx, '@q/')) {
    const [, queue, kind] = entry.key.split('/') as [string, string, string];
    const location = ctx.keys.entry(entry.key);
    const q = ctx.keys.queue(queue);
    const queueKeys = [q.ready, q.delayed, q.inflight, q.jobs, q.dead, q.all, q.seq, ctx.keys.queueNames];
    if (kind === 'seq') {
      await ctx.script('moveQueueSeq', location, [location, ctx.keys.index, q.seq, entry.key, entry.version, Number(entry.value)]);
    } else if (kind === 'j' || kind === 'dead') {
      const job = firstWaveJob(entry.value);
      if (!job) continue;
      const leaseId = job.lease && /^[0-9a-z]+$/.test(job.lease.id) ? job.lease.id : '';
      await ctx.script('moveJob', location, [
        location,
        ctx.keys.index,
        ...queueKeys,
        entry.key,
        entry.version,
        queue,
        String(job.sequence).padStart(15, '0'),
        job.sequence,
        kind === 'dead' ? '1' : '0',
        job.attempts,
        job.priority,
        job.enqueuedAt,
        job.lease ? job.lease.until : job.visibleAt,
        leaseId,
        JSON.stringify(job.payload),
      ]);
    } else continue;
    queues.add(queue);
  }
  let logs = 0;
  for (const [root, logPrefix, timeField] of [['@ch/', 'ch/', 'publishedAt'], ['@mail/', 'mail/', 'sentAt']] as const) {
    const names = new Set<string>();
    for await (const entry of entries(ctx, root)) names.add(entry.key.split('/')[1]!);
    for (const name of names) {
      for (let round = 0; round < LOG_ROUNDS; round++) {
        const records: Entry[] = [];
        let seq: Entry | undefined;
        for await (const entry of entries(ctx, `${root}${name}/`)) {
          const rest = entry.key.slice(root.length + name.length + 1);
          if (rest === 'seq') seq = entry;
          else if (rest.startsWith('m/')) records.push(entry);
        }
        if (records.length === 0 && !seq) break;
        const log = `${logPrefix}${name}`;
        const stream = ctx.keys.log(log);
        const moved = [...records, ...(seq ? [seq] : [])];
        const args: (string | number)[] = [3 + moved.length, ctx.keys.index, stream, ctx.keys.logNames, ...moved.map((e) => ctx.keys.entry(e.key))];
        args.push(log, records.length, seq ? Number(seq.value) : '');
        for (const r of records) {
          const value = r.value as Record<string, JsonValue>;
          const at = typeof value[timeField] === 'number' ? (value[timeField] as number) : r.updatedAt;
          args.push(r.key, r.version, Number(r.key.slice(r.key.lastIndexOf('/') + 1)), at, JSON.stringify(r.value));
        }
        if (seq) args.push(seq.key, seq.version, '', '', '');
        const [code] = replyArray(await ctx.script('moveLog', stream, args)) as [number];
        if (code === 1) {
          logs++;
          break;
        }
      }
    }
  }
  return { queues: queues.size, logs };
}
