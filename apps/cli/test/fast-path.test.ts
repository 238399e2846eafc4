/**
 * The commander-free path for a plain `get`: it takes only the shapes it can parse exactly as the
 * full program does, and hands everything else (help, unknown options, wrong arity) to it.
 */
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fastPath, parseFast } from '../src/fast-path.js';
import { BIN, makeProject, spawnCollect } from './helpers.js';

const argv = (...args: string[]) => ['node', 'agent-state', ...args];

describe('the get fast path', () => {
  it('takes plain get command lines, options in any order', () => {
    for (const args of [['get', 'k'], ['get', '--raw', 'k'], ['get', 'k', '--json'], ['-c', 'p.yml', 'get', 'k'], ['get', '--config=p.yml', '--', '--k'], ['--config', 'p.yml', 'get', '-c', 'q.yml', 'k']]) {
      expect(fastPath(argv(...args)), args.join(' ')).toBeTypeOf('function');
    }
  });

  it('takes plain incr command lines, with the full program\'s rule for BY', () => {
    expect(parseFast(['incr', '--', 'k', '2.5'])).toEqual({ command: 'incr', config: undefined, key: 'k', by: 2.5 });
    expect(parseFast(['incr', 'k'])).toEqual({ command: 'incr', config: undefined, key: 'k', by: 1 });
    expect(parseFast(['-c', 'p.yml', 'incr', '--', '-k', '-3'])).toEqual({ command: 'incr', config: 'p.yml', key: '-k', by: -3 });
    for (const args of [['incr'], ['incr', 'k', 'many'], ['incr', 'k', ''], ['incr', 'k', '1', '2'], ['incr', '--raw', 'k'], ['incr', '-h'], ['incr', 'k', '-5']]) {
      expect(parseFast(args), args.join(' ')).toBeUndefined();
    }
  });

  it('leaves help, unknown options, wrong arity and other commands to the full program', () => {
    for (const args of [[], ['get'], ['get', 'a', 'b'], ['get', '--help', 'k'], ['get', '-h'], ['get', '--bogus', 'k'], ['get', '-c'], ['get', '--config=', 'k'], ['set', 'k', '1'], ['--version'], ['-c'], ['help', 'get'], ['get', '--', 'a', 'b']]) {
      expect(fastPath(argv(...args)), args.join(' ')).toBeUndefined();
    }
  });

  it('the real binary on the fast path keeps the outputs and exit codes of get', async () => {
    const project = makeProject('file');
    try {
      await project.cli(['set', 'k', '"v"']);
      const fast = await project.cli(['get', '--raw', 'k']);
      const full = await project.cli(['get', '--raw', '--config', 'project.yml', 'k', '--json']);
      expect(fast).toEqual({ code: 0, stdout: 'v\n', stderr: '' });
      expect(full.code).toBe(0);
      expect(JSON.parse(full.stdout)).toMatchObject({ key: 'k', value: 'v', version: 1 });
      expect(await project.cli(['get', 'missing'])).toEqual({ code: 1, stdout: '', stderr: '' });
      const bad = await project.cli(['get', 'bad//key']);
      expect(bad.code).toBe(10);
      expect(bad.stderr).toMatch(/^agent-state: INVALID_KEY: [^\n]+\n$/);
    } finally {
      project.cleanup();
    }
  });

  it('the real binary keeps checking project.yml with the config cache on: an edit, a variable, another backend are seen at once', async () => {
    const project = makeProject('file');
    const yml = join(project.dir, 'project.yml');
    try {
      writeFileSync(yml, 'communication:\n  backend: file\n  namespace: "ns-${TEAM}"\n  settings:\n    directory: ./state\n');
      expect((await project.cli(['set', 'k', '"a"'], { env: { TEAM: 'a' } })).code).toBe(0);
      expect(await project.cli(['get', '--raw', 'k'], { env: { TEAM: 'a' } })).toEqual({ code: 0, stdout: 'a\n', stderr: '' });
      // One entry per bundle that read it (set ran in dist/full.js, get in dist/bin.js).
      expect(readdirSync(join(project.dir, 'config-cache')).filter((f) => f.endsWith('.json')).length).toBeGreaterThanOrEqual(1);
      // Another value of the referenced variable is another namespace: the key is not there.
      expect(await project.cli(['get', 'k'], { env: { TEAM: 'b' } })).toEqual({ code: 1, stdout: '', stderr: '' });
      // An unknown key added to the file is refused, naming file and field.
      writeFileSync(yml, `${readFileSync(yml, 'utf8')}    bogus_key: 1\n`);
      const bad = await project.cli(['get', 'k'], { env: { TEAM: 'a' } });
      expect(bad.code).toBe(12);
      expect(bad.stderr).toContain(`${yml}: communication.settings.bogus_key: unknown key`);
      // A bad value of a setting the file backend owns: the field and the value.
      writeFileSync(yml, 'communication:\n  backend: file\n  namespace: "ns-${TEAM}"\n  settings:\n    directory: ./state\n    backup_count: "${COUNT}"\n');
      const value = await project.cli(['get', 'k'], { env: { TEAM: 'a', COUNT: '-3' } });
      expect(value.code).toBe(12);
      expect(value.stderr).toMatch(/communication\.settings\.backup_count: .*-3/);
      expect((await project.cli(['get', '--raw', 'k'], { env: { TEAM: 'a', COUNT: '2' } })).stdout).toBe('a\n');
      // COMMUNICATION_BACKEND switches the backend (the sqlite store is empty), past the cached entry.
      const sqlite = await project.cli(['get', 'k'], { env: { TEAM: 'a', COUNT: '2', COMMUNICATION_BACKEND: 'sqlite' } });
      expect(sqlite).toEqual({ code: 1, stdout: '', stderr: '' });
    } finally {
      project.cleanup();
    }
  });

  it('dist/bin.js alone runs get on every backend whose driver loads lazily (SQLite here), and hands anything else to dist/full.js', async () => {
    const project = makeProject('sqlite');
    // A copy of the one file (and its pre-bundled drivers) without full.js or chunks beside it,
    // inside the package so better-sqlite3 still resolves from node_modules.
    const alone = mkdtempSync(join(dirname(BIN), '..', '.bin-alone-'));
    try {
      copyFileSync(BIN, join(alone, 'bin.js'));
      if (existsSync(join(dirname(BIN), 'drivers'))) cpSync(join(dirname(BIN), 'drivers'), join(alone, 'drivers'), { recursive: true });
      const env = { ...process.env, AGENT_STATE_CACHE_DIR: join(project.dir, 'config-cache') };
      const one = (...args: string[]) => spawnCollect(process.execPath, [join(alone, 'bin.js'), ...args], project.dir, env);
      expect((await project.cli(['set', 'k', '{"n":1}'])).code).toBe(0);
      expect(await one('get', 'k')).toEqual({ code: 0, stdout: '{"n":1}\n', stderr: '' });
      expect(await one('get', '--json', 'missing')).toEqual({ code: 1, stdout: '', stderr: '' });
      // A command the one file does not carry needs dist/full.js, which this copy lacks.
      const set = await one('set', 'k', '2');
      expect(set.code).not.toBe(0);
      expect(set.stderr).toContain('full.js');
    } finally {
      rmSync(alone, { recursive: true, force: true });
      project.cleanup();
    }
  });
});
