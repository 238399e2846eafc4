import { TransactionClosedError } from './errors.js';
import type { CommitWrite, CommunicationBackend, Entry, JsonValue } from './types.js';
import { assertKey, assertOptions, assertPositive, serializeValue } from './validate.js';

/** Options of a write inside a transaction. */
export interface TxWriteOptions {
  /** Time to live in ms. */
  ttlMs?: number;
}

/**
 * An optimistic transaction. Reads go to the store and are remembered with their version (a key
 * read twice returns the first result, so the function sees one snapshot of each key); writes and
 * deletes are buffered and a read of a buffered key returns the buffered value. `commit` applies
 * every write atomically only if every read version is still current (serializable), otherwise
 * it throws `ConflictError` and nothing is written. `rollback` discards everything.
 */
export class Transaction {
  readonly #reads = new Map<string, Entry | null>();
  readonly #writes = new Map<string, CommitWrite>();
  #state: 'open' | 'committed' | 'rolledBack' = 'open';

  /** @internal Created by `StateClient.begin` and `StateClient.transaction`. */
  constructor(
    private readonly backend: CommunicationBackend,
    private readonly maxValueBytes: number,
    private readonly guard: (operation: string) => void,
  ) {}

  /** The entry as this transaction sees it, or `null`. */
  async read(key: string): Promise<Entry | null> {
    this.#assertOpen('read');
    assertKey(key);
    const pending = this.#writes.get(key);
    if (pending) {
      const base = await this.#readThrough(key);
      if (pending.kind === 'delete') return null;
      const entry: Entry = { key, value: pending.value, version: (base?.version ?? 0) + 1, updatedAt: Date.now() };
      if (pending.ttlMs !== undefined) entry.expiresAt = Date.now() + pending.ttlMs;
      return entry;
    }
    return this.#readThrough(key);
  }

  /** Reads several keys (each recorded like `read`). */
  async readMany(keys: readonly string[]): Promise<(Entry | null)[]> {
    this.#assertOpen('read');
    const out: (Entry | null)[] = [];
    for (const key of keys) out.push(await this.read(key));
    return out;
  }

  /** Buffers a write; validated now, applied at commit. */
  write(key: string, value: JsonValue, options?: TxWriteOptions): void {
    this.#assertOpen('write');
    assertKey(key);
    assertOptions(options, 'options', ['ttlMs']);
    assertPositive(options?.ttlMs, 'options.ttlMs');
    const json = serializeValue(value, this.maxValueBytes);
    const write: CommitWrite = { kind: 'write', key, value: JSON.parse(json) as JsonValue, json };
    if (options?.ttlMs !== undefined) write.ttlMs = options.ttlMs;
    this.#writes.set(key, write);
  }

  /** Buffers a delete; applied at commit. */
  delete(key: string): void {
    this.#assertOpen('delete');
    assertKey(key);
    this.#writes.set(key, { kind: 'delete', key });
  }

  /** Applies every buffered write atomically, or throws `ConflictError` and applies none. */
  async commit(): Promise<void> {
    this.#assertOpen('commit');
    this.guard('commit a transaction');
    this.#state = 'committed';
    if (this.#writes.size === 0 && this.#reads.size === 0) return;
    const reads = [...this.#reads].map(([key, entry]) => ({ key, version: entry?.version ?? null }));
    await this.backend.commit({ reads, writes: [...this.#writes.values()] });
  }

  /** Discards the transaction; nothing was written, nothing remains. Harmless after commit. */
  async rollback(): Promise<void> {
    if (this.#state === 'open') this.#state = 'rolledBack';
    this.#writes.clear();
    this.#reads.clear();
  }

  async #readThrough(key: string): Promise<Entry | null> {
    if (this.#reads.has(key)) return this.#reads.get(key) ?? null;
    this.guard('read in a transaction');
    const entry = await this.backend.read(key);
    this.#reads.set(key, entry);
    return entry;
  }

  #assertOpen(operation: string): void {
    if (this.#state !== 'open') {
      throw new TransactionClosedError(operation, this.#state === 'committed' ? 'committed' : 'rolled back');
    }
  }
}
