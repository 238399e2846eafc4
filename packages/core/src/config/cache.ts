/**
 * The validated-config cache: a resolved configuration stored on disk, so that a process that
 * opens an unchanged project (each `agent-state get` of a shell script) skips the YAML parser and
 * zod entirely. Opt-in (`LoadConfigOptions.cache`); the CLI turns it on.
 *
 * An entry is found by a hash of: this format, the project.yml path and bytes, the paths of the
 * code it depends on (below), the value of every
 * environment variable the file references (`${VAR}`, read from the raw text, comments included)
 * and of `COMMUNICATION_BACKEND`. It is used only while every file it depends on is unchanged
 * (size and mtime): core's config module, the files the caller lists (the CLI's bundle), the
 * backend package a module was required from, and, when the file holds keys of another backend,
 * each installed backend's settings file and the directories they were found in (a backend
 * installed or removed changes its directory). Only successful loads are stored: an invalid
 * file is checked, and reported, on every call.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where and against what the validated-config cache keeps its entries. */
export interface ConfigCacheOptions {
  /**
   * The cache directory. Default: `AGENT_STATE_CACHE_DIR`, else `node_modules/.cache/agent-state`
   * in the nearest directory above the project that has a `node_modules`, else
   * `$XDG_CACHE_HOME/agent-state` (`~/.cache/agent-state`).
   */
  dir?: string;
  /** More files whose change (size or mtime) invalidates an entry: the code that registers backend modules. */
  deps?: readonly string[];
}

/** Bumped whenever what an entry holds, or how a config is resolved, changes. */
const FORMAT = 'agent-state-config-cache/1';
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)/g;
const SELF = fileURLToPath(import.meta.url);

interface Entry<T> {
  format: string;
  deps: [path: string, size: number, mtimeMs: number][];
  /** The variables the parsed values referenced, with the values they had (null: unset). */
  vars: [name: string, value: string | null][];
  value: T;
}

/** The cache file of one project.yml, for one environment. */
export interface CacheSlot {
  file: string;
  deps: readonly string[];
  env: Record<string, string | undefined>;
}

/**
 * The variables `${VAR}` references in `strings` (the parsed values substitution runs on: a YAML
 * escape such as `"\u0024{VAR}"` is a reference the raw text does not show).
 */
export function referencedVariables(strings: Iterable<string>): string[] {
  const names = new Set<string>();
  for (const text of strings) for (const match of text.matchAll(REFERENCE)) names.add(match[1] as string);
  return [...names];
}

/**
 * The slot of `source` (a project.yml path) with its bytes `text`, or undefined when caching is
 * off (`AGENT_STATE_CONFIG_CACHE=off`).
 */
export function cacheSlot(options: ConfigCacheOptions, source: string, text: string, env: Record<string, string | undefined>): CacheSlot | undefined {
  const off = env['AGENT_STATE_CONFIG_CACHE'];
  if (off === 'off' || off === '0' || off === 'false') return undefined;
  const names = new Set<string>(['COMMUNICATION_BACKEND']);
  for (const match of text.matchAll(REFERENCE)) names.add(match[1] as string);
  const vars = [...names].sort().map((name) => [name, env[name] ?? null]);
  const deps = [SELF, ...(options.deps ?? [])];
  // The code's paths are in the key too: two installations reading one project keep an entry each.
  const key = createHash('sha256').update(JSON.stringify([FORMAT, source, deps, vars, text])).digest('hex').slice(0, 40);
  const dir = options.dir ?? defaultCacheDir(dirname(source), env);
  return { file: join(dir, `${key}.json`), deps, env };
}

function defaultCacheDir(projectDir: string, env: Record<string, string | undefined>): string {
  const fromEnv = env['AGENT_STATE_CACHE_DIR'];
  if (fromEnv) return fromEnv;
  for (let dir = projectDir; ; ) {
    if (existsSync(join(dir, 'node_modules'))) return join(dir, 'node_modules', '.cache', 'agent-state');
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg ? xdg : join(homedir(), '.cache'), 'agent-state');
}

function stamp(path: string): [string, number, number] | undefined {
  try {
    const s = statSync(path);
    return [path, s.size, s.mtimeMs];
  } catch {
    return undefined;
  }
}

/** The value stored in `slot`, when there is one and none of its dependencies changed. */
export function readCache<T>(slot: CacheSlot): T | undefined {
  let entry: Entry<T>;
  try {
    entry = JSON.parse(readFileSync(slot.file, 'utf8')) as Entry<T>;
  } catch {
    return undefined;
  }
  if (entry?.format !== FORMAT || !Array.isArray(entry.deps) || !Array.isArray(entry.vars) || entry.value === undefined) return undefined;
  for (const [name, value] of entry.vars) if ((slot.env[name] ?? null) !== value) return undefined;
  for (const dep of slot.deps) if (!entry.deps.some((d) => d[0] === dep)) return undefined;
  for (const [path, size, mtimeMs] of entry.deps) {
    const now = stamp(path);
    if (!now || now[1] !== size || now[2] !== mtimeMs) return undefined;
  }
  return entry.value;
}

/**
 * Stores `value` in `slot` (atomically: a temp file renamed over it), depending on the slot's
 * files and `extraDeps`, and on the values of the variables `vars` in the slot's environment. Best effort: a value that is not plain JSON, or a directory that cannot
 * be written, leaves the cache as it was.
 */
export function writeCache(slot: CacheSlot, value: unknown, extraDeps: readonly string[], vars: readonly string[]): void {
  if (!isPlainJson(value)) return;
  const deps: Entry<unknown>['deps'] = [];
  for (const path of new Set([...slot.deps, ...extraDeps])) {
    const s = stamp(path);
    if (!s) return;
    deps.push(s);
  }
  const entry: Entry<unknown> = { format: FORMAT, deps, vars: vars.map((name) => [name, slot.env[name] ?? null]), value };
  const tmp = `${slot.file}.${process.pid}.${Date.now().toString(36)}.tmp`;
  try {
    mkdirSync(dirname(slot.file), { recursive: true });
    writeFileSync(tmp, JSON.stringify(entry));
    renameSync(tmp, slot.file);
  } catch {
    rmSync(tmp, { force: true });
  }
}

/** Whether `value` survives a JSON round trip (strings, finite numbers, booleans, null, arrays, plain objects; an undefined property is dropped). */
function isPlainJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isPlainJson);
  if (typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(value as Record<string, unknown>).every((v) => v === undefined || isPlainJson(v));
}
