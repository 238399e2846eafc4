/** The lease a `lock -- COMMAND` child inherits through its environment, usable as a write fence. */
import type { LockLease } from '@agent-state/core';
import { UsageError } from './errors.js';

/** Environment variables `lock` exports to the command it runs. */
export const LOCK_ENV = {
  token: 'AGENT_STATE_LOCK_TOKEN',
  owner: 'AGENT_STATE_LOCK_OWNER',
  resource: 'AGENT_STATE_LOCK_RESOURCE',
} as const;

/**
 * The lease named by AGENT_STATE_LOCK_RESOURCE/OWNER/TOKEN. Backends check owner and token
 * against the stored lease atomically with the write, so `expiresAt` is not needed here.
 */
export function fenceFromEnv(env: NodeJS.ProcessEnv): LockLease {
  const resource = env[LOCK_ENV.resource];
  const owner = env[LOCK_ENV.owner];
  const token = Number(env[LOCK_ENV.token]);
  if (!resource || !owner || !Number.isInteger(token)) {
    throw new UsageError(`--fence needs ${LOCK_ENV.resource}, ${LOCK_ENV.owner} and ${LOCK_ENV.token} (run it under \`agent-state lock RESOURCE -- ...\`)`);
  }
  return { resource, owner, token, expiresAt: Number.MAX_SAFE_INTEGER };
}
