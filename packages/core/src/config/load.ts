import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { z } from 'zod';
import { InvalidConfigError, describeValue } from '../errors.js';
import { DEFAULT_MAX_VALUE_BYTES } from '../validate.js';
import { substituteEnv } from './env.js';
import {
  BACKEND_NAMES,
  EXPECTATION,
  configSchemas,
  settingChoices,
  settingKind,
  settingOwner,
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
  backend: BackendName;
  namespace: string;
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

/** Loads, substitutes, validates and resolves the configuration. Throws `InvalidConfigError`. */
export function loadConfig(options: LoadConfigOptions = {}): ResolvedConfig {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;

  if (options.config !== undefined) {
    return resolveCommunication(options.config, 'config', cwd, env);
  }
  const file = options.configFile !== undefined ? resolve(cwd, options.configFile) : findConfigFile(cwd);
  if (file === undefined) return resolveCommunication({}, 'defaults', cwd, env);

  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? String(error)})`;
    throw new InvalidConfigError(file, '', problem, { cause: error });
  }
  const doc = yaml().parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new InvalidConfigError(file, '', `not valid YAML: ${doc.errors[0]?.message ?? 'parse error'}`);
  }
  const root: unknown = doc.toJS();
  if (root !== null && root !== undefined && (typeof root !== 'object' || Array.isArray(root))) {
    throw new InvalidConfigError(file, '', `expected a YAML mapping at the top level, got ${describeValue(root)}`);
  }
  const communication = (root as Record<string, unknown> | null)?.['communication'] ?? {};
  return resolveCommunication(communication, file, dirname(file), env);
}

function resolveCommunication(
  input: unknown,
  source: string,
  baseDir: string,
  env: Record<string, string | undefined>,
): ResolvedConfig {
  const fail = (path: string, problem: string): never => {
    throw new InvalidConfigError(source, path, problem);
  };
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    fail('communication', `expected a mapping, got ${describeValue(input)}`);
  }
  const raw = { ...(input as Record<string, unknown>) };
  const settingsIn = raw['settings'];
  const settings: Record<string, unknown> =
    settingsIn && typeof settingsIn === 'object' && !Array.isArray(settingsIn) ? { ...settingsIn } : {};

  // ${VAR} substitution: top-level strings, then settings (typed by the settings table).
  const unresolved = new Map<string, string[]>();
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
    settings[name] = sub.substituted ? coerce(name, sub.text) : sub.text;
  }
  if (settingsIn && typeof settingsIn === 'object' && !Array.isArray(settingsIn)) raw['settings'] = settings;

  const override = env['COMMUNICATION_BACKEND'];
  if (override !== undefined && override !== '') {
    if (!(BACKEND_NAMES as readonly string[]).includes(override)) {
      throw new InvalidConfigError(
        'environment',
        'COMMUNICATION_BACKEND',
        `expected one of ${BACKEND_NAMES.join(', ')}, got ${JSON.stringify(override)}`,
      );
    }
    raw['backend'] = override;
  }

  const parsed = configSchemas().communication.safeParse(raw);
  if (!parsed.success) {
    const messages = parsed.error.issues.map((issue) => issueMessage(issue, raw));
    const first = messages[0] ?? { path: 'communication', problem: 'invalid' };
    const more = messages.length > 1 ? ` (and ${messages.length - 1} more: ${messages.slice(1).map((m) => `${m.path}: ${m.problem}`).join('; ')})` : '';
    fail(first.path, first.problem + more);
  }
  const data = parsed.data as { backend?: BackendName; namespace?: string; settings?: Settings | null };
  const backend = data.backend ?? 'file';
  const resolved: Settings = { ...(data.settings ?? {}) };

  for (const [name, vars] of unresolved) {
    const owner = settingOwner(name);
    if (owner === backend || owner === 'common') fail(`communication.settings.${name}`, missingMessage(vars));
    delete (resolved as Record<string, unknown>)[name];
  }
  for (const name of Object.keys(resolved) as (keyof Settings)[]) {
    const value = resolved[name];
    if (settingKind(name) === 'path' && typeof value === 'string' && !isAbsolute(value)) {
      (resolved as Record<string, unknown>)[name] = resolve(baseDir, value);
    }
  }
  if (backend === 'firebase' && !resolved.project_id && !resolved.database_url) {
    fail('communication.settings.project_id', 'the firebase backend needs project_id or database_url, got neither');
  }

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

function missingMessage(vars: string[]): string {
  return `environment variable ${vars.join(', ')} is not set (write \${${vars[0]}:-default} to give a default)`;
}

/** A value produced by `${VAR}` is text; type it as YAML would have typed the setting. */
function coerce(name: string, text: string): unknown {
  const kind = settingKind(name);
  if (kind === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  if (kind === 'positive' || kind === 'positiveInt' || kind === 'count' || kind === 'port') {
    return /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text;
  }
  return text;
}

function issueMessage(issue: z.core.$ZodIssue, raw: Record<string, unknown>): { path: string; problem: string } {
  const segments = issue.path.map(String);
  const path = ['communication', ...segments].join('.');
  const got = valueAt(raw, segments);
  if (issue.code === 'unrecognized_keys') {
    const where = segments.length === 0 ? 'communication' : path;
    const allowed =
      segments.length === 0
        ? 'backend, namespace, settings'
        : 'the settings listed in the project.yml reference of the README';
    const key = issue.keys[0] ?? '';
    return { path: `${where}.${key}`, problem: `unknown key (expected one of ${allowed})` };
  }
  const field = segments[segments.length - 1] ?? '';
  let expected: string;
  if (segments.length === 1 && field === 'backend') expected = `one of ${BACKEND_NAMES.join(', ')}`;
  else if (segments.length === 1 && field === 'namespace') {
    expected = 'a name of 1 to 128 characters of A-Z a-z 0-9 . _ - : @ + = , (not "." or "..")';
  } else if (segments.length === 1 && field === 'settings') expected = 'a mapping of settings';
  else {
    const choices = settingChoices(field);
    const kind = settingKind(field);
    expected = choices ? `one of ${choices.join(', ')}` : kind ? EXPECTATION[kind] : issue.message;
  }
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
