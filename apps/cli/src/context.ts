/**
 * What every command receives: where to look for project.yml, the environment, and where to
 * write. Tests call command functions directly with their own context (a temp `cwd`, captured
 * output); the bin builds one from the process.
 */
import { fileURLToPath } from 'node:url';
import type { BackendModule, LoadConfigOptions, OpenStateOptions, StateClient } from '@agent-state/core';

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
 * the top, so `--help` and `shell-functions` never pay for it. `keys` (field name → key) are
 * checked first, before the store is opened.
 */
export async function withState<T>(ctx: CommandContext, fn: (state: StateClient) => Promise<T>, keys?: Readonly<Record<string, string>>): Promise<T> {
  if (ctx.state) return fn(ctx.state);
  // Bad input is refused before any I/O: a bad KEY says INVALID_KEY even when the store is down.
  if (keys) {
    const { keyProblem, InvalidKeyError } = await import('@agent-state/core');
    for (const [field, key] of Object.entries(keys)) {
      const problem = keyProblem(key);
      if (problem) throw new InvalidKeyError(field, key, problem);
    }
  }
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
 * Opens the client with the configured first-party backend imported here, by a literal name,
 * rather than by core's `import(name)`: the bundler (scripts/bundle.mjs) then puts each backend in
 * its own chunk that shares the CLI's one copy of core, and only the configured backend is loaded.
 */
export async function openState(ctx: CommandContext): Promise<StateClient> {
  const { openState: open } = await import('@agent-state/core');
  return open(await openStateOptions(ctx));
}

/**
 * What `openState()` receives for this context: where project.yml is. The configured backend's
 * module, when it is one the CLI bundles, is registered with core first (so core checks the
 * settings with it and creates the backend from the CLI's chunk); any other name, a package
 * named in full included, goes through core's loader (a dynamic `import()` of the installed
 * package). `serve` and `mcp` hand the same to the server.
 */
export async function openStateOptions(ctx: CommandContext): Promise<OpenStateOptions> {
  const { registerBackend } = await import('@agent-state/core');
  const where = whereOf(ctx);
  const short = await configuredShortName(ctx);
  const load = BACKENDS[short as keyof typeof BACKENDS] as (() => Promise<{ backendModule: BackendModule<never> }>) | undefined;
  if (load !== undefined) registerBackend((await load()).backendModule, `${FIRST_PARTY_SCOPE}${short}`);
  return where;
}

/** Where the context's configuration is: core's `LoadConfigOptions`, with the validated-config cache on. */
export function whereOf(ctx: CommandContext): LoadConfigOptions {
  return { cwd: ctx.cwd, env: ctx.env, cache: CONFIG_CACHE, ...(ctx.configFile !== undefined && { configFile: ctx.configFile }) };
}

/**
 * The backend the context's configuration names (`COMMUNICATION_BACKEND` applied), a first-party
 * package name shortened (`@agent-state/backend-file` is `file`).
 *
 * @throws InvalidConfigError for an unreadable project.yml or a malformed `backend`.
 */
export async function configuredShortName(ctx: CommandContext): Promise<string> {
  const { configuredBackend } = await import('@agent-state/core');
  const { backend } = configuredBackend(whereOf(ctx));
  return backend.startsWith(FIRST_PARTY_SCOPE) ? backend.slice(FIRST_PARTY_SCOPE.length) : backend;
}

const FIRST_PARTY_SCOPE = '@agent-state/backend-';

/**
 * The validated-config cache (core's `LoadConfigOptions.cache`): an unchanged project.yml skips
 * YAML and zod on every call. The backends' modules are registered from this code (in the bundle,
 * chunks rewritten by every build), so an entry also depends on this file.
 */
const CONFIG_CACHE = { deps: [fileURLToPath(import.meta.url)] };

/** The first-party backends the CLI ships with (any other name goes through core's loader). */
const BACKENDS = {
  file: () => import('@agent-state/backend-file'),
  sqlite: () => import('@agent-state/backend-sqlite'),
  redis: () => import('@agent-state/backend-redis'),
  firebase: () => import('@agent-state/backend-firebase'),
  postgres: () => import('@agent-state/backend-postgres'),
} satisfies Record<string, () => Promise<{ backendModule: BackendModule<never> }>>;
