import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BackendUnavailableError,
  ConflictError,
  CorruptDataError,
  ERROR_CODES,
  InvalidConfigError,
  InvalidKeyError,
  InvalidValueError,
  LockLostError,
  LockTimeoutError,
  NotSupportedError,
  StateClosedError,
} from '@agent-state/core';
import { ERROR_EXIT_CODES } from '../src/exit-codes.js';
import { reportError } from '../src/errors.js';
import { makeProject, type Project, type RunResult } from './helpers.js';

/** A failure prints nothing on stdout and exactly one `agent-state: CODE: message` line on stderr. */
function expectFailure(result: RunResult, exitCode: number, code: string): void {
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(new RegExp(`^agent-state: ${code}: [^\\n]+\\n$`));
  expect(result.code).toBe(exitCode);
}

describe('exit codes', () => {
  it('every contract error code has its own exit code, 10 + its position in ERROR_CODES', () => {
    ERROR_CODES.forEach((code, i) => expect(ERROR_EXIT_CODES[code]).toBe(10 + i));
    expect(Object.keys(ERROR_EXIT_CODES)).toHaveLength(ERROR_CODES.length);
    const errors = [
      new InvalidKeyError('key', 'a//b', 'bad'),
      new InvalidValueError('value', 1, 'bad'),
      new InvalidConfigError('project.yml', 'communication.backend', 'bad'),
      new ConflictError('k', 1, 2),
      new LockTimeoutError('r', 10),
      new LockLostError('r', 3),
      new BackendUnavailableError('redis', 'redis://x', 'down'),
      new NotSupportedError('memory', 'x'),
      new CorruptDataError('file', 'bad'),
      new StateClosedError('read'),
    ];
    for (const error of errors) {
      const report = reportError(error);
      expect(report.exitCode).toBe(ERROR_EXIT_CODES[error.code]);
      expect(report.line).toBe(`agent-state: ${error.code}: ${error.message}`);
    }
  });

  describe('from the binary', () => {
    let project: Project;
    beforeEach(() => {
      project = makeProject('file');
    });
    afterEach(() => project.cleanup());

    it('get of an absent key exits 1 with nothing on stdout or stderr', async () => {
      expect(await project.cli(['get', 'nope'])).toEqual({ code: 1, stdout: '', stderr: '' });
    });

    it('a usage error exits 2 with one line, then the usage of the command', async () => {
      const usage = (result: RunResult, command: string) => {
        expect(result).toMatchObject({ code: 2, stdout: '' });
        expect(result.stderr).toMatch(new RegExp(`^agent-state: USAGE: [^\\n]+\\nusage: agent-state${command ? ` ${command}` : ""} [^\\n]+\\n$`));
      };
      usage(await project.cli(['get', 'k', '--no-such-option']), 'get');
      usage(await project.cli(['frobnicate']), '');
      usage(await project.cli(['set', 'k', '1', '--ttl', 'soon']), 'set');
      usage(await project.cli(['queue', 'pop']), 'queue pop');
    });

    it('INVALID_KEY, INVALID_VALUE and CONFLICT exit 10, 11 and 13 and write nothing', async () => {
      expectFailure(await project.cli(['get', 'a//b']), 10, 'INVALID_KEY');
      expectFailure(await project.cli(['set', 'k', 'not json']), 11, 'INVALID_VALUE');
      expectFailure(await project.cli(['set', 'k', '1', '--if-version', '3']), 13, 'CONFLICT');
      expect((await project.cli(['get', 'k'])).code).toBe(1);
    });

    it('INVALID_CONFIG exits 12, naming the file and the setting', async () => {
      writeFileSync(join(project.dir, 'bad.yml'), 'communication:\n  backend: file\n  settings:\n    redis_port: "many"\n');
      const result = await project.cli(['--config', 'bad.yml', 'get', 'k']);
      expectFailure(result, 12, 'INVALID_CONFIG');
      expect(result.stderr).toContain('communication.settings.redis_port');
      expectFailure(await project.cli(['get', 'k'], { env: { COMMUNICATION_BACKEND: 'carrier-pigeon' } }), 12, 'INVALID_CONFIG');
    });

    it('BACKEND_UNAVAILABLE exits 16 within the connect timeout', async () => {
      writeFileSync(join(project.dir, 'afile'), '');
      writeFileSync(join(project.dir, 'down.yml'), 'communication:\n  backend: file\n  settings:\n    directory: ./afile/store\n');
      expectFailure(await project.cli(['get', 'k', '--config', 'down.yml']), 16, 'BACKEND_UNAVAILABLE');
    });

    it('a bad key is INVALID_KEY (exit 10) before the store is opened, even when the store is down', async () => {
      writeFileSync(join(project.dir, 'afile'), '');
      writeFileSync(join(project.dir, 'down.yml'), 'communication:\n  backend: file\n  settings:\n    directory: ./afile/store\n');
      for (const args of [['get', 'a//b'], ['set', 'a//b', '1'], ['delete', 'a//b'], ['incr', 'a//b'], ['wait', 'a//b', '--until-version', '1'], ['lock', 'a//b', '--', 'true']]) {
        const result = await project.cli([...args, '--config', 'down.yml']);
        expectFailure(result, 10, 'INVALID_KEY');
        expect(result.stderr, args.join(' ')).toContain('a//b');
      }
    });

    it('CORRUPT_DATA exits 18 and is never read as absent', async () => {
      expect((await project.cli(['set', 'k', '1'])).code).toBe(0);
      writeFileSync(join(project.dir, 'state/cli-test/data/k.json'), 'garbage');
      expectFailure(await project.cli(['get', 'k']), 18, 'CORRUPT_DATA');
    });

    it('LOCK_TIMEOUT exits 14 when the lock stays busy past --wait', async () => {
      const result = await project.bash(`
        communication_backend_lock busy 5 || exit 90
        agent_state lock --wait 100 busy -- true; echo "rc=$?"
        communication_backend_unlock busy || exit 91`);
      expect(result.stdout).toBe('rc=14\n');
      expect(result.stderr).toMatch(/^agent-state: LOCK_TIMEOUT: lock "busy" not acquired within 100 ms$/m);
      expect(result.code).toBe(0);
    });
  });
});
