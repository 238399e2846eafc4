/**
 * What the operation modules (lock, transaction, list, increment) need from the backend: the key
 * layout and a way to run a script with driver errors already mapped.
 */
import type { KeyLayout } from './layout.js';
import type { ScriptName } from './scripts.js';

export interface ScriptContext {
  readonly keys: KeyLayout;
  /**
   * Runs script `name` (keys then arguments) once the connection is ready. Driver errors become
   * `BackendUnavailableError`, or `CorruptDataError` at `location` for a key of the wrong type.
   */
  script(name: ScriptName, location: string, args: (string | number)[]): Promise<unknown>;
}

/** A script reply as an array (every script except `acquireLock` always returns one). */
export function replyArray(reply: unknown): unknown[] {
  if (!Array.isArray(reply)) throw new Error(`unexpected script reply ${JSON.stringify(reply)}`);
  return reply;
}
