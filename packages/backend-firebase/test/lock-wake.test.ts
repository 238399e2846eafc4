/** Lock release wakeups (`lockWake`, issue 13) across processes, through the backend surface. */
import { afterEach, describe, expect, it } from 'vitest';
import { NativeStore, eventually } from './native.js';

const stores: NativeStore[] = [];
function store(): NativeStore {
  const s = new NativeStore();
  stores.push(s);
  return s;
}
afterEach(async () => {
  for (const s of stores.splice(0)) await s.dispose();
});

describe('firebase lock wakeups', () => {
  it('a lock released in another process wakes a listener of its lock topic in this one; its acquire does not', async () => {
    const s = store();
    const b = await s.open();
    expect(b.capabilities.coordination?.lockWake).toBe(true);
    let wakes = 0;
    const stop = await b.notify.listen({ kind: 'lock', name: 'lw/res.1' }, () => wakes++);
    const worker = s.spawn('lockThenRelease', { resource: 'lw/res.1', go: 'lw/go' });
    await worker.next('locked');
    // The server pushed the acquire to this client before it acknowledged it to the worker, and a
    // read's answer comes after every push on the connection: the acquire has been seen by now.
    expect(await b.read('lw/other')).toBeNull();
    expect(wakes).toBe(0);
    await b.write('lw/go', true, { json: 'true' });
    await worker.next('released');
    await eventually(() => wakes > 0);
    await stop();
    expect(await worker.done).toBe(0);
  });

  it('a waiter that stopped listening is not called after a later release', async () => {
    const s = store();
    const b = await s.open();
    let wakes = 0;
    const stop = await b.notify.listen({ kind: 'lock', name: 'lw/stopped' }, () => wakes++);
    await stop();
    const lease = await b.tryLock('lw/stopped', { ttlMs: 30_000, owner: 'me' });
    await b.releaseLock(lease!);
    // Our own release is in this client's listener copy once the transaction resolved.
    expect(await b.read('lw/other')).toBeNull();
    expect(wakes).toBe(0);
  });
});
