/**
 * The server's bench cases (an `--extra` module of packages/bench): the subjects against a real
 * `agent-state serve` child process and a real bare Fastify child, and every workload's operation
 * run a few times on them and on the library in process. No timings asserted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openState } from '@agent-state/core';
import { describe, expect, it } from 'vitest';
import { bareHttpSubject, benchConfigFor, httpSubject, serverSubjects, serverWorkloads, type BenchStoreRef } from '../src/bench.js';
import * as extras from '../src/bench.js';

describe('bench server cases', () => {
  it('exports the --extra shape: workloads and subjects per backend', () => {
    expect(extras.workloads).toBe(serverWorkloads);
    expect(extras.subjects).toBe(serverSubjects);
    expect(serverWorkloads.map((w) => w.id)).toEqual(['http-read', 'http-write', 'http-claim', 'mcp-claim', 'wake-claim', 'wake-sse']);
    for (const backend of ['file', 'sqlite', 'redis', 'postgres'] as const) expect(serverSubjects[backend].map((s) => s.id)).toEqual(['ours-http', 'http-bare']);
  });

  it('runs every workload through agent-state serve, the bare route and the library on one SQLite store, then stops the children', { timeout: 90_000 }, async () => {
    const root = mkdtempSync(join(tmpdir(), 'agent-state-server-bench-'));
    const store: BenchStoreRef = { backend: 'sqlite', root, namespace: 'bench-test' };
    // Each child is stopped in the finally, whichever open failed.
    let http: Awaited<ReturnType<typeof httpSubject.open>> | undefined;
    let bare: Awaited<ReturnType<typeof bareHttpSubject.open>> | undefined;
    let library: Awaited<ReturnType<typeof openState>> | undefined;
    try {
      http = await httpSubject.open(store);
      bare = await bareHttpSubject.open(store);
      library = await openState({ config: benchConfigFor(store), env: {} });
      await exercise(http, bare, library);
    } finally {
      await library?.close();
      await http?.close();
      await bare?.close();
      rmSync(root, { recursive: true, force: true });
    }
  });

  async function exercise(http: Awaited<ReturnType<typeof httpSubject.open>>, bare: Awaited<ReturnType<typeof bareHttpSubject.open>>, library: Awaited<ReturnType<typeof openState>>): Promise<void> {
    const inProcess = {
      state: library,
      read: async (key: string) => (await library.read(key))?.value,
      write: async (key: string, value: unknown) => void (await library.write(key, value as never)),
      queueCycle: async (name: string) => {
        await library.queue(name).enqueue({ n: 1 });
        const job = await library.queue(name).dequeue({ leaseMs: 10_000 });
        await job!.ack();
      },
    };
    {
      expect(await http.read('k/1')).toBeUndefined();
      await http.write('k/1', { v: 1 });
      expect(await http.read('k/1')).toEqual({ v: 1 });
      // The server and the library share the store.
      expect((await library.read('k/1'))?.value).toEqual({ v: 1 });
      await http.lockCycle!('locks/a', { wait: false });
      await http.lockCycle!('locks/a', { wait: false });
      await http.queueCycle!('bench-0');
      expect(await bare.read('anything/at/all')).toEqual({ hello: 'bare' });
      await bare.write('k/2', { v: 2 });
      expect(await library.read('k/2')).toBeNull();

      for (const workload of serverWorkloads) {
        for (const [id, subject] of [
          ['ours', inProcess],
          ['ours-http', http],
          ['http-bare', bare],
        ] as const) {
          if (!workload.subjects!.includes(id)) continue;
          await workload.setup?.run(subject, {});
          const { op, teardown } = await workload.prepare!(subject, { processIndex: 0, seed: 42 });
          try {
            for (let i = 0; i < 3; i++) {
              const reported = await op(i);
              if (reported !== undefined) expect(reported).toBeGreaterThanOrEqual(0);
            }
          } finally {
            await teardown?.();
          }
        }
      }
      // Every blocked claim was woken and its job acked: nothing left waiting or in flight.
      for (let n = 0; n < 3; n++) {
        expect(await library.queue(`bench-wake-http-42-${n}`).counts()).toMatchObject({ waiting: 0, inFlight: 0 });
      }
    }
  }

  it('fails with a clear error when the server child cannot start', async () => {
    const root = mkdtempSync(join(tmpdir(), 'agent-state-server-bench-'));
    try {
      // A file backend whose directory is a regular file cannot open.
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(root, 'ours'), 'not a directory');
      await expect(httpSubject.open({ backend: 'file', root, namespace: 'bench-bad' })).rejects.toThrow(/exited before ready|not ready/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
