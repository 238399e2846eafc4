/** The bench hook: the HTTP subject's operations against a real in-process server on SQLite. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { httpSubject } from '../src/bench.js';

describe('bench HTTP subject', () => {
  it('reads, writes, cycles a lock and a queue through the server, then closes it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'agent-state-server-bench-'));
    try {
      const subject = await httpSubject.open({ backend: 'sqlite', root, namespace: 'bench-test' });
      try {
        expect(await subject.read('k/1')).toBeUndefined();
        await subject.write('k/1', { v: 1 });
        expect(await subject.read('k/1')).toEqual({ v: 1 });
        await subject.lockCycle('locks/a', { wait: false });
        await subject.lockCycle('locks/a', { wait: false });
        await subject.queueCycle('bench-0');
        await subject.queueCycle('bench-0');
      } finally {
        await subject.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
