/**
 * Backend modules: what a backend package exports so that `project.yml` can name it, and how
 * core finds one (`backend: <name>` is the package `@agent-state/backend-<name>`; any package may
 * be named in full, `backend: "@acme/agent-state-backend-x"`).
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z as Zod } from 'zod';
import type { ResolvedConfig } from './config/load.js';
import { settingTypes, zod, type SettingTypes, type ZodApi } from './config/zod.js';
import { InvalidConfigError } from './errors.js';
import { createMemoryBackend } from './memory/memory-backend.js';
import type { CommunicationBackend } from './types.js';

/** What {@link BackendModule.create} receives besides its settings: the whole resolved config. */
export type BackendContext = ResolvedConfig;

/**
 * The zod object schema of a backend's own settings, or a function that builds it from core's
 * zod and the {@link SettingTypes} builders (so that zod is only loaded when a config is checked).
 */
export type SettingsSchema = Zod.ZodObject | ((z: ZodApi, types: SettingTypes) => Zod.ZodObject);

/**
 * The settings half of a backend module: its name, the schema of its keys and which are paths.
 * A backend package may export it alone, with no runtime imports, as the subpath
 * `<package>/settings` (`export const backendSettings = { … }`): core then checks that backend's
 * keys in a `project.yml` configured for another backend without loading the backend itself.
 */
export interface BackendSettings {
  /** The short name (`redis`). */
  name: string;
  /** See {@link BackendModule.settings}. */
  settings: SettingsSchema;
  /** See {@link BackendModule.paths}. */
  paths?: readonly string[];
}

/**
 * What a backend package exports (as `backendModule`, or as its default export) so that
 * `openState()` can open it from `project.yml`.
 *
 * @example
 * export const backendModule = defineBackend({
 *   name: 'x',
 *   settings: (z, t) => z.object({ x_url: t.url().optional() }),
 *   create: (settings, context) => new XBackend(settings.x_url ?? 'x://localhost', context.connectTimeoutMs),
 * });
 */
export interface BackendModule<S = Record<string, unknown>> extends BackendSettings {
  /** The short name (`redis`); `backend.name` of what {@link create} returns. */
  name: string;
  /**
   * The schema of this backend's own keys of `communication.settings` (all optional, or with
   * defaults). Core checks the keys of the configured backend with it, and the keys of every other
   * backend module it has loaded; errors are `InvalidConfigError` naming file, field and value.
   */
  settings: SettingsSchema;
  /** Settings holding paths: relative ones are resolved against the project directory. */
  paths?: readonly string[];
  /**
   * Creates the backend (no I/O: `init()` connects). `settings` holds the validated settings
   * (this module's and core's common ones, defaults applied); `context` is the resolved config
   * (source, project directory, namespace, connect timeout). May throw `InvalidConfigError` for a
   * check the schema cannot make, naming `communication.settings.<name>` and the value.
   */
  create(settings: S, context: BackendContext): CommunicationBackend;
}

/** Types a backend module (identity at run time). */
export function defineBackend<S>(module: BackendModule<S>): BackendModule<S> {
  return module;
}

const schemaCache = new WeakMap<BackendSettings, Zod.ZodObject>();

/** The module's settings schema, built on first use. */
export function settingsSchemaOf(module: BackendSettings): Zod.ZodObject {
  let schema = schemaCache.get(module);
  if (!schema) {
    schema = typeof module.settings === 'function' ? module.settings(zod(), settingTypes()) : module.settings;
    schemaCache.set(module, schema);
  }
  return schema;
}

/** The package `communication.backend: name` means, first in the list, then the others tried. */
export function packageCandidates(name: string): string[] {
  if (name.includes('/')) return [name];
  return [`@agent-state/backend-${name}`, name];
}

/** Core's own in-process backend (tests; nothing persisted, one process). */
export const memoryModule: BackendModule = defineBackend({
  name: 'memory',
  settings: (z) => z.object({}),
  create: () => createMemoryBackend(),
});

const registry = new Map<string, BackendModule<never>>([['memory', memoryModule as BackendModule<never>]]);

/**
 * Makes a module known under its name (and any `aliases`), so `backend: <name>` opens it without
 * importing a package. The CLI does this for the backends it bundles; a test or an application can
 * do it for a backend of its own.
 */
export function registerBackend(module: BackendModule<never>, ...aliases: string[]): void {
  assertModule(module, module?.name ?? 'registerBackend()', 'registerBackend');
  for (const key of [module.name, ...aliases]) registry.set(key, module);
}

/** A module registered or loaded before under `name`, if any. */
export function registeredBackend(name: string): BackendModule<never> | undefined {
  return registry.get(name) ?? (name.startsWith('@agent-state/backend-') ? registry.get(name.slice('@agent-state/backend-'.length)) : undefined);
}

/** Every module known in this process (registered or loaded). */
export function knownBackends(): BackendModule<never>[] {
  return [...new Set(registry.values())];
}

/** Where a backend package was found. */
interface Located {
  pkg: string;
  path: string;
}

/** Resolves the package of `name`, from the project directory first, then from core's own place. */
function locate(name: string, baseDir: string): Located | undefined {
  for (const pkg of packageCandidates(name)) {
    for (const from of [join(baseDir, 'project.yml'), import.meta.url]) {
      try {
        return { pkg, path: createRequire(from).resolve(pkg) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
      }
    }
  }
  return undefined;
}

function notInstalled(name: string, source: string): InvalidConfigError {
  const pkg = packageCandidates(name)[0] as string;
  return new InvalidConfigError(source, 'communication.backend', `the ${name} backend needs the package ${pkg}: run \`npm install ${pkg}\``);
}

/**
 * Finds the module of `name` synchronously (for `loadConfig()`): registered, or required from the
 * installed package (Node's `require()` of an ES module). `InvalidConfigError` when no package
 * is installed.
 */
export function findBackendModule(name: string, baseDir: string, source: string): BackendModule<never> {
  const known = registeredBackend(name);
  if (known) return known;
  const found = locate(name, baseDir);
  if (!found) throw notInstalled(name, source);
  const cached = required.get(found.path);
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  let ns: unknown;
  try {
    ns = require(found.path);
  } catch (error) {
    throw new InvalidConfigError(source, 'communication.backend', `cannot load ${found.pkg}: ${(error as Error).message} (open it with openState() or loadBackendModule(), which import it)`, { cause: error });
  }
  const module = moduleOf(ns, found.pkg, source);
  required.set(found.path, module);
  moduleFiles.set(module, found.path);
  return module;
}

/** The file each module was required or imported from (modules given to `registerBackend` have none). */
const moduleFiles = new WeakMap<BackendSettings, string>();

/** The file `module` was loaded from by `findBackendModule` or `loadBackendModule`, if it was. */
export function backendModuleFile(module: BackendSettings): string | undefined {
  return moduleFiles.get(module);
}

/**
 * Modules `require()`d for `loadConfig()`. Kept apart from the registry, which only `import()`
 * and `registerBackend` fill: under Node both give the same module instance, but a test runner
 * with its own module graph (vitest) would otherwise hand `openState()` a second copy of the
 * backend and of core, whose error classes the caller's `instanceof` does not know.
 */
const required = new Map<string, BackendModule<never>>();

/**
 * Finds the module of `name` with `import()`: registered, or imported from the installed package
 * (resolved from `baseDir`, then from core). `InvalidConfigError` when no package is installed or
 * it exports no backend module.
 */
export async function loadBackendModule(name: string, baseDir = process.cwd(), source = 'config'): Promise<BackendModule<never>> {
  const known = registeredBackend(name);
  if (known) return known;
  const found = locate(name, baseDir);
  if (!found) throw notInstalled(name, source);
  const ns: unknown = await import(pathToFileURL(found.path).href);
  const module = registeredBackend(name) ?? remember(name, moduleOf(ns, found.pkg, source));
  if (!moduleFiles.has(module)) moduleFiles.set(module, found.path);
  return module;
}

function remember(name: string, module: BackendModule<never>): BackendModule<never> {
  registry.set(name, module);
  return module;
}

/**
 * The backend module a package's namespace exports: `backendModule`, the default export, the
 * namespace itself (`name`, `settings`, `create` as named exports), or (older shapes) a bare
 * `createBackend(config)` or `create(settings, config)`, wrapped with no settings of their own.
 */
export function moduleOf(ns: unknown, pkg: string, source: string): BackendModule<never> {
  const exports = (ns ?? {}) as Record<string, unknown>;
  for (const candidate of [exports['backendModule'], exports['default'], exports]) {
    if (isModule(candidate)) return candidate;
  }
  const legacy = exports['createBackend'];
  if (typeof legacy === 'function') {
    return defineBackend<Record<string, unknown>>({
      name: pkg,
      settings: (z) => z.object({}),
      create: (_settings, context) => (legacy as (c: ResolvedConfig) => CommunicationBackend)(context),
    }) as BackendModule<never>;
  }
  const bare = exports['create'];
  if (typeof bare === 'function') {
    return defineBackend<Record<string, unknown>>({
      name: pkg,
      settings: (z) => z.object({}),
      create: (settings, context) => (bare as (s: unknown, c: ResolvedConfig) => CommunicationBackend)(settings, context),
    }) as BackendModule<never>;
  }
  throw new InvalidConfigError(source, 'communication.backend', `${pkg} exports no backend module (expected \`backendModule\` or a default export { name, settings, create })`);
}

function isModule(value: unknown): value is BackendModule<never> {
  if (value === null || typeof value !== 'object') return false;
  const m = value as Partial<BackendModule>;
  return typeof m.name === 'string' && typeof m.create === 'function' && (typeof m.settings === 'function' || typeof m.settings === 'object');
}

function assertModule(module: unknown, name: string, source: string): void {
  if (!isModule(module)) throw new InvalidConfigError(source, name, 'expected a backend module { name, settings, create }');
}

/** First-party packages are the ones of this scope whose name starts with `backend-`. */
const FIRST_PARTY_SCOPE = '@agent-state';
const discovered = new Map<string, BackendSettings[]>();

/**
 * The settings halves of the first-party backend packages installed where `baseDir` (then core)
 * resolves packages: every `@agent-state/backend-*` directory of those `node_modules` whose
 * package exports `./settings`. Cheap: a directory listing and one small file per backend, and
 * only asked for when a `project.yml` holds keys its configured backend does not own.
 */
export function installedBackendSettings(baseDir: string): BackendSettings[] {
  const cached = discovered.get(baseDir);
  if (cached) return cached;
  const found = new Map<string, BackendSettings>();
  const probe = `${FIRST_PARTY_SCOPE}/backend-probe`;
  const dirs = [...(createRequire(join(baseDir, 'project.yml')).resolve.paths(probe) ?? []), ...(createRequire(import.meta.url).resolve.paths(probe) ?? [])];
  const deps: string[] = [];
  for (const dir of new Set(dirs)) {
    let names: string[];
    try {
      names = readdirSync(join(dir, FIRST_PARTY_SCOPE)).filter((n) => n.startsWith('backend-'));
    } catch {
      if (existsSync(dir)) deps.push(dir);
      continue;
    }
    deps.push(dir, join(dir, FIRST_PARTY_SCOPE));
    for (const name of names) {
      const pkg = `${FIRST_PARTY_SCOPE}/${name}`;
      if (found.has(pkg)) continue;
      try {
        const require = createRequire(join(dir, 'noop.js'));
        const file = require.resolve(`${pkg}/settings`);
        const ns = require(file) as Record<string, unknown>;
        const descriptor = [ns['backendSettings'], ns['default']].find(isSettings);
        if (descriptor) {
          found.set(pkg, descriptor);
          deps.push(file);
        }
      } catch {
        // No `./settings` export (or it does not load): that backend's keys are accepted by name.
      }
    }
  }
  const list = [...found.values()];
  discovered.set(baseDir, list);
  discoveredDeps.set(baseDir, deps);
  return list;
}

const discoveredDeps = new Map<string, string[]>();

/**
 * What {@link installedBackendSettings} of `baseDir` looked at: the node_modules and scope
 * directories it listed (a backend installed or removed changes them) and the settings files it
 * loaded. Empty before the first call.
 */
export function installedBackendSettingsDeps(baseDir: string): string[] {
  return discoveredDeps.get(baseDir) ?? [];
}

function isSettings(value: unknown): value is BackendSettings {
  if (value === null || typeof value !== 'object') return false;
  const m = value as Partial<BackendSettings>;
  return typeof m.name === 'string' && (typeof m.settings === 'function' || typeof m.settings === 'object');
}
