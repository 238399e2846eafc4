import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WORKER_PATH, nextMessage, startWorker, stopWorkers, type DeadWorker } from '../src/harness/processes.js';

// The harness forks the compiled worker: `npm test` builds first (turbo), by hand run `npm run build`.
const built = existsSync(WORKER_PATH);
if (!built && process.env['CI'] === 'true') throw new Error(`CI=true but the bench worker ${WORKER_PATH} is not built: run npm run build first`);

describe.skipIf(!built)('stopWorkers with workers that died early', () => {
  it('a worker that exited early (its IPC channel closed) is reported, not a crash, and a live one still stops', async () => {
    // An unknown mode: the worker says so, exits 1 and closes its channel right after starting.
    const early = startWorker({ mode: 'no-such-mode' });
    const live = startWorker({ mode: 'no-such-mode-either' });
    await expect(nextMessage(early, 'ready', 30_000)).rejects.toThrow(/unknown worker mode/);
    await new Promise((resolve) => (early.exitCode !== null ? resolve(undefined) : early.once('exit', resolve)));
    const reported: DeadWorker[] = [];
    const dead = await stopWorkers([early, live], 10_000, (d) => reported.push(d));
    expect(dead.map((d) => d.pid)).toContain(early.pid);
    expect(reported).toEqual(dead);
    expect(dead.find((d) => d.pid === early.pid)).toMatchObject({ code: 1, note: 'had exited before the stop' });
    expect(live.exitCode !== null || live.signalCode !== null).toBe(true);
  }, 60_000);

  it('a worker killed just before the stop (the send meets a dead pipe: EPIPE or a closed channel) is reported, and stopWorkers resolves', async () => {
    const workers = Array.from({ length: 4 }, () => startWorker({ mode: 'no-such-mode' }));
    // Killed with no time for the parent to see the exit: the stop is sent into a pipe whose reader is gone.
    for (const w of workers) w.kill('SIGKILL');
    const reported: DeadWorker[] = [];
    const dead = await stopWorkers(workers, 10_000, (d) => reported.push(d));
    expect(dead.map((d) => d.pid).sort()).toEqual(workers.map((w) => w.pid).sort());
    // A worker whose send failed is reported at once, perhaps before its exit is seen: its signal is then still null.
    for (const d of dead) expect([null, 'SIGKILL']).toContain(d.signal);
    for (const w of workers) expect(w.signalCode).toBe('SIGKILL');
  }, 60_000);
});
