import type { StateClient } from '../client.js';
import { InvalidValueError } from '../errors.js';
import type { JsonValue, LogTrim } from '../types.js';
import { assertOptions, assertPositive, assertSegment, serializeValue } from '../validate.js';
import { families, wakeOf } from './families.js';
import { parseStored, userLog } from './layout.js';
import { assertSignal, blockingWait } from './wait.js';

/** One record of a {@link Log}. */
export interface LogEntry<T extends JsonValue = JsonValue> {
  /** Strictly increasing per log, across processes. */
  seq: number;
  /** Epoch ms of the append (backend clock). */
  at: number;
  record: T;
}

/** Options of {@link Log.read}. */
export interface LogReadOptions {
  /** Only records with a seq greater than this (default 0: from the oldest kept). */
  after?: number;
  /** At most this many records. */
  limit?: number;
}

/** Options of {@link Log.follow}. */
export interface LogFollowOptions {
  /** Start after this seq (default: the last seq now, so only new records). */
  after?: number;
  /** Aborting it ends the iteration (the `for await` loop simply finishes); so does `close()`. */
  signal?: AbortSignal;
}

const PAGE = 256;
/** `follow` re-arms its wait this often; it never waits without a deadline. */
const FOLLOW_WAIT_MS = 60_000;

/**
 * An append-only log (`state.log(name)`): the seeds' pipeline.log, health.log, progress.txt.
 * `append` is atomic and durable on return; seqs strictly increase across processes and readers
 * never see a gap that is later filled. Native on backends with a logs family, portable
 * (`@log/<name>/…` keys) elsewhere.
 */
export class Log<T extends JsonValue = JsonValue> {
  readonly #log: string;

  /** @internal Use `state.log(name)`. */
  constructor(
    private readonly state: StateClient,
    readonly name: string,
  ) {
    assertSegment(name, 'name');
    this.#log = userLog(name);
  }

  /**
   * Appends one record; returns its seq and time.
   * @throws InvalidValueError (record)
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  async append(record: T): Promise<{ seq: number; at: number }> {
    this.state.guard('append to a log');
    const json = serializeValue(record, this.state.config.maxValueBytes, 'record');
    const [appended] = await families(this.state).logs.append(this.#log, [json]);
    return appended!;
  }

  /**
   * Records oldest first, seq > `after`, at most `limit`.
   * @throws InvalidValueError (after, limit)
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  async *read(options?: LogReadOptions): AsyncGenerator<LogEntry<T>> {
    this.state.guard('read a log');
    assertOptions(options, 'options', ['after', 'limit']);
    assertPositive(options?.after, 'options.after', { allowZero: true, integer: true });
    assertPositive(options?.limit, 'options.limit', { integer: true });
    let after = options?.after ?? 0;
    let remaining = options?.limit ?? Number.POSITIVE_INFINITY;
    const logs = families(this.state).logs;
    while (remaining > 0) {
      this.state.guard('read a log');
      const limit = Math.min(PAGE, remaining);
      const page = await logs.read(this.#log, { after, limit });
      for (const r of page) {
        yield { seq: r.seq, at: r.at, record: parseStored<T>(r.json, `log ${this.name} record ${r.seq}`) };
        remaining--;
      }
      if (page.length < limit) return;
      after = page[page.length - 1]!.seq;
    }
  }

  /**
   * New records as they land (woken by the backend's notification), oldest first, forever:
   * end it with `break` or the `signal`.
   * @throws InvalidValueError (after, signal)
   * @throws BackendUnavailableError
   */
  async *follow(options?: LogFollowOptions): AsyncGenerator<LogEntry<T>> {
    this.state.guard('follow a log');
    assertOptions(options, 'options', ['after', 'signal']);
    assertPositive(options?.after, 'options.after', { allowZero: true, integer: true });
    assertSignal(options?.signal);
    const f = families(this.state);
    let after = options?.after ?? (await f.logs.lastSeq(this.#log));
    const signal = options?.signal;
    for (;;) {
      if (signal?.aborted || this.state.closed) return;
      let page;
      try {
        page = await blockingWait({
          check: async () => {
            const records = await f.logs.read(this.#log, { after, limit: PAGE });
            return records.length > 0 ? records : undefined;
          },
          ...wakeOf(f.logWake, { kind: 'log', name: this.#log }),
          waitMs: FOLLOW_WAIT_MS,
          signal,
          closeSignal: this.state.closeSignal,
        });
      } catch (error) {
        // An abort or the client's close ends the iteration; anything else is a real failure.
        if (signal?.aborted || this.state.closed) return;
        throw error;
      }
      for (const r of page ?? []) {
        after = r.seq;
        yield { seq: r.seq, at: r.at, record: parseStored<T>(r.json, `log ${this.name} record ${r.seq}`) };
      }
    }
  }

  /**
   * Drops records: `{ before: seq }` every record with a smaller seq, `{ keepLast: n }` all but
   * the newest n, `{ olderThanMs }` those appended longer ago. Returns how many went. Seqs are
   * never reused: `lastSeq()` stays.
   * @throws InvalidValueError (not exactly one of before, keepLast, olderThanMs)
   * @throws BackendUnavailableError
   * @throws StateClosedError
   */
  async trim(trim: LogTrim): Promise<number> {
    this.state.guard('trim a log');
    if (trim === null || typeof trim !== 'object' || Array.isArray(trim)) {
      throw new InvalidValueError('trim', trim, 'expected { before } or { keepLast } or { olderThanMs }');
    }
    const keys = Object.keys(trim);
    if (keys.length !== 1) throw new InvalidValueError('trim', trim, 'expected exactly one of before, keepLast, olderThanMs');
    assertOptions(trim, 'trim', ['before', 'keepLast', 'olderThanMs']);
    const t = trim as Partial<Record<'before' | 'keepLast' | 'olderThanMs', unknown>>;
    if ('before' in t) assertPositive(t.before, 'trim.before', { integer: true });
    if ('keepLast' in t) assertPositive(t.keepLast, 'trim.keepLast', { integer: true, allowZero: true });
    if ('olderThanMs' in t) assertPositive(t.olderThanMs, 'trim.olderThanMs', { allowZero: true });
    const value = Object.values(t)[0];
    if (value === undefined) throw new InvalidValueError(`trim.${keys[0]}`, value, 'expected a number');
    return families(this.state).logs.trim(this.#log, trim);
  }

  /** The last seq ever appended (0 for a log that never had a record), even if trimmed since. */
  async lastSeq(): Promise<number> {
    this.state.guard('read a log');
    return families(this.state).logs.lastSeq(this.#log);
  }
}
