import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import {
  backendModuleFile,
  findBackendModule,
  installedBackendSettings,
  installedBackendSettingsDeps,
  knownBackends,
  registeredBackend,
  settingsSchemaOf,
  type BackendSettings,
} from '../backend-module.js';
import { cacheSlot, readCache, referencedVariables, writeCache, type CacheSlot, type ConfigCacheOptions } from './cache.js';
import { InvalidConfigError, describeValue } from '../errors.js';
import { DEFAULT_MAX_VALUE_BYTES } from '../validate.js';
import { substituteEnv } from './env.js';
import {
  COMMON_SETTINGS,
  DEFAULT_BACKEND,
  FIRST_PARTY_SETTING_NAMES,
  configSchemas,
  isBackendSpec,
  type BackendName,
  type CommunicationConfigInput,
  type Settings,
} from './schema.js';

// yaml is loaded when a file is read, not when core is imported (start-up cost of the CLI);
// required so that loadConfig() stays synchronous (yaml ships a CommonJS build).
const require = createRequire(import.meta.url);
let yamlModule: typeof import('yaml') | undefined;
function yaml(): typeof import('yaml') {
  return (yamlModule ??= require('yaml') as typeof import('yaml'));
}

/** The file `openState()` looks for, walking up from the working directory. */
export const CONFIG_FILE_NAME = 'project.yml';
/** Default connect timeout (spec: 5 s). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** Default lock lease (spec: 30 s); `lock_timeout` (seconds) changes it. */
export const DEFAULT_LOCK_TTL_MS = 30_000;

/** A validated configuration, with defaults applied and relative paths made absolute. */
export interface ResolvedConfig {
  /** `communication.backend` as written (a short name or a package name); default `file`. */
  backend: BackendName;
  namespace: string;
  /** Core's common settings and the configured backend's, checked by its module (defaults applied). */
  settings: Settings;
  /** Where it came from: the project.yml path, `config` (an object) or `defaults`. */
  source: string;
  /** Relative paths in settings are resolved against this directory. */
  baseDir: string;
  maxValueBytes: number;
  connectTimeoutMs: number;
  /** Default `ttlMs` of `lock()`. */
  lockTtlMs: number;
}

/** Where to take the configuration from. */
export interface LoadConfigOptions {
  /** The `communication` block as an object; skips project.yml. */
  config?: CommunicationConfigInput;
  /** An explicit project.yml path; it must exist. */
  configFile?: string;
  /** Where the upward search for project.yml starts; default `process.cwd()`. */
  cwd?: string;
  /** Environment for `${VAR}` and `COMMUNICATION_BACKEND`; default `process.env`. */
  env?: Record<string, string | undefined>;
  /**
   * Keep the resolved config of a project.yml in the validated-config cache (see
   * {@link ConfigCacheOptions}), so an unchanged project skips YAML and zod; `true` for the
   * default directory. Off by default; `AGENT_STATE_CONFIG_CACHE=off` in `env` turns it off.
   * Modules given to `registerBackend` are not files the cache can watch: list the code that
   * registers them in `deps`.
   */
  cache?: boolean | ConfigCacheOptions;
}

/** Finds project.yml in `cwd` or the nearest parent directory. */
export function findConfigFile(cwd: string): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, CONFIG_FILE_NAME);
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Loads, substitutes, validates and resolves the configuration. The settings are checked by
 * core (its common ones) and by the configured backend's module, found synchronously: registered
 * (see `registerBackend`), or required from its installed package. Keys of another backend are
 * checked by its module when that module is loaded in this process or is an installed first-party
 * package with a `./settings` export, and otherwise accepted when they are first-party setting
 * names (a seed `project.yml` mixes every backend's keys). Any other key is an error.
 *
 * @throws InvalidConfigError naming the file, the field and the value, before any I/O.
 */
export function loadConfig(options: LoadConfigOptions = {}): ResolvedConfig {
  const file = readConfigFile(options);
  const slot = slotOf(options, file);
  const hit = slot && readCache<ResolvedConfig>(slot);
  if (hit) return hit;
  const deps: string[] = [];
  const found = parseCommunication(file);
  const resolved = resolveCommunication(found, deps);
  if (slot) writeCache(slot, resolved, deps, referencedVariables(stringsOf(found.input)));
  return resolved;
}

const LOAD_MODULE = fileURLToPath(import.meta.url);

/** Every string inside a parsed value (keys included). */
function* stringsOf(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const v of value) yield* stringsOf(v);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      yield k;
      yield* stringsOf(v);
    }
  }
}

function slotOf(options: LoadConfigOptions, file: ConfigFile): CacheSlot | undefined {
  if (!options.cache || file.text === undefined) return undefined;
  const cache = options.cache === true ? {} : options.cache;
  return cacheSlot({ ...cache, deps: [LOAD_MODULE, ...(cache.deps ?? [])] }, file.source, file.text, file.env);
}

/** Where a configuration was found, before any check of its settings. */
export interface ConfiguredBackend {
  /** `communication.backend` after `${VAR}` and `COMMUNICATION_BACKEND`; default `file`. */
  backend: BackendName;
  /** The project.yml path, `config` or `defaults`. */
  source: string;
  /** The project directory (where project.yml is, or the cwd). */
  baseDir: string;
}

/**
 * Which backend the configuration names, without loading it or checking the settings (so a
 * caller can load or register its module first). Reads and parses project.yml like `loadConfig()`.
 *
 * @throws InvalidConfigError for an unreadable file, bad YAML, or a malformed `backend`.
 */
export function configuredBackend(options: LoadConfigOptions = {}): ConfiguredBackend {
  const file = readConfigFile(options);
  const slot = slotOf(options, file);
  const hit = slot && readCache<ResolvedConfig>(slot);
  if (hit) return { backend: hit.backend, source: hit.source, baseDir: hit.baseDir };
  const found = parseCommunication(file);
  const prepared = prepare(found);
  const backend = prepared.raw['backend'];
  if (backend !== undefined && (typeof backend !== 'string' || !isBackendSpec(backend))) {
    throw new InvalidConfigError(found.source, 'communication.backend', `expected ${BACKEND_EXPECTED}, got ${describeValue(backend)}`);
  }
  return { backend: (backend as string | undefined) ?? DEFAULT_BACKEND, source: found.source, baseDir: found.baseDir };
}

interface FoundCommunication {
  input: unknown;
  source: string;
  baseDir: string;
  env: Record<string, string | undefined>;
}

/** A project.yml read (not parsed), or the `config` object, or the defaults. */
interface ConfigFile {
  /** The `config` object, when given. */
  input?: unknown;
  /** The file's text, when there is a file. */
  text?: string;
  source: string;
  baseDir: string;
  env: Record<string, string | undefined>;
}

function readConfigFile(options: LoadConfigOptions): ConfigFile {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;

  if (options.config !== undefined) return { input: options.config, source: 'config', baseDir: cwd, env };
  const file = options.configFile !== undefined ? resolve(cwd, options.configFile) : findConfigFile(cwd);
  if (file === undefined) return { input: {}, source: 'defaults', baseDir: cwd, env };
  try {
    return { text: readFileSync(file, 'utf8'), source: file, baseDir: dirname(file), env };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? String(error)})`;
    throw new InvalidConfigError(file, '', problem, { cause: error });
  }
}

function parseCommunication({ input, text, source: file, baseDir, env }: ConfigFile): FoundCommunication {
  if (text === undefined) return { input, source: file, baseDir, env };
  const doc = yaml().parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new InvalidConfigError(file, '', `not valid YAML: ${doc.errors[0]?.message ?? 'parse error'}`);
  }
  const root: unknown = doc.toJS();
  if (root !== null && root !== undefined && (typeof root !== 'object' || Array.isArray(root))) {
    throw new InvalidConfigError(file, '', `expected a YAML mapping at the top level, got ${describeValue(root)}`);
  }
  const communication = (root as Record<string, unknown> | null)?.['communication'] ?? {};
  return { input: communication, source: file, baseDir, env };
}

const BACKEND_EXPECTED = 'a backend name (file, sqlite, redis, … for @agent-state/backend-<name>; memory; or a package named in full)';

interface Prepared {
  /** The block with `${VAR}` filled in and `COMMUNICATION_BACKEND` applied. */
  raw: Record<string, unknown>;
  /** Settings with `${VAR}` filled in (values still text). */
  settings: Record<string, unknown>;
  /** Settings whose value came from substitution (typed later, by the setting's schema). */
  substituted: Set<string>;
  /** Settings naming unset variables without a default. */
  unresolved: Map<string, string[]>;
}

function prepare({ input, source, env }: FoundCommunication): Prepared {
  const fail = (path: string, problem: string): never => {
    throw new InvalidConfigError(source, path, problem);
  };
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    fail('communication', `expected a mapping, got ${describeValue(input)}`);
  }
  const raw = { ...(input as Record<string, unknown>) };
  const settingsIn = raw['settings'];
  const isMapping = settingsIn !== null && typeof settingsIn === 'object' && !Array.isArray(settingsIn);
  const settings: Record<string, unknown> = isMapping ? { ...(settingsIn as Record<string, unknown>) } : {};

  const unresolved = new Map<string, string[]>();
  const substituted = new Set<string>();
  for (const key of ['backend', 'namespace'] as const) {
    if (typeof raw[key] === 'string') {
      const sub = substituteEnv(raw[key], env);
      if (sub.missing.length > 0) fail(`communication.${key}`, missingMessage(sub.missing));
      raw[key] = sub.text;
    }
  }
  for (const [name, value] of Object.entries(settings)) {
    if (typeof value !== 'string') continue;
    const sub = substituteEnv(value, env);
    if (sub.missing.length > 0) unresolved.set(name, sub.missing);
    if (sub.substituted) substituted.add(name);
    settings[name] = sub.text;
  }
  if (isMapping) raw['settings'] = settings;

  const override = env['COMMUNICATION_BACKEND'];
  if (override !== undefined && override !== '') {
    if (!isBackendSpec(override)) {
      throw new InvalidConfigError('environment', 'COMMUNICATION_BACKEND', `expected ${BACKEND_EXPECTED}, got ${JSON.stringify(override)}`);
    }
    raw['backend'] = override;
  }
  return { raw, settings, substituted, unresolved };
}

interface Problem {
  path: string;
  problem: string;
}

/** Resolves the block; `deps` receives the files the result depends on beyond project.yml (for the cache). */
function resolveCommunication(found: FoundCommunication, deps: string[]): ResolvedConfig {
  const { source, baseDir } = found;
  const fail = (problems: Problem[]): never => {
    const first = problems[0] ?? { path: 'communication', problem: 'invalid' };
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more: ${problems.slice(1).map((m) => `${m.path}: ${m.problem}`).join('; ')})` : '';
    throw new InvalidConfigError(source, first.path, first.problem + more);
  };
  const { raw, settings, substituted, unresolved } = prepare(found);

  const parsed = configSchemas().communication.safeParse(raw);
  if (!parsed.success) fail(parsed.error.issues.map((issue) => blockIssue(issue, raw)));
  const data = parsed.data as { backend?: BackendName; namespace?: string };
  const backend = data.backend ?? DEFAULT_BACKEND;
  const module = findBackendModule(backend, baseDir, source);
  const moduleFile = backendModuleFile(module);
  if (moduleFile !== undefined) deps.push(moduleFile);

  const own = settingsSchemaOf(module);
  const common = configSchemas().common;
  const loaded: BackendSettings[] = knownBackends().filter((m) => m !== module && m !== registeredBackend('memory'));
  let others: BackendSettings[] | undefined;
  // Keys of other backends are checked by their modules: the loaded ones, and the settings half of
  // every installed first-party package (looked for only when such keys are present).
  const othersFor = (): BackendSettings[] => {
    if (others) return others;
    others = [...loaded, ...installedBackendSettings(baseDir).filter((d) => d.name !== module.name && !loaded.some((m) => m.name === d.name))];
    deps.push(...installedBackendSettingsDeps(baseDir));
    for (const m of loaded) {
      const file = backendModuleFile(m);
      if (file !== undefined) deps.push(file);
    }
    return others;
  };
  const problems: Problem[] = [];
  const commonIn: Record<string, unknown> = {};
  const ownIn: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  const at = (name: string) => `communication.settings.${name}`;

  for (const [name, value] of Object.entries(settings)) {
    const isCommon = (COMMON_SETTINGS as readonly string[]).includes(name);
    const ownField = fieldOf(own, name);
    const vars = unresolved.get(name);
    if (vars) {
      // Another backend's unset secret does not stop this backend's users.
      if (isCommon || ownField) problems.push({ path: at(name), problem: missingMessage(vars) });
      continue;
    }
    if (isCommon) {
      commonIn[name] = typed(fieldOf(common, name), value, substituted.has(name));
      continue;
    }
    if (ownField) {
      ownIn[name] = typed(ownField, value, substituted.has(name));
      continue;
    }
    const other = othersFor()
      .map((m) => ({ m, field: fieldOf(settingsSchemaOf(m), name) }))
      .find((o) => o.field);
    if (other?.field) {
      const result = other.field.safeParse(typed(other.field, value, substituted.has(name)));
      if (result.success) rest[name] = pathed(other.m, name, result.data, baseDir);
      else problems.push(...settingIssues(result.error.issues, settings, [name]));
      continue;
    }
    if (FIRST_PARTY_SETTING_NAMES.includes(name)) {
      rest[name] = value;
      continue;
    }
    problems.push({
      path: at(name),
      problem: `unknown key (expected a setting of the ${backend} backend or core's ${COMMON_SETTINGS.join(', ')}; see the project.yml reference of the README)`,
    });
  }
  const commonOut = common.safeParse(commonIn);
  if (!commonOut.success) problems.push(...settingIssues(commonOut.error.issues, commonIn, []));
  const ownOut = own.safeParse(ownIn);
  if (!ownOut.success) problems.push(...settingIssues(ownOut.error.issues, ownIn, []));
  if (problems.length > 0 || !commonOut.success || !ownOut.success) return fail(problems);

  const mine: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(ownOut.data)) mine[name] = pathed(module, name, value, baseDir);
  const resolved: Settings = { ...rest, ...(commonOut.data as Settings), ...mine };

  return {
    backend,
    namespace: data.namespace ?? 'default',
    settings: resolved,
    source,
    baseDir,
    maxValueBytes: resolved.max_value_bytes ?? DEFAULT_MAX_VALUE_BYTES,
    connectTimeoutMs: resolved.connect_timeout_ms ?? DEFAULT_CONNECT_TIMEOUT_MS,
    lockTtlMs: resolved.lock_timeout !== undefined ? Math.round(resolved.lock_timeout * 1000) : DEFAULT_LOCK_TTL_MS,
  };
}

/** The schema of one key of a module's settings object, if it has that key. */
function fieldOf(schema: z.ZodObject, name: string): z.ZodType | undefined {
  return Object.hasOwn(schema.shape, name) ? (schema.shape[name] as z.ZodType) : undefined;
}

/** A relative path setting of `module`, resolved against the project directory. */
function pathed(module: BackendSettings, name: string, value: unknown, baseDir: string): unknown {
  return module.paths?.includes(name) && typeof value === 'string' && !isAbsolute(value) ? resolve(baseDir, value) : value;
}

function missingMessage(vars: string[]): string {
  return `environment variable ${vars.join(', ')} is not set (write \${${vars[0]}:-default} to give a default)`;
}

/**
 * A value produced by `${VAR}` is text; when the setting's schema rejects the text, it is typed as
 * YAML would have typed it (`true`/`false`, numbers), so `redis_port: "${PORT}"` is a number.
 */
function typed(schema: z.ZodType | undefined, value: unknown, wasSubstituted: boolean): unknown {
  if (!wasSubstituted || typeof value !== 'string' || schema === undefined) return value;
  if (schema.safeParse(value).success) return value;
  if (value === 'true' || value === 'false') return value === 'true';
  return /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
}

/** Setting issues as problems: `communication.settings.<key>: expected …, got <value>`. */
function settingIssues(issues: readonly z.core.$ZodIssue[], input: Record<string, unknown>, prefix: string[]): Problem[] {
  return issues.map((issue) => {
    const segments = [...prefix, ...issue.path.map(String)];
    const path = ['communication', 'settings', ...segments].join('.');
    if (issue.code === 'custom') return { path, problem: issue.message };
    const got = valueAt(input, segments);
    return { path, problem: `${issue.message}, got ${got === undefined ? 'nothing' : describeValue(got)}` };
  });
}

function blockIssue(issue: z.core.$ZodIssue, raw: Record<string, unknown>): Problem {
  const segments = issue.path.map(String);
  const path = ['communication', ...segments].join('.');
  const got = valueAt(raw, segments);
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    return { path: `${path}.${key}`, problem: 'unknown key (expected one of backend, namespace, settings)' };
  }
  const field = segments[0] ?? '';
  let expected: string;
  if (field === 'backend') expected = BACKEND_EXPECTED;
  else if (field === 'namespace') {
    expected = 'a name of 1 to 128 characters of A-Z a-z 0-9 . _ - : @ + = , (not "." or "..")';
  } else if (field === 'settings') expected = 'a mapping of settings';
  else expected = issue.message;
  return { path, problem: `expected ${expected}, got ${got === undefined ? 'nothing' : describeValue(got)}` };
}

function valueAt(root: unknown, segments: string[]): unknown {
  let node = root;
  for (const s of segments) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[s];
  }
  return node;
}
