import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidConfigError, loadBackend, loadConfig, openState } from '../src/index.js';

// A verbatim copy of shared/examples/project.yml (the seed plan's config), kept in the repo so
// the test runs anywhere; where shared/ sits beside the checkout, the copy is checked against it.
const SEED_EXAMPLE = join(import.meta.dirname, 'fixtures/seed-project.yml');
const SHARED_EXAMPLE = join(import.meta.dirname, '../../../../shared/examples/project.yml');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'agent-state-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeYaml(text: string, name = 'project.yml'): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function configError(fn: () => unknown): InvalidConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfigError);
    return error as InvalidConfigError;
  }
  throw new Error('expected an InvalidConfigError');
}

describe('project.yml', () => {
  it("the seed plan's example project.yml loads verbatim", () => {
    if (existsSync(SHARED_EXAMPLE)) expect(readFileSync(SEED_EXAMPLE, 'utf8')).toBe(readFileSync(SHARED_EXAMPLE, 'utf8'));
    const file = writeYaml(readFileSync(SEED_EXAMPLE, 'utf8'));
    const config = loadConfig({ configFile: file, env: {} });
    expect(config.backend).toBe('file');
    expect(config.namespace).toBe('default');
    expect(config.settings.lock_timeout).toBe(30);
    expect(config.settings.backup_count).toBe(5);
    expect(config.settings.redis_port).toBe(6379);
    expect(config.settings.database_path).toBe('/var/lib/agent-conductor/state.db');
    expect(config.lockTtlMs).toBe(30_000);
    expect(config.source).toBe(file);
  });

  it('is found by walking up from the working directory, and relative paths resolve against it', () => {
    writeYaml('communication:\n  backend: sqlite\n  namespace: team-a\n  settings:\n    database_path: data/state.db\n');
    const deep = join(dir, 'a', 'b');
    mkdirSync(deep, { recursive: true });
    const config = loadConfig({ cwd: deep, env: {} });
    expect(config.backend).toBe('sqlite');
    expect(config.namespace).toBe('team-a');
    expect(config.settings.database_path).toBe(join(dir, 'data/state.db'));
  });

  it('without a project.yml the file backend is used', () => {
    const config = loadConfig({ cwd: dir, env: {} });
    expect(config.backend).toBe('file');
    expect(config.source).toBe('defaults');
    expect(config.connectTimeoutMs).toBe(5_000);
  });

  it('${VAR} and ${VAR:-default} are read from the environment and typed like the setting', () => {
    const file = writeYaml(
      'communication:\n  backend: redis\n  settings:\n    redis_host: "${HOST:-localhost}"\n    redis_port: "${PORT}"\n    redis_password: "${REDIS_PASSWORD}"\n    redis_tls: ${TLS:-false}\n',
    );
    const config = loadConfig({ configFile: file, env: { PORT: '6380', REDIS_PASSWORD: 's3cret' } });
    expect(config.settings).toMatchObject({ redis_host: 'localhost', redis_port: 6380, redis_password: 's3cret', redis_tls: false });
  });

  it('an unset variable without a default is an error naming it when the selected backend reads it', () => {
    const file = writeYaml('communication:\n  backend: redis\n  settings:\n    redis_password: "${REDIS_PASSWORD}"\n');
    const error = configError(() => loadConfig({ configFile: file, env: {} }));
    expect(error.message).toBe(
      `${file}: communication.settings.redis_password: environment variable REDIS_PASSWORD is not set (write \${REDIS_PASSWORD:-default} to give a default)`,
    );
    // Another backend's unset secret does not stop a file-backend user.
    const other = writeYaml('communication:\n  backend: file\n  settings:\n    redis_password: "${REDIS_PASSWORD}"\n', 'other.yml');
    expect(loadConfig({ configFile: other, env: {} }).settings.redis_password).toBeUndefined();
  });

  it('COMMUNICATION_BACKEND overrides the backend, and a bad one is named', () => {
    const file = writeYaml('communication:\n  backend: file\n');
    expect(loadConfig({ configFile: file, env: { COMMUNICATION_BACKEND: 'memory' } }).backend).toBe('memory');
    const error = configError(() => loadConfig({ configFile: file, env: { COMMUNICATION_BACKEND: 'Mongo DB' } }));
    expect(error.message).toMatch(/^environment: COMMUNICATION_BACKEND: expected a backend name .*, got "Mongo DB"$/);
    // A well-formed name whose package is not installed says which package to install.
    const missing = configError(() => loadConfig({ configFile: file, env: { COMMUNICATION_BACKEND: 'mongo' } }));
    expect(missing.message).toBe(`${file}: communication.backend: the mongo backend needs the package @agent-state/backend-mongo: run \`npm install @agent-state/backend-mongo\``);
  });

  describe('a bad project.yml names the file, the path and the expectation', () => {
    const cases: [string, string, string][] = [
      [
        'a wrong type',
        'communication:\n  backend: redis\n  settings:\n    redis_port: "abc"\n',
        'communication.settings.redis_port: expected a whole number from 1 to 65535, got "abc"',
      ],
      [
        'an out-of-range number',
        'communication:\n  backend: redis\n  settings:\n    redis_port: 70000\n',
        'communication.settings.redis_port: expected a whole number from 1 to 65535, got 70000',
      ],
      [
        'a negative duration',
        'communication:\n  settings:\n    lock_timeout: -3\n',
        'communication.settings.lock_timeout: expected a number greater than 0, got -3',
      ],
      [
        'an unknown setting',
        'communication:\n  settings:\n    redis_prot: 6379\n',
        'communication.settings.redis_prot: unknown key',
      ],
      [
        'an unknown key in the block',
        'communication:\n  backend: file\n  backends: file\n',
        'communication.backends: unknown key (expected one of backend, namespace, settings)',
      ],
      [
        'a malformed backend name',
        'communication:\n  backend: "Mongo DB"\n',
        'communication.backend: expected a backend name (file, sqlite, redis, … for @agent-state/backend-<name>; memory; or a package named in full), got "Mongo DB"',
      ],
      [
        'a bad enumeration',
        'communication:\n  settings:\n    durability: sometimes\n',
        'communication.settings.durability: expected one of fsync, none, got "sometimes"',
      ],
      [
        'a bad namespace',
        'communication:\n  namespace: "my team"\n',
        'communication.namespace: expected a name of 1 to 128 characters',
      ],
      ['a missing required setting', 'communication:\n  backend: firebase\n', 'communication.settings.project_id: the firebase backend needs project_id or database_url'],
      ['invalid YAML', 'communication:\n  backend: [file\n', 'not valid YAML'],
      ['a list at the top', '- a\n- b\n', 'expected a YAML mapping at the top level'],
    ];
    for (const [name, yaml, expected] of cases) {
      it(name, () => {
        const file = writeYaml(yaml);
        const error = configError(() => loadConfig({ configFile: file, env: {} }));
        expect(error.code).toBe('INVALID_CONFIG');
        expect(error.message.startsWith(`${file}: `)).toBe(true);
        expect(error.message).toContain(expected);
      });
    }

    it('a missing file named explicitly', () => {
      const missing = join(dir, 'nope.yml');
      const error = configError(() => loadConfig({ configFile: missing, env: {} }));
      expect(error.message).toBe(`${missing}: file not found`);
    });

    it('a config object is checked the same way', () => {
      const error = configError(() => loadConfig({ config: { settings: { backup_count: -1 } }, env: {} }));
      expect(error.message).toBe('config: communication.settings.backup_count: expected a whole number >= 0, got -1');
    });
  });

  it('openState rejects a bad config before touching any storage', async () => {
    const file = writeYaml('communication:\n  backend: file\n  settings:\n    directory: ./store\n    backup_count: many\n');
    await expect(openState({ configFile: file, env: {} })).rejects.toThrow(/backup_count: expected a whole number >= 0, got "many"/);
    expect(() => readFileSync(join(dir, 'store'))).toThrow();
  });

  it('a backend whose package is not installed says which package to install', async () => {
    await expect(openState({ config: { backend: 'not-installed' }, env: {} })).rejects.toThrow(
      'config: communication.backend: the not-installed backend needs the package @agent-state/backend-not-installed: run `npm install @agent-state/backend-not-installed`',
    );
    expect(() => loadConfig({ config: { backend: '@acme/not-installed' }, env: {} })).toThrow(
      'config: communication.backend: the @acme/not-installed backend needs the package @acme/not-installed: run `npm install @acme/not-installed`',
    );
  });

  it('loadBackend creates the backend the config names, through its module', async () => {
    const backend = await loadBackend(loadConfig({ config: { backend: 'memory' }, env: {} }));
    expect(backend.name).toBe('memory');
    await backend.close();
  });
});
