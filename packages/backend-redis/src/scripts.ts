/**
 * Loads the Lua scripts of `./lua` and runs them with EVALSHA, falling back to EVAL (which also
 * caches the script on the server) when the server answers NOSCRIPT: a fresh or restarted
 * server, a SCRIPT FLUSH, a Cluster node that has not run it yet. A script's key count comes
 * from its file name, `<name>-<numberOfKeys>.lua`; `-n` means the caller passes the count first.
 *
 * Not ioredis's `defineCommand`: its Script wrapper copies the arguments twice and adds a
 * promise, a `catch` closure and a `reject` closure to every call (about a third of what a
 * write allocates in ioredis), for a fallback that is needed once per server. Here the success
 * path is one `evalsha` call; the fallback lives on the error path ({@link isNoScript}), and a
 * client handed in gets no commands defined on it.
 *
 * Shared Lua (`./lua/lib/*.lua`: the entry check and the lease comparison) is spliced into a
 * script where a line says `--@include lib/<file>.lua`, once, when the scripts are loaded: every
 * script stays one self-contained body on the server (one SHA, no server-side modules), and the
 * check each promise rests on is written once.
 */
import { createHash } from 'node:crypto';
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
  /** SHA-1 of `lua`, the name EVALSHA runs it by. */
  sha: string;
  numberOfKeys: number | undefined;
}

/** The driver calls a script run needs (both ioredis clients have them). */
interface Evaluator {
  evalsha(sha: string, ...args: (string | number)[]): Promise<unknown>;
  eval(lua: string, ...args: (string | number)[]): Promise<unknown>;
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
    const lua = expandIncludes(readFileSync(new URL(file, LUA_DIR), 'utf8'));
    scripts.set(name, { lua, sha: createHash('sha1').update(lua).digest('hex'), numberOfKeys: keys === 'n' ? undefined : Number(keys) });
  }
  return scripts;
}

/** Read once per process; `lua/` ships beside the compiled files. */
const SCRIPTS = loadScripts();

function loaded(name: ScriptName): LoadedScript {
  const script = SCRIPTS.get(name);
  if (!script) throw new Error(`Lua script ${name} is not in lua/`);
  return script;
}

/**
 * Runs script `name` with keys then arguments (for `-n` scripts: the key count first), by
 * EVALSHA. A NOSCRIPT reply rejects: the caller runs {@link runScriptText} then (once per
 * server, see {@link isNoScript}).
 */
export function runScript(client: Redis | Cluster, name: ScriptName, args: (string | number)[]): Promise<unknown> {
  const script = loaded(name);
  const evaluator = client as unknown as Evaluator;
  return script.numberOfKeys === undefined ? evaluator.evalsha(script.sha, ...args) : evaluator.evalsha(script.sha, script.numberOfKeys, ...args);
}

/** Runs script `name` by EVAL (its text), which also caches it on the server for the next EVALSHA. */
export function runScriptText(client: Redis | Cluster, name: ScriptName, args: (string | number)[]): Promise<unknown> {
  const script = loaded(name);
  const evaluator = client as unknown as Evaluator;
  return script.numberOfKeys === undefined ? evaluator.eval(script.lua, ...args) : evaluator.eval(script.lua, script.numberOfKeys, ...args);
}

/** True for the server's answer to an EVALSHA of a script it does not hold. */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError' && error.message.startsWith('NOSCRIPT');
}

/** Names of the scripts found, for tests and the README's table. */
export function scriptNames(): string[] {
  return [...SCRIPTS.keys()];
}
