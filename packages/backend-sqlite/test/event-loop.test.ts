/**
 * Waiting out another process's write lock never blocks the event loop for long: busy waits poll
 * synchronously for at most 5 ms (src/busy.ts), then yield between polls. While 4 processes
 * hammer one key and this process increments it too, no single call holds the event loop for
 * 250 ms or more (a bound on behaviour, not a speed figure).
 *
 * What is asserted is the synchronous part of each call (from the call until it hands back a
 * promise), i.e. what this backend can block. The loop's overall delay is measured with
 * monitorEventLoopDelay and printed, not asserted: on a 2-core machine shared with other work
 * the OS alone deschedules a process for longer than that (seen: 350 ms gaps outside any call
 * at load average 77), which no backend can prevent.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteBackend } from '../src/index.js';
import { NativeFixture } from './native-helpers.js';

let f: NativeFixture;
let b: SqliteBackend;
beforeEach(async () => {
  f = new NativeFixture();
  b = await f.backend();
});
afterEach(async () => {
  await f.dispose();
});

describe('busy waits and the event loop', () => {
  it("4 processes contending for one key: no call blocks this process's event loop for 250 ms", async () => {
    const durationMs = 3_000;
    const workers = Array.from({ length: 4 }, () => f.spawn('hammer', { key: 'hot', durationMs }));
    await Promise.all(workers.map((w) => w.waitFor('ready')));
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    for (const w of workers) w.go();
    let mine = 0;
    let maxSyncMs = 0;
    const until = performance.now() + durationMs;
    try {
      while (performance.now() < until) {
        const started = performance.now();
        const pending = b.increment('hot', 1);
        maxSyncMs = Math.max(maxSyncMs, performance.now() - started);
        await pending;
        mine++;
        // A call that needs no wait resolves at once; yield so that only the calls themselves
        // (and their busy waits) hold the loop, not this test's own loop.
        await new Promise((r) => setImmediate(r));
      }
      const results = await Promise.all(workers.map((w) => w.waitFor('hammered')));
      const total = results.reduce((n, r) => n + (r.n as number), mine);
      expect(await b.read('hot')).toMatchObject({ value: total });
    } finally {
      histogram.disable();
    }
    console.log(
      `busy waits: longest synchronous part of one increment ${maxSyncMs.toFixed(1)} ms; event loop delay max ` +
        `${(histogram.max / 1e6).toFixed(1)} ms, p99 ${(histogram.percentile(99) / 1e6).toFixed(1)} ms; ${mine} increments here`,
    );
    expect(mine).toBeGreaterThan(0);
    expect(maxSyncMs, `one increment held the event loop for ${maxSyncMs.toFixed(0)} ms`).toBeLessThan(250);
  });
});
