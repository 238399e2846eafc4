import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { runContractSuite } from '@agent-state/core/contract';

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
    });
  });
}
