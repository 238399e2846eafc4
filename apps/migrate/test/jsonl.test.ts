/**
 * export → JSONL → import: the documented format round-trips a namespace, and a damaged file
 * is refused before anything is written, naming the line.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportState, importState, run } from '../src/index.js';
import { availableBackends, freshStore, tempDir, type TestBackend } from './helpers/stores.js';
import { UNICODE, seed } from './helpers/seed.js';

const { available } = availableBackends();
const from: TestBackend | undefined = available.includes('file') ? 'file' : available[0];
const to: TestBackend | undefined = available.includes('sqlite') ? 'sqlite' : available[1];
const quiet = { stdout: { write: () => true } as unknown as NodeJS.WritableStream, stderr: Object.assign({ write: (s: string) => (errors.push(s), true) }, { isTTY: false }) as unknown as NodeJS.WriteStream };
const errors: string[] = [];

describe.skipIf(!from || !to)('JSONL export and import', () => {
  const cwd = tempDir();
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it(`${from} → state.jsonl → ${to}: every entry, TTL and job comes back identical`, async () => {
    const source = freshStore(from!);
    const target = freshStore(to!);
    try {
      const state = await source.open();
      await seed(state, { entries: 500, bigValues: 1 });
      await state.close();
      const exported = await exportState({ cwd, to: 'state.jsonl', fromConfig: source.writeConfig(cwd, 'src') });
      expect(exported.ok).toBe(true);
      expect(exported.verify?.differenceCount).toBe(0);
      const lines = readFileSync(join(cwd, 'state.jsonl'), 'utf8').trimEnd().split('\n');
      const header = JSON.parse(lines[0]!) as Record<string, unknown>;
      const entryLines = lines.slice(1).filter((l) => !l.startsWith('{"family"'));
      expect(header).toMatchObject({ format: 'agent-state-jsonl', version: 2, namespace: source.config.namespace, count: entryLines.length });
      expect(entryLines.length).toBe(exported.copied);
      expect(exported.familyItems).toBe(16); // 7 jobs, a dead letter, 2 mail, 3 log records, 2 channel messages, the audit record of the export
      expect(lines.length - 1 - entryLines.length).toBe(16);
      const withTtl = entryLines.map((l) => JSON.parse(l) as { expiresAt?: number; ttlMs?: number }).filter((e) => e.expiresAt !== undefined);
      expect(withTtl.length).toBe(exported.stats.withTtl);
      expect(withTtl.every((e) => e.ttlMs! > 0)).toBe(true);

      const imported = await importState({ cwd, from: 'state.jsonl', toConfig: target.writeConfig(cwd, 'dst') });
      expect(imported.ok).toBe(true);
      expect(imported.copied).toBe(exported.copied);
      expect(imported.verify?.matched).toBe(exported.copied + 16);
      expect(imported.familyItems).toBe(16);
      const out = await target.open();
      try {
        expect((await out.read('Zeta/item-000002'))?.value).toMatchObject({ text: `${UNICODE} 2` });
        expect((await out.read('tasks/item-000000'))?.expiresAt).toBeGreaterThan(Date.now());
        expect(await out.queue('work').size()).toBe(7);
        expect(await out.queue('flaky').deadLetters()).toHaveLength(1);
        expect((await out.mailbox('bob').receive()).length).toBe(2);
      } finally {
        await out.close();
      }
      // Importing again into the now non-empty target is refused (exit code 5).
      const code = await run(['import', '--from', join(cwd, 'state.jsonl'), '--to-config', join(cwd, 'dst.yml')], quiet);
      expect(code).toBe(5);
    } finally {
      await Promise.allSettled([source.cleanup(), target.cleanup()]);
    }
  });

  it('a bad line is reported with its line number (exit code 8) and nothing is written', async () => {
    const target = freshStore(to!);
    try {
      const file = join(cwd, 'bad.jsonl');
      writeFileSync(file, ['{"format":"agent-state-jsonl","version":1,"namespace":"x","source":null,"exportedAt":0}', '{"key":"a","value":1}', '{"key":"b","value":2}', '{"key":"c" "value":3}', ''].join('\n'));
      errors.length = 0;
      const code = await run(['import', '--from', file, '--to-config', target.writeConfig(cwd, 'bad-dst')], quiet);
      expect(code).toBe(8);
      expect(errors.join('')).toContain('bad.jsonl:4:');
      const out = await target.open();
      try {
        expect(await out.read('a')).toBeNull();
      } finally {
        await out.close();
      }
      writeFileSync(file, '{"format":"agent-state-jsonl","version":1,"namespace":"x"}\n{"key":"../etc","value":1}\n');
      errors.length = 0;
      expect(await run(['import', '--from', file, '--to-config', join(cwd, 'bad-dst.yml')], quiet)).toBe(8);
      expect(errors.join('')).toContain(':2:');
    } finally {
      await target.cleanup();
    }
  });
});
