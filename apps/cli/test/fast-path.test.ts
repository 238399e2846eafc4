/**
 * The commander-free path for a plain `get`: it takes only the shapes it can parse exactly as the
 * full program does, and hands everything else (help, unknown options, wrong arity) to it.
 */
import { describe, expect, it } from 'vitest';
import { fastPath } from '../src/fast-path.js';
import { makeProject } from './helpers.js';

const argv = (...args: string[]) => ['node', 'agent-state', ...args];

describe('the get fast path', () => {
  it('takes plain get command lines, options in any order', () => {
    for (const args of [['get', 'k'], ['get', '--raw', 'k'], ['get', 'k', '--json'], ['-c', 'p.yml', 'get', 'k'], ['get', '--config=p.yml', '--', '--k'], ['--config', 'p.yml', 'get', '-c', 'q.yml', 'k']]) {
      expect(fastPath(argv(...args)), args.join(' ')).toBeTypeOf('function');
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
});
