/**
 * The migration refuses what would lose data or mislead, with one clear line and its own exit
 * code; --dry-run writes nothing; --switch rewrites project.yml keeping its comments.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { migrate, run } from '../src/index.js';
import { availableBackends, freshStore, tempDir } from './helpers/stores.js';

const { available } = availableBackends();
const out: string[] = [];
const err: string[] = [];
const io = {
  stdout: { write: (s: string) => (out.push(s), true) } as unknown as NodeJS.WritableStream,
  stderr: { write: (s: string) => (err.push(s), true), isTTY: false } as unknown as NodeJS.WriteStream,
};

describe.skipIf(!available.includes('file') || !available.includes('sqlite'))('refusals and project.yml', () => {
  const cwd = tempDir();
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));
  beforeEach(() => {
    out.length = 0;
    err.length = 0;
  });

  it('an unknown backend is a config error (exit 3) naming the choices', async () => {
    expect(await run(['--from', 'mysql', '--to', 'file'], io)).toBe(3);
    expect(err.join('')).toContain('unknown backend "mysql" (expected one of file, sqlite, redis, firebase, postgres)');
  });

  it('an unreachable target fails within its connect timeout (exit 4) and writes nothing', async () => {
    const source = freshStore('file');
    try {
      const s = await source.open();
      await s.write('a', 1);
      await s.close();
      const port = await closedPort();
      const dst = join(cwd, 'down.yml');
      writeFileSync(dst, stringify({ communication: { backend: 'redis', settings: { redis_host: '127.0.0.1', redis_port: port, connect_timeout_ms: 500 } } }));
      expect(await run(['--from-config', source.writeConfig(cwd, 'up'), '--to-config', dst], io)).toBe(4);
      expect(err.join('')).toMatch(/redis backend unavailable/);
      expect(existsSync(join(cwd, '.agent-state-migrate'))).toBe(false);
    } finally {
      await source.cleanup();
    }
  });

  it('a non-empty target is refused (exit 5) unless --overwrite, which replaces its contents', async () => {
    const source = freshStore('file');
    const target = freshStore('sqlite');
    try {
      const s = await source.open();
      await s.write('a', 1);
      await s.close();
      const t = await target.open();
      await t.write('stale', 'x');
      await t.close();
      const args = ['--from-config', source.writeConfig(cwd, 'ne-src'), '--to-config', target.writeConfig(cwd, 'ne-dst')];
      expect(await run(args, io)).toBe(5);
      expect(err.join('')).toContain('not empty: pass --overwrite');
      expect(await run([...args, '--overwrite', '--json'], io)).toBe(0);
      const t2 = await target.open();
      try {
        expect(await t2.read('stale')).toBeNull();
        expect((await t2.read('a'))?.value).toBe(1);
      } finally {
        await t2.close();
      }
    } finally {
      await Promise.allSettled([source.cleanup(), target.cleanup()]);
    }
  });

  it('a source with a healthy agent or a live job claim is refused (exit 6); --force migrates with a warning', async () => {
    const source = freshStore('file');
    const target = freshStore('sqlite');
    try {
      const s = await source.open();
      await s.agents.register('busy-agent', {}, { heartbeatIntervalMs: 60_000 });
      await s.queue('q').enqueue('job');
      await s.queue('q').dequeue({ leaseMs: 60_000 });
      await s.close();
      const args = ['--from-config', source.writeConfig(cwd, 'busy-src'), '--to-config', target.writeConfig(cwd, 'busy-dst')];
      expect(await run(args, io)).toBe(6);
      expect(err.join('')).toContain('busy-agent');
      expect(err.join('')).toContain('claimed by a running consumer');
      expect(await run([...args, '--force', '--json'], io)).toBe(0);
      const report = JSON.parse(out.join('')) as { warnings: string[]; ok: boolean };
      expect(report.ok).toBe(true);
      expect(report.warnings.length).toBe(2);
    } finally {
      await Promise.allSettled([source.cleanup(), target.cleanup()]);
    }
  });

  it('--dry-run counts and sizes and writes nothing (the target is not even created)', async () => {
    const source = freshStore('file');
    try {
      const s = await source.open();
      for (let i = 0; i < 10; i++) await s.write(`k/${i}`, 'v'.repeat(100), i < 3 ? { ttlMs: 60_000 } : undefined);
      await s.close();
      const dbDir = join(cwd, 'never');
      const dst = join(cwd, 'never.yml');
      writeFileSync(dst, stringify({ communication: { backend: 'sqlite', settings: { database_path: join(dbDir, 'x.db') } } }));
      const report = await migrate({ cwd, fromConfig: source.writeConfig(cwd, 'dry'), toConfig: dst, dryRun: true });
      expect(report.dryRun).toBe(true);
      expect(report.stats).toMatchObject({ entries: 10, withTtl: 3, bytes: 10 * 102 });
      expect(report.copied).toBe(0);
      expect(existsSync(dbDir)).toBe(false);
      const s2 = await source.open();
      try {
        expect(await s2.read('@migration/active')).toBeNull();
      } finally {
        await s2.close();
      }
    } finally {
      await source.cleanup();
    }
  });

  it('--switch rewrites communication.backend of project.yml after a verified copy, keeping every comment', async () => {
    const project = tempDir('migrate-project-');
    try {
      const yml = [
        '# our team state',
        'communication:',
        '  backend: "file"        # start small',
        '  namespace: "team"',
        '  settings:',
        '    directory: ./state   # the file store',
        '    durability: none',
        '    database_path: ./state.db   # sqlite, later',
        '',
      ].join('\n');
      writeFileSync(join(project, 'project.yml'), yml);
      const { openState } = await import('@agent-state/core');
      const s = await openState({ cwd: project, env: {} });
      await s.write('tasks/1', { ok: true });
      await s.close();
      const report = await migrate({ cwd: project, env: {}, from: 'file', to: 'sqlite', switch: true });
      expect(report.ok).toBe(true);
      expect(report.switched?.backend).toEqual({ from: 'file', to: 'sqlite' });
      const after = readFileSync(join(project, 'project.yml'), 'utf8');
      expect(after).toContain('# our team state');
      expect(after).toContain('# start small');
      expect(after).toContain('# the file store');
      expect(after).toMatch(/backend: "?sqlite"?/);
      const t = await openState({ cwd: project, env: {} });
      try {
        expect(t.backendName).toBe('sqlite');
        expect((await t.read('tasks/1'))?.value).toEqual({ ok: true });
      } finally {
        await t.close();
      }
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
