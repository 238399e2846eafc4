// Backend modules and project.yml: core checks its common settings, the configured backend's
// module checks its own keys, first-party names stay accepted when their backend is not loaded,
// and a backend may be any package named in full (a real package in a real node_modules).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidConfigError, loadConfig, openState } from '../src/index.js';
import { loadBackendModule, registeredBackend } from '../src/backend.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const MEMO = '@acme/agent-state-backend-memo';

// A project with the fixture package installed in its own node_modules, made for this run (a
// symlink, as npm links a local package, so the fixture's own imports resolve from the repo).
const THIRD_PARTY = mkdtempSync(join(tmpdir(), 'agent-state-third-party-'));
mkdirSync(join(THIRD_PARTY, 'node_modules', '@acme'), { recursive: true });
symlinkSync(join(FIXTURES, 'memo-backend'), join(THIRD_PARTY, 'node_modules', MEMO), 'dir');
copyFileSync(join(FIXTURES, 'third-party-project.yml'), join(THIRD_PARTY, 'project.yml'));
afterAll(() => rmSync(THIRD_PARTY, { recursive: true, force: true }));
const ALL_KEYS = join(FIXTURES, 'seed-all-backends.yml');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'agent-state-modules-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The error `fn` throws (sync or async), checked to be a typed config error. */
async function configError(fn: () => unknown): Promise<InvalidConfigError> {
  try {
    await fn();
  } catch (error) {
    // The fixture throws core's error from core's built copy: compare by code, not by class.
    expect((error as InvalidConfigError).code).toBe('INVALID_CONFIG');
    return error as InvalidConfigError;
  }
  throw new Error('expected an InvalidConfigError');
}

describe('a backend named by its full package name', () => {
  it('is imported from the project directory and checks its own settings', async () => {
    const file = join(THIRD_PARTY, 'project.yml');
    await using state = await openState({ configFile: file, env: {} });
    expect(state.backendName).toBe('memo:acme:3');
    expect(state.namespace).toBe('third-party');
    // Now known in this process: loadConfig types its settings (defaults from the module's schema).
    const config = loadConfig({ configFile: file, env: {} });
    expect(config.backend).toBe(MEMO);
    expect(config.settings).toEqual({ memo_label: 'acme', memo_size: 3, lock_timeout: 5 });
    expect(config.lockTtlMs).toBe(5_000);
  });

  it('types ${VAR} values by its own schema', async () => {
    await loadBackendModule(MEMO, THIRD_PARTY);
    const config = loadConfig({ config: { backend: MEMO, settings: { memo_size: '${SIZE}' } }, cwd: THIRD_PARTY, env: { SIZE: '7' } });
    expect(config.settings['memo_size']).toBe(7);
  });

  it("its schema's check names the field and the value", async () => {
    const error = await configError(() => openState({ config: { backend: MEMO, settings: { memo_size: 0 } }, cwd: THIRD_PARTY, env: {} }));
    expect(error.message).toBe('config: communication.settings.memo_size: expected a whole number greater than 0, got 0');
  });

  it("its create()'s own check names the field and the value, before any I/O", async () => {
    const error = await configError(() => openState({ config: { backend: MEMO, settings: { memo_label: 'Not OK' } }, cwd: THIRD_PARTY, env: {} }));
    expect(error.message).toBe('config: communication.settings.memo_label: expected lower-case letters, got "Not OK"');
  });

  it('a key no module and no first-party name knows is an error naming the key', async () => {
    const error = await configError(() =>
      openState({ config: { backend: MEMO, settings: { memo_label: 'ok', memo_lable: 'typo' } }, cwd: THIRD_PARTY, env: {} }),
    );
    expect(error.message).toMatch(/^config: communication\.settings\.memo_lable: unknown key \(expected a setting of the @acme\/agent-state-backend-memo backend/);
  });
});

describe('a seed project.yml with every backend\'s keys', () => {
  it('loads when the configured backend is not first-party; the others are checked by their installed settings halves, none loaded', async () => {
    await loadBackendModule(MEMO, THIRD_PARTY);
    // A copy in a temp dir (no node_modules there): the module is the one loaded above.
    const copy = join(dir, 'project.yml');
    writeFileSync(copy, readFileSync(ALL_KEYS, 'utf8').replace('"${BACKEND:-file}"', `"${MEMO}"`));
    const config = loadConfig({ configFile: copy, env: {} });
    expect(config.backend).toBe(MEMO);
    expect(config.settings).toMatchObject({ redis_port: 6379, project_id: 'agent-conductor-prod', postgres_port: 5432, memo_size: 3 });
    // Another backend's unset secret does not stop this project.
    expect(config.settings).not.toHaveProperty('redis_password');
    // Checked without loading the backends (their `<package>/settings` subpath has no imports).
    for (const name of ['file', 'sqlite', 'redis', 'postgres', 'firebase']) expect(registeredBackend(name)).toBeUndefined();
    writeFileSync(copy, readFileSync(copy, 'utf8').replace('redis_port: 6379', 'redis_port: "many"'));
    const error = await configError(() => loadConfig({ configFile: copy, env: {} }));
    expect(error.message).toBe(`${copy}: communication.settings.redis_port: expected a whole number from 1 to 65535, got "many"`);
    expect(registeredBackend('redis')).toBeUndefined();
  });

  it('loads with each installed first-party backend configured, each checking its own keys', async () => {
    for (const backend of ['file', 'sqlite', 'postgres']) {
      const config = loadConfig({ configFile: ALL_KEYS, env: { BACKEND: backend } });
      expect(config.backend).toBe(backend);
      expect(config.settings).toMatchObject({ backup_count: 5, busy_timeout_ms: 5000, statement_timeout_ms: 30000, connect_timeout_ms: 2000 });
    }
    expect(loadConfig({ configFile: ALL_KEYS, env: {} }).settings['directory']).toBe(join(FIXTURES, 'store'));
    // The configured backend's own unset secret is an error naming it.
    const error = await configError(() => loadConfig({ configFile: ALL_KEYS, env: { BACKEND: 'redis' } }));
    expect(error.message).toBe(`${ALL_KEYS}: communication.settings.redis_password: environment variable REDIS_PASSWORD is not set (write \${REDIS_PASSWORD:-default} to give a default)`);
  });

  it("once a backend's module is loaded, its keys are checked even when another backend is configured", async () => {
    const bad = { backup_count: -1, memo_label: 'x' };
    await loadBackendModule(MEMO, THIRD_PARTY);
    await loadBackendModule('file');
    const error = await configError(() => loadConfig({ config: { backend: MEMO, settings: bad }, cwd: THIRD_PARTY, env: {} }));
    expect(error.message).toBe('config: communication.settings.backup_count: expected a whole number >= 0, got -1');
  });
});

describe("a first-party backend's own checks", () => {
  it('a schema check names the file, the field and the value', async () => {
    const file = join(dir, 'project.yml');
    writeFileSync(file, 'communication:\n  backend: sqlite\n  settings:\n    synchronous: sometimes\n');
    const error = await configError(() => openState({ configFile: file, env: {} }));
    expect(error.message).toBe(`${file}: communication.settings.synchronous: expected one of normal, full, got "sometimes"`);
  });

  it("create()'s check names the field and the value, before any I/O", async () => {
    const error = await configError(() =>
      openState({ config: { backend: 'postgres', settings: { postgres_schema: 'Bad-Schema', postgres_port: 1 } }, env: {} }),
    );
    expect(error.message).toMatch(/^config: communication\.settings\.postgres_schema: expected a lower-case identifier .*, got "Bad-Schema"$/);
  });
});
