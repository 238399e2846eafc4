/**
 * What every command receives: where to look for project.yml, the environment, and where to
 * write. Tests call command functions directly with their own context (a temp `cwd`, captured
 * output); the bin builds one from the process.
 */
import type { BackendModule, OpenStateOptions, StateClient } from '@agent-state/core';

/** The world a command runs in. */
export interface CommandContext {
  /** Where the upward search for project.yml starts. */
  cwd: string;
  /** An explicit project.yml (`--config FILE`). */
  configFile?: string;
  /** Environment: `${VAR}` in project.yml, `COMMUNICATION_BACKEND`, and the env of `lock -- COMMAND`. */
  env: NodeJS.ProcessEnv;
  /** Writes to standard output (text as given; commands add the newlines). */
  stdout: (text: string) => void;
  /** Writes to standard error. */
  stderr: (text: string) => void;
  /** Standard input, for `-` values and `batch`. */
  stdin: NodeJS.ReadableStream;
  /**
   * An open client to use instead of opening one from project.yml (the shell coprocess,
   * `batch --serve`, runs every request on one client). `withState` does not close it.
   */
  state?: StateClient;
}

/** A context on the current process. */
export function processContext(configFile: string | undefined): CommandContext {
  return {
    cwd: process.cwd(),
    ...(configFile !== undefined && { configFile }),
    env: process.env,
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    stdin: process.stdin,
  };
}

/**
 * Opens the state client the context's project.yml describes, runs `fn`, and closes the client
 * whatever happens (an error from `fn` wins over one from `close`). Core is imported here, not at
 * the top, so `--help` and `shell-functions` never pay for it.
 */
export async function withState<T>(ctx: CommandContext, fn: (state: StateClient) => Promise<T>): Promise<T> {
  if (ctx.state) return fn(ctx.state);
  const state = await openState(ctx);
  let result: T;
  try {
    result = await fn(state);
  } catch (error) {
    await state.close().catch(() => undefined);
    throw error;
  }
  await state.close();
  return result;
}

/**
 * Opens the client with the backend imported here, by a literal name, rather than by core's
 * `import(name)`: the bundler (scripts/bundle.mjs) then puts each backend in its own chunk that
 * shares the CLI's one copy of core, and only the configured backend is loaded.
 */
export async function openState(ctx: CommandContext): Promise<StateClient> {
  const { openState: open } = await import('@agent-state/core');
  return open(await openStateOptions(ctx));
}

/**
 * What `openState()` receives for this context: where project.yml is, and the configured
 * first-party backend created from the CLI's own chunk (see {@link openState}). `serve` and
 * `mcp` hand the same to the server.
 */
export async function openStateOptions(ctx: CommandContext): Promise<OpenStateOptions> {
  const { loadConfig } = await import('@agent-state/core');
  const where = { cwd: ctx.cwd, env: ctx.env, ...(ctx.configFile !== undefined && { configFile: ctx.configFile }) };
  const config = loadConfig(where);
  const load = BACKENDS[config.backend as keyof typeof BACKENDS] as (() => Promise<BackendModule>) | undefined;
  if (load === undefined) return where;
  // openState() validates the config again (measured: under 1 ms once yaml and zod are loaded).
  return { ...where, backend: (await load()).createBackend(config) };
}

/** The first-party backends the CLI ships with (any other name goes through core's loader). */
const BACKENDS = {
  file: () => import('@agent-state/backend-file'),
  sqlite: () => import('@agent-state/backend-sqlite'),
  redis: () => import('@agent-state/backend-redis'),
  firebase: () => import('@agent-state/backend-firebase'),
  postgres: () => import('@agent-state/backend-postgres'),
} satisfies Record<string, () => Promise<BackendModule>>;
