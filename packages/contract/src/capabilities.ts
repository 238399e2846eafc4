/**
 * What a backend can do, read from a backend instance (never initialised: no I/O) and from the
 * target's flags. `validate()` uses it to mark each group required or optional.
 */
import { loadBackend, loadConfig, type CommunicationBackend } from '@agent-state/core';
import { createFromModule, type ContractTarget } from './harness.js';

/** The capabilities of one backend under one target, as `validate()` reports them. */
export interface DetectedCapabilities {
  /** Backend name (`backend.name`). */
  backend: string;
  /** Several OS processes share one store (the target's `multiProcess`). */
  multiProcess: boolean;
  /** Data survives a kill -9 of a writer (the target's `crashSafe`, default true when multi-process). */
  crashSafe: boolean;
  /** `capabilities.persistent`. */
  persistent: boolean;
  /** `increment()` present and `capabilities.nativeIncrement`. */
  nativeIncrement: boolean;
  /** Native coordination families: `capabilities.coordination.*` and the object present. */
  queues: boolean;
  logs: boolean;
  notify: boolean;
  /** `watch()` present (change notification for blocking waits). */
  watch: boolean;
  /** `repair()` present. */
  repair: boolean;
  /** The target gives `storageCount(config)` (enables the retention group). */
  storageCount: boolean;
  /** The target gives `unavailableConfig()` (enables the unavailable group). */
  unavailable: boolean;
  /** The target gives a `damage` hook (enables the damaged-data group). */
  damage: boolean;
}

/** Reads the capabilities of `backend` under `target` (pure: no I/O). */
export function capabilitiesOf(backend: CommunicationBackend, target: ContractTarget): DetectedCapabilities {
  const caps = backend.capabilities;
  const coordination = caps.coordination ?? {};
  return {
    backend: backend.name,
    multiProcess: target.multiProcess,
    crashSafe: target.multiProcess && target.crashSafe !== false,
    persistent: caps.persistent,
    nativeIncrement: caps.nativeIncrement === true && typeof backend.increment === 'function',
    queues: coordination.queues === true && backend.queues !== undefined,
    logs: coordination.logs === true && backend.logs !== undefined,
    notify: coordination.notify === true && backend.notify !== undefined,
    watch: typeof backend.watch === 'function',
    repair: typeof backend.repair === 'function',
    storageCount: typeof target.storageCount === 'function',
    unavailable: typeof target.unavailableConfig === 'function',
    damage: typeof target.damage === 'object',
  };
}

/**
 * Creates (does not initialise) a backend for a fresh `target.config()`, reads its capabilities,
 * closes it and lets the target clean up.
 */
export async function detectCapabilities(target: ContractTarget): Promise<DetectedCapabilities> {
  const config = await target.config();
  try {
    const backend = target.backendModule
      ? await createFromModule(target.backendModule, config)
      : await loadBackend(loadConfig({ config, env: {} }));
    try {
      return capabilitiesOf(backend, target);
    } finally {
      await backend.close().catch(() => undefined);
    }
  } finally {
    await target.cleanup?.(config);
  }
}
