import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidValueError } from '../src/errors.js';
import { audit, auditLock, AUDIT_LOG } from '../src/metrics/audit.js';
import { TIME_ONE_CALL_IN, metricsOf } from '../src/metrics/metrics.js';
import { openState, type OpenStateOptions } from '../src/open-state.js';
import type { StateClient } from '../src/client.js';

const open: StateClient[] = [];
async function client(extra: Partial<OpenStateOptions> = {}): Promise<StateClient> {
  const state = await openState({ config: { backend: 'memory', namespace: `m-${randomUUID()}` }, env: {}, ...extra });
  open.push(state);
  return state;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe('metrics at the backend boundary', () => {
  it('counts calls, errors by code and latency per operation', async () => {
    const state = await client();
    await state.write('tasks/1', { a: 1 });
    await state.read('tasks/1');
    await expect(state.write('tasks/1', 2, { ifVersion: 7 })).rejects.toMatchObject({ code: 'CONFLICT' });
    const snap = metricsOf(state)!.snapshot();
    expect(snap.backend).toBe('memory');
    const write = snap.ops.find((o) => o.op === 'write')!;
    expect(write.calls).toBe(2);
    expect(write.errors).toBe(1);
    expect(write.errorsByCode).toEqual({ CONFLICT: 1 });
    expect(write.buckets.reduce((a, b) => a + b, 0)).toBe(2);
    expect(write.p99Ms).not.toBeNull();
    expect(snap.ops.find((o) => o.op === 'read')!.calls).toBe(1);
  });

  it('counts every call and error exactly while timing only a sample: the histogram still adds up to the calls', async () => {
    const state = await client();
    await state.write('tasks/n', 0);
    for (let i = 0; i < 1_000; i++) await state.read('tasks/n');
    for (let i = 0; i < 100; i++) await expect(state.write('tasks/n', i, { ifVersion: 99 })).rejects.toMatchObject({ code: 'CONFLICT' });
    const snap = metricsOf(state)!.snapshot();
    const read = snap.ops.find((o) => o.op === 'read')!;
    expect(read.calls).toBe(1_000);
    expect(read.errors).toBe(0);
    const timed = read.buckets.reduce((a, b) => a + b, 0);
    // Untimed calls are stood for by the sampled ones: at most one sampling interval behind.
    expect(timed).toBeLessThanOrEqual(1_000);
    expect(timed).toBeGreaterThan(1_000 - TIME_ONE_CALL_IN);
    expect(read.p50Ms).not.toBeNull();
    const write = snap.ops.find((o) => o.op === 'write')!;
    expect(write.calls).toBe(101);
    expect(write.errors).toBe(100);
    expect(write.errorsByCode).toEqual({ CONFLICT: 100 });
  });

  it('counts lock acquisitions, contended attempts and releases per prefix, and lists held leases', async () => {
    const state = await client();
    const lock = await state.lock('files/a.ts', { ttlMs: 60_000 });
    await expect(state.lock('files/a.ts', { waitMs: 0 })).rejects.toMatchObject({ code: 'LOCK_TIMEOUT' });
    let snap = metricsOf(state)!.snapshot();
    expect(snap.locks['files']).toMatchObject({ acquired: 1, released: 0 });
    expect(snap.locks['files']!.contended).toBeGreaterThanOrEqual(1);
    expect(snap.held).toHaveLength(1);
    expect(snap.held[0]).toMatchObject({ resource: 'files/a.ts', token: lock.token, owner: lock.owner });
    await lock.release();
    snap = metricsOf(state)!.snapshot();
    expect(snap.locks['files']!.released).toBe(1);
    expect(snap.held).toHaveLength(0);
  });

  it('counts queue and mailbox traffic', async () => {
    const state = await client();
    const q = state.queue('jobs');
    await q.enqueue({ n: 1 });
    await q.enqueue({ n: 2 });
    const job = await q.dequeue();
    await job!.ack();
    await state.mailbox('a').send('b', 'hi');
    await state.mailbox('b').receive();
    const snap = metricsOf(state)!.snapshot();
    // Memory has native queues when it declares them; portable queues show as key operations.
    if (snap.queues['jobs']) expect(snap.queues['jobs']).toMatchObject({ enqueued: 2, claimed: 1, acked: 1 });
    else expect(snap.ops.find((o) => o.op === 'commit' || o.op === 'write')).toBeDefined();
    expect(snap.ops.length).toBeGreaterThan(0);
  });

  it('is off with metrics: false, and a non-boolean is a typed error before any I/O', async () => {
    const state = await client({ metrics: false });
    expect(metricsOf(state)).toBeUndefined();
    await expect(openState({ config: { backend: 'memory' }, env: {}, metrics: 'yes' as unknown as boolean })).rejects.toThrow(InvalidValueError);
  });
});

describe('audit log', () => {
  it('appends who, when and before/after to state.log("audit")', async () => {
    const state = await client();
    await auditLock(state, 'force-release', 'files/a.ts', { owner: 'h:1:x:1', token: 3 }, null, undefined, 'dashboard');
    await audit(state, 'repair', 'tasks/9', { before: { damaged: true } });
    const records = [];
    for await (const r of state.log(AUDIT_LOG).read()) records.push(r.record);
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ action: 'lock.force-release', target: 'files/a.ts', before: { token: 3 }, after: null, via: 'dashboard', who: { pid: process.pid } });
    expect(records[1]).toMatchObject({ action: 'repair', target: 'tasks/9' });
    await expect(audit(state, 'repair', '')).rejects.toThrow(InvalidValueError);
  });
});
