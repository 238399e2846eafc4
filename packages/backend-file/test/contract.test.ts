import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { runContractSuite } from '@agent-state/contract';
import { storageCountOf } from './storage-count.js';
import { fileDamage } from './damage.js';

// The suite runs twice: on the OS temp dir (a disk file system) and on /dev/shm (tmpfs).
for (const [where, parent] of [
  ['temp dir', tmpdir()],
  ['/dev/shm', '/dev/shm'],
] as const) {
  describe(where, () => {
    runContractSuite({ describe, it }, {
      name: `file (${where})`,
      multiProcess: true,
      crashSafe: true,
      config: () => ({ backend: 'file', namespace: 'ns', settings: { directory: mkdtempSync(join(parent, 'agent-state-file-')) } }),
      cleanup: (config) => rmSync(String(config.settings?.directory), { recursive: true, force: true }),
      // A directory under a regular file can never be created, even by root.
      unavailableConfig: () => ({ backend: 'file', settings: { directory: '/etc/hostname/agent-state', connect_timeout_ms: 1_000 } }),
      // Every file, lock file and directory of the test's namespace.
      storageCount: async (config) => storageCountOf(String(config.settings?.directory), config.namespace ?? 'ns'),
      // A torn document (see damage.ts).
      damage: fileDamage,
    });
  });
}

// Core's portable coordination (queues, logs, mailboxes on entries) on this backend too, so the
// path that backends without native families use stays honest here (temp dir only: it is slow).
describe('portable coordination', () => {
  const parent = tmpdir();
  runContractSuite(
    { describe, it },
    {
      name: 'file (temp dir)',
      multiProcess: true,
      crashSafe: true,
      config: () => ({ backend: 'file', namespace: 'ns', settings: { directory: mkdtempSync(join(parent, 'agent-state-file-')) } }),
      cleanup: (config) => rmSync(String(config.settings?.directory), { recursive: true, force: true }),
      storageCount: async (config) => storageCountOf(String(config.settings?.directory), config.namespace ?? 'ns'),
    },
    { portable: true },
  );
});
