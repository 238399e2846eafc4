import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, openState } from '@agent-state/core';
import { startEmulator } from './emulator.js';

describe('firebase connection loss', () => {
  it('operations fail with BackendUnavailableError when the database goes away, and close still ends everything', async () => {
    const emulator = await startEmulator();
    const state = await openState({
      config: {
        backend: 'firebase',
        namespace: 'gone',
        settings: { emulator_host: emulator.host, project_id: 'agent-state-test', connect_timeout_ms: 500 },
      },
      env: {},
    });
    await state.write('k', 1);
    await emulator.stop();
    await expect(state.write('k', 2)).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(state.read('k')).rejects.toBeInstanceOf(BackendUnavailableError);
    await state.close();
  });
});
