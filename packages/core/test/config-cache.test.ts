/**
 * The validated-config cache (`LoadConfigOptions.cache`): an unchanged project skips YAML and
 * zod, and any change that could change the outcome (the file's bytes, a referenced variable,
 * `COMMUNICATION_BACKEND`, a file the entry depends on) is not served from it. That an entry was
 * used is shown by altering the stored entry on disk: a served entry returns the altered value.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidConfigError, configuredBackend, loadConfig, type LoadConfigOptions } from '../src/index.js';

let dir: string;
let cacheDir: string;
let dep: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'agent-state-config-cache-'));
  cacheDir = join(dir, 'cache');
  dep = join(dir, 'registering-code.js');
  writeFileSync(dep, '// v1\n');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const YAML = `communication:
  backend: memory
  namespace: "ns-\${TEAM}"
  settings:
    lock_timeout: "\${LOCK:-10}"
`;

function project(text = YAML): string {
  const file = join(dir, 'project.yml');
  writeFileSync(file, text);
  return file;
}

function options(env: Record<string, string | undefined>, extra: Partial<LoadConfigOptions> = {}): LoadConfigOptions {
  return { configFile: join(dir, 'project.yml'), env, cache: { dir: cacheDir, deps: [dep] }, ...extra };
}

function entries(): string[] {
  try {
    return readdirSync(cacheDir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
}

/** Rewrites every stored entry's namespace, so a served entry is recognisable. */
function tamper(namespace: string): void {
  for (const name of entries()) {
    const file = join(cacheDir, name);
    const entry = JSON.parse(readFileSync(file, 'utf8')) as { value: { namespace: string } };
    entry.value.namespace = namespace;
    writeFileSync(file, JSON.stringify(entry));
  }
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

describe('the validated-config cache', () => {
  it('serves an unchanged project from the entry, to loadConfig and configuredBackend', () => {
    project();
    const first = loadConfig(options({ TEAM: 'a' }));
    expect(first).toMatchObject({ backend: 'memory', namespace: 'ns-a', lockTtlMs: 10_000 });
    expect(entries()).toHaveLength(1);
    tamper('from-cache');
    expect(loadConfig(options({ TEAM: 'a' })).namespace).toBe('from-cache');
    expect(configuredBackend(options({ TEAM: 'a' }))).toMatchObject({ backend: 'memory', baseDir: dir });
    // Without the option, the file is read as always.
    expect(loadConfig({ configFile: join(dir, 'project.yml'), env: { TEAM: 'a' } }).namespace).toBe('ns-a');
  });

  it('is not used once the file changes, and an unknown key is refused with file, field and value', () => {
    project();
    loadConfig(options({ TEAM: 'a' }));
    tamper('from-cache');
    project(YAML.replace('lock_timeout', 'lock_timeout: 5\n    bogus_key: 7\n    unused'));
    const error = configError(() => loadConfig(options({ TEAM: 'a' })));
    expect(error.message).toContain(join(dir, 'project.yml'));
    expect(error.message).toContain('communication.settings.bogus_key');
    project(`${YAML}# a comment\n`);
    expect(loadConfig(options({ TEAM: 'a' })).namespace).toBe('ns-a');
  });

  it('is not used when a referenced variable, or COMMUNICATION_BACKEND, changes', () => {
    project();
    loadConfig(options({ TEAM: 'a' }));
    tamper('from-cache');
    expect(loadConfig(options({ TEAM: 'b' })).namespace).toBe('ns-b');
    expect(loadConfig(options({ TEAM: 'a', LOCK: '3' })).lockTtlMs).toBe(3_000);
    // A variable the file does not reference is not part of the key.
    expect(loadConfig(options({ TEAM: 'a', OTHER: 'x' })).namespace).toBe('from-cache');
    const error = configError(() => loadConfig(options({ TEAM: 'a', COMMUNICATION_BACKEND: 'Not A Name' })));
    expect(error.message).toContain('COMMUNICATION_BACKEND');
    expect(configError(() => loadConfig(options({ TEAM: 'a', LOCK: 'soon' }))).message).toContain('got "soon"');
  });

  it('a substituted value that fails its check fails on every call (failures are not stored)', () => {
    project();
    for (let i = 0; i < 2; i++) {
      const error = configError(() => loadConfig(options({ TEAM: 'a', LOCK: '-1' })));
      expect(error.message).toContain('communication.settings.lock_timeout');
      expect(error.message).toContain('-1');
    }
    expect(entries()).toHaveLength(0);
  });

  it('is not used when a file it depends on changes', () => {
    project();
    loadConfig(options({ TEAM: 'a' }));
    tamper('from-cache');
    writeFileSync(dep, '// v2, longer\n');
    expect(loadConfig(options({ TEAM: 'a' })).namespace).toBe('ns-a');
    tamper('from-cache');
    const later = new Date(Date.now() + 5_000);
    utimesSync(dep, later, later);
    expect(loadConfig(options({ TEAM: 'a' })).namespace).toBe('ns-a');
    rmSync(dep);
    expect(loadConfig(options({ TEAM: 'a' })).namespace).toBe('ns-a');
  });

  it('keeps the seed plan\'s mixed keys accepted, depending on the installed backends it consulted', () => {
    project(`communication:
  backend: memory
  settings:
    directory: ./state
    redis_port: 6379
    database_path: ./s.db
`);
    const first = loadConfig(options({}));
    expect(first.settings).toMatchObject({ redis_port: 6379 });
    const [name] = entries();
    const entry = JSON.parse(readFileSync(join(cacheDir, name as string), 'utf8')) as { deps: [string, number, number][] };
    // The scope directories listed (a backend installed or removed changes them) are among the deps.
    expect(entry.deps.some(([path]) => path.endsWith('@agent-state'))).toBe(true);
    tamper('from-cache');
    expect(loadConfig(options({})).namespace).toBe('from-cache');
  });

  it('a reference the raw text does not show (a YAML escape) is still part of the entry', () => {
    project('communication:\n  backend: memory\n  namespace: "ns-\\u0024{TEAM}"\n');
    expect(loadConfig(options({ TEAM: 'a' })).namespace).toBe('ns-a');
    tamper('from-cache');
    expect(loadConfig(options({ TEAM: 'a' })).namespace).toBe('from-cache');
    expect(loadConfig(options({ TEAM: 'b' })).namespace).toBe('ns-b');
  });

  it('AGENT_STATE_CONFIG_CACHE=off turns it off', () => {
    project();
    loadConfig(options({ TEAM: 'a', AGENT_STATE_CONFIG_CACHE: 'off' }));
    expect(entries()).toHaveLength(0);
  });
});
