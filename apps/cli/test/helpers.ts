/**
 * Test harness: a fresh temp project (project.yml + store) per test, and the real binary run
 * from bash, the way scripts use it. Nothing here talks to the store except through the CLI.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The built bin. */
export const BIN = resolve(here, '../dist/bin.js');
/** The seed plan's examples on the shell functions. */
export const SEED_EXAMPLES = resolve(here, '../examples/seed-plan.sh');
const packages = resolve(here, '../../../packages');

/** Backends whose build exists, so multi-process tests can run on them. */
export const builtBackends = {
  file: existsSync(join(packages, 'backend-file/dist/index.js')),
  sqlite: existsSync(join(packages, 'backend-sqlite/dist/index.js')),
};
// Under CI nothing may be skipped silently: a backend that is not built fails the run, saying so.
for (const [name, built] of Object.entries(builtBackends)) {
  if (!built && process.env['CI'] === 'true') throw new Error(`CI=true but packages/backend-${name} is not built: run npm run build first`);
}

/** The result of a spawned command. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A temp project directory with its own store. */
export interface Project {
  dir: string;
  /** Runs a bash script in the project with the shell functions and the seed examples sourced. */
  bash(script: string, options?: { stdin?: string; env?: NodeJS.ProcessEnv }): Promise<RunResult>;
  /** Runs `agent-state ARGS` in the project. */
  cli(args: string[], options?: { stdin?: string; env?: NodeJS.ProcessEnv }): Promise<RunResult>;
  cleanup(): void;
}

/** The project.yml `communication` block for a backend, its store inside `dir`. */
function projectYml(backend: 'file' | 'sqlite'): string {
  const settings = backend === 'file' ? '    directory: ./state\n' : '    database_path: ./state.db\n';
  return `communication:\n  backend: ${backend}\n  namespace: cli-test\n  settings:\n${settings}`;
}

/** Makes a fresh project for `backend`. */
export function makeProject(backend: 'file' | 'sqlite' = 'file'): Project {
  const dir = mkdtempSync(join(tmpdir(), `agent-state-cli-${backend}-`));
  writeFileSync(join(dir, 'project.yml'), projectYml(backend));
  const env = (extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
    const base: NodeJS.ProcessEnv = { ...process.env, AGENT_STATE_LOCK_DIR: join(dir, 'locks'), AGENT_STATE_CACHE_DIR: join(dir, 'config-cache'), AGENT_STATE_TEST_BIN: BIN };
    delete base['COMMUNICATION_BACKEND'];
    return { ...base, ...extra };
  };
  return {
    dir,
    bash: (script, options) =>
      spawnCollect(
        'bash',
        ['-c', `source <(node ${JSON.stringify(BIN)} shell-functions) || exit 99\nsource ${JSON.stringify(SEED_EXAMPLES)}\n${script}`],
        dir,
        env(options?.env),
        options?.stdin,
      ),
    cli: (args, options) => spawnCollect(process.execPath, [BIN, ...args], dir, env(options?.env), options?.stdin),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Spawns a process and collects its output. */
export function spawnCollect(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, stdin?: string): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}
