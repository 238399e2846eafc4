import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidConfigError, openState } from '@agent-state/core';
import { createFirebaseBackend } from '../src/index.js';
import { resolveOptions } from '../src/options.js';

const dir = mkdtempSync(join(tmpdir(), 'agent-state-firebase-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('firebase settings', () => {
  it('a missing service account key is an InvalidConfigError naming the file and the setting, before any I/O', async () => {
    const path = join(dir, 'missing.json');
    const error = await openState({
      config: { backend: 'firebase', settings: { project_id: 'p', service_account_key_path: path } },
      env: {},
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as InvalidConfigError).path).toBe('communication.settings.service_account_key_path');
    expect((error as Error).message).toContain(path);
  });

  it('a key file that is not a service account key is an InvalidConfigError naming it', () => {
    const notJson = join(dir, 'not-json.json');
    writeFileSync(notJson, 'not json');
    const notKey = join(dir, 'not-key.json');
    writeFileSync(notKey, '{"hello":"world"}');
    for (const path of [notJson, notKey]) {
      expect(() => createFirebaseBackend({ projectId: 'p', serviceAccountKeyPath: path })).toThrow(InvalidConfigError);
      expect(() => createFirebaseBackend({ projectId: 'p', serviceAccountKeyPath: path })).toThrow(path);
      expect(() => createFirebaseBackend({ projectId: 'p', serviceAccountKeyPath: path })).toThrow(/serviceAccountKeyPath/);
    }
  });

  it('without project_id, database_url or an emulator the backend is an InvalidConfigError', () => {
    expect(() => resolveOptions({}, {})).toThrow(InvalidConfigError);
  });

  it('the database URL defaults to <project_id>-default-rtdb', () => {
    const resolved = resolveOptions({ projectId: 'agent-conductor-prod' }, {});
    expect(resolved.databaseUrl).toBe('https://agent-conductor-prod-default-rtdb.firebaseio.com');
    expect(resolved.target).toBe(resolved.databaseUrl);
    expect(resolved.emulatorHost).toBeUndefined();
  });

  it('an emulator host (setting or FIREBASE_DATABASE_EMULATOR_HOST) needs no credential', () => {
    const fromEnv = resolveOptions({ projectId: 'p' }, { FIREBASE_DATABASE_EMULATOR_HOST: '127.0.0.1:9000' });
    expect(fromEnv.databaseUrl).toBe('http://127.0.0.1:9000?ns=p-default-rtdb');
    expect(fromEnv.credential).toBeUndefined();
    const fromSetting = resolveOptions(
      { projectId: 'p', emulatorHost: '127.0.0.1:9001', serviceAccountKeyPath: join(dir, 'ignored.json') },
      { FIREBASE_DATABASE_EMULATOR_HOST: '127.0.0.1:9000' },
    );
    expect(fromSetting.databaseUrl).toBe('http://127.0.0.1:9001?ns=p-default-rtdb');
    expect(fromSetting.credential).toBeUndefined();
  });

  it('a database_url names the emulator namespace too', () => {
    const resolved = resolveOptions({ databaseUrl: 'https://my-db.europe-west1.firebasedatabase.app', emulatorHost: 'localhost:9000' }, {});
    expect(resolved.databaseUrl).toBe('http://localhost:9000?ns=my-db');
  });
});
