/**
 * Command-line subjects of the `cli` case: where our `agent-state` executable is, a project.yml
 * for the bench's store, and each call as a new process (what a bash script pays per call).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { oursConfig } from './ours.js';
import type { StoreRef } from './types.js';

/** Thrown when a case cannot run here (a tool is missing): the case is reported as skipped. */
export class SkipCase extends Error {
  override name = 'SkipCase';
}

/** The committed `agent-state` shim of apps/cli (AGENT_STATE_BIN overrides, as in the shell functions). */
export function agentStateBin(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['AGENT_STATE_BIN'];
  if (fromEnv) return fromEnv;
  // dist/subjects/commands.js → repo root: ../../../..
  return fileURLToPath(new URL('../../../../apps/cli/bin/agent-state.mjs', import.meta.url));
}

/** Fails with SkipCase when the CLI is absent or not built. */
export function requireAgentStateBin(): string {
  const bin = agentStateBin();
  if (!existsSync(bin)) throw new SkipCase(`the agent-state CLI is not at ${bin}`);
  if (bin.endsWith('agent-state.mjs') && !existsSync(join(bin, '..', '..', 'dist', 'bin.js'))) {
    throw new SkipCase('the agent-state CLI is not built (npm run build)');
  }
  return bin;
}

/** Writes (once) a project.yml in `<root>/cli/` that opens our store; returns its directory. */
export function cliProjectDir(store: StoreRef): string {
  const dir = join(store.root, 'cli');
  const file = join(dir, 'project.yml');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    // JSON is YAML: the same config object our subject opens.
    writeFileSync(file, `${JSON.stringify({ communication: oursConfig(store) }, null, 2)}\n`);
  }
  return dir;
}

/** Runs `file args` to its exit; rejects (with its stderr) unless it exits 0 within `timeoutMs`. */
export function run(file: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${file} ${args.join(' ')}: ${error.message.split('\n')[0]}${stderr ? `: ${String(stderr).trim().split('\n').pop()}` : ''}`));
        else resolve(String(stdout));
      },
    );
  });
}

/** Whether `name` is an executable on PATH. */
export function onPath(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return (env['PATH'] ?? '').split(':').some((dir) => dir && existsSync(join(dir, name)));
}

/** The key the `cli` case reads (written by its setup). */
export const CLI_KEY = 'bench/cli-key';

/** Environment for our CLI: no COMMUNICATION_BACKEND redirect, telemetry-free. */
export function cliEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['COMMUNICATION_BACKEND'];
  return env;
}
