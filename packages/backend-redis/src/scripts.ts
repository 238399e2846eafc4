/**
 * Loads the Lua scripts of `./lua` and registers them on a client with `defineCommand`, which
 * runs them with EVALSHA (falling back to EVAL once per connection when the server does not
 * know the script yet, e.g. after a restart). A script's key count comes from its file name,
 * `<name>-<numberOfKeys>.lua`; `-n` means the caller passes the count first.
 *
 * Shared Lua (`./lua/lib/*.lua`: the entry check and the lease comparison) is spliced into a
 * script where a line says `--@include lib/<file>.lua`, once, when the scripts are loaded: every
 * script stays one self-contained body on the server (one SHA, no server-side modules), and the
 * check each promise rests on is written once.
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';

/** The scripts this backend runs, by name. */
export type ScriptName =
  | 'write'
  | 'delete'
  | 'acquireLock'
  | 'extendLock'
  | 'releaseLock'
  | 'commit'
  | 'increment'
  | 'list'
  | 'format'
  | 'repair'
  | 'enqueue'
  | 'claim'
  | 'settle'
  | 'queueCounts'
  | 'reviveDead'
  | 'append'
  | 'trimLog'
  | 'removeRecords'
  | 'moveJob'
  | 'moveQueueSeq'
  | 'moveLog'
  | 'sweepLogs';

interface LoadedScript {
  lua: string;
  numberOfKeys: number | undefined;
}

const LUA_DIR = new URL('./lua/', import.meta.url);
const FILE_NAME = /^([A-Za-z]+)-(\d+|n)\.lua$/;
const INCLUDE = /^--@include (lib\/[A-Za-z-]+\.lua)[ \t]*$/gm;

/** The script text with every `--@include lib/<file>.lua` line replaced by that file. */
export function expandIncludes(lua: string, read: (path: string) => string = (path) => readFileSync(new URL(path, LUA_DIR), 'utf8')): string {
  return lua.replace(INCLUDE, (_line, path: string) => read(path).trimEnd());
}

function loadScripts(): Map<string, LoadedScript> {
  const scripts = new Map<string, LoadedScript>();
  for (const file of readdirSync(LUA_DIR)) {
    const match = FILE_NAME.exec(file);
    if (!match) continue;
    const [, name, keys] = match as unknown as [string, string, string];
    scripts.set(name, {
      lua: expandIncludes(readFileSync(new URL(file, LUA_DIR), 'utf8')),
      numberOfKeys: keys === 'n' ? undefined : Number(keys),
    });
  }
  return scripts;
}

/** Read once per process; `lua/` ships beside the compiled files. */
const SCRIPTS = loadScripts();

/** The command name a script gets on the client; prefixed so it never clashes with the user's. */
function commandName(name: ScriptName): string {
  return `agentState_${name}`;
}

/** Registers every script on `client` (idempotent: defining twice replaces the same body). */
export function defineScripts(client: Redis | Cluster): void {
  for (const [name, script] of SCRIPTS) {
    client.defineCommand(commandName(name as ScriptName), {
      lua: script.lua,
      ...(script.numberOfKeys !== undefined && { numberOfKeys: script.numberOfKeys }),
    });
  }
}

/** Runs script `name` with keys then arguments (for `-n` scripts: the key count first). */
export function runScript(client: Redis | Cluster, name: ScriptName, args: (string | number)[]): Promise<unknown> {
  const command = (client as unknown as Record<string, ((...a: (string | number)[]) => Promise<unknown>) | undefined>)[
    commandName(name)
  ];
  if (!command) throw new Error(`Lua script ${name} is not registered on this client`);
  return command.apply(client, args);
}

/** Names of the scripts found, for tests and the README's table. */
export function scriptNames(): string[] {
  return [...SCRIPTS.keys()];
}
