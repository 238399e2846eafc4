/**
 * The shell functions' coprocess (`batch --serve`): one long-lived process per shell session,
 * shared race-free by subshells, `$(...)` and `( ... ) &` jobs, leaving nothing behind.
 * Counts and outputs are checked, never times.
 */
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeProject, type Project } from './helpers.js';

describe('the shell coprocess', () => {
  let project: Project;
  beforeEach(() => {
    project = makeProject('file');
  });
  afterEach(() => project.cleanup());

  const env = () => ({ TMPDIR: join(project.dir, 'tmp') });
  const bash = (script: string) => project.bash(`mkdir -p "$TMPDIR"\n${script}`, { env: env() });
  // Reply sizes are bytes; the library reads them as bytes whatever the locale.
  const utf8 = (script: string) => project.bash(`mkdir -p "$TMPDIR"\n${script}`, { env: { ...env(), LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' } });

  it('a loop of calls runs in one coprocess, started once, with exact results', async () => {
    const result = await bash(`
      for i in $(seq 200); do communication_backend_increment loop >/dev/null || exit 1; done
      first=$_AGENT_STATE_SRV_PID
      communication_backend_read loop
      [[ $first == "$_AGENT_STATE_SRV_PID" ]] && echo same-coprocess`);
    expect(result).toMatchObject({ code: 0, stdout: '200\nsame-coprocess\n', stderr: '' });
  });

  it('10 concurrent ( … ) & subshells × 30 increments, each also read through $(…), end at exactly 300', async () => {
    const result = await bash(`
      communication_backend_write_json counter 0
      for p in $(seq 10); do
        (
          for i in $(seq 30); do
            n=$(communication_backend_increment counter) || exit 1
            [[ $n =~ ^[0-9]+$ ]] || { echo "bad reply: $n" >&2; exit 1; }
          done
        ) &
      done
      wait
      communication_backend_read counter`);
    expect(result).toMatchObject({ code: 0, stdout: '300\n', stderr: '' });
  });

  it('values of any size and shape round-trip, in a UTF-8 locale: leading dashes, newlines, non-ASCII, 150 kB', async () => {
    const result = await utf8(`
      big=$(head -c 150000 /dev/zero | tr '\\0' 'x')
      communication_backend_write dash "--not-an-option"
      communication_backend_write multi $'line one\\nline "two"\\n\\ttab é ✓'
      communication_backend_write big "$big"
      communication_backend_read dash
      communication_backend_read multi
      [[ $(communication_backend_read big) == "$big" ]] && echo big-ok`);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('--not-an-option\nline one\nline "two"\n\ttab é ✓\nbig-ok\n');
  });

  it('errors keep their exit codes and their one stderr line; stdout stays clean', async () => {
    const result = await bash(`
      communication_backend_read missing; echo "missing=$?"
      agent_state get 'bad//key'; echo "invalid=$?"
      agent_state get --nope k; echo "usage=$?"
      communication_backend_write_json n 1
      agent_state set --if-version 7 n 2; echo "conflict=$?"
      communication_backend_increment n 2.5; echo "incr=$?"
      agent_state incr -- n many; echo "incr-usage=$?"
      agent_state incr -- 'bad//key'; echo "incr-invalid=$?"`);
    expect(result.stdout).toBe('missing=1\ninvalid=10\nusage=2\nconflict=13\n3.5\nincr=0\nincr-usage=2\nincr-invalid=10\n');
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^agent-state: INVALID_KEY: /);
    expect(lines[1]).toMatch(/^agent-state: USAGE: unknown option '--nope'$/);
    expect(lines[2]).toMatch(/^usage: agent-state get /);
    expect(lines[3]).toMatch(/^agent-state: CONFLICT: /);
    // A BY that is not a number is the full program's usage error; a bad key is the increment's.
    expect(lines[4]).toBe('agent-state: USAGE: BY: expected a number, got "many"');
    expect(lines[5]).toMatch(/^agent-state: INVALID_KEY: /);
  });

  it('`wait` in the script does not wait for the coprocess, which exits with the shell and removes its files', async () => {
    const result = await bash(`
      communication_backend_increment k >/dev/null
      sleep 0.1 &
      wait
      echo "coproc=$_AGENT_STATE_SRV_PID"`);
    expect(result.code).toBe(0);
    const pid = Number(/coproc=(\d+)/.exec(result.stdout)?.[1]);
    expect(pid).toBeGreaterThan(0);
    // The shell is gone, so the coprocess sees the end of its input and exits (bounded wait).
    const deadline = Date.now() + 20_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(false);
    expect(readdirSync(join(project.dir, 'tmp'))).toEqual([]);
  });

  it('after a cd to another project the calls go to that project (a new coprocess), and back', async () => {
    const result = await bash(`
      mkdir -p other && printf 'communication:\\n  backend: file\\n  namespace: other\\n  settings:\\n    directory: ./store\\n' > other/project.yml
      communication_backend_increment n >/dev/null
      (cd other && communication_backend_increment n >/dev/null && communication_backend_increment n >/dev/null)
      cd other; communication_backend_increment n >/dev/null; here=$(communication_backend_read n); cd ..
      communication_backend_increment n >/dev/null
      echo "top=$(communication_backend_read n) other=$here"`);
    expect(result).toMatchObject({ code: 0, stdout: 'top=2 other=3\n', stderr: '' });
  });

  it('AGENT_STATE_NO_COPROC=1 runs each call as its own process, with the same results', async () => {
    const result = await project.bash(`
      for i in 1 2 3; do communication_backend_increment c >/dev/null; done
      communication_backend_read c; echo "coproc=\${_AGENT_STATE_SRV_PID:-none}"`, { env: { AGENT_STATE_NO_COPROC: '1', TMPDIR: tmpdir() } });
    expect(result).toMatchObject({ code: 0, stdout: '3\ncoproc=none\n', stderr: '' });
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
